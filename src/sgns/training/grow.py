"""Growing a model: a finished run continued on new text, or a run started from pretrained
vectors. Both come down to a vocabulary and a :class:`Start`: the rows that the engines take
instead of their usual random start.

Continuing a run (``sgns train --from RUN``):

- the vocabulary is the parent's words plus the new corpus's words seen at least ``min_count``
  times in it; counts are the parent's plus the new corpus's, and the merged vocabulary is
  ranked again by them (ties: the parent's words first, in their order). A word that was under
  the parent's ``min_count`` was not recorded by the parent, so only its occurrences in the new
  corpus count;
- the noise distribution and the subsampling come from the merged counts (the engines derive
  them from the vocabulary);
- both tables (and the n-gram buckets) carry over by word; new words start as word2vec starts
  them: input rows uniform in +-0.5/dim, output rows zero;
- the learning-rate schedule starts afresh, over the new corpus.

Starting from pretrained vectors (``--init-vectors FILE``): the input rows of the vocabulary's
words found in the file are the file's vectors; the others, and the output table, start as
usual. With subwords the file's vector becomes the word's own row and the n-gram rows start as
usual.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import TrainConfig
from ..encoding.vocab import Vocabulary
from ..engines.base import Start
from ..errors import SgnsError
from ..files import DAMAGED

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

    from .result import TrainResult

# The settings that define a model's tables: a continued run takes them from its parent.
MODEL_SETTINGS = ("model", "loss", "dim", "subwords", "min_n", "max_n", "buckets")


@dataclass
class Parent:
    """A finished run to continue: its vocabulary, its tables (row 0 is padding), its
    configuration and its record."""

    vocab: Vocabulary
    input_rows: np.ndarray  # the words' input rows (with subwords, their own rows)
    output_table: np.ndarray
    bucket_rows: np.ndarray | None
    config: TrainConfig
    info: dict
    path: str | None = None

    @classmethod
    def of(cls, source: Parent | TrainResult | str | os.PathLike) -> Parent:
        """A parent from a :class:`sgns.training.result.TrainResult` or a run folder."""
        if isinstance(source, Parent):
            return source
        if isinstance(source, str | os.PathLike):
            return cls.load(source)
        words = source.word_rows if source.bucket_rows is not None else source.input_table
        return cls(source.vocab, words, source.output_table, source.bucket_rows, source.config,
                   source.info)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Parent:
        """Read a run folder written by ``sgns train`` (or :meth:`TrainResult.save`)."""
        from ..encoding.subwords import SUBWORDS_FILE, load_subwords

        folder = Path(folder)
        if not (folder / "run.json").is_file():
            raise SgnsError(f"{folder} is not a run folder (no run.json)")
        try:
            info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            config = TrainConfig(**info["params"])
            status = str(info.get("status", ""))
        except DAMAGED as exc:
            raise SgnsError(f"{folder}/run.json is not an sgns run record: {exc}") from None
        if status.startswith("running"):
            raise SgnsError(f"{folder} is an unfinished run: finish it with --resume first")
        vocab = Vocabulary.load(folder / "vocab.txt")
        buckets = None
        if config.subwords:
            _, words, buckets, context = load_subwords(folder / SUBWORDS_FILE, outputs=True)
        else:
            try:
                with np.load(folder / "vectors.npz", allow_pickle=False) as data:
                    words, context = data["vectors"], data["context"]
            except KeyError:
                raise SgnsError(f"{folder}/vectors.npz has no output table (runs written "
                                "before sgns 0.1.0 kept it): it cannot be continued; start "
                                "from its vectors with --init-vectors instead") from None
            except DAMAGED as exc:
                raise SgnsError(f"cannot read {folder}/vectors.npz: {exc}") from None
        if not len(words) == len(context) == len(vocab):
            raise SgnsError(f"{folder}: {len(vocab)} words in vocab.txt but {len(words)} input "
                            f"and {len(context)} output rows")
        for name, table in (("input", words), ("output", context)):
            if table.ndim != 2 or table.shape[1] != config.dim or table.dtype != np.float32:
                raise SgnsError(f"{folder}: its {name} table is {table.dtype} of shape "
                                f"{table.shape}, not float32 of dimension {config.dim} as its "
                                "run.json says")
        return cls(vocab, _with_padding_row(words), _with_padding_row(context), buckets,
                   config, info, str(folder.resolve()))

    def config_for(self, config: TrainConfig | None) -> TrainConfig:
        """``config`` with the parent's model settings; ``None`` is the defaults with them. A
        model setting that differs from the parent's is an error."""
        ours = {name: getattr(self.config, name) for name in MODEL_SETTINGS}
        if config is None:
            return TrainConfig(**ours)
        for name in MODEL_SETTINGS:
            if not self.config.subwords and name in ("min_n", "max_n", "buckets"):
                continue  # no n-grams: these settings do not shape the tables
            if getattr(config, name) != ours[name]:
                raise SgnsError(
                    f"{name} {getattr(config, name)!r} differs from the parent run's "
                    f"{ours[name]!r}: a continued run keeps the parent's model, dimension and "
                    "subword settings")
        return config.replace(**{k: ours[k] for k in ("min_n", "max_n", "buckets")})

    def summary(self) -> dict:
        """What a child's ``run.json`` records of its parent: where it is and its record
        without the per-epoch history (its own parent included)."""
        record = {k: v for k, v in self.info.items() if k != "epochs"}
        epochs = self.info.get("epochs") or []
        if epochs:
            record["final_loss"] = epochs[-1].get("loss")
        return {"path": self.path, **record}


def merged_vocabulary(parent: Vocabulary, counted: Vocabulary, min_count: int = 1,
                      max_vocab: int | None = None) -> Vocabulary:
    """The parent's words, each kept, plus the words of ``counted`` (the new corpus, counted
    with no threshold) seen at least ``min_count`` times, at most ``max_vocab`` words in all
    when the parent leaves room. Counts add up; the result is ranked by them, ties keeping
    the parent's words first."""
    merged = dict(zip(parent.words[1:], parent.counts[1:].tolist(), strict=True))
    room = None if max_vocab is None else max(0, max_vocab - len(merged))
    added = 0
    for word, count in sorted(zip(counted.words[1:], counted.counts[1:].tolist(), strict=True),
                              key=lambda item: item[1], reverse=True):
        if word in merged:
            merged[word] += count
        elif count >= min_count and (room is None or added < room):
            merged[word] = count
            added += 1
    ranked = sorted(merged.items(), key=lambda item: item[1], reverse=True)
    return Vocabulary([w for w, _ in ranked], [c for _, c in ranked])


def tokens_in(counted: Vocabulary, vocab: Vocabulary) -> int:
    """How many of the tokens counted in ``counted`` are words of ``vocab``."""
    return int(sum(c for w, c in zip(counted.words[1:], counted.counts[1:].tolist(), strict=True)
                   if w in vocab.index))


def grown_start(parent: Parent, vocab: Vocabulary, config: TrainConfig) -> Start:
    """The parent's rows moved to their words' places in ``vocab``; new words start as
    word2vec starts them."""
    rows = np.array([parent.vocab.index.get(w, -1) for w in vocab.words], dtype=np.int64)
    rows[0] = 0  # padding
    old = rows >= 0
    dim = config.dim
    words = _word2vec_rows(vocab.size, dim, config.seed)
    words[old] = parent.input_rows[rows[old]]
    words[0] = 0.0
    context = np.zeros((vocab.size, dim), dtype=np.float32)
    if config.loss == "hs":  # rows of inner nodes, not of words: kept in place, as gensim does
        kept = min(vocab.size, parent.output_table.shape[0])
        context[:kept] = parent.output_table[:kept]
    else:
        context[old] = parent.output_table[rows[old]]
    return Start(words, np.ones(vocab.size, dtype=bool), context, parent.bucket_rows)


@dataclass
class Pretrained:
    """Pretrained vectors and where they came from (for messages and ``run.json``)."""

    vectors: KeyedVectors
    source: str


def read_pretrained(source: Pretrained | KeyedVectors | str | os.PathLike) -> Pretrained:
    """Pretrained vectors: a ``KeyedVectors``, or a file: word2vec text or binary (``.bin``),
    fastText ``.vec`` (word2vec text), sgns ``.npz``, or a run folder."""
    from ..embeddings.vectors import load_vectors

    if isinstance(source, Pretrained):
        return source
    if not isinstance(source, str | os.PathLike):
        return Pretrained(source, "the pretrained vectors")
    path = os.fspath(source)
    if not os.path.exists(path):
        raise SgnsError(f"pretrained vectors not found: {path}")
    try:
        return Pretrained(load_vectors(path), path)
    except SgnsError as exc:
        if path.endswith((".bin", ".npz")) or os.path.isdir(path):
            raise
        if _looks_like_text(path):  # not read again as binary: a damaged text file would read
            reason = str(exc).removeprefix(f"{path} is not a valid word2vec file: ")
            raise SgnsError(f"{path} is not word2vec text or binary, fastText .vec, or sgns "
                            f".npz: {reason}") from None
    return Pretrained(_load_binary(path), path)  # word2vec binary under another name


def _looks_like_text(path: str) -> bool:
    """Whether the file's first 64 KiB are UTF-8 text without NUL bytes: word2vec binary's
    float32 rows almost never are."""
    with open(path, "rb") as file:
        head = file.read(1 << 16)
    try:
        head[:-4].decode("utf-8")  # (a character may be cut at the end)
    except UnicodeDecodeError:
        return False
    return b"\0" not in head


def with_pretrained_words(vocab: Vocabulary, kv: KeyedVectors) -> Vocabulary:
    """``vocab`` plus the words of ``kv`` that it lacks, with count 0: they keep their
    pretrained vectors, are never trained as inputs and never drawn as negatives."""
    extra = [w for w in kv.index_to_key if w not in vocab.index]
    return Vocabulary(vocab.words[1:] + extra, vocab.counts[1:].tolist() + [0] * len(extra))


def pretrained_start(pretrained: Pretrained, vocab: Vocabulary, config: TrainConfig) -> Start:
    """The input rows of the words of ``vocab`` found in ``pretrained``; the others start as
    usual."""
    kv, source = pretrained.vectors, pretrained.source
    if kv.vector_size != config.dim:
        raise SgnsError(f"{source} have {kv.vector_size} dimensions but the run has dim "
                        f"{config.dim}: give --dim {kv.vector_size}")
    index = kv.key_to_index  # the file's own words (not words built from n-grams)
    found = [(i, index[w]) for i, w in enumerate(vocab.words) if i and w in index]
    if not found:
        raise SgnsError(f"none of the {len(kv):,} words of {source} is in the corpus "
                        "vocabulary (is it the same language and cleaning?)")
    rows, file_rows = (np.array(column, dtype=np.int64) for column in zip(*found, strict=True))
    words = np.zeros((vocab.size, config.dim), dtype=np.float32)
    words[rows] = kv.vectors[file_rows]
    given = np.zeros(vocab.size, dtype=bool)
    given[rows] = True
    if not np.isfinite(words[rows]).all():
        raise SgnsError(f"{source} hold values that are not finite (inf or NaN)")
    return Start(words, given)


def _word2vec_rows(rows: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 0x67726F77])  # "grow": apart from the engines' streams
    return (rng.random((rows, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)


def _with_padding_row(rows: np.ndarray) -> np.ndarray:
    table = np.zeros((len(rows) + 1, rows.shape[1]), dtype=np.float32)
    table[1:] = rows
    return table


def _load_binary(path: str) -> KeyedVectors:
    from gensim.models import KeyedVectors

    try:
        return KeyedVectors.load_word2vec_format(path, binary=True)
    except (ValueError, UnicodeDecodeError, EOFError, IndexError) as exc:
        raise SgnsError(f"{path} is not word2vec text or binary, fastText .vec, or sgns "
                        f".npz: {exc}") from None
