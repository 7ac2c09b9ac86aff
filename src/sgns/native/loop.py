"""The native engine's thread loop: documents → subsampled sentence → windows → one kernel call
per center word, in numba threads over runs of documents, and the Python loop over epochs and
slices around it.

Threads share the tables without locks (Hogwild: Recht et al., 2011), each over its own run of
documents. Training is cut into slices so the progress bar and the learning rate move between
compiled calls; with one worker and a seed the result is the same bit for bit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

from ..checkpoint import EpochEnd
from ..config import SPLIT_WINDOW, TrainConfig
from ..grow import Start
from ..pairs import keep_probabilities, noise_distribution
from ..progress import EpochBar
from ..tables import aligned_zeros, uniform_rows
from ..vocab import ChunkedCorpus, EncodedCorpus, Vocabulary
from .cache import forget_stale_compiles
from .kernels import (
    FASTMATH,
    no_interleaving,
    prefetch_row,
    score_hidden,
    score_hidden6,
    update_bag,
    update_bag6,
    update_pair_by_pair,
    update_window,
    update_window6,
    wide_vectors,
)
from .sampling import alias_table, below, draw_many, uniform

SLICES_PER_EPOCH = 20
# The models, as the compiled loop knows them.
SKIPGRAM, CBOW = 0, 1
MODEL_CODES = {"skipgram": SKIPGRAM, "cbow": CBOW}
# How a skip-gram window is written: HogBatch (update_window6), word2vec's pair by pair, or
# the center word's bag of rows (itself and its n-grams) against the whole window (subwords).
WINDOW, PAIR, BAGS = 0, 1, 2
# The output rows of the center word this many places ahead are prefetched while the current
# one trains (2 measured a little better than 1 or 3, by hand).
AHEAD = 2
# Negatives are drawn this many centers' worth at a time, into a ring of twice as many.
DRAWN = 128
# Centers whose windows _cbow_sentence takes together (their context rows written at the end).
CBOW_BLOCK = 32
# Each worker's generator state lies in a cache line of its own (16 x 8 bytes apart): every
# draw writes it, and side by side the workers' states would bounce one line between the cores
# (false sharing).
STATE_STRIDE = 16


def row_width(dim: int) -> int:
    """Table rows padded to whole 64-byte vectors (16 floats): the zero columns stay zero
    (their gradients are zero), and the inner loops need no scalar remainder."""
    return -(-dim // 16) * 16


@njit(cache=True)
def _aligned_rows(rows, dim):
    """Zeroed float32 ``(rows, dim)`` whose first element starts a 64-byte cache line (numba
    aligns its arrays to 32 bytes): :func:`sgns.tables.aligned_zeros` for compiled code."""
    buffer = np.zeros(rows * dim + 16, dtype=np.float32)
    start = np.int64((np.uint64(64) - np.uint64(buffer.ctypes.data) % np.uint64(64))
                     % np.uint64(64)) // 4
    return buffer[start:start + rows * dim].reshape((rows, dim))


@njit(cache=True, inline="always")
def _subsample(ids, begin, end, keep, state, sentence):
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
def _window(sentence, length, p, b, contexts):
    """The words within ``b`` places of ``sentence[p]``, into ``contexts``; returns how many."""
    m = 0
    for q in range(max(0, p - b), min(length, p + b + 1)):
        if q != p:
            contexts[m] = sentence[q]
            m += 1
    return m


@njit(cache=True, inline="always")
def _prefetch_bag(table, bag_starts, bag_ids, word):
    for t in range(bag_starts[word], bag_starts[word + 1]):
        prefetch_row(table, bag_ids[t])


@njit(cache=True, inline="always")
def _draw_ahead(g, groups, negative, noise, state, drawn):
    """At every ``DRAWN``-th draw ``g`` (of ``groups`` in the sentence), the negatives of the
    draws up to ``2 * DRAWN`` on, in one run of :func:`draw_many` into the ring ``drawn``
    (:func:`_negatives_of` finds a draw's): at the sentence's start its first two batches,
    later the batch after the next (the one whose slots the centers just trained have freed)."""
    if g % DRAWN == 0:
        lo = 0 if g == 0 else g + DRAWN
        hi = min(groups, g + 2 * DRAWN)
        if lo < hi:
            slot = lo % (2 * DRAWN)
            draw_many(state, noise, drawn, slot * negative, (slot + hi - lo) * negative)


@njit(cache=True, inline="always")
def _negatives_of(g, negative, drawn):
    slot = g % (2 * DRAWN)
    return drawn[slot * negative:(slot + 1) * negative]


@njit(cache=True, inline="always")
def _center_negatives(syn1, sentence, p, length, negative, share, noise, state, drawn):
    """Center ``p``'s negatives, one draw of ``negative`` ids serving ``share`` consecutive
    centers (1: a draw each, as word2vec). The draws are made ahead by :func:`_draw_ahead`,
    and center ``p + AHEAD``'s output rows are prefetched while ``p`` trains (random output
    rows are the memory latency that counts): the word's own row, and its negatives' where its
    draw is new (a shared draw's rows were just written by the centers before it)."""
    if p % share == 0:
        _draw_ahead(p // share, (length + share - 1) // share, negative, noise, state, drawn)
    ahead = p + AHEAD
    if ahead < length:
        prefetch_row(syn1, sentence[ahead])
        if ahead % share == 0:
            rows = _negatives_of(ahead // share, negative, drawn)
            for k in range(negative):
                prefetch_row(syn1, rows[k])
    return _negatives_of(p // share, negative, drawn)


@njit(cache=True, inline="always")
def _write_window(syn0, syn1, contexts, m, before, outputs, labels, n_out, alpha, lanes,
                  grad_out, out6, in_rows, scores):
    """A skip-gram window, HogBatch: through :func:`update_window6` for up to 6 output rows,
    :func:`update_window` for more. Its first ``before`` context words come before the center;
    a window of ``SPLIT_WINDOW`` context words or more is written in two parts, those before
    the center, then those after it, scored against the output rows as the first part left
    them. Returns the loss."""
    split = before if m >= SPLIT_WINDOW and 0 < before < m else m
    loss = 0.0
    begin = 0
    while begin < m:  # one call site a kernel: each is inlined once
        end = split if begin == 0 else m
        part = contexts[begin:end]
        if n_out <= 6:
            loss += update_window6(syn0, syn1, part, end - begin, outputs, n_out, alpha, lanes,
                                   grad_out, out6, in_rows)
        else:
            loss += update_window(syn0, syn1, part, end - begin, outputs, labels, n_out, alpha,
                                  scores, grad_out)
        begin = end
    return loss


@njit(cache=True, inline="always")
def _targets(center, drawn, negative, outputs, labels, weights):
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


@njit(cache=True, fastmath=FASTMATH)
def _cbow_sentence(syn0, syn1, sentence, length, window, shrink, negative, share, noise, state,
                   alpha, drawn, outputs, labels, weights, sums, spread, hidden, neu, grads6):
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
    (:func:`_center_negatives`). Returns the loss, the examples (windows) and the dot
    products."""
    wide_vectors()
    dim = syn0.shape[1]
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
                sums[t + 1, i] = sums[t, i] + syn0[r, i]
        for p in range(begin, end):
            negatives = _center_negatives(syn1, sentence, p, length, negative, share, noise,
                                          state, drawn)
            if p + CBOW_BLOCK + window < length:  # the next block's text, a word a center
                prefetch_row(syn0, sentence[p + CBOW_BLOCK + window])
            b = 1 + below(state, window) if shrink else window
            lo, hi = max(0, p - b) - first, min(length, p + b + 1) - first
            if hi - lo < 2:
                continue
            at = p - first
            inv = np.float32(1.0) / np.float32(hi - lo - 1)
            for i in range(dim):
                hidden[i] = (sums[hi, i] - sums[lo, i] - (sums[at + 1, i] - sums[at, i])) * inv
            n_out = _targets(sentence[p], negatives, negative, outputs, labels, weights)
            if n_out <= 6:
                loss += score_hidden6(syn1, hidden, outputs, labels, n_out, alpha, neu, grads6)
            else:
                loss += score_hidden(syn1, hidden, outputs, labels, weights, n_out, alpha, neu)
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
                syn0[r, i] += running[i]
        spread[span, :] = 0.0
    return loss, examples, dots


@njit(cache=True, fastmath=FASTMATH)
def _bag_sentence(syn0, syn1, sentence, length, window, shrink, negative, share, model, noise,
                  state, alpha, bag_starts, bag_ids, bag, drawn, outputs, labels, weights, hidden,
                  neu, grads6):
    """One subsampled sentence through bags of input rows (``bag_ids[bag_starts[w]:
    bag_starts[w + 1]]`` are word w's rows: itself alone, or itself and its n-grams).

    CBOW with subwords (without them, :func:`_cbow_sentence`): one bag of all the window's rows
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
    loss = 0.0
    examples = dots = 0
    for p in range(length):
        # Skip-gram's negatives are shared by the window already: a draw per center.
        negatives = _center_negatives(syn1, sentence, p, length, negative,
                                      share if model == CBOW else 1, noise, state, drawn)
        if model != CBOW and p + 1 < length:
            _prefetch_bag(syn0, bag_starts, bag_ids, sentence[p + 1])
        if model == CBOW and p + window + 1 < length:  # the word about to enter the window
            _prefetch_bag(syn0, bag_starts, bag_ids, sentence[p + window + 1])
        b = 1 + below(state, window) if shrink else window
        first, end = max(0, p - b), min(length, p + b + 1)
        if end - first < 2:
            continue
        center = sentence[p]
        if model == CBOW:
            n_out = _targets(center, negatives, negative, outputs, labels, weights)
            n_bag = 0
            for q in range(first, end):
                if q != p:
                    w = sentence[q]
                    for t in range(bag_starts[w], bag_starts[w + 1]):
                        bag[n_bag] = bag_ids[t]
                        n_bag += 1
            if n_out <= 6:
                loss += update_bag6(syn0, syn1, bag, n_bag, outputs, labels, n_out, alpha,
                                    hidden, neu, grads6)
            else:
                loss += update_bag(syn0, syn1, bag, n_bag, outputs, labels, weights, n_out,
                                   alpha, np.float32(1.0), hidden, neu)
            examples += 1
            dots += n_out
        else:
            m = 0
            for q in range(first, end):
                if q != p:
                    outputs[m] = sentence[q]
                    labels[m] = 1.0
                    weights[m] = 1.0
                    m += 1
            n_out = m
            for k in range(negative):
                outputs[n_out] = negatives[k]
                labels[n_out] = 0.0
                weights[n_out] = np.float32(m)
                n_out += 1
            lo, hi = bag_starts[center], bag_starts[center + 1]
            loss += update_bag(syn0, syn1, bag_ids[lo:hi], hi - lo, outputs, labels, weights,
                               n_out, alpha, np.float32(1.0), hidden, neu)
            examples += m
            dots += m * (1 + negative)
    return loss, examples, dots


@njit(cache=True, fastmath=FASTMATH)
def _train_documents(
    syn0, syn1, ids, starts, first_doc, end_doc, keep, noise, window, shrink, negative, share,
    model, update, bag_starts, bag_ids, alpha_start, alpha_end, state, stats,
):
    """Train on documents ``first_doc:end_doc``. ``stats`` gets loss sum, examples (skip-gram
    pairs or CBOW windows), dot products and tokens seen."""
    wide_vectors()
    dim = syn0.shape[1]
    max_len = 0
    for doc in range(first_doc, end_doc):
        max_len = max(max_len, starts[doc + 1] - starts[doc])
    sentence = np.empty(max_len, dtype=np.int32)
    contexts = np.empty(2 * window, dtype=np.int32)
    drawn = np.empty(2 * DRAWN * negative, dtype=np.int32)  # the ring of _draw_ahead
    scores = np.empty((2 * window, negative + 1), dtype=np.float32)
    lanes = np.empty(2 * window * 8, dtype=np.float32)  # update_window6's scores
    # The kernels' row-sized scratch starts on cache lines, as the tables do.
    grad_out = _aligned_rows(max(6, negative + 1), dim)
    in_rows = _aligned_rows(2 * window, dim)
    hidden = _aligned_rows(1, dim)[0]
    neu = _aligned_rows(1, dim)[0]
    grads6 = np.empty(6, dtype=np.float32)
    out6 = _aligned_rows(6, dim)
    # A center's output rows, labels and weights (a window's context words and negatives at
    # most, for skip-gram with subwords).
    outputs = np.empty(2 * window + negative, dtype=np.int32)
    labels = np.empty(2 * window + negative, dtype=np.float32)
    weights = np.empty(2 * window + negative, dtype=np.float32)
    largest_bag = 0
    for w in range(bag_starts.shape[0] - 1):
        largest_bag = max(largest_bag, bag_starts[w + 1] - bag_starts[w])
    bag = np.empty(2 * window * largest_bag, dtype=np.int32)
    sums = _aligned_rows(CBOW_BLOCK + 2 * window + 1, dim)
    spread = _aligned_rows(CBOW_BLOCK + 2 * window + 1, dim)  # zero, and zeroed after use
    total = max(1, starts[end_doc] - starts[first_doc])
    seen = 0
    loss = 0.0
    examples = 0
    dots = 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        length = _subsample(ids, starts[doc], starts[doc + 1], keep, state, sentence)
        seen += starts[doc + 1] - starts[doc]
        if model == CBOW and update != BAGS:  # CBOW without subwords
            sentence_loss, sentence_examples, sentence_dots = _cbow_sentence(
                syn0, syn1, sentence, length, window, shrink, negative, share, noise, state,
                alpha, drawn, outputs, labels, weights, sums, spread, hidden, neu,
                grads6)
            loss += sentence_loss
            examples += sentence_examples
            dots += sentence_dots
            continue
        if model == CBOW or update == BAGS:
            sentence_loss, sentence_examples, sentence_dots = _bag_sentence(
                syn0, syn1, sentence, length, window, shrink, negative, share, model, noise,
                state, alpha, bag_starts, bag_ids, bag, drawn, outputs, labels,
                weights, hidden, neu, grads6)
            loss += sentence_loss
            examples += sentence_examples
            dots += sentence_dots
            continue
        for p in range(length):
            negatives = _center_negatives(syn1, sentence, p, length, negative, 1, noise, state,
                                          drawn)
            if p + window + 1 < length:  # the word about to enter the window
                prefetch_row(syn0, sentence[p + window + 1])
            b = 1 + below(state, window) if shrink else window
            m = _window(sentence, length, p, b, contexts)
            if m == 0:
                continue
            n_out = _targets(sentence[p], negatives, negative, outputs, labels, weights)
            if update == PAIR:
                loss += update_pair_by_pair(syn0, syn1, contexts, m, outputs, labels,
                                            n_out, alpha, neu, scores[0])
            else:
                loss += _write_window(syn0, syn1, contexts, m, p - max(0, p - b), outputs,
                                      labels, n_out, alpha, lanes, grad_out, out6, in_rows,
                                      scores)
            examples += m
            dots += m * n_out
    stats[0] += loss
    stats[1] += examples
    stats[2] += dots
    stats[3] += starts[end_doc] - starts[first_doc]


@njit(cache=True, parallel=True)
def _train_slice(
    syn0, syn1, ids, starts, ranges, keep, noise, window, shrink, negative, share, model,
    update, bag_starts, bag_ids, alpha_start, alpha_end, states, stats,
):
    for w in prange(ranges.shape[0]):
        _train_documents(
            syn0, syn1, ids, starts, ranges[w, 0], ranges[w, 1], keep, noise, window, shrink,
            negative, share, model, update, bag_starts, bag_ids, alpha_start, alpha_end, states[w],
            stats[w],
        )


def worker_ranges(starts: np.ndarray, workers: int, slices: int) -> np.ndarray:
    """``(slices, workers, 2)`` document ranges: each worker a contiguous, token-balanced run of
    documents, cut into ``slices`` consecutive pieces."""
    n_docs = len(starts) - 1
    bounds = np.searchsorted(starts, np.linspace(0, starts[-1], workers * slices + 1))
    bounds = np.clip(bounds, 0, n_docs)
    bounds[0], bounds[-1] = 0, n_docs
    pieces = np.stack([bounds[:-1], bounds[1:]], axis=1).reshape(workers, slices, 2)
    return np.ascontiguousarray(pieces.transpose(1, 0, 2))


def initial_tables(
    vocab_size: int, dim: int, seed: int, width: int | None = None,
    input_rows: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """word2vec's start: input rows uniform in +-0.5/dim, output rows zero; columns past ``dim``
    (up to ``width``) are zero. The input table has ``input_rows`` rows (the vocabulary's size
    unless subwords add bucket rows), filled a block at a time so that no temporary copy of a
    large table is made."""
    syn1 = aligned_zeros((vocab_size, width or dim))
    # Zeros that nothing wrote yet are pages the system has not mapped: written here, in a
    # thread, while the input rows are drawn, rather than at the first touch of each row
    # inside the first epoch's compiled loop.
    mapper = threading.Thread(target=syn1.fill, args=(0.0,), name="sgns-map-output-table")
    mapper.start()
    syn0 = uniform_rows(input_rows or vocab_size, dim, dim, seed, width=width)
    mapper.join()
    return syn0, syn1


def starting_tables(
    vocab_size: int, config: TrainConfig, width: int, input_rows: int, start: Start | None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`initial_tables`, with the rows that ``start`` gives written over them. Bucket
    rows it gives are copied in, not drawn first."""
    dim = config.dim
    given_buckets = start is not None and start.buckets is not None
    syn0, syn1 = initial_tables(vocab_size, dim, config.seed, width,
                                vocab_size if given_buckets else input_rows)
    if start is None:
        return syn0, syn1
    if given_buckets:
        words, syn0 = syn0, aligned_zeros((input_rows, width))
        syn0[:vocab_size] = words
        syn0[vocab_size:, :dim] = start.buckets
    syn0[:vocab_size, :dim][start.given] = start.words[start.given]
    if start.context is not None:
        syn1[:, :dim] = start.context
    return syn0, syn1


def _aligned_copy(table: np.ndarray) -> np.ndarray:
    copy = aligned_zeros(table.shape, table.dtype)
    np.copyto(copy, table)
    return copy


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


# Before any of this module's compiled functions is loaded from numba's cache: they hold code
# from the package's other files and a constant of sgns.config, which numba does not check.
COMPILED_SOURCES = [*Path(__file__).parent.glob("*.py"), Path(__file__).parents[1] / "config.py"]
forget_stale_compiles(_train_slice.stats.cache_path, COMPILED_SOURCES)


def compile_kernels() -> float:
    """Compile (or load from numba's cache) on a toy problem; return the seconds it took."""
    start = time.perf_counter()
    with no_interleaving():
        _compile_on_a_toy_problem()
    return time.perf_counter() - start


def _compile_on_a_toy_problem() -> None:
    syn0, syn1 = initial_tables(4, 2, 0)
    ids = np.array([1, 2, 3, 1], dtype=np.int32)
    starts = np.array([0, 4], dtype=np.int64)
    noise = alias_table(np.array([0.0, 0.5, 0.25, 0.25]))
    _train_slice(
        syn0, syn1, ids, starts, np.array([[0, 1]], dtype=np.int64), np.ones(4, np.float32),
        noise, 2, True, 1, 1, SKIPGRAM, WINDOW, *identity_bags(4), 0.025, 0.025,
        np.zeros((1, 1), np.uint64), np.zeros((1, 4)),
    )


def train_native(
    corpus: EncodedCorpus | ChunkedCorpus,
    vocab: Vocabulary,
    config: TrainConfig,
    verbose: bool = True,
    on_epoch_end: Callable[[EpochEnd], None] | None = None,
    resume: dict[str, np.ndarray] | None = None,
    start_epoch: int = 0,
    start: Start | None = None,
    state_ahead: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[dict], float]:
    """Train; return the input table, the output table, one record per epoch trained, and the
    compile seconds. With subwords the input table holds the words' own rows, then one row per
    n-gram bucket. ``resume`` is a state from :class:`EpochEnd` and ``start_epoch`` the first
    epoch still to train; ``on_epoch_end`` is called after every epoch. ``start`` holds rows
    to start from (a continued run's, or pretrained vectors). ``state_ahead``: the caller will
    take a state after the first epoch (a checkpoint), whose arrays are then made ready while
    that epoch trains."""
    config = config.for_engine("native")
    compile_seconds = compile_kernels()
    threads = min(config.workers, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    width = row_width(config.dim)
    if config.subwords:
        bag_starts, bag_ids = config.subword_spec().bags(vocab.words)
        input_rows = vocab.size + config.buckets
    else:
        bag_starts, bag_ids = identity_bags(vocab.size)
        input_rows = vocab.size
    if resume is not None:
        syn0, syn1 = (_aligned_copy(resume[name]) for name in ("syn0", "syn1"))
    else:
        syn0, syn1 = starting_tables(vocab.size, config, width, input_rows, start)
    keep = keep_probabilities(vocab.counts, config.sample).astype(np.float32)
    noise = alias_table(noise_distribution(vocab.counts, config.noise))
    negative = int(round(config.negative))
    share = config.cbow_share or 1  # consecutive centers per draw of negatives (CBOW)
    model = MODEL_CODES[config.model]
    update = BAGS if config.subwords else PAIR if config.update == "pair" else WINDOW

    def word_vectors() -> np.ndarray:
        if not config.subwords:
            return syn0[:, : config.dim]
        return bag_means(syn0, bag_starts, bag_ids, config.dim)

    spare = _SpareState(syn0, syn1) if state_ahead else None

    def state(into: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        nonlocal spare
        if into is None and spare is not None:
            into, spare = spare.take(), None
        if into is None:
            return {"syn0": syn0.copy(), "syn1": syn1.copy()}
        np.copyto(into["syn0"], syn0)
        np.copyto(into["syn1"], syn1)
        return into

    history = []
    for epoch in range(start_epoch, config.epochs):
        total = max(1, corpus.n_tokens)  # a corpus streamed from disk knows it exactly after a pass
        with EpochBar(epoch, config.epochs, total=corpus.n_tokens, unit="word",
                      enabled=verbose) as bar:
            stats = np.zeros((config.workers, 4))
            start = time.perf_counter()
            done = 0  # tokens of this epoch trained so far
            for c, chunk in enumerate(corpus.chunks()):
                # About SLICES_PER_EPOCH slices per epoch, whatever the chunks: the progress bar
                # and the learning rate move between compiled calls.
                slices = max(1, round(SLICES_PER_EPOCH * chunk.n_tokens / total))
                ranges = worker_ranges(chunk.starts, config.workers, slices)
                for s in range(slices):
                    piece = int(sum(chunk.starts[b] - chunk.starts[a] for a, b in ranges[s]))
                    # Seeded by (seed, epoch, chunk, slice) alone: a resumed run draws the same.
                    seeds = np.random.SeedSequence([config.seed, epoch, c, s])
                    states = np.zeros((config.workers, STATE_STRIDE), dtype=np.uint64)
                    states[:, 0] = seeds.generate_state(config.workers, np.uint64)
                    _train_slice(
                        syn0, syn1, chunk.ids, chunk.starts, ranges[s], keep, noise,
                        config.window, config.shrink_window, negative, share, model,
                        update, bag_starts, bag_ids,
                        _alpha(config, (epoch + done / total) / config.epochs),
                        _alpha(config, (epoch + (done + piece) / total) / config.epochs),
                        states, stats,
                    )
                    done += piece
                    loss_so_far = stats[:, 0].sum() / max(1.0, stats[:, 1].sum())
                    bar.advance(int(stats[:, 3].sum()) - bar.bar.n, loss_so_far)
            seconds = time.perf_counter() - start
            loss = float(stats[:, 0].sum() / max(1.0, stats[:, 1].sum()))
            bar.finish(loss)
        history.append({"epoch": epoch + 1, "loss": loss, "seconds": seconds,
                        "pairs": int(stats[:, 1].sum()), "tokens": int(stats[:, 3].sum())})
        if on_epoch_end is not None:
            on_epoch_end(EpochEnd(epoch, history[-1], word_vectors, state))
    # The tables handed on as views of their first ``dim`` columns, not copied: a copy is two
    # fresh arrays of the vocabulary's size, whose pages cost 10 to 50 ms to map here.
    return syn0[:, :config.dim], syn1[:, :config.dim], history, compile_seconds


class _SpareState:
    """Arrays for the first state copy, allocated and written once (so that their pages are
    mapped) in a background thread while the first epoch trains: a fresh 60 MB copy at the end
    of the epoch, page faults and all, measured 10 to 130 ms in the foreground (113 ms in a
    profile of a first run, most of what ``train_seconds`` adds to the epochs' sum)."""

    def __init__(self, *tables: np.ndarray) -> None:
        self.shapes = [(t.shape, t.dtype) for t in tables]
        self.arrays: list[np.ndarray] = []
        self.thread = threading.Thread(target=self._fill, name="sgns-spare-state", daemon=True)
        self.thread.start()

    def _fill(self) -> None:
        try:
            for shape, dtype in self.shapes:
                self.arrays.append(np.empty(shape, dtype))
                self.arrays[-1].fill(0)  # writing every page maps it now, not at the copy
        except MemoryError:  # then the copy is made at the end of the epoch, as it would be
            self.arrays.clear()

    def take(self) -> dict[str, np.ndarray] | None:
        self.thread.join()
        if len(self.arrays) != len(self.shapes):
            return None
        return dict(zip(("syn0", "syn1"), self.arrays, strict=True))


def _alpha(config: TrainConfig, progress: float) -> float:
    if config.schedule == "constant":
        return config.lr
    return config.lr - (config.lr - config.min_lr) * min(progress, 1.0)
