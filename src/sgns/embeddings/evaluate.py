"""Judging embeddings: word-pair similarity (Spearman rho) and analogies (accuracy), computed by
gensim's own ``evaluate_word_pairs`` / ``evaluate_word_analogies``.

By default the data sets gensim ships: WordSim-353, SimLex-999 and the Google analogies. A user's
pair file may be tab-, comma- or space-separated, with or without a header, with ``#`` comments;
it is normalised into gensim's tab-separated layout first.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
from pathlib import Path

from gensim.models import KeyedVectors

from ..errors import SgnsError
from .vectors import has_subwords


def default_pair_sets() -> dict[str, str]:
    from gensim.test.utils import datapath

    return {"wordsim353": datapath("wordsim353.tsv"), "simlex999": datapath("simlex999.txt")}


def default_analogy_sets() -> dict[str, str]:
    from gensim.test.utils import datapath

    return {"google_analogies": datapath("questions-words.txt")}


def _normalised_pairs(path: str | os.PathLike) -> list[str]:
    """``word1<TAB>word2<TAB>score`` lines from a tab/comma/space separated file; lines whose
    third field is not a number (headers) and ``#`` comments are dropped."""
    lines = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SgnsError(f"cannot read pairs file {path}: {exc.strerror}") from None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        fields = [f for f in re.split(r"[\t,; ]+", line) if f]
        if len(fields) < 3:
            continue
        try:
            score = float(fields[2])
        except ValueError:
            continue
        lines.append(f"{fields[0]}\t{fields[1]}\t{score}")
    if not lines:
        raise SgnsError(f"{path} has no 'word word score' lines")
    return lines


def evaluate_pairs(kv: KeyedVectors, path: str | os.PathLike) -> dict[str, float]:
    """Spearman and Pearson correlation with the human scores, and the share of pairs with a
    word missing from the vocabulary. Those pairs are left out of the correlation, unless the
    vectors have subwords (a gensim ``FastTextKeyedVectors``), which score every pair."""
    lines = _normalised_pairs(path)
    if has_subwords(kv):
        return _evaluate_every_pair(kv, lines)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", encoding="utf-8", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        with _quiet_gensim():
            pearson, spearman, oov = kv.evaluate_word_pairs(f.name)
    except ValueError:  # gensim's answer when every pair is out of vocabulary
        return {"spearman": math.nan, "pearson": math.nan, "oov_ratio": 1.0,
                "pairs": len(lines)}
    finally:
        os.unlink(f.name)
    return {"spearman": float(spearman[0]), "pearson": float(pearson[0]),
            "oov_ratio": float(oov) / 100.0, "pairs": len(lines)}


def _evaluate_every_pair(kv, lines: list[str]) -> dict[str, float]:
    """Pairs scored by vectors that answer for any word: words outside the vocabulary get the
    vector of their n-grams. Lower-cased, as gensim's case-insensitive evaluation is."""
    from scipy.stats import pearsonr, spearmanr

    human, ours, oov = [], [], 0
    for line in lines:
        a, b, score = line.split("\t")
        a, b = a.lower(), b.lower()
        oov += not (kv.has_index_for(a) and kv.has_index_for(b))
        similarity = float(kv.similarity(a, b))
        if math.isfinite(similarity):  # a word with no n-gram has a zero vector
            human.append(float(score))
            ours.append(similarity)
    if len(ours) < 2:
        return {"spearman": math.nan, "pearson": math.nan, "oov_ratio": oov / len(lines),
                "pairs": len(lines)}
    return {"spearman": float(spearmanr(human, ours)[0]),
            "pearson": float(pearsonr(human, ours)[0]),
            "oov_ratio": oov / len(lines), "pairs": len(lines)}


def evaluate_analogies(kv: KeyedVectors, path: str | os.PathLike) -> dict[str, float]:
    """Accuracy on ``a b c d`` questions (``questions-words.txt`` layout: ``: section`` lines
    and four words per line); questions with a word outside the vocabulary are skipped."""
    if not Path(path).is_file():
        raise SgnsError(f"analogies file not found: {path}")
    try:
        with _quiet_gensim():
            accuracy, sections = kv.evaluate_word_analogies(str(path))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SgnsError(f"{path} is not an analogies file: {exc}") from None
    total = next((s for s in sections if s["section"] == "Total accuracy"), None)
    answered = len(total["correct"]) + len(total["incorrect"]) if total else 0
    questions = _count_questions(path)
    return {"accuracy": float(accuracy), "answered": answered, "questions": questions,
            "oov_ratio": 1.0 - answered / questions if questions else 1.0}


def _count_questions(path: str | os.PathLike) -> int:
    with open(path, encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if line.strip() and not line.startswith(":"))


def evaluate(
    kv: KeyedVectors,
    pairs: dict[str, str] | None = None,
    analogies: dict[str, str] | None = None,
) -> dict[str, dict[str, float]]:
    """Every pair set and analogy set, by name. Defaults: the data sets gensim ships."""
    pairs = default_pair_sets() if pairs is None else pairs
    analogies = default_analogy_sets() if analogies is None else analogies
    results = {name: evaluate_pairs(kv, path) for name, path in pairs.items()}
    results.update({name: evaluate_analogies(kv, path) for name, path in analogies.items()})
    return results


def summary(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """One number per set (Spearman rho or accuracy), for per-epoch records."""
    return {name: r.get("spearman", r.get("accuracy")) for name, r in results.items()}


class _quiet_gensim:
    """gensim logs every evaluation at INFO; keep the terminal for our table."""

    def __enter__(self):
        self.logger = logging.getLogger("gensim")
        self.level = self.logger.level
        self.logger.setLevel(logging.WARNING)

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)


def evaluation_callback(words: list[str], every: int = 1):
    """A Keras callback for the Keras engine's models: after every ``every``
    epochs, the figures of :func:`evaluate` on the input table (row 0 is padding) go into the
    epoch logs, so ``History`` and other callbacks see them."""
    import keras

    from .vectors import to_keyed_vectors

    class EvaluationCallback(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None or (epoch + 1) % every:
                return
            table = keras.ops.convert_to_numpy(self.model.input_table.embeddings.value)
            logs.update(summary(evaluate(to_keyed_vectors(words, table[1:]))))

    return EvaluationCallback()
