"""The runs a browser page looks at, each loaded once and answered from memory: its words, one
table of unit-length vectors (the only copy held), the record of its training, and for a
subword run the n-gram rows that give any word a vector."""

from __future__ import annotations

import math
import os
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..embeddings.evaluate import default_pair_sets, evaluate_pairs
from ..embeddings.vectors import load_subword_run, read_npz, to_keyed_vectors, vectors_path
from ..encoding.subwords import SUBWORDS_FILE
from ..errors import SgnsError
from ..files import read_json

MAX_TOPN = 100  # the most neighbours a request may ask for


class UnknownWord(SgnsError):
    """A word the run has no vector for."""


@dataclass
class Run:
    """One run folder in memory."""

    name: str
    words: list[str]
    unit: np.ndarray  # (words, dim) float32, each row of length 1 (or 0)
    record: dict
    scores: dict[str, float]
    subwords: object | None = None  # gensim's FastTextKeyedVectors, for unseen words
    index: dict[str, int] = field(init=False)
    _sorted: list[str] = field(init=False)
    _order: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}
        self._order = np.argsort(np.asarray(self.words, dtype=object), kind="stable")
        self._sorted = [self.words[i] for i in self._order]

    def vector(self, word: str) -> tuple[np.ndarray, bool]:
        """The unit vector of ``word``, and whether it was built from n-grams (unseen)."""
        if word in self.index:
            return self.unit[self.index[word]], False
        if self.subwords is None:
            raise UnknownWord(f"{word!r} is not in the vocabulary of {self.name}")
        vector = np.asarray(self.subwords.get_vector(word), np.float32)
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            raise UnknownWord(f"{word!r} has no n-gram of {self.name}")
        return vector / norm, True

    def nearest(self, query: np.ndarray, topn: int, exclude: set[str]) -> list[dict]:
        """The ``topn`` words nearest ``query`` by cosine, less ``exclude``."""
        scores = self.unit @ (query / max(float(np.linalg.norm(query)), 1e-12))
        k = min(len(scores), topn + len(exclude))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        found = [{"word": self.words[i], "similarity": round(float(scores[i]), 4)}
                 for i in best if self.words[i] not in exclude]
        return found[:topn]

    def complete(self, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` words that start with ``prefix``, the most frequent first."""
        start = bisect_left(self._sorted, prefix)
        end = bisect_left(self._sorted, prefix + "\U0010ffff")
        ranks = self._order[start:end]  # word ids: the vocabulary is ranked by frequency
        if len(ranks) > limit:
            ranks = np.partition(ranks, limit - 1)[:limit]
        return [self.words[i] for i in np.sort(ranks)]

    def summary(self) -> dict:
        record = self.record
        return {"name": self.name, "words": len(self.words), "dim": int(self.unit.shape[1]),
                "subwords": self.subwords is not None, "params": record.get("params", {}),
                "losses": [e.get("loss") for e in record.get("epochs", [])],
                "engine": record.get("engine"), "train_seconds": record.get("train_seconds"),
                "scores": self.scores}


def load_run(folder: str | os.PathLike) -> Run:
    """A run folder written by ``sgns train``, loaded once; a one-line error otherwise."""
    folder = Path(folder)
    if not (folder / "run.json").is_file():
        raise SgnsError(f"{folder} is not a run folder (no run.json)")
    record = read_json(folder / "run.json", "sgns run record")
    subwords = None
    if (folder / SUBWORDS_FILE).is_file():
        subwords = load_subword_run(folder)
        words, table = list(subwords.index_to_key), subwords.vectors
    else:
        words, table = read_npz(vectors_path(folder))
    table = np.asarray(table, np.float32)
    norms = np.linalg.norm(table, axis=1, keepdims=True)
    np.divide(table, np.maximum(norms, 1e-12), out=table)  # in place: one copy
    kv = to_keyed_vectors(words, table) if subwords is None else subwords
    scores = {}
    for name, path in default_pair_sets().items():
        rho = float(evaluate_pairs(kv, path)["spearman"])
        scores[name] = None if math.isnan(rho) else round(rho, 4)
    return Run(folder.resolve().name, list(words), table, record, scores, subwords)
