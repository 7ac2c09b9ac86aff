"""The steps of the native engine's compiled loop that every model shares, each inlined into
it: a document subsampled into a sentence, a center word's window and outputs, its negatives
drawn ahead in runs, and a skip-gram window handed to its update kernel."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from ...config import SPLIT_WINDOW
from .compiler import prefetch_row
from .kernels import update_path6, update_window, update_window6
from .sampling import draw_many, uniform

# The output rows of the center word this many places ahead are prefetched while the current
# one trains (2 measured a little better than 1 or 3, by hand).
AHEAD = 2
# Negatives are drawn this many centers' worth at a time, into a ring of twice as many.
DRAWN = 128
# Hierarchical softmax: a path's first TOP_LEVELS inner nodes (two blocks of the 6-node
# kernels) are rows of the worker's own copy of the tree's top (:mod:`.tree_top`); a multiple
# of 6. 6 levels left the two workers 1.21 times the longer one's time alone, 12 levels 1.04
# (bench_contention.py --model cbow --loss hs).
TOP_LEVELS = 12


@njit(cache=True)
def aligned_rows(rows, dim):
    """Zeroed float32 ``(rows, dim)`` whose first element starts a 64-byte cache line (numba
    aligns its arrays to 32 bytes): :func:`sgns.encoding.tables.aligned_zeros` for compiled code."""
    buffer = np.zeros(rows * dim + 16, dtype=np.float32)
    start = np.int64((np.uint64(64) - np.uint64(buffer.ctypes.data) % np.uint64(64))
                     % np.uint64(64)) // 4
    return buffer[start:start + rows * dim].reshape((rows, dim))


@njit(cache=True, inline="always")
def subsample(ids, begin, end, keep, state, sentence):
    """The document ``ids[begin:end]`` after frequent-word subsampling, into ``sentence``;
    returns its length."""
    length = 0
    for t in range(begin, end):
        word = ids[t]
        if keep[word] >= np.float32(1.0) or keep[word] > uniform(state):
            sentence[length] = word
            length += 1
    return length


@njit(cache=True, inline="always")
def window_of(sentence, length, p, b, contexts):
    """The words within ``b`` places of ``sentence[p]``, into ``contexts``; returns how many."""
    m = 0
    for q in range(max(0, p - b), min(length, p + b + 1)):
        if q != p:
            contexts[m] = sentence[q]
            m += 1
    return m


@njit(cache=True, inline="always")
def prefetch_bag(table, bag_starts, bag_ids, word):
    for t in range(bag_starts[word], bag_starts[word + 1]):
        prefetch_row(table, bag_ids[t])


@njit(cache=True, inline="always")
def draw_ahead(g, groups, negative, noise, state, drawn):
    """At every ``DRAWN``-th draw ``g`` (of ``groups`` in the sentence), the negatives of the
    draws up to ``2 * DRAWN`` on, in one run of :func:`draw_many` into the ring ``drawn``
    (:func:`negatives_of` finds a draw's): at the sentence's start its first two batches,
    later the batch after the next (the one whose slots the centers just trained have freed)."""
    if g % DRAWN == 0:
        lo = 0 if g == 0 else g + DRAWN
        hi = min(groups, g + 2 * DRAWN)
        if lo < hi:
            slot = lo % (2 * DRAWN)
            draw_many(state, noise, drawn, slot * negative, (slot + hi - lo) * negative)


@njit(cache=True, inline="always")
def negatives_of(g, negative, drawn):
    slot = g % (2 * DRAWN)
    return drawn[slot * negative:(slot + 1) * negative]


@njit(cache=True, inline="always")
def center_negatives(output_table, sentence, p, length, negative, share, noise, state,
                     drawn):
    """Center ``p``'s negatives, one draw of ``negative`` ids serving ``share`` consecutive
    centers (1: a draw each, as word2vec). The draws are made ahead by :func:`draw_ahead`,
    and center ``p + AHEAD``'s output rows are prefetched while ``p`` trains (random output
    rows are the memory latency that counts): the word's own row, and its negatives' where its
    draw is new (a shared draw's rows were just written by the centers before it)."""
    if p % share == 0:
        draw_ahead(p // share, (length + share - 1) // share, negative, noise, state, drawn)
    ahead = p + AHEAD
    if ahead < length:
        prefetch_row(output_table, sentence[ahead])
        if ahead % share == 0:
            rows = negatives_of(ahead // share, negative, drawn)
            for k in range(negative):
                prefetch_row(output_table, rows[k])
    return negatives_of(p // share, negative, drawn)


@njit(cache=True, inline="always")
def _part_end(begin, split, m):
    """Where a window's part that starts at ``begin`` ends: a window of ``SPLIT_WINDOW``
    context words or more is written in two parts, those before the center (``split`` of
    them), then those after it, scored against the output rows as the first part left them."""
    return split if begin == 0 else m


@njit(cache=True, inline="always")
def _split_at(m, before):
    return before if m >= SPLIT_WINDOW and 0 < before < m else m


# update_window6 scores a context row against 6 output rows: the word and up to this many
# negatives (word2vec's default, 5).
WINDOW6_NEGATIVES = 5


@njit(cache=True, inline="always")
def write_window6(input_table, output_table, contexts, m, before, outputs, n_out, alpha, lanes,
                  grad_out, in_rows):
    """A skip-gram window with negative sampling against at most 6 output rows (the word
    itself, then its negatives), HogBatch, through :func:`update_window6` alone. Its first
    ``before`` context words come before the center (see :func:`_part_end`). The default
    path's only kernel: with the other two, that path took 12.7 s to compile, 9.4 s without
    them. Returns the loss."""
    split = _split_at(m, before)
    loss = 0.0
    begin = 0
    while begin < m:
        end = _part_end(begin, split, m)
        loss += update_window6(input_table, output_table, contexts[begin:end], end - begin,
                               outputs, n_out, alpha, lanes, grad_out, in_rows)
        begin = end
    return loss


@njit(cache=True, inline="always")
def write_window(input_table, output_table, contexts, m, before, outputs, labels, n_out, alpha,
                 lanes, grad_out, in_rows, scores):
    """:func:`write_window6` for any number of output rows: more than 6 through
    :func:`update_window`. Returns the loss."""
    if n_out <= 6:  # one call site a kernel: each is inlined once
        return write_window6(input_table, output_table, contexts, m, before, outputs, n_out,
                             alpha, lanes, grad_out, in_rows)
    split = _split_at(m, before)
    loss = 0.0
    begin = 0
    while begin < m:
        end = _part_end(begin, split, m)
        loss += update_window(input_table, output_table, contexts[begin:end], end - begin,
                              outputs, labels, n_out, alpha, scores, grad_out)
        begin = end
    return loss


@njit(cache=True, inline="always")
def write_path(input_table, output_table, top, contexts, m, before, outputs, labels, n_out,
               alpha, lanes, grad_out, in_rows, scores):
    """A skip-gram window against a path of hierarchical softmax, HogBatch, 6 inner nodes at a
    time through :func:`update_path6`, the first ``TOP_LEVELS`` nodes rows of ``top`` (the
    rest rows of the output table); parts as :func:`write_window`'s. Apart from it, so that
    negative sampling's path does not compile this kernel (nor hierarchical softmax's the
    others). Returns the loss."""
    split = _split_at(m, before)
    lane_labels = scores.reshape(scores.size)  # scores, unused here, take the lanes' labels
    loss = 0.0
    begin = 0
    while begin < m:
        end = _part_end(begin, split, m)
        part = contexts[begin:end]
        for block in range(0, n_out, 6):
            table = top if block < TOP_LEVELS else output_table
            loss += update_path6(input_table, table, part, end - begin, outputs[block:],
                                 labels[block:], min(6, n_out - block), alpha, lanes, grad_out,
                                 in_rows, lane_labels)
        begin = end
    return loss


@njit(cache=True, inline="always")
def targets(center, drawn, negative, outputs, labels, weights):
    """A center's outputs: the word itself (label 1) and its drawn negatives (label 0), a draw
    of the center itself skipped as word2vec skips it, each counted once. Returns how many."""
    outputs[0] = center
    labels[0] = 1.0
    weights[0] = 1.0
    n_out = 1
    for k in range(negative):
        if drawn[k] != center:
            outputs[n_out] = drawn[k]
            labels[n_out] = 0.0
            weights[n_out] = 1.0
            n_out += 1
    return n_out


@njit(cache=True, inline="always")
def path_targets(paths, word, outputs, labels, weights, at):
    """Hierarchical softmax: the inner nodes on ``word``'s path (:mod:`sgns.encoding.huffman`)
    and their labels, into ``outputs[at:]``, each counted once. Returns where they end."""
    n = at
    for t in range(paths.starts[word], paths.starts[word + 1]):
        outputs[n] = paths.nodes[t]
        labels[n] = paths.labels[t]
        weights[n] = 1.0
        n += 1
    return n


# A worker's scratch arrays, allocated once per run of documents (:func:`scratch`): a center's
# outputs, labels and weights, the ring of negatives drawn ahead, and the kernels' row-sized
# buffers, which start on cache lines as the tables do.
Scratch = namedtuple("Scratch", [
    "sentence", "contexts", "drawn", "outputs", "labels", "weights", "scores", "lanes",
    "grad_out", "in_rows", "hidden", "neu", "grads6", "bag", "sums", "spread",
    "path_grad",
])


@njit(cache=True)
def scratch(window, negative, dim, longest_document, largest_bag, cbow_block, longest_path=0):
    """The scratch of one worker for windows of up to ``window`` words a side, ``negative``
    negatives, rows of ``dim`` floats, documents of up to ``longest_document`` tokens, bags
    of up to ``largest_bag`` rows and paths of hierarchical softmax of up to ``longest_path``
    inner nodes (0: negative sampling)."""
    # A window's context words and negatives, or its context words' paths, at most.
    outputs = 2 * window + negative + 2 * window * longest_path
    # Outputs a context row is scored against; with a path, at least 8 (a lane's label each).
    per_row = max(negative + 1, longest_path, 8 if longest_path else 0)
    return Scratch(
        np.empty(longest_document, dtype=np.int32),
        np.empty(2 * window, dtype=np.int32),
        np.empty(2 * DRAWN * negative, dtype=np.int32),  # the ring of draw_ahead
        np.empty(outputs, dtype=np.int32),
        np.empty(outputs, dtype=np.float32),
        np.empty(outputs, dtype=np.float32),
        np.empty((2 * window, per_row), dtype=np.float32),
        np.empty(2 * window * 8, dtype=np.float32),  # update_window6's scores
        aligned_rows(max(6, per_row), dim),
        aligned_rows(2 * window, dim),
        aligned_rows(1, dim)[0],
        aligned_rows(1, dim)[0],
        np.empty(16, dtype=np.float32),  # score_hidden6's lanes, then their labels
        np.empty(2 * window * largest_bag, dtype=np.int32),
        aligned_rows(cbow_block + 2 * window + 1, dim),
        aligned_rows(cbow_block + 2 * window + 1, dim),  # zero, and zeroed after use
        aligned_rows(1, dim)[0],
    )
