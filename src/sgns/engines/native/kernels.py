"""The native engine's update kernels: one example's gradients and writes, for skip-gram and CBOW.

Every example is a bag of input rows scored against shared output rows, the target word and its
negatives (fastText's ``src/model.cc`` view of both word2vec models): skip-gram's window is
``m`` bags of one context row each, CBOW's is one bag of ``m`` context rows, averaged.

A score becomes a gradient and a loss through polynomials for the sigmoid and the loss, not
word2vec's lookup tables: there is no index to go out of range, whatever the score (a table
read one past its end once made a false divergence), and a window's scores are turned into
gradients in vectors. The kernels are compiled with LLVM's fast-math flags except "no NaNs" and
"no infs", so the checks for those are not optimised away.

The update kernels (``@kernel``) are compiled by :class:`KernelCompiler`, with the engine's LLVM
settings and their arrays known not to overlap, whoever compiles them first (a test calls them
directly, and numba keeps what it compiled, on disk too), and LLVM inlines them into the
engine's loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .compiler import FASTMATH, kernel, wide_vectors

# Beyond +-MAX_EXP a score counts as saturated, as in word2vec.c: its sigmoid is 0 or 1.
MAX_EXP = 6.0


def _fit(function, degree: int) -> tuple:
    """Polynomial coefficients, lowest power first and padded with zeros to 12, in
    ``t = a / 3 - 1`` for ``a`` in ``[0, MAX_EXP]``: a Chebyshev least-squares fit (numpy's
    ``chebfit`` on a fine grid, near the minimax polynomial) turned into powers of ``t``, as
    float32."""
    a = np.linspace(0.0, MAX_EXP, 4097)
    chebyshev = np.polynomial.chebyshev.chebfit(a * (2 / MAX_EXP) - 1, function(a), degree)
    powers = np.polynomial.chebyshev.cheb2poly(chebyshev)
    return tuple(np.float32(c) for c in np.pad(powers, (0, 12 - len(powers))))


# The sigmoid and the loss as polynomials, not tables (word2vec.c's 1000-cell table): no index
# to go out of range, some 300 times closer to the exact values (sigmoid within 1e-5, loss within
# 3e-5; the table's cells were 0.003 apart), and the same arithmetic on every lane of a vector,
# so a window's scores are turned into gradients 16 at a time. sigmoid(a) and log(1 + exp(-a))
# for a = |score|; both are smooth on [0, MAX_EXP], their nearest singularities at +-i*pi.
SIGMOID_POLY = _fit(lambda a: 1 / (1 + np.exp(-a)), 10)
SOFTPLUS_POLY = _fit(lambda a: np.log1p(np.exp(-a)), 9)
# A pair's loss is capped here, and a NaN score counts as this loss: far above the divergence
# guard's limit, so broken tables still stop training, yet every epoch's loss stays a number.
LOSS_CAP = 1e4


@njit(cache=True, inline="always")
def _polynomial(t, c):
    """``c[0] + c[1] t + ... + c[11] t**11`` by Estrin's scheme (Knuth, TAOCP vol. 2,
    4.6.4): pairs, then pairs of pairs with t**2, t**4, t**8, four products deep where Horner's
    rule is eleven, for the kernels that turn one score at a time into a gradient (the
    update's wait for it is on their critical path)."""
    t2 = t * t
    t4 = t2 * t2
    t8 = t4 * t4
    low = (c[0] + c[1] * t + (c[2] + c[3] * t) * t2
           + (c[4] + c[5] * t + (c[6] + c[7] * t) * t2) * t4)
    return low + (c[8] + c[9] * t + (c[10] + c[11] * t) * t2) * t8


@njit(cache=True, inline="always")
def gradient_and_loss(f, label, alpha):
    """For a score ``f``: the update's scale ``(label - sigmoid(f)) * alpha``, never larger than
    ``alpha``, and the pair's loss, -log(sigmoid(f)) for the positive (label 1) and
    -log(1 - sigmoid(f)) for a negative (label 0), capped at ``LOSS_CAP``.

    Branch-free arithmetic (selects, no lookups), so that a loop over scores vectorises. Beyond
    ``+-MAX_EXP`` the sigmoid is 0 or 1 and the loss the score's size. A NaN score gives no
    update and the loss ``LOSS_CAP``."""
    max_exp = np.float32(MAX_EXP)
    zero, one = np.float32(0.0), np.float32(1.0)
    a = min(abs(f), max_exp)
    t = a * np.float32(2.0 / MAX_EXP) - one
    s_a = _polynomial(t, SIGMOID_POLY)  # sigmoid(|f|)
    s = s_a if f >= zero else one - s_a
    s = one if f >= max_exp else s
    s = zero if f <= -max_exp else s
    # -log(sigmoid(f)) = log(1 + exp(-|f|)) + max(-f, 0), and -log(1 - sigmoid(f)) the same
    # with max(f, 0).
    # Taken for every score, then selected: a branch around it kept a loop over 8 scores from
    # being vectorised (CBOW with --loss hs spent a quarter of its time there, scalar).
    softplus = _polynomial(t, SOFTPLUS_POLY)
    softplus = softplus if a < max_exp else zero
    loss = softplus + (max(-f, zero) if label > np.float32(0.5) else max(f, zero))
    loss = min(loss, np.float32(LOSS_CAP))
    g = (label - s) * alpha
    nan = f != f
    return (zero if nan else g), (np.float32(LOSS_CAP) if nan else loss)


@njit(cache=True, inline="always")
def _output_gradients(input_table, contexts, m, n_out, g, grad_out):
    """``grad_out[k] = sum_j g[j, k] * input_table[contexts[j]]``, from the input rows as they
    are."""
    dim = input_table.shape[1]
    grad_out[:n_out] = 0.0
    for j in range(m):
        r = contexts[j]
        for k in range(n_out):
            gk = g[j, k]
            for i in range(dim):
                grad_out[k, i] += gk * input_table[r, i]


@njit(cache=True, inline="always")
def _sum_rows(table, rows, n, out):
    """``out = sum of table[rows[:n]]`` (a bag's rows, before its mean)."""
    out[:] = 0.0
    for j in range(n):
        r = rows[j]
        for i in range(table.shape[1]):
            out[i] += table[r, i]


@njit(cache=True, inline="always")
def _add_to_rows(table, rows, n, vector):
    """``table[rows[:n]] += vector``, a repeated row once per time it is listed."""
    for j in range(n):
        r = rows[j]
        for i in range(table.shape[1]):
            table[r, i] += vector[i]


@njit(cache=True, inline="always")
def _add_rows(table, rows, n, updates):
    for k in range(n):
        o = rows[k]
        for i in range(table.shape[1]):
            table[o, i] += updates[k, i]


@kernel
def update_window(input_table, output_table, contexts, m, outputs, labels, n_out, alpha, scores,
                  grad_out):
    """Skip-gram, HogBatch (Ji et al., 2016): the window as small matrix products, scores =
    In . Out^T (m x n_out), then the output-row gradients from the old input rows, then both
    tables are written. Returns the window's loss."""
    wide_vectors()
    dim = input_table.shape[1]
    loss = 0.0
    for j in range(m):
        r = contexts[j]
        for k in range(n_out):
            o = outputs[k]
            f = np.float32(0.0)
            for i in range(dim):
                f += input_table[r, i] * output_table[o, i]
            scores[j, k], pair_loss = gradient_and_loss(f, labels[k], alpha)
            loss += pair_loss
    # Output gradients need the input rows before their update: accumulate them first.
    _output_gradients(input_table, contexts, m, n_out, scores, grad_out)
    for j in range(m):
        r = contexts[j]
        for k in range(n_out):
            g = scores[j, k]
            o = outputs[k]
            for i in range(dim):
                input_table[r, i] += g * output_table[o, i]
    _add_rows(output_table, outputs, n_out, grad_out)
    return loss


@njit(cache=True, fastmath=FASTMATH, inline="always")
def window_gradients(lanes, m, n_out, alpha):
    """A window's scores turned into their gradients in place, by :func:`gradient_and_loss`
    on every lane, in vectors: ``lanes[8 * j + k]`` is context row ``j``'s score against output
    ``k``, the word itself (label 1) at ``k = 0``, its negatives (label 0) after it, padding
    from ``n_out`` on, which gets 0 and adds no loss. A window of 10 context rows is 80 lanes,
    five 512-bit vectors, where the table took 60 lookups. Returns the window's loss."""
    loss = np.float32(0.0)
    zero, one = np.float32(0.0), np.float32(1.0)
    for i in range(8 * m):
        k = i & 7
        g, pair_loss = gradient_and_loss(lanes[i], one if k == 0 else zero, alpha)
        live = k < n_out
        lanes[i] = g if live else zero
        loss += pair_loss if live else zero
    return loss


@njit(cache=True, fastmath=FASTMATH, inline="always")
def path_gradients(lanes, m, labels, first_label, n_out, alpha):
    """:func:`window_gradients` for the inner nodes of a path of hierarchical softmax, whose
    labels are the path's (``1 - code``), not 1 then 0s: ``labels[first_label + i]`` is lane
    ``i``'s, so that the loop runs in vectors as :func:`window_gradients` does (the labels of
    the block's nodes laid out per lane by :func:`update_path6`). ``labels`` may be ``lanes``
    itself, the labels past the lanes: read at fixed places in the same array, LLVM sees that
    they do not overlap (a view of its tail has an offset known only at run time, and the
    loop, left scalar behind a check, took a quarter of CBOW ``--loss hs``'s time)."""
    loss = np.float32(0.0)
    zero = np.float32(0.0)
    for i in range(8 * m):
        g, pair_loss = gradient_and_loss(lanes[i], labels[first_label + i], alpha)
        live = (i & 7) < n_out
        lanes[i] = g if live else zero
        loss += pair_loss if live else zero
    return loss


@njit(cache=True, inline="always")
def _six_rows(outputs, n_out):
    """The rows of up to 6 outputs, for the register-blocked kernels: a slot past ``n_out``
    reads row ``outputs[0]`` (and the kernel gives it a gradient of 0)."""
    o0 = outputs[0]
    return (o0, outputs[1] if n_out > 1 else o0, outputs[2] if n_out > 2 else o0,
            outputs[3] if n_out > 3 else o0, outputs[4] if n_out > 4 else o0,
            outputs[5] if n_out > 5 else o0)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def window6(input_table, output_table, contexts, m, outputs, labels, n_out, alpha, lanes,
            grad_out, in_rows, hs):
    """A skip-gram window against at most 6 output rows, the center word (``outputs[0]``, label
    1) and up to 5 negatives (word2vec's default), or with ``hs`` up to 6 inner nodes of a
    path of hierarchical softmax with their ``labels``, register-blocked: each context row is
    read once for its 6 dot products (and kept in ``in_rows``) and written once with the sum
    of its 6 updates, in the same pass that adds its share to the 6 output gradients
    (``grad_out``, at least 6 rows): two passes over each context row in all, in loops LLVM
    vectorises. Between them :func:`window_gradients` (or :func:`path_gradients`) turns the
    window's scores (``lanes``, 8 a context row) into gradients. The output rows are read in
    place, written only at the end; slots past ``n_out`` read row ``outputs[0]`` and get a
    gradient of 0 (copying the rows into a buffer padded with zero rows, as before, measured
    1-4% slower). The gradients come from the rows as they were, also for a word that occurs
    twice in the window (hence the copy of the context rows)."""
    dim = input_table.shape[1]
    o0, o1, o2, o3, o4, o5 = _six_rows(outputs, n_out)
    for k in range(6):
        for i in range(dim):
            grad_out[k, i] = 0.0
    for j in range(m):
        r = contexts[j]
        a0 = a1 = a2 = a3 = a4 = a5 = np.float32(0.0)
        for i in range(dim):
            x = input_table[r, i]
            in_rows[j, i] = x
            a0 += x * output_table[o0, i]
            a1 += x * output_table[o1, i]
            a2 += x * output_table[o2, i]
            a3 += x * output_table[o3, i]
            a4 += x * output_table[o4, i]
            a5 += x * output_table[o5, i]
        at = 8 * j
        lanes[at], lanes[at + 1], lanes[at + 2] = a0, a1, a2
        lanes[at + 3], lanes[at + 4], lanes[at + 5] = a3, a4, a5
        lanes[at + 6] = lanes[at + 7] = np.float32(0.0)
    loss = (path_gradients(lanes, m, labels, 0, n_out, alpha) if hs
            else window_gradients(lanes, m, n_out, alpha))
    for j in range(m):
        r = contexts[j]
        at = 8 * j
        g0, g1, g2 = lanes[at], lanes[at + 1], lanes[at + 2]
        g3, g4, g5 = lanes[at + 3], lanes[at + 4], lanes[at + 5]
        for i in range(dim):
            x = in_rows[j, i]
            grad_out[0, i] += g0 * x
            grad_out[1, i] += g1 * x
            grad_out[2, i] += g2 * x
            grad_out[3, i] += g3 * x
            grad_out[4, i] += g4 * x
            grad_out[5, i] += g5 * x
            input_table[r, i] += (g0 * output_table[o0, i] + g1 * output_table[o1, i]
                                  + g2 * output_table[o2, i] + g3 * output_table[o3, i]
                                  + g4 * output_table[o4, i] + g5 * output_table[o5, i])
    _add_rows(output_table, outputs, n_out, grad_out)
    return loss



@kernel
def update_window6(input_table, output_table, contexts, m, outputs, n_out, alpha, lanes, grad_out,
                   in_rows):
    """:func:`update_window` for at most 6 output rows, the center word (``outputs[0]``, label
    1) and up to 5 negatives (word2vec's default), by :func:`window6`."""
    wide_vectors()
    return window6(input_table, output_table, contexts, m, outputs, lanes, n_out, alpha, lanes,
                   grad_out, in_rows, False)


@kernel
def update_path6(input_table, output_table, contexts, m, outputs, labels, n_out, alpha, lanes,
                 grad_out, in_rows, lane_labels):
    """Hierarchical softmax's :func:`update_window6`: a skip-gram window against up to 6
    inner nodes of the center word's path, with their labels, by :func:`window6` (a longer
    path goes 6 nodes at a time, as word2vec.c goes one at a time). ``lane_labels`` (``8 * m``
    floats) gets each lane's label."""
    wide_vectors()
    for j in range(m):
        for k in range(8):
            lane_labels[8 * j + k] = labels[k] if k < n_out else np.float32(0.0)
    return window6(input_table, output_table, contexts, m, outputs, lane_labels, n_out, alpha,
                   lanes, grad_out, in_rows, True)


@kernel
def update_pair_by_pair(input_table, output_table, contexts, m, outputs, labels, n_out, alpha, neu,
                        scores):
    """Skip-gram in word2vec's order: one context word at a time, each pair's output rows
    written before the next pair is scored (the negatives are still shared by the window).
    A context row's scores against distinct output rows do not depend on each other's
    updates, so they are taken first (into ``scores``, ``n_out`` floats), and each gradient
    waits on no dot product; an output listed twice is scored again after its first update,
    as word2vec would. Returns the loss."""
    wide_vectors()
    dim = input_table.shape[1]
    loss = 0.0
    for j in range(m):
        r = contexts[j]
        for k in range(n_out):
            o = outputs[k]
            f = np.float32(0.0)
            for i in range(dim):
                f += input_table[r, i] * output_table[o, i]
            scores[k] = f
        neu[:] = 0.0
        for k in range(n_out):
            o = outputs[k]
            f = scores[k]
            for earlier in range(k):
                if outputs[earlier] == o:  # written since it was scored
                    f = np.float32(0.0)
                    for i in range(dim):
                        f += input_table[r, i] * output_table[o, i]
                    break
            g, pair_loss = gradient_and_loss(f, labels[k], alpha)
            loss += pair_loss
            for i in range(dim):
                neu[i] += g * output_table[o, i]
                output_table[o, i] += g * input_table[r, i]
        for i in range(dim):
            input_table[r, i] += neu[i]
    return loss


@kernel
def score_hidden(output_table, hidden, outputs, labels, weights, n_out, alpha, neu):
    """A hidden vector against output rows, in word2vec's order: each row is scored against it
    and updated from it, its gradient counted ``weights[k]`` times (an output shared by that
    many examples with this same hidden vector); ``neu`` gets the hidden vector's gradient.
    Returns the loss."""
    wide_vectors()
    dim = output_table.shape[1]
    neu[:] = 0.0
    loss = 0.0
    for k in range(n_out):
        o = outputs[k]
        f = np.float32(0.0)
        for i in range(dim):
            f += hidden[i] * output_table[o, i]
        g, pair_loss = gradient_and_loss(f, labels[k], alpha)
        g *= weights[k]
        loss += pair_loss * weights[k]
        for i in range(dim):
            neu[i] += g * output_table[o, i]
            output_table[o, i] += g * hidden[i]
    return loss


@kernel
def score_hidden6(output_table, hidden, outputs, labels, n_out, alpha, neu, grads):
    """:func:`score_hidden` for at most 6 output rows, each counted once, register-blocked
    (word2vec's CBOW with up to 5 negatives): the 6 scores are taken in one pass over the
    hidden vector, and its gradient in one pass over the 6 rows, before any of them is written.
    word2vec scores the outputs one after the other, each against the rows as the previous
    ones left them; distinct rows do not change each other, so the two orders differ only when
    a negative is drawn twice. Slots past ``n_out`` read row ``outputs[0]`` and get no update;
    ``grads`` (16 floats) gets the outputs' gradients, then their labels: the 6 scores become
    gradients in one vector (:func:`path_gradients`), where one at a time measured 4% slower
    (CBOW, 1 worker). Returns the loss."""
    wide_vectors()
    dim = output_table.shape[1]
    o0, o1, o2, o3, o4, o5 = _six_rows(outputs, n_out)
    a0 = a1 = a2 = a3 = a4 = a5 = np.float32(0.0)
    for i in range(dim):
        h = hidden[i]
        a0 += h * output_table[o0, i]
        a1 += h * output_table[o1, i]
        a2 += h * output_table[o2, i]
        a3 += h * output_table[o3, i]
        a4 += h * output_table[o4, i]
        a5 += h * output_table[o5, i]
    for k in range(8):
        grads[8 + k] = labels[k] if k < n_out else np.float32(0.0)
    grads[0], grads[1], grads[2], grads[3], grads[4], grads[5] = a0, a1, a2, a3, a4, a5
    grads[6] = grads[7] = np.float32(0.0)
    loss = path_gradients(grads, 1, grads, 8, n_out, alpha)  # in one vector; padding 0
    g0, g1, g2, g3, g4, g5 = grads[0], grads[1], grads[2], grads[3], grads[4], grads[5]
    for i in range(dim):
        neu[i] = (g0 * output_table[o0, i] + g1 * output_table[o1, i] + g2 * output_table[o2, i]
                  + g3 * output_table[o3, i] + g4 * output_table[o4, i] + g5 * output_table[o5, i])
    for k in range(n_out):
        o = outputs[k]
        g = grads[k]
        for i in range(dim):
            output_table[o, i] += g * hidden[i]
    return loss


@njit(cache=True, inline="always")
def _mean_of_rows(table, bag, n_bag, hidden):
    _sum_rows(table, bag, n_bag, hidden)
    inv = np.float32(1.0) / np.float32(n_bag)
    for i in range(table.shape[1]):
        hidden[i] *= inv


@kernel
def update_bag(input_table, output_table, bag, n_bag, outputs, labels, weights, n_out, alpha,
               in_scale,
               hidden, neu):
    """One bag of input rows against shared output rows (fastText's model): the hidden vector is
    the mean of ``input_table[bag[:n_bag]]``, scored against the outputs by
    :func:`score_hidden`; the
    hidden vector's gradient, times ``in_scale``, goes back to every input row of the bag.
    word2vec's CBOW (gensim's ``cbow_mean=1``) and fastText use ``in_scale = 1``: every input
    row gets the whole gradient. Returns the loss."""
    wide_vectors()
    _mean_of_rows(input_table, bag, n_bag, hidden)
    loss = score_hidden(output_table, hidden, outputs, labels, weights, n_out, alpha, neu)
    for i in range(input_table.shape[1]):
        neu[i] *= in_scale
    _add_to_rows(input_table, bag, n_bag, neu)
    return loss


@kernel
def update_bag6(input_table, output_table, bag, n_bag, outputs, labels, n_out, alpha, hidden, neu,
                grads):
    """:func:`update_bag` for at most 6 output rows, each counted once, through
    :func:`score_hidden6`. Returns the loss."""
    wide_vectors()
    _mean_of_rows(input_table, bag, n_bag, hidden)
    loss = score_hidden6(output_table, hidden, outputs, labels, n_out, alpha, neu, grads)
    _add_to_rows(input_table, bag, n_bag, neu)
    return loss
