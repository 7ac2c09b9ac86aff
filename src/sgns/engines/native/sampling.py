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
    return _mix(state[0])


@njit(cache=True, inline="always")
def _mix(z):
    """splitmix64's output function of its counter ``z``."""
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


# An alias table is one uint64 per cell: the alias in the low 32 bits, and in the high 32 the
# threshold below which a 31-bit coin keeps the cell (its acceptance times 2**31). One load per
# draw, and an integer compare that the draw turns into a select rather than a branch: the
# coin's branch mispredicted about one draw in four, and with two arrays a draw touched two
# cache lines.
COIN_BITS = 31


@njit(cache=True, inline="always")
def _alias_pick(z, table):
    """The id that the 64 random bits ``z`` pick: the cell from the top 32 bits, the coin from
    the low 31."""
    k = _scaled(z >> np.uint64(32), table.shape[0])
    cell = table[k]
    alias = np.int64(cell & np.uint64(0xFFFFFFFF))
    return k if (z & np.uint64((1 << COIN_BITS) - 1)) < (cell >> np.uint64(32)) else alias


@njit(cache=True, inline="always")
def draw_alias(state, table):
    """One id from an alias table: always in [0, len(table))."""
    return _alias_pick(next_random(state), table)


@njit(cache=True, inline="always")
def draw_many(state, table, out, begin, end):
    """``out[begin:end]`` = draws from the alias table, the same ids as that many
    :func:`draw_alias` calls. The generator's counter stays in a register and no draw waits
    for the one before, so the table's loads overlap: drawn one at a time between a center's
    products, with the coin as a branch, the negatives took about a third of CBOW's time."""
    counter = state[0]
    for t in range(begin, end):
        counter += _GOLDEN
        out[t] = _alias_pick(_mix(counter), table)
    state[0] = counter


@njit(cache=True)
def alias_table(p):
    """Vose's alias method (Walker 1977; Vose 1991): a table such that drawing a cell k
    uniformly, then keeping k with probability ``accept[k]`` or else taking ``alias[k]``, draws
    k with probability ``p[k]`` (to 2**-31). Every alias is an index of ``p``; a word of
    probability 0 is never kept. :func:`split_alias_table` gives ``(accept, alias)`` back."""
    n = p.shape[0]
    scaled = p * n / p.sum()
    accept = np.ones(n, dtype=np.float64)
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
    threshold = np.empty(n, dtype=np.uint64)
    for k in range(n):
        threshold[k] = np.uint64(min(max(accept[k], 0.0), 1.0) * (1 << COIN_BITS) + 0.5)
    return (threshold << np.uint64(32)) | alias.astype(np.uint64)


def split_alias_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(accept, alias)`` of a table from :func:`alias_table`: each cell's chance to keep
    itself, and the id it gives otherwise."""
    accept = (table >> np.uint64(32)).astype(np.float64) / (1 << COIN_BITS)
    return accept, (table & np.uint64(0xFFFFFFFF)).astype(np.int64)
