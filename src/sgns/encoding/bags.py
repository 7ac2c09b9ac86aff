"""Bags of input rows: a word's input is the mean of its bag's rows (its own row alone, or with
subwords its row and its n-grams' bucket rows). Laid out as CSR: word ``k``'s rows are
``ids[starts[k]:starts[k + 1]]``."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


def identity_bags(vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Bags of one: each word's input row is its own (no subwords)."""
    return np.arange(vocab_size + 1, dtype=np.int64), np.arange(vocab_size, dtype=np.int32)


@njit(cache=True, parallel=True)
def bag_means(table, bag_starts, bag_ids, dim):
    """Row k: the mean of ``table``'s rows in word k's bag (zero for an empty bag): fastText's
    word vector, its own row and its n-grams' rows averaged."""
    n = bag_starts.shape[0] - 1
    out = np.zeros((n, dim), dtype=np.float32)
    for k in prange(n):
        size = bag_starts[k + 1] - bag_starts[k]
        for t in range(bag_starts[k], bag_starts[k + 1]):
            r = bag_ids[t]
            for i in range(dim):
                out[k, i] += table[r, i]
        if size > 0:
            for i in range(dim):
                out[k, i] /= size
    return out
