"""A training run from cleaned documents to embeddings: vocabulary, encoding, one engine's update
loop, and the run folder. Everything here is shared by the engines."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from .cleaning import CleanCorpus
from .config import EpochHook, TrainConfig
from .errors import SgnsError
from .files import atomic_write_text
from .vectors import save_word2vec_text, to_keyed_vectors
from .vocab import Vocabulary

RUN_FILES = ("vectors.txt", "vocab.txt", "run.json")


@dataclass
class TrainResult:
    """The trained tables (row 0 is the reserved padding row), their vocabulary and the record of
    the run (what ``run.json`` holds)."""

    vocab: Vocabulary
    center: np.ndarray
    context: np.ndarray
    config: TrainConfig
    info: dict = field(default_factory=dict)

    @property
    def vectors(self) -> np.ndarray:
        """The embeddings: the center table without the padding row, one row per word."""
        return self.center[1:]

    def keyed_vectors(self) -> KeyedVectors:
        return to_keyed_vectors(self.vocab.words[1:], self.vectors)

    def save(self, out_dir: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write ``vectors.txt``, ``vocab.txt`` and ``run.json`` into ``out_dir``.

        Everything is written into a temporary folder beside it and moved into place at the end,
        so a failed or interrupted save never leaves a half-written run folder.
        """
        out = Path(out_dir)
        check_output_dir(out, overwrite)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        try:
            save_word2vec_text(staging / "vectors.txt", self.vocab.words[1:], self.vectors)
            self.vocab.save(staging / "vocab.txt")
            atomic_write_text(staging / "run.json", json.dumps(self.info, indent=2) + "\n")
            if out.exists():
                shutil.rmtree(out)
            os.replace(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return out


def check_output_dir(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SgnsError(f"output path exists and is not a folder: {out}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise SgnsError(f"output folder {out} exists; pass --overwrite to replace it")


def resolve_engine(engine: str) -> str:
    """``auto`` means the Keras engine when Keras sees an accelerator, else the native one."""
    if engine != "auto":
        return engine
    import keras

    devices = keras.distribution.list_devices()
    return "keras" if any(not d.lower().startswith("cpu") for d in devices) else "native"


def train(
    corpus: CleanCorpus | Iterable[Sequence[str]],
    config: TrainConfig | None = None,
    *,
    vocab: Vocabulary | None = None,
    callbacks: Sequence = (),
    verbose: bool = True,
    evaluate_each_epoch: bool = False,
    on_epoch_end: EpochHook | None = None,
) -> TrainResult:
    """Train skip-gram embeddings on tokenised documents.

    ``corpus`` is a :class:`CleanCorpus` (from :func:`sgns.clean`) or any iterable of token lists.
    ``callbacks`` are Keras callbacks, for the Keras engine. ``evaluate_each_epoch`` records
    WordSim-353, SimLex-999 and Google-analogy figures after every epoch in the epoch records;
    ``on_epoch_end(epoch, center_table)`` is any other per-epoch hook (its dict is recorded).
    """
    config = config or TrainConfig()
    documents = corpus.documents if isinstance(corpus, CleanCorpus) else list(corpus)
    if vocab is None:
        vocab = Vocabulary.build(documents, min_count=config.min_count, max_vocab=config.max_vocab)
    encoded = vocab.encode(documents)
    if encoded.n_tokens < 2:
        raise SgnsError("the corpus has fewer than two tokens in the vocabulary")
    if evaluate_each_epoch:
        on_epoch_end = _evaluation_hook(vocab, on_epoch_end)
    engine = resolve_engine(config.engine)
    start = time.perf_counter()
    compile_seconds = 0.0
    if engine == "native":
        from .native import train_native

        center, context, epochs, compile_seconds = train_native(
            encoded, vocab, config, verbose, on_epoch_end
        )
        backend = "numba"
    else:
        import keras

        from .keras_engine import train_keras

        center, context, epochs = train_keras(
            encoded, vocab, config, callbacks, verbose, on_epoch_end
        )
        backend = keras.backend.backend()
    info = {
        "sgns_version": _version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": (corpus.counts() if isinstance(corpus, CleanCorpus)
                      else {"loaded": len(documents), "nonempty": len(documents),
                            "kept": len(documents)}),
        "tokens": int(sum(len(d) for d in documents)),
        "vocab_size": vocab.size,
        "engine": engine,
        "backend": backend,
        "params": config.to_dict(),
        "epochs": epochs,
        "train_seconds": round(time.perf_counter() - start - compile_seconds, 3),
        "compile_seconds": round(compile_seconds, 3),
    }
    if not all(np.isfinite(e["loss"]) for e in epochs):
        raise SgnsError("training diverged (the loss is not finite); lower the learning rate")
    return TrainResult(vocab=vocab, center=center, context=context, config=config, info=info)


def _evaluation_hook(vocab: Vocabulary, then: EpochHook | None) -> EpochHook:
    from .evaluate import evaluate, summary

    def hook(epoch: int, table: np.ndarray) -> dict:
        figures = summary(evaluate(to_keyed_vectors(vocab.words[1:], table[1:])))
        return {**figures, **((then(epoch, table) or {}) if then else {})}

    return hook


def _version() -> str:
    from . import __version__

    return __version__
