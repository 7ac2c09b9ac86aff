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
    table = aligned_zeros((total_rows or rows, width or dim))
    # Drawn into one small buffer, reused (fresh temporaries of a block each cost their pages'
    # first touch): the same numbers, whatever the block size, as the generator's stream is one.
    block = 1 << 12
    buffer = np.empty((min(rows, block), dim), dtype=np.float32)
    for first in range(0, rows, block):
        last = min(rows, first + block)
        part = buffer[:last - first]
        rng.random(out=part, dtype=np.float32)
        np.subtract(part, np.float32(0.5), out=part)
        np.divide(part, np.float32(scale), out=table[first:last, :dim])
    return table


CACHE_LINE = 64  # bytes


def aligned_zeros(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """``np.zeros`` whose first element starts a 64-byte cache line. numpy's large arrays
    start 16 bytes into a line, so with rows of whole lines (the native engine's padded rows)
    every row straddles one line more than it fills, and every 64-byte vector load of it is
    split in two (the 6-row skip-gram update measured 5-7% slower on such rows)."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    buffer = np.zeros(size + CACHE_LINE, dtype=np.uint8)
    start = -buffer.ctypes.data % CACHE_LINE
    return buffer[start:start + size].view(dtype).reshape(shape)


def row_width(dim: int) -> int:
    """Table rows padded to whole 64-byte vectors (16 floats), as the native engine keeps them:
    the zero columns stay zero (their gradients are zero), and its inner loops need no scalar
    remainder."""
    return -(-dim // 16) * 16
