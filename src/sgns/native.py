"""Native engine: word2vec's skip-gram with negative sampling, compiled with numba.

The algorithm is word2vec's (Mikolov et al., 2013): subsampling of frequent words, a window
shrunk at random per center word, negatives from unigram counts ** 0.75, linear learning-rate
decay, center table uniform in +-0.5/dim and output table zeros. Two changes make it fast:

- Negatives are shared by all the context words of one center word, and the updates of the
  center's window are computed together before they are written back (HogBatch: Ji et al.,
  "Parallelizing Word2Vec in Multi-Core and Many-Core Architectures", 2016). The few output rows
  stay in L1 while the context rows stream past.
- Negatives come from an alias table in O(1) (Walker 1977; Vose 1991) instead of a binary search
  or a 100M-entry table.
- With up to 7 negatives, the window's products are register-blocked: each context row is read
  once for its 8 dot products and written once with the sum of its updates.

``update="pair"`` keeps the shared negatives but writes the updates in word2vec's order, one
context word at a time; it is a little slower and closer to gensim's figures.

Threads share the tables without locks (Hogwild: Recht et al., 2011), each over its own run of
documents. Training is cut into slices so the progress bar and the learning rate move between
compiled calls; with one worker and a seed the result is the same bit for bit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numba
import numpy as np
from numba import njit, prange

from .checkpoint import EpochEnd
from .config import TrainConfig
from .pairs import keep_probabilities, noise_distribution
from .progress import EpochBar
from .vocab import ChunkedCorpus, EncodedCorpus, Vocabulary

SLICES_PER_EPOCH = 20
# Sigmoid and loss by table lookup over [-MAX_EXP, MAX_EXP], as word2vec.c does: an exp and a log
# per dot product would cost more than the dot product itself.
MAX_EXP = 6.0
TABLE_SIZE = 1024
_GRID = (np.arange(TABLE_SIZE) + 0.5) / TABLE_SIZE * 2 * MAX_EXP - MAX_EXP
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_GRID))).astype(np.float32)
SOFTPLUS_TABLE = np.log1p(np.exp(-_GRID)).astype(np.float32)  # -log(sigmoid(x))
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def _next(state):
    """splitmix64 (Steele et al., 2014): a 64-bit random number; ``state`` is a 1-element array.
    Every operand stays uint64: numba turns uint64 mixed with int64 into float64."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _uniform(state):
    """A float32 in [0, 1) from the top 24 bits."""
    return np.float32(_next(state) >> np.uint64(40)) * np.float32(1.0 / 16777216.0)


@njit(cache=True, inline="always")
def _below(state, n):
    return np.int64(_next(state) % np.uint64(n))


@njit(cache=True)
def alias_table(p):
    """Vose's alias method: ``(accept, alias)`` such that drawing k uniformly, then keeping k with
    probability ``accept[k]`` or else taking ``alias[k]``, draws k with probability ``p[k]``."""
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


@njit(cache=True, inline="always")
def _gradient_and_loss(f, label, alpha):
    """For a score ``f``: the update's scale ``(label - sigmoid(f)) * alpha`` and the pair's loss,
    -log(sigmoid(f)) for the positive, -log(1 - sigmoid(f)) = that + f for a negative. Both by
    table lookup, as word2vec.c does."""
    max_exp = np.float32(MAX_EXP)
    if f >= max_exp:
        s, nll = np.float32(1.0), np.float32(0.0)
    elif f <= -max_exp:
        s, nll = np.float32(0.0), -f
    else:
        cell = int((f + max_exp) * np.float32(TABLE_SIZE / (2 * MAX_EXP)))
        s, nll = SIGMOID_TABLE[cell], SOFTPLUS_TABLE[cell]
    return (label - s) * alpha, nll + (np.float32(1.0) - label) * f


@njit(cache=True, inline="always")
def _output_gradients(syn0, contexts, m, n_out, g, grad_out):
    """``grad_out[k] = sum_j g[j, k] * syn0[contexts[j]]``, from the input rows as they are."""
    dim = syn0.shape[1]
    grad_out[:n_out] = 0.0
    for j in range(m):
        r = contexts[j]
        for k in range(n_out):
            gk = g[j, k]
            for i in range(dim):
                grad_out[k, i] += gk * syn0[r, i]


@njit(cache=True, inline="always")
def _add_rows(table, rows, n, updates):
    for k in range(n):
        o = rows[k]
        for i in range(table.shape[1]):
            table[o, i] += updates[k, i]


@njit(cache=True, fastmath=True)
def _update_window(syn0, syn1, contexts, m, outputs, labels, n_out, alpha, scores, grad_out):
    """HogBatch: the window as small matrix products, scores = In . Out^T (m x n_out), then the
    output-row gradients from the old input rows, then both tables are written. Returns the
    window's loss."""
    dim = syn0.shape[1]
    loss = 0.0
    for j in range(m):
        r = contexts[j]
        for k in range(n_out):
            o = outputs[k]
            f = np.float32(0.0)
            for i in range(dim):
                f += syn0[r, i] * syn1[o, i]
            scores[j, k], pair_loss = _gradient_and_loss(f, labels[k], alpha)
            loss += pair_loss
    # Output gradients need the input rows before their update: accumulate them first.
    _output_gradients(syn0, contexts, m, n_out, scores, grad_out)
    for j in range(m):
        r = contexts[j]
        for k in range(n_out):
            g = scores[j, k]
            o = outputs[k]
            for i in range(dim):
                syn0[r, i] += g * syn1[o, i]
    _add_rows(syn1, outputs, n_out, grad_out)
    return loss


@njit(cache=True, fastmath=True)
def _update_window8(syn0, syn1, contexts, m, outputs, labels, n_out, alpha, scores, grad_out,
                    out8):
    """:func:`_update_window` for at most 8 output rows (up to 7 negatives), register-blocked:
    the output rows are copied into ``out8`` (zero rows past ``n_out``), and each context row
    is read once for its 8 dot products and written once with the sum of its 8 updates, in
    loops LLVM vectorises. About 15% faster than the general form on 20 Newsgroups."""
    dim = syn0.shape[1]
    for k in range(8):
        if k < n_out:
            o = outputs[k]
            for i in range(dim):
                out8[k, i] = syn1[o, i]
        else:
            for i in range(dim):
                out8[k, i] = 0.0
    loss = 0.0
    for j in range(m):
        r = contexts[j]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = np.float32(0.0)
        for i in range(dim):
            x = syn0[r, i]
            a0 += x * out8[0, i]
            a1 += x * out8[1, i]
            a2 += x * out8[2, i]
            a3 += x * out8[3, i]
            a4 += x * out8[4, i]
            a5 += x * out8[5, i]
            a6 += x * out8[6, i]
            a7 += x * out8[7, i]
        scores[j, 0] = a0
        scores[j, 1] = a1
        scores[j, 2] = a2
        scores[j, 3] = a3
        scores[j, 4] = a4
        scores[j, 5] = a5
        scores[j, 6] = a6
        scores[j, 7] = a7
        for k in range(8):
            if k < n_out:
                scores[j, k], pair_loss = _gradient_and_loss(scores[j, k], labels[k], alpha)
                loss += pair_loss
            else:
                scores[j, k] = 0.0  # the padding rows get no update
    _output_gradients(syn0, contexts, m, n_out, scores, grad_out)
    for j in range(m):
        r = contexts[j]
        g0, g1, g2, g3 = scores[j, 0], scores[j, 1], scores[j, 2], scores[j, 3]
        g4, g5, g6, g7 = scores[j, 4], scores[j, 5], scores[j, 6], scores[j, 7]
        for i in range(dim):
            syn0[r, i] += (g0 * out8[0, i] + g1 * out8[1, i] + g2 * out8[2, i]
                           + g3 * out8[3, i] + g4 * out8[4, i] + g5 * out8[5, i]
                           + g6 * out8[6, i] + g7 * out8[7, i])
    _add_rows(syn1, outputs, n_out, grad_out)
    return loss


@njit(cache=True, fastmath=True)
def _update_pair_by_pair(syn0, syn1, contexts, m, outputs, labels, n_out, alpha, neu):
    """word2vec's order: one context word at a time, each pair's output rows written before the
    next pair is scored (the negatives are still shared by the window). Returns the loss."""
    dim = syn0.shape[1]
    loss = 0.0
    for j in range(m):
        r = contexts[j]
        neu[:] = 0.0
        for k in range(n_out):
            o = outputs[k]
            f = np.float32(0.0)
            for i in range(dim):
                f += syn0[r, i] * syn1[o, i]
            g, pair_loss = _gradient_and_loss(f, labels[k], alpha)
            loss += pair_loss
            for i in range(dim):
                neu[i] += g * syn1[o, i]
                syn1[o, i] += g * syn0[r, i]
        for i in range(dim):
            syn0[r, i] += neu[i]
    return loss


@njit(cache=True, fastmath=True)
def _train_documents(
    syn0, syn1, ids, starts, first_doc, end_doc, keep, accept, alias, window, shrink,
    negative, per_pair, alpha_start, alpha_end, state, stats,
):
    """Train on documents ``first_doc:end_doc``. ``stats`` gets loss sum, pairs, dot products
    and tokens seen."""
    dim = syn0.shape[1]
    n_words = accept.shape[0]
    max_len = 0
    for doc in range(first_doc, end_doc):
        max_len = max(max_len, starts[doc + 1] - starts[doc])
    sentence = np.empty(max_len, dtype=np.int32)
    contexts = np.empty(2 * window, dtype=np.int32)
    outputs = np.empty(negative + 1, dtype=np.int32)
    labels = np.empty(negative + 1, dtype=np.float32)
    scores = np.empty((2 * window, negative + 1), dtype=np.float32)
    grad_out = np.empty((negative + 1, dim), dtype=np.float32)
    neu = np.empty(dim, dtype=np.float32)
    scores8 = np.empty((2 * window, 8), dtype=np.float32)
    out8 = np.zeros((8, dim), dtype=np.float32)
    total = max(1, starts[end_doc] - starts[first_doc])
    seen = 0
    loss = 0.0
    pairs = 0
    dots = 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        length = 0
        for t in range(starts[doc], starts[doc + 1]):
            word = ids[t]
            if keep[word] >= np.float32(1.0) or keep[word] > _uniform(state):
                sentence[length] = word
                length += 1
        seen += starts[doc + 1] - starts[doc]
        for p in range(length):
            b = 1 + _below(state, window) if shrink else window
            m = 0
            for q in range(max(0, p - b), min(length, p + b + 1)):
                if q != p:
                    contexts[m] = sentence[q]
                    m += 1
            if m == 0:
                continue
            center = sentence[p]
            outputs[0] = center
            labels[0] = 1.0
            n_out = 1
            for _ in range(negative):
                k = _below(state, n_words)
                if _uniform(state) >= accept[k]:
                    k = alias[k]
                if k != center:  # as word2vec: a draw of the center word itself is skipped
                    outputs[n_out] = k
                    labels[n_out] = 0.0
                    n_out += 1
            if per_pair:
                loss += _update_pair_by_pair(syn0, syn1, contexts, m, outputs, labels, n_out,
                                             alpha, neu)
            elif n_out <= 8:
                loss += _update_window8(syn0, syn1, contexts, m, outputs, labels, n_out, alpha,
                                        scores8, grad_out, out8)
            else:
                loss += _update_window(syn0, syn1, contexts, m, outputs, labels, n_out, alpha,
                                       scores, grad_out)
            pairs += m
            dots += m * n_out
    stats[0] += loss
    stats[1] += pairs
    stats[2] += dots
    stats[3] += starts[end_doc] - starts[first_doc]


@njit(cache=True, parallel=True)
def _train_slice(
    syn0, syn1, ids, starts, ranges, keep, accept, alias, window, shrink, negative, per_pair,
    alpha_start, alpha_end, states, stats,
):
    for w in prange(ranges.shape[0]):
        _train_documents(
            syn0, syn1, ids, starts, ranges[w, 0], ranges[w, 1], keep, accept, alias, window,
            shrink, negative, per_pair, alpha_start, alpha_end, states[w], stats[w],
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
    vocab_size: int, dim: int, seed: int, width: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """word2vec's start: input rows uniform in +-0.5/dim, output rows zero; columns past ``dim``
    (up to ``width``) are zero."""
    rng = np.random.default_rng(seed)
    syn0 = np.zeros((vocab_size, width or dim), dtype=np.float32)
    syn0[:, :dim] = (rng.random((vocab_size, dim), dtype=np.float32) - 0.5) / dim
    return syn0, np.zeros_like(syn0)


def compile_kernels() -> float:
    """Compile (or load from numba's cache) on a toy problem; return the seconds it took."""
    start = time.perf_counter()
    syn0, syn1 = initial_tables(4, 2, 0)
    ids = np.array([1, 2, 3, 1], dtype=np.int32)
    starts = np.array([0, 4], dtype=np.int64)
    accept, alias = alias_table(np.array([0.0, 0.5, 0.25, 0.25]))
    _train_slice(
        syn0, syn1, ids, starts, np.array([[0, 1]], dtype=np.int64), np.ones(4, np.float32),
        accept, alias, 2, True, 1, False, 0.025, 0.025, np.zeros((1, 1), np.uint64),
        np.zeros((1, 4)),
    )
    return time.perf_counter() - start


def train_native(
    corpus: EncodedCorpus | ChunkedCorpus,
    vocab: Vocabulary,
    config: TrainConfig,
    verbose: bool = True,
    on_epoch_end: Callable[[EpochEnd], None] | None = None,
    resume: dict[str, np.ndarray] | None = None,
    start_epoch: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[dict], float]:
    """Train; return the input table, the output table, one record per epoch trained, and the
    compile seconds. ``resume`` is a state from :class:`EpochEnd` and ``start_epoch`` the first
    epoch still to train; ``on_epoch_end`` is called after every epoch."""
    compile_seconds = compile_kernels()
    threads = min(config.workers, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    # Rows padded to whole 64-byte vectors: the zero columns stay zero (their gradients are
    # zero), and the inner loops need no scalar remainder.
    width = -(-config.dim // 16) * 16
    if resume is not None:
        syn0, syn1 = resume["syn0"].copy(), resume["syn1"].copy()
    else:
        syn0, syn1 = initial_tables(vocab.size, config.dim, config.seed, width)
    keep = keep_probabilities(vocab.counts, config.sample).astype(np.float32)
    accept, alias = alias_table(noise_distribution(vocab.counts, config.noise))
    negative = int(round(config.negative))
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
                    states = seeds.generate_state(config.workers, np.uint64).reshape(-1, 1)
                    _train_slice(
                        syn0, syn1, chunk.ids, chunk.starts, ranges[s], keep, accept, alias,
                        config.window, config.shrink_window, negative, config.update == "pair",
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
            on_epoch_end(EpochEnd(epoch, history[-1], lambda: syn0[:, : config.dim],
                                  lambda: {"syn0": syn0.copy(), "syn1": syn1.copy()}))
    dim = config.dim
    return np.ascontiguousarray(syn0[:, :dim]), np.ascontiguousarray(syn1[:, :dim]), history, \
        compile_seconds


def _alpha(config: TrainConfig, progress: float) -> float:
    if config.schedule == "constant":
        return config.lr
    return config.lr - (config.lr - config.min_lr) * min(progress, 1.0)
