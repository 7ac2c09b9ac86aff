"""Hierarchical softmax's tree: a Huffman tree over the vocabulary's counts (Mikolov et al.
2013, "Distributed Representations of Words and Phrases", section 2.1), built as gensim's
``_build_heap`` and ``_assign_binary_codes`` build it, so that every word gets the same code and
points.

Each word's path runs from the root to its leaf: ``nodes`` are the inner nodes passed (rows of
the output table), ``labels`` what each of them should predict, ``1 - code`` as in word2vec.c
(``g = (1 - code - f) * alpha``). Laid out as CSR over the vocabulary's ids: word ``k``'s path
is ``nodes[starts[k]:starts[k + 1]]``; the padding id 0 has an empty path.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

# The tree's paths, as the native engine's compiled loop takes them (a named tuple of arrays).
Paths = namedtuple("Paths", ["starts", "nodes", "labels"])


@njit(cache=True, inline="always")
def _sift_down(heap, key, start, pos):
    """heapq's ``_siftdown``: the item at ``pos`` moved up while it is smaller than its
    parent (items compared by ``key`` alone, as gensim's ``Heapitem`` compares counts)."""
    item = heap[pos]
    while pos > start:
        parent = (pos - 1) >> 1
        if key[item] < key[heap[parent]]:
            heap[pos] = heap[parent]
            pos = parent
            continue
        break
    heap[pos] = item


@njit(cache=True, inline="always")
def _sift_up(heap, key, size, pos):
    """heapq's ``_siftup``: the smaller child moved up to a leaf, then the item sifted down."""
    start, item = pos, heap[pos]
    child = 2 * pos + 1
    while child < size:
        if child + 1 < size and not key[heap[child]] < key[heap[child + 1]]:
            child += 1
        heap[pos] = heap[child]
        pos = child
        child = 2 * pos + 1
    heap[pos] = item
    _sift_down(heap, key, start, pos)


@njit(cache=True)
def _merge(counts):
    """The tree's inner nodes as gensim's ``_build_heap`` makes them: Python's ``heapq`` over
    the words' ids, compared by count alone (ties fall where the heap's order puts them), the
    two smallest popped and joined into inner node ``i`` (node id ``n + i``) with
    ``left[i]`` and ``right[i]``, which is pushed back. The same steps as CPython's heapq,
    so the same ties."""
    n = counts.shape[0]
    key = np.empty(2 * n, np.int64)
    key[:n] = counts
    heap = np.arange(n, dtype=np.int64)
    size = n
    for i in range(n // 2 - 1, -1, -1):
        _sift_up(heap, key, size, i)
    left = np.empty(max(n - 1, 0), np.int64)
    right = np.empty(max(n - 1, 0), np.int64)
    for i in range(n - 1):
        for side in range(2):  # heappop, twice
            size -= 1
            last = heap[size]
            top = last
            if size > 0:
                top = heap[0]
                heap[0] = last
                _sift_up(heap, key, size, 0)
            if side == 0:
                left[i] = top
            else:
                right[i] = top
        key[n + i] = key[left[i]] + key[right[i]]
        heap[size] = n + i  # heappush
        size += 1
        _sift_down(heap, key, 0, size - 1)
    return left, right


@njit(cache=True)
def _paths(left, right, n):
    """Each leaf's path from the root: depths first, then the inner nodes and codes, walking
    down from the root (the last inner node) in node-id order."""
    depth = np.zeros(2 * n - 1, np.int64)
    for i in range(n - 2, -1, -1):  # parents before children: inner nodes in reverse
        depth[left[i]] = depth[n + i] + 1
        depth[right[i]] = depth[n + i] + 1
    starts = np.zeros(n + 1, np.int64)
    for k in range(n):
        starts[k + 1] = starts[k] + depth[k]
    nodes = np.empty(starts[n], np.int32)
    codes = np.empty(starts[n], np.int8)
    parent = np.full(2 * n - 1, -1, np.int64)
    bit = np.zeros(2 * n - 1, np.int8)
    for i in range(n - 1):
        parent[left[i]], parent[right[i]] = n + i, n + i
        bit[right[i]] = 1
    for k in range(n):  # from the leaf up, filling its path from the end
        at, d = k, starts[k + 1]
        while parent[at] >= 0:
            d -= 1
            codes[d] = bit[at]
            nodes[d] = parent[at] - n
            at = parent[at]
    return starts, nodes, codes


def huffman_paths(counts: np.ndarray) -> Paths:
    """The paths of a vocabulary whose counts are ``counts`` (index 0 the padding, left out of
    the tree). The inner nodes are numbered ``0..V-2`` for ``V`` words, rows of the output
    table."""
    counts = np.asarray(counts, np.int64)[1:]
    n = counts.size
    if n < 2:  # one word: no choice to make, an empty path
        empty = np.zeros(n + 2, np.int64)
        return Paths(empty, np.zeros(0, np.int32), np.zeros(0, np.float32))
    left, right = _merge(counts)
    starts, nodes, codes = _paths(left, right, n)
    return Paths(np.concatenate(([0], starts)), nodes, (1 - codes).astype(np.float32))


def no_paths(vocab_size: int) -> Paths:
    """Empty paths, for a run with negative sampling."""
    return Paths(np.zeros(vocab_size + 1, np.int64), np.zeros(0, np.int32),
                 np.zeros(0, np.float32))


def split_top(paths: Paths, levels: int) -> tuple[Paths, np.ndarray]:
    """The top of the tree apart: the inner nodes within ``levels`` of the root (every path
    passes the root, half of them each of its children, ...), returned as their ids, and
    ``paths`` with each path's first ``levels`` nodes renumbered as places in that array, the
    rest kept as they are. The native engine's workers each keep their own copy of those rows
    (:mod:`sgns.engines.native.tree_top`)."""
    depth = np.arange(paths.nodes.size) - np.repeat(paths.starts[:-1], np.diff(paths.starts))
    upper = depth < levels
    # The top's ids in increasing order, and each one's place among them, through a mark per
    # inner node: np.unique's sort took 30 ms of a 20 Newsgroups run.
    in_top = np.zeros(paths.nodes.max(initial=-1) + 1, bool)
    in_top[paths.nodes[upper]] = True
    top = np.flatnonzero(in_top)
    places = np.cumsum(in_top) - 1
    nodes = paths.nodes.copy()
    nodes[upper] = places[nodes[upper]]
    return Paths(paths.starts, nodes, paths.labels), top.astype(np.int64)
