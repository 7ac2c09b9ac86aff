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
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..config import SubwordSpec
from ..errors import SgnsError
from ..files import DAMAGED, atomic_open

if TYPE_CHECKING:
    from gensim.models.fasttext import FastTextKeyedVectors

SUBWORDS_FILE = "subwords.npz"

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619


def char_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The n-grams of ``<word>`` of ``min_n`` to ``max_n`` characters, in fastText's order
    (fastText never takes ``<`` or ``>`` alone)."""
    text = f"<{word}>"
    size = len(text)
    return [text[start:start + n] for start in range(size)
            for n in range(min_n, min(max_n, size - start) + 1)
            if n > 1 or 0 < start < size - 1]


def fnv1a(grams: list[str]) -> np.ndarray:
    """fastText's 32-bit FNV-1a of each string's UTF-8 bytes, each byte sign-extended as a
    signed char first. Vectorised over the strings: one numpy pass per byte position, so that
    the n-grams of a whole vocabulary hash in a fraction of a second."""
    encoded = [g.encode("utf-8") for g in grams]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    width = int(lengths.max(initial=0))
    # The bytes, one string a row, zero-padded to the longest.
    padded = np.zeros((len(encoded), width), dtype=np.uint8)
    padded[np.arange(width) < lengths[:, None]] = np.frombuffer(b"".join(encoded), np.uint8)
    signed = padded.view(np.int8).astype(np.uint32)  # each byte sign-extended
    h = np.full(len(encoded), _FNV_OFFSET, dtype=np.uint32)
    for j in range(width):
        # uint32 arithmetic wraps mod 2^32, as fastText's does
        h = np.where(lengths > j, (h ^ signed[:, j]) * np.uint32(_FNV_PRIME), h)
    return h


def ngram_buckets(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """The bucket of each of ``word``'s n-grams (repeats kept, as fastText keeps them)."""
    return (fnv1a(char_ngrams(word, min_n, max_n)) % buckets).tolist()


def word_bags(spec: SubwordSpec, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each word's input rows as ``(starts, ids)``: word k's rows are
    ``ids[starts[k]:starts[k+1]]``, its own row ``k`` first, then ``len(words) + bucket``
    for each n-gram. Word 0 (the padding entry, ``""``) has no rows. The last answer is
    kept: the engine and the run's result both ask for it."""
    return _bags(spec, tuple(words))


def _compute_bags(spec: SubwordSpec, words: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    vocab_size = len(words)
    grams = [char_ngrams(w, spec.min_n, spec.max_n) if k else [] for k, w in
             enumerate(words)]
    counts = np.fromiter(map(len, grams), dtype=np.int64, count=vocab_size)
    buckets = fnv1a([g for word_grams in grams for g in word_grams]).astype(np.int64)
    rows = vocab_size + buckets % spec.buckets
    # Each word's bag: its own row, then its n-grams' bucket rows.
    starts = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(np.where(np.arange(vocab_size) > 0, counts + 1, 0), out=starts[1:])
    ids = np.empty(starts[-1], dtype=np.int32)
    own = starts[1:-1]  # the first slot of words 1..V-1
    ids[own] = np.arange(1, vocab_size)
    is_gram = np.ones(starts[-1], dtype=bool)
    is_gram[own] = False
    ids[is_gram] = rows
    return starts, ids


def flat_bags(centers: np.ndarray, starts: np.ndarray, ids: np.ndarray, size: int
              ) -> tuple[np.ndarray, np.ndarray, int]:
    """The bags of rows of ``centers`` (from :meth:`SubwordSpec.bags`) laid end to end in
    ``size`` slots, as a step of fixed shape takes them: ``(rows, owner, n)``, where
    ``owner[t]`` is the example whose bag holds ``rows[t]``, the slots past the bags hold row
    0 (in no bag) and ``n`` is how many of the first centers fit. Center 0 (padding) has an
    empty bag."""
    lengths = starts[centers + 1] - starts[centers]
    ends = np.cumsum(lengths)
    n = int(np.searchsorted(ends, size, side="right"))
    used = int(ends[n - 1]) if n else 0
    owner = np.zeros(size, dtype=np.int32)
    owner[:used] = np.repeat(np.arange(n, dtype=np.int32), lengths[:n])
    # Slot t of example k's bag reads ids[starts[center k] + (t - first slot of k)].
    offset = np.repeat(starts[centers[:n]] - (ends[:n] - lengths[:n]), lengths[:n])
    rows = np.zeros(size, dtype=np.int32)
    rows[:used] = ids[offset + np.arange(used)]
    return rows, owner, n


def window_bags(windows: np.ndarray, starts: np.ndarray, ids: np.ndarray, size: int
                ) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`flat_bags` for CBOW: example k's bag is the bags of the words of ``windows[k]``
    (0 for padding, an empty bag) together, and ``n`` counts whole examples."""
    lengths = (starts[windows + 1] - starts[windows]).sum(axis=1)
    ends = np.cumsum(lengths)
    n = int(np.searchsorted(ends, size, side="right"))
    rows, _, _ = flat_bags(windows[:n].reshape(-1), starts, ids, size)  # all of them fit
    owner = np.zeros(size, dtype=np.int32)
    used = int(ends[n - 1]) if n else 0
    owner[:used] = np.repeat(np.arange(n, dtype=np.int32), lengths[:n])
    return rows, owner, n


@lru_cache(maxsize=1)
def _bags(spec: SubwordSpec, words: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    return _compute_bags(spec, words)


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
    except DAMAGED as exc:
        raise SgnsError(f"{path} is not an sgns subwords file: {exc}") from None
    if rows[1].shape[0] != spec.buckets:
        raise SgnsError(f"{path} holds {rows[1].shape[0]} bucket rows, not {spec.buckets}")
    return (spec, *rows)
