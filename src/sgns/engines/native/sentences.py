"""The native engine's sentences: one subsampled document trained center word by center word,
one kernel call per center (skip-gram, CBOW, or bags of rows for subwords; negative sampling or
hierarchical softmax). Called by the compiled loop over documents
(:mod:`sgns.engines.native.loops`); nothing here imports back."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .compiler import FASTMATH, prefetch_item, prefetch_row, wide_vectors
from .kernels import (
    score_hidden,
    score_hidden6,
    update_bag,
    update_bag6,
    update_pair_by_pair,
)
from .sampling import below
from .windows import (
    AHEAD,
    TOP_LEVELS,
    center_negatives,
    path_targets,
    prefetch_bag,
    targets,
    window_of,
    write_path,
    write_window,
    write_window6,
)

# How a skip-gram window is written: HogBatch (update_window6), word2vec's pair by pair, or
# the center word's bag of rows (itself and its n-grams) against the whole window (subwords).
UPDATE_WINDOW, UPDATE_PAIR, UPDATE_BAGS = 0, 1, 2
# Centers whose windows cbow_sentence takes together (their context rows written at the end).
CBOW_BLOCK = 32

# What the compiled loop needs of a run's TrainConfig, as numba takes it (a named tuple of
# scalars, passed by value): window (words a side), shrink (draw each center's window from
# 1..window), negative (per center), share (consecutive CBOW centers per draw of negatives),
# cbow (the model is CBOW, else skip-gram), update (UPDATE_WINDOW, UPDATE_PAIR or
# UPDATE_BAGS) and hs (hierarchical softmax: a word's outputs are the inner nodes on its path
# in the Huffman tree, given as ``paths``; else negative sampling).
LoopSettings = namedtuple("LoopSettings", ["window", "shrink", "negative", "share", "cbow",
                                           "update", "hs"])


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _score_path(output_table, top, hidden, outputs, labels, n_out, alpha, neu, grads6,
                path_grad):
    """CBOW's hidden vector against a path of hierarchical softmax, 6 inner nodes at a time
    (:func:`score_hidden6`; the first ``TOP_LEVELS`` rows of ``top``), their gradients summed
    in ``path_grad``, then ``neu``. Returns the loss."""
    loss = 0.0
    for block in range(0, n_out, 6):
        table = top if block < TOP_LEVELS else output_table
        loss += score_hidden6(table, hidden, outputs[block:], labels[block:],
                              min(6, n_out - block), alpha, neu, grads6)
        for i in range(output_table.shape[1]):
            path_grad[i] = neu[i] + (path_grad[i] if block else np.float32(0.0))
    neu[:] = path_grad
    return loss


@njit(cache=True, inline="always")
def _prefetch_paths(output_table, paths, sentence, p, length):
    """While center ``p`` trains: the path (nodes and labels) of the center ``2 * AHEAD``
    places on, and the rows below the tree's top of the one ``AHEAD`` on, whose path was
    fetched 2 centers before. A rare word's path lies where no recent center's did, and its
    rows below the top in a table of the vocabulary's size."""
    if p + 2 * AHEAD < length:
        first = paths.starts[sentence[p + 2 * AHEAD]]
        prefetch_item(paths.nodes, first)
        prefetch_item(paths.labels, first)
    if p + AHEAD < length:
        word = sentence[p + AHEAD]
        for k in range(paths.starts[word] + TOP_LEVELS, paths.starts[word + 1]):
            prefetch_row(output_table, paths.nodes[k])


@njit(cache=True, inline="always")
def _skipgram_outputs(paths, sentence, first, end, p, negatives, negative, hs, outputs, labels,
                      weights):
    """Skip-gram with subwords: what the center's bag predicts, its context words (or with
    ``hs`` their paths) and the window's negatives, each counted once a context word. Returns
    the context words and the outputs."""
    m = n_out = 0
    for q in range(first, end):
        if q != p:
            if hs:
                n_out = path_targets(paths, sentence[q], outputs, labels, weights, n_out)
            else:
                outputs[n_out], labels[n_out], weights[n_out] = sentence[q], 1.0, 1.0
                n_out += 1
            m += 1
    for k in range(0 if hs else negative):
        outputs[n_out], labels[n_out], weights[n_out] = negatives[k], 0.0, np.float32(m)
        n_out += 1
    return m, n_out


@njit(cache=True, fastmath=FASTMATH)
def cbow_sentence(input_table, output_table, length, settings, noise, paths, state, alpha,
                  scratch):
    """word2vec's CBOW (each word its own input row) over one subsampled sentence, in blocks of
    ``CBOW_BLOCK`` centers whose windows share their rows. A block's text, from ``window``
    words before its first center to ``window`` after its last, is read once into running sums
    (``sums[t]``: the rows of its first ``t`` words), so that each window's mean is a
    difference of two sums less the center's row, 4 rows however long the window. The hidden
    vector's gradient goes back to every context row as in word2vec, gathered the same way: a
    difference array (``spread``) marks where each window's gradient starts and ends, and at the
    end of the block one running sum over it gives each word of the text its total, added to
    its row once. So 4 row reads and 4 row writes of the block's scratch a center, and about
    ``1 + 2 * window / CBOW_BLOCK`` reads and writes of the table, against a read and a write
    of every context row (about 10.5 with word2vec's shrunk windows of 10). The output rows are
    written center by center as in word2vec; the context rows at the end of their block (as a
    batch of ``CBOW_BLOCK`` windows would), so within a block the windows see the context rows
    as the block began. One draw of negatives serves ``share`` consecutive centers
    (:func:`center_negatives`). Returns the loss, the examples (windows) and the dot
    products."""
    wide_vectors()
    window, shrink, negative, share = (settings.window, settings.shrink, settings.negative,
                                       settings.share)
    s = scratch
    sentence, drawn, outputs, labels, weights = (s.sentence, s.drawn, s.outputs, s.labels,
                                                 s.weights)
    sums, spread, hidden, neu, grads6 = s.sums, s.spread, s.hidden, s.neu, s.grads6
    dim = input_table.shape[1]
    loss = 0.0
    examples = dots = 0
    for begin in range(0, length, CBOW_BLOCK):
        end = min(length, begin + CBOW_BLOCK)
        first, last = max(0, begin - window), min(length, end + window)  # the block's text
        span = last - first
        sums[0, :] = 0.0
        for t in range(span):
            r = sentence[first + t]
            for i in range(dim):
                sums[t + 1, i] = sums[t, i] + input_table[r, i]
        for p in range(begin, end):
            negatives = center_negatives(output_table, sentence, p, length, negative, share, noise,
                                          state, drawn)
            if p + CBOW_BLOCK + window < length:  # the next block's text, a word a center
                prefetch_row(input_table, sentence[p + CBOW_BLOCK + window])
            b = 1 + below(state, window) if shrink else window
            lo, hi = max(0, p - b) - first, min(length, p + b + 1) - first
            if hi - lo < 2:
                continue
            at = p - first
            inv = np.float32(1.0) / np.float32(hi - lo - 1)
            for i in range(dim):
                hidden[i] = (sums[hi, i] - sums[lo, i] - (sums[at + 1, i] - sums[at, i])) * inv
            n_out = targets(sentence[p], negatives, negative, outputs, labels, weights)
            if n_out <= 6:
                loss += score_hidden6(output_table, hidden, outputs, labels, n_out, alpha, neu,
                                      grads6)
            else:
                loss += score_hidden(output_table, hidden, outputs, labels, weights, n_out,
                                     alpha, neu)
            for i in range(dim):  # the window's words: lo..hi, less the center at
                g = neu[i]
                spread[lo, i] += g
                spread[hi, i] -= g
                spread[at, i] -= g
                spread[at + 1, i] += g
            examples += 1
            dots += n_out
        running = hidden  # free until the next block's first window
        running[:] = 0.0
        for t in range(span):
            r = sentence[first + t]
            for i in range(dim):
                running[i] += spread[t, i]
                spread[t, i] = 0.0
                input_table[r, i] += running[i]
        spread[span, :] = 0.0
    return loss, examples, dots


@njit(cache=True, fastmath=FASTMATH)
def cbow_hs_sentence(input_table, output_table, length, settings, noise, paths, top, state,
                     alpha, scratch):
    """:func:`cbow_sentence` with hierarchical softmax: each window's mean against the inner
    nodes of its center's path, 6 at a time, the hidden vector's gradient summed over them
    (the path's first ``TOP_LEVELS`` nodes are rows of ``top``, the worker's copy of the
    tree's top). The path's nodes and labels are read where ``paths`` keeps them, not copied
    (``bench_ab.py --model cbow --loss hs --workers 2``: 0.395 -> 0.389 s an epoch).
    Apart from :func:`cbow_sentence`, whose body it repeats: one body for both, the loss a
    constant in each, still cost CBOW with negative sampling 13% (bench_ab.py). Returns the
    loss, the examples (windows) and the dot products."""
    wide_vectors()
    window, shrink = settings.window, settings.shrink
    s = scratch
    sentence = s.sentence
    sums, spread, hidden, neu, grads6 = s.sums, s.spread, s.hidden, s.neu, s.grads6
    path_grad = s.path_grad
    dim = input_table.shape[1]
    loss = 0.0
    examples = dots = 0
    for begin in range(0, length, CBOW_BLOCK):
        end = min(length, begin + CBOW_BLOCK)
        first, last = max(0, begin - window), min(length, end + window)  # the block's text
        span = last - first
        sums[0, :] = 0.0
        for t in range(span):
            r = sentence[first + t]
            for i in range(dim):
                sums[t + 1, i] = sums[t, i] + input_table[r, i]
        for p in range(begin, end):
            if p + CBOW_BLOCK + window < length:  # the next block's text, a word a center
                prefetch_row(input_table, sentence[p + CBOW_BLOCK + window])
            b = 1 + below(state, window) if shrink else window
            lo, hi = max(0, p - b) - first, min(length, p + b + 1) - first
            if hi - lo < 2:
                continue
            at = p - first
            inv = np.float32(1.0) / np.float32(hi - lo - 1)
            for i in range(dim):
                hidden[i] = (sums[hi, i] - sums[lo, i] - (sums[at + 1, i] - sums[at, i])) * inv
            _prefetch_paths(output_table, paths, sentence, p, length)
            word = sentence[p]
            first_node, end_node = paths.starts[word], paths.starts[word + 1]
            n_out = end_node - first_node
            loss += _score_path(output_table, top, hidden, paths.nodes[first_node:end_node],
                                paths.labels[first_node:end_node], n_out, alpha, neu, grads6,
                                path_grad)
            for i in range(dim):  # the window's words: lo..hi, less the center at
                g = neu[i]
                spread[lo, i] += g
                spread[hi, i] -= g
                spread[at, i] -= g
                spread[at + 1, i] += g
            examples += 1
            dots += n_out
        running = hidden  # free until the next block's first window
        running[:] = 0.0
        for t in range(span):
            r = sentence[first + t]
            for i in range(dim):
                running[i] += spread[t, i]
                spread[t, i] = 0.0
                input_table[r, i] += running[i]
        spread[span, :] = 0.0
    return loss, examples, dots


@njit(cache=True, fastmath=FASTMATH)
def bag_sentence(input_table, output_table, length, settings, noise, paths, state, alpha,
                 bag_starts, bag_ids, scratch):
    """One subsampled sentence through bags of input rows (``bag_ids[bag_starts[w]:
    bag_starts[w + 1]]`` are word w's rows: itself alone, or itself and its n-grams).

    CBOW with subwords (without them, :func:`cbow_sentence`): one bag of all the window's rows
    per center word, against the center word and its negatives, one draw serving ``share``
    consecutive centers (a negative equal to the center is skipped, as word2vec skips it).
    Skip-gram with subwords, in fastText's direction: the center word's bag predicts each
    context word. Its mean is taken once per center word and scored against all the context
    words and the negatives, which are shared by the window and so count once per context word
    (HogBatch for one input: the same updates as the window's pairs, from the rows as they
    were, at a fraction of the cost of one bag per pair).
    The output rows of the center ``AHEAD`` places on are prefetched while this one trains
    (one place ahead measured about 5% slower for CBOW on one worker).
    Returns the loss, the examples (windows for CBOW, pairs for skip-gram) and the dot
    products."""
    wide_vectors()
    window, shrink, negative, cbow, hs = (settings.window, settings.shrink, settings.negative,
                                          settings.cbow, settings.hs)
    s = scratch
    sentence, bag, drawn, outputs, labels, weights = (s.sentence, s.bag, s.drawn, s.outputs,
                                                      s.labels, s.weights)
    hidden, neu, grads6 = s.hidden, s.neu, s.grads6
    loss = 0.0
    examples = dots = 0
    for p in range(length):
        # Skip-gram's negatives are shared by the window already: a draw per center.
        # Hierarchical softmax runs with ``negative`` 0: nothing is drawn, with no branch on
        # the loss and no extra slice (each counts a reference) a center.
        negatives = center_negatives(output_table, sentence, p, length, negative,
                                     settings.share if cbow else 1, noise, state, drawn)
        if not cbow and p + 1 < length:
            prefetch_bag(input_table, bag_starts, bag_ids, sentence[p + 1])
        if cbow and p + window + 1 < length:  # the word about to enter the window
            prefetch_bag(input_table, bag_starts, bag_ids, sentence[p + window + 1])
        b = 1 + below(state, window) if shrink else window
        first, end = max(0, p - b), min(length, p + b + 1)
        if end - first < 2:
            continue
        center = sentence[p]
        if cbow:
            n_out = (path_targets(paths, center, outputs, labels, weights, 0) if hs
                     else targets(center, negatives, negative, outputs, labels, weights))
            n_bag = 0
            for q in range(first, end):
                if q != p:
                    w = sentence[q]
                    for t in range(bag_starts[w], bag_starts[w + 1]):
                        bag[n_bag] = bag_ids[t]
                        n_bag += 1
            if n_out <= 6:
                loss += update_bag6(input_table, output_table, bag, n_bag, outputs, labels,
                                    n_out, alpha, hidden, neu, grads6)
            else:
                loss += update_bag(input_table, output_table, bag, n_bag, outputs, labels,
                                   weights, n_out, alpha, np.float32(1.0), hidden, neu)
            examples += 1
            dots += n_out
        else:
            m, n_out = _skipgram_outputs(paths, sentence, first, end, p, negatives, negative, hs,
                                         outputs, labels, weights)
            lo, hi = bag_starts[center], bag_starts[center + 1]
            loss += update_bag(input_table, output_table, bag_ids[lo:hi], hi - lo, outputs,
                               labels, weights, n_out, alpha, np.float32(1.0), hidden, neu)
            examples += m
            dots += n_out if hs else m * (1 + negative)
    return loss, examples, dots


@njit(cache=True, inline="always")
def _skipgram_center(input_table, output_table, sentence, length, p, settings, noise, state,
                     drawn, contexts, outputs, labels, weights):
    """Center ``p``'s window (into ``contexts``) and its outputs, the word and its negatives
    (into ``outputs``, ``labels``, ``weights``). Returns the context words, the outputs and
    how many of the context words come before the center."""
    window, negative = settings.window, settings.negative
    negatives = center_negatives(output_table, sentence, p, length, negative, 1, noise, state,
                                 drawn)
    if p + window + 1 < length:  # the word about to enter the window
        prefetch_row(input_table, sentence[p + window + 1])
    b = 1 + below(state, window) if settings.shrink else window
    m = window_of(sentence, length, p, b, contexts)
    if m == 0:
        return 0, 0, 0
    return m, targets(sentence[p], negatives, negative, outputs, labels, weights), p - max(0, p - b)


@njit(cache=True, fastmath=FASTMATH)
def skipgram_sentence(input_table, output_table, length, settings, noise, paths, state, alpha,
                      scratch):
    """word2vec's skip-gram over one subsampled sentence, the default path: each center word's
    window against the word and up to ``WINDOW6_NEGATIVES`` negatives, HogBatch
    (:func:`write_window6`). Returns the loss, the examples (pairs) and the dot products."""
    wide_vectors()
    # The scratch arrays unpacked once: taken from the tuple inside the loop, each use would
    # count a reference to its array (bench_ab.py measured skip-gram 40% slower).
    s = scratch
    sentence, contexts, drawn, outputs, labels, weights = (s.sentence, s.contexts, s.drawn,
                                                           s.outputs, s.labels, s.weights)
    lanes, grad_out, in_rows = s.lanes, s.grad_out, s.in_rows
    loss = 0.0
    examples = dots = 0
    for p in range(length):
        m, n_out, before = _skipgram_center(input_table, output_table, sentence, length, p,
                                            settings, noise, state, drawn, contexts, outputs,
                                            labels, weights)
        if m == 0:
            continue
        loss += write_window6(input_table, output_table, contexts, m, before, outputs, n_out,
                              alpha, lanes, grad_out, in_rows)
        examples += m
        dots += m * n_out
    return loss, examples, dots


@njit(cache=True, fastmath=FASTMATH)
def skipgram_general_sentence(input_table, output_table, length, settings, noise, paths, state,
                              alpha, scratch):
    """:func:`skipgram_sentence` for the other settings: pair by pair as word2vec
    (``--update pair``), or HogBatch with more than ``WINDOW6_NEGATIVES`` negatives
    (:func:`write_window`). A function and path of its own, so that the default path compiles
    one kernel. Returns the loss, the examples (pairs) and the dot products."""
    wide_vectors()
    s = scratch
    sentence, contexts, drawn, outputs, labels, weights = (s.sentence, s.contexts, s.drawn,
                                                           s.outputs, s.labels, s.weights)
    lanes, grad_out, in_rows, scores, neu = (s.lanes, s.grad_out, s.in_rows,
                                                   s.scores, s.neu)
    loss = 0.0
    examples = dots = 0
    for p in range(length):
        m, n_out, before = _skipgram_center(input_table, output_table, sentence, length, p,
                                            settings, noise, state, drawn, contexts, outputs,
                                            labels, weights)
        if m == 0:
            continue
        if settings.update == UPDATE_PAIR:
            loss += update_pair_by_pair(input_table, output_table, contexts, m, outputs, labels,
                                        n_out, alpha, neu, scores[0])
        else:
            loss += write_window(input_table, output_table, contexts, m, before, outputs,
                                 labels, n_out, alpha, lanes, grad_out, in_rows, scores)
        examples += m
        dots += m * n_out
    return loss, examples, dots


@njit(cache=True, fastmath=FASTMATH)
def skipgram_hs_sentence(input_table, output_table, length, settings, noise, paths, top, state,
                         alpha, scratch):
    """:func:`skipgram_sentence` with hierarchical softmax: each context word's row against
    the inner nodes of the center's path (word2vec.c's direction), HogBatch 6 nodes at a time
    (:func:`write_path`; the path's first ``TOP_LEVELS`` nodes rows of ``top``, the worker's
    copy of the tree's top) or pair by pair (on the output table alone). A function and path
    of its own: a branch on the loss in skip-gram's loop cost it 3-4% (bench_ab.py), and its
    code every first run's compile."""
    wide_vectors()
    window, shrink = settings.window, settings.shrink
    s = scratch
    sentence, contexts, outputs, labels, weights = (s.sentence, s.contexts, s.outputs,
                                                    s.labels, s.weights)
    lanes, grad_out, in_rows, scores, neu = (s.lanes, s.grad_out, s.in_rows,
                                                   s.scores, s.neu)
    loss = 0.0
    examples = dots = 0
    for p in range(length):
        b = 1 + below(state, window) if shrink else window
        m = window_of(sentence, length, p, b, contexts)
        if m == 0:
            continue
        n_out = path_targets(paths, sentence[p], outputs, labels, weights, 0)
        if settings.update == UPDATE_PAIR:
            loss += update_pair_by_pair(input_table, output_table, contexts, m, outputs, labels,
                                        n_out, alpha, neu, scores[0])
        else:
            loss += write_path(input_table, output_table, top, contexts, m, p - max(0, p - b),
                               outputs, labels, n_out, alpha, lanes, grad_out, in_rows,
                               scores)
        examples += m
        dots += m * n_out
    return loss, examples, dots
