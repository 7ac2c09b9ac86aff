"""fastText's subwords (Bojanowski et al., 2017, "Enriching Word Vectors with Subword
Information"): a word's input vector is the mean of its own row and the rows of its character
n-grams, each n-gram hashed into one of ``buckets`` rows.

The n-grams and hashes are fastText's own, so that vectors carry over to fastText and gensim:
the word gets ``<`` and ``>`` at its ends; n-grams are runs of ``min_n`` to ``max_n``
characters (whole UTF-8 characters), taken from each start in turn, shortest first; each is
hashed with 32-bit FNV-1a over its UTF-8 bytes, each byte sign-extended first as fastText's
``int8_t`` cast does, then taken modulo the bucket count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .errors import SgnsError
from .files import atomic_open

if TYPE_CHECKING:
    from gensim.models.fasttext import FastTextKeyedVectors

SUBWORDS_FILE = "subwords.npz"

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619


def char_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The n-grams of ``<word>`` of ``min_n`` to ``max_n`` characters, in fastText's order."""
    text = f"<{word}>"
    grams = []
    for start in range(len(text)):
        for n in range(min_n, max_n + 1):
            if start + n > len(text):
                break
            if n == 1 and (start == 0 or start + n == len(text)):
                continue  # fastText never takes "<" or ">" alone
            grams.append(text[start:start + n])
    return grams


def fnv1a(data: bytes) -> int:
    """fastText's 32-bit FNV-1a, bytes sign-extended as signed chars."""
    h = _FNV_OFFSET
    for byte in data:
        h ^= (byte - 256 if byte >= 128 else byte) & 0xFFFFFFFF
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
    return h


def ngram_buckets(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """The bucket of each of ``word``'s n-grams (repeats kept, as fastText keeps them)."""
    return [fnv1a(g.encode("utf-8")) % buckets for g in char_ngrams(word, min_n, max_n)]


@dataclass(frozen=True)
class SubwordSpec:
    """How words are cut into n-grams, and how many bucket rows they hash into."""

    min_n: int = 3
    max_n: int = 6
    buckets: int = 2_000_000

    def __post_init__(self) -> None:
        if self.min_n < 1:
            raise SgnsError(f"min_n must be >= 1, got {self.min_n}")
        if self.max_n < self.min_n:
            raise SgnsError(f"max_n ({self.max_n}) must be >= min_n ({self.min_n})")
        if self.buckets < 1:
            raise SgnsError(f"buckets must be >= 1, got {self.buckets}")

    def bags(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each word's input rows as ``(starts, ids)``: word k's rows are
        ``ids[starts[k]:starts[k+1]]``, its own row ``k`` first, then ``len(words) + bucket``
        for each n-gram. Word 0 (the padding entry, ``""``) has no rows. The last answer is
        kept: the engine and the run's result both ask for it."""
        return _bags(self, tuple(words))

    def _bags(self, words: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        vocab_size = len(words)
        starts = np.zeros(vocab_size + 1, dtype=np.int64)
        ids: list[int] = []
        for k, word in enumerate(words):
            if k:
                ids.append(k)
                ids.extend(vocab_size + b
                           for b in ngram_buckets(word, self.min_n, self.max_n, self.buckets))
            starts[k + 1] = len(ids)
        return starts, np.asarray(ids, dtype=np.int32)

    def vector(self, word: str, bucket_rows: np.ndarray) -> np.ndarray | None:
        """A vector for a word outside the vocabulary: the mean of its n-grams' bucket rows
        (None when it has no n-gram, which only a ``min_n`` above its length gives)."""
        rows = ngram_buckets(word, self.min_n, self.max_n, self.buckets)
        if not rows:
            return None
        return bucket_rows[rows].mean(axis=0)


@lru_cache(maxsize=1)
def _bags(spec: SubwordSpec, words: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    return spec._bags(words)


def fasttext_vectors(words: list[str], word_rows: np.ndarray, bucket_rows: np.ndarray,
                     spec: SubwordSpec) -> FastTextKeyedVectors:
    """gensim's ``FastTextKeyedVectors`` of a subword model: ``kv[word]`` is the mean of the
    word's own row and its n-grams' rows, and a word outside the vocabulary gets the mean of
    its n-grams' rows (gensim hashes them as fastText and sgns do)."""
    from gensim.models.fasttext import FastTextKeyedVectors

    dim = word_rows.shape[1]
    kv = FastTextKeyedVectors(vector_size=dim, min_n=spec.min_n, max_n=spec.max_n,
                              bucket=spec.buckets, count=0, dtype=np.float32)
    word_rows = np.ascontiguousarray(word_rows, dtype=np.float32)
    kv.add_vectors(list(words), word_rows)
    kv.vectors_vocab = word_rows
    kv.vectors_ngrams = np.ascontiguousarray(bucket_rows, dtype=np.float32)
    kv.recalc_char_ngram_buckets()
    kv.adjust_vectors()
    return kv


def save_subwords(path: str | os.PathLike, spec: SubwordSpec, word_rows: np.ndarray,
                  bucket_rows: np.ndarray, output_rows: np.ndarray) -> None:
    """What a vector for any word needs, and what fastText's binary holds: the n-gram
    settings, the words' own input rows (in vocabulary order, without the padding row), the
    bucket rows and the output rows."""
    with atomic_open(path, "wb") as f:
        np.savez(f, min_n=spec.min_n, max_n=spec.max_n, buckets=spec.buckets,
                 word_rows=word_rows, bucket_rows=bucket_rows, output_rows=output_rows)


def load_subwords(path: str | os.PathLike, outputs: bool = False) -> tuple:
    """``(spec, word_rows, bucket_rows)``, and the output rows too with ``outputs``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            spec = SubwordSpec(int(data["min_n"]), int(data["max_n"]), int(data["buckets"]))
            rows = [data["word_rows"], data["bucket_rows"]]
            if outputs:
                rows.append(data["output_rows"])
    except (ValueError, KeyError, OSError, EOFError) as exc:
        raise SgnsError(f"{path} is not an sgns subwords file: {exc}") from None
    if rows[1].shape[0] != spec.buckets:
        raise SgnsError(f"{path} holds {rows[1].shape[0]} bucket rows, not {spec.buckets}")
    return (spec, *rows)
