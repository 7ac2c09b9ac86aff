"""The native engine's random draws: a counter-based generator per worker, uniform floats and
integers from it, and Walker's alias table for drawing negatives in O(1)."""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def next_random(state):
    """splitmix64 (Steele et al., 2014): a 64-bit random number; ``state`` is a 1-element array.
    Every operand stays uint64: numba turns uint64 mixed with int64 into float64."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def uniform(state):
    """A float32 in [0, 1) from the top 24 bits: 24 bits fit a float32's mantissa exactly, so
    the result never rounds up to 1."""
    return np.float32(next_random(state) >> np.uint64(40)) * np.float32(1.0 / 16777216.0)


@njit(cache=True, inline="always")
def _scaled(bits32, n):
    """``floor(bits32 * n / 2**32)``: an integer in [0, n) from 32 random bits, by a multiply
    and a shift instead of a division (Lemire, 2019, "Fast random integer generation in an
    interval"; the bias, at most n / 2**32, is far below the sampling noise here)."""
    return np.int64((bits32 * np.uint64(n)) >> np.uint64(32))


@njit(cache=True, inline="always")
def below(state, n):
    """An integer in [0, n) (1 <= n < 2**32)."""
    return _scaled(next_random(state) >> np.uint64(32), n)


@njit(cache=True, inline="always")
def draw_alias(state, accept, alias):
    """One id from an alias table: always in [0, len(accept)). One 64-bit draw serves both
    choices, its top 32 bits the cell and its low 24 bits the coin: one draw and no division
    per negative, where there were two draws and a 64-bit division."""
    z = next_random(state)
    k = _scaled(z >> np.uint64(32), accept.shape[0])
    coin = np.float32(z & np.uint64(0xFFFFFF)) * np.float32(1.0 / 16777216.0)
    if coin >= accept[k]:
        k = alias[k]
    return k


@njit(cache=True)
def alias_table(p):
    """Vose's alias method (Walker 1977; Vose 1991): ``(accept, alias)`` such that drawing k
    uniformly, then keeping k with probability ``accept[k]`` or else taking ``alias[k]``, draws
    k with probability ``p[k]``. Every alias is an index of ``p``."""
    n = p.shape[0]
    scaled = p * n / p.sum()
    accept = np.ones(n, dtype=np.float32)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = nl = 0
    for k in range(n):
        if scaled[k] < 1.0:
            small[ns] = k
            ns += 1
        else:
            large[nl] = k
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        l_ = large[nl - 1]
        accept[s] = scaled[s]
        alias[s] = l_
        scaled[l_] = scaled[l_] + scaled[s] - 1.0
        if scaled[l_] < 1.0:
            nl -= 1
            small[ns] = l_
            ns += 1
    return accept, alias
