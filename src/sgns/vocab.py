"""Vocabulary: words ranked by frequency, as Keras 2's ``Tokenizer`` ranks them, and the corpus
encoded as one flat array of word ids.

Index 0 is reserved (padding, never trained or exported); index 1 is the most frequent word, and
equal counts keep their first-seen order. ``size`` counts the reserved row, like the notebook's
``vocab_size = len(word_index) + 1``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SgnsError
from .files import atomic_write_text


@dataclass(frozen=True)
class EncodedCorpus:
    """All documents as one int32 array of word ids, ``starts[k]:starts[k+1]`` being document k."""

    ids: np.ndarray
    starts: np.ndarray

    @property
    def n_documents(self) -> int:
        return len(self.starts) - 1

    @property
    def n_tokens(self) -> int:
        return int(self.ids.size)

    def document(self, k: int) -> np.ndarray:
        return self.ids[self.starts[k] : self.starts[k + 1]]


class Vocabulary:
    """Words and their counts, ranked; ``words[0]`` is the reserved padding entry ``""``."""

    def __init__(self, words: Sequence[str], counts: Sequence[int]) -> None:
        if len(words) != len(counts):
            raise SgnsError("words and counts differ in length")
        self.words: list[str] = [""] + list(words)
        self.counts = np.asarray([0] + list(counts), dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words) if i}
        if len(self.index) != len(words):
            raise SgnsError("the vocabulary has duplicate words")

    @classmethod
    def build(
        cls,
        documents: Iterable[Sequence[str]],
        min_count: int = 1,
        max_vocab: int | None = None,
    ) -> Vocabulary:
        """Count every token (one pass), then keep words seen at least ``min_count`` times, at
        most ``max_vocab`` of them (the most frequent)."""
        if min_count < 1:
            raise SgnsError(f"min_count must be >= 1, got {min_count}")
        if max_vocab is not None and max_vocab < 1:
            raise SgnsError(f"max_vocab must be >= 1, got {max_vocab}")
        counts: dict[str, int] = {}  # dicts keep insertion order: first-seen order for ties
        for doc in documents:
            for w in doc:
                counts[w] = counts.get(w, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
        ranked = [(w, c) for w, c in ranked if c >= min_count][:max_vocab]
        if not ranked:
            raise SgnsError(f"no word occurs at least min_count={min_count} times")
        return cls([w for w, _ in ranked], [c for _, c in ranked])

    @property
    def size(self) -> int:
        """Rows of an embedding table: the words plus the reserved row 0."""
        return len(self.words)

    def __len__(self) -> int:
        return len(self.words) - 1

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, documents: Iterable[Sequence[str]]) -> EncodedCorpus:
        """Word ids of every document; words outside the vocabulary are dropped."""
        index = self.index
        ids: list[int] = []
        starts = [0]
        for doc in documents:
            ids.extend(i for i in map(index.get, doc) if i is not None)
            starts.append(len(ids))
        return EncodedCorpus(np.asarray(ids, dtype=np.int32), np.asarray(starts, dtype=np.int64))

    def save(self, path: str | os.PathLike) -> None:
        """One ``word<TAB>count`` line per word, in rank order (row k+1 of the tables)."""
        lines = (f"{w}\t{c}\n" for w, c in zip(self.words[1:], self.counts[1:], strict=True))
        atomic_write_text(path, "".join(lines))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        words, counts = [], []
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SgnsError(f"cannot read vocabulary {path}: {exc}") from None
        for n, line in enumerate(text.split("\n"), start=1):
            if not line and n > text.count("\n"):
                break  # the end of the last line
            word, sep, count = line.rpartition("\t")
            if not sep or not word or not count.isascii() or not count.isdigit():
                raise SgnsError(f"{path}:{n}: expected 'word<TAB>count'")
            words.append(word)
            counts.append(int(count))
        if not words:
            raise SgnsError(f"{path} holds no words")
        return cls(words, counts)
