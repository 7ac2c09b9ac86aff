"""Words to ids at compiled speed: an open-addressing hash table over the bytes of each token
(FNV-1a hashes, linear probing), numbering words in the order they are first met. Its arrays
live in Python and grow there; the compiled loop stops when one is full, and resumes."""

from __future__ import annotations

import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@njit(cache=True, nogil=True)
def _intern(data, starts, ends, lower, first, slots, hashes, offsets, arena, sizes, ids):
    """Ids of tokens ``first..`` into ``ids``; returns the first token not done (all done:
    ``starts.size``), stopping when the table is half full or the arena or word arrays are.
    ``sizes``: [words, arena bytes used]."""
    mask = slots.shape[0] - 1
    n_words = sizes[0]
    used = sizes[1]
    for t in range(first, starts.shape[0]):
        start, end = starts[t], ends[t]
        h = _FNV_OFFSET
        for i in range(start, end):
            h = (h ^ np.uint64(lower[data[i]])) * _FNV_PRIME
        slot = np.int64(h & np.uint64(mask))
        while True:
            word = slots[slot]
            if word < 0:
                break
            if hashes[word] == h and offsets[word + 1] - offsets[word] == end - start:
                same = True
                base = offsets[word] - start
                for i in range(start, end):
                    if arena[base + i] != lower[data[i]]:
                        same = False
                        break
                if same:
                    break
            slot = (slot + 1) & mask
        if word < 0:
            if (2 * (n_words + 1) > slots.shape[0] or n_words + 2 > offsets.shape[0]
                    or used + end - start > arena.shape[0]):
                sizes[0], sizes[1] = n_words, used
                return t
            word = n_words
            slots[slot] = word
            hashes[word] = h
            for i in range(start, end):
                arena[used + i - start] = lower[data[i]]
            used += end - start
            offsets[word + 1] = used
            n_words += 1
        ids[t] = word
    sizes[0], sizes[1] = n_words, used
    return starts.shape[0]


@njit(cache=True, nogil=True)
def _rehash(slots, hashes, n_words):
    mask = slots.shape[0] - 1
    for word in range(n_words):
        slot = np.int64(hashes[word] & np.uint64(mask))
        while slots[slot] >= 0:
            slot = (slot + 1) & mask
        slots[slot] = word


class Interner:
    """Word ids for tokens given as byte spans; ``lowercase`` lower-cases ASCII letters
    first. ``words()`` decodes the words (as UTF-8; undecodable bytes replaced) in id order."""

    def __init__(self, lowercase: bool) -> None:
        self.lower = np.arange(256, dtype=np.uint8)
        if lowercase:
            self.lower[65:91] += 32
        self.slots = np.full(1 << 16, -1, np.int32)
        self.hashes = np.zeros(1 << 15, np.uint64)
        self.offsets = np.zeros((1 << 15) + 1, np.int64)
        self.arena = np.zeros(1 << 20, np.uint8)
        self.sizes = np.zeros(2, np.int64)

    def __len__(self) -> int:
        return int(self.sizes[0])

    def ids(self, data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        ids = np.empty(starts.size, np.int32)
        done = 0
        while (done := _intern(data, starts, ends, self.lower, done, self.slots, self.hashes,
                               self.offsets, self.arena, self.sizes, ids)) < starts.size:
            self._grow(int(ends[done] - starts[done]))
        return ids

    def _grow(self, token_bytes: int) -> None:
        n_words, used = int(self.sizes[0]), int(self.sizes[1])
        if 2 * (n_words + 1) > self.slots.size:
            self.slots = np.full(2 * self.slots.size, -1, np.int32)
            _rehash(self.slots, self.hashes, n_words)
        if n_words + 2 > self.offsets.size:  # room for twice the words: offsets one longer
            self.hashes = np.concatenate((self.hashes, np.zeros(self.hashes.size, np.uint64)))
            self.offsets = np.concatenate(
                (self.offsets, np.zeros(self.hashes.size + 1 - self.offsets.size, np.int64)))
        if used + token_bytes > self.arena.size:
            extra = max(self.arena.size, token_bytes)
            self.arena = np.concatenate((self.arena, np.zeros(extra, np.uint8)))

    def words(self, first: int = 0, errors: str = "replace") -> list[str]:
        """Words ``first..`` in id order, decoded with ``errors`` (the handler of
        ``bytes.decode``)."""
        offsets, last = self.offsets, len(self)
        base = int(offsets[first])
        arena = self.arena[base:offsets[last]].tobytes()
        bounds = (offsets[first:last + 1] - base).tolist()
        return [arena[a:b].decode("utf-8", errors)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
