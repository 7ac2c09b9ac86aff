"""The tables' starting rows, drawn with numpy from the seed, so that both engines and every
Keras backend start from the same numbers (each backend's own random generator would not)."""

from __future__ import annotations

import numpy as np


def uniform_rows(
    rows: int, dim: int, scale: float, seed: int | None, *,
    total_rows: int | None = None, width: int | None = None,
) -> np.ndarray:
    """A float32 table of ``total_rows`` x ``width`` (default ``rows`` x ``dim``) whose first
    ``rows`` rows and ``dim`` columns are ``(u - 0.5) / scale`` with ``u`` uniform in [0, 1), and
    zero elsewhere: word2vec's start with ``scale=dim``, Keras' ``Embedding`` default (+-0.05) with
    ``scale=10``. Filled a block at a time, so that no temporary copy of a large table is made."""
    rng = np.random.default_rng(seed)
    table = np.zeros((total_rows or rows, width or dim), dtype=np.float32)
    block = 1 << 16
    for first in range(0, rows, block):
        last = min(rows, first + block)
        table[first:last, :dim] = (rng.random((last - first, dim), dtype=np.float32) - 0.5) / scale
    return table
