"""The native kernels at their edges: the score-to-gradient function at and around the sigmoid's
saturation at +-MAX_EXP (where the table it replaced was read one past its end), at +-inf and
NaN, inside the fast-math kernels, in vectors and on its own; and how the kernels compile: the
vector width chosen for the CPU, no interleaved loops. (``tests/variants.sh`` runs these tests
again under numba's bounds checking and for CPUs without AVX-512.)"""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from llvmlite import binding as llvm
from numba import njit

from sgns.engines.native import LOSS_CAP, MAX_EXP, alias_table, compiler, gradient_and_loss, kernels
from sgns.engines.native.compiler import FASTMATH, KernelCompiler, no_interleaving
from sgns.engines.native.kernels import (
    update_bag,
    update_bag6,
    update_pair_by_pair,
    update_window,
    update_window6,
    window_gradients,
)
from sgns.engines.native.sampling import below, draw_alias, draw_many, split_alias_table
from sgns.engines.native.windows import DRAWN, center_negatives

REPO = Path(__file__).resolve().parents[3]
ALPHA = np.float32(0.025)


@njit(fastmath=FASTMATH)
def _lookups(scores, label, alpha):
    """The function as the kernels inline it: compiled with the kernels' fast-math flags."""
    g = np.empty(scores.size, np.float32)
    loss = np.empty(scores.size, np.float32)
    for i in range(scores.size):
        g[i], loss[i] = gradient_and_loss(scores[i], label, alpha)
    return g, loss


def _edge_scores() -> np.ndarray:
    """Scores at and around +-MAX_EXP (16 float32 steps each way), 0, the extremes, +-inf, NaN."""
    edges = []
    for edge in (MAX_EXP, -MAX_EXP, 0.0):
        x = np.float32(edge)
        up = down = x
        for _ in range(16):
            up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(-np.inf))
            edges += [up, down]
        edges.append(x)
    finfo = np.finfo(np.float32)
    edges += [finfo.max, -finfo.max, finfo.tiny, -finfo.tiny, np.inf, -np.inf, np.nan]
    return np.array(edges, dtype=np.float32)


def _every_4096th_float32() -> np.ndarray:
    """About a million float32 values spread over every exponent, both signs, inf and NaN."""
    bits = np.arange(0, 2**32, 4096, dtype=np.uint64).astype(np.uint32)
    return bits.view(np.float32)


def test_the_reported_score_gives_a_sane_update():
    # 5.9999995 + 6 rounds to 12.0 in float32: the cell was one past the end of the table.
    g, loss = gradient_and_loss(np.float32(5.9999995), np.float32(1.0), ALPHA)
    assert 0 <= g < 0.003 * ALPHA and 0 <= loss < 0.01


@pytest.mark.parametrize("label", [1.0, 0.0])
@pytest.mark.parametrize("compiled_as", ["plain", "fastmath"])
def test_every_score_gives_a_finite_loss_and_a_bounded_gradient(label, compiled_as):
    scores = np.concatenate([_edge_scores(), _every_4096th_float32()])
    if compiled_as == "plain":
        pairs = [gradient_and_loss(f, np.float32(label), ALPHA) for f in _edge_scores()]
        g = np.array([p[0] for p in pairs], np.float32)
        loss = np.array([p[1] for p in pairs], np.float32)
        scores = _edge_scores()
    else:
        g, loss = _lookups(scores, np.float32(label), ALPHA)
    assert np.isfinite(g).all() and np.isfinite(loss).all()
    assert (np.abs(g) <= ALPHA).all()
    assert (loss >= 0).all() and (loss <= LOSS_CAP).all()
    # Inside +-MAX_EXP: the sigmoid within 2e-5 and the loss within 1e-4 (the table they
    # replaced was 0.003 coarse); beyond, saturated: sigmoid 0 or 1, the loss the score's
    # size on the wrong side and 0 on the right one.
    with np.errstate(invalid="ignore"):  # signalling NaNs among the bit patterns
        f = scores.astype(np.float64)
    inside = np.abs(f) < MAX_EXP
    sigmoid = 1 / (1 + np.exp(-f[inside]))
    np.testing.assert_allclose(g[inside], (label - sigmoid) * ALPHA, rtol=0, atol=2e-5 * ALPHA)
    exact_loss = -np.log(sigmoid) if label else -np.log(1 - sigmoid)
    np.testing.assert_allclose(loss[inside], exact_loss, rtol=0, atol=1e-4)
    beyond = np.abs(f) >= MAX_EXP
    saturated = (f[beyond] > 0).astype(np.float64)
    np.testing.assert_array_equal(g[beyond], ((label - saturated) * ALPHA).astype(np.float32))
    wrong_side = np.maximum(-f[beyond] if label else f[beyond], 0)
    np.testing.assert_allclose(loss[beyond], np.minimum(wrong_side, LOSS_CAP), rtol=1e-6)
    # NaN gives no update and the largest loss, so the divergence guard sees broken tables.
    nan = np.isnan(scores)
    assert (g[nan] == 0).all() and (loss[nan] == LOSS_CAP).all()


@njit(fastmath=FASTMATH)
def _window_gradients(lanes, m, n_out, alpha):
    compiler.wide_vectors()
    return window_gradients(lanes, m, n_out, alpha)


@pytest.mark.parametrize("n_out", [1, 4, 6])
def test_window_gradients_are_the_function_on_every_lane(n_out):
    """The skip-gram kernel's vector loop over a window's scores gives each lane what
    gradient_and_loss gives it (label 1 in lane 0 of each context row, 0 after), zero in the
    padding lanes, and the sum of the live lanes' losses; edge scores, +-inf and NaN included,
    in every lane position, and over 2 to 10 context rows (whole vectors and remainders)."""
    edges = _edge_scores()
    for m in (2, 3, 10):
        for shift in range(0, edges.size, 8 * m - 1):
            lanes = np.roll(np.resize(edges, 8 * m), shift).astype(np.float32)
            want_g = np.zeros(8 * m, np.float32)
            want_loss = 0.0
            for i, f in enumerate(lanes):
                if i % 8 < n_out:
                    g, loss = gradient_and_loss(f, np.float32(i % 8 == 0), ALPHA)
                    want_g[i] = g
                    want_loss += loss
            got = lanes.copy()
            loss = _window_gradients(got, m, n_out, ALPHA)
            # The same to a few float32 steps of the sigmoid (fused or separate products).
            np.testing.assert_allclose(got, want_g, rtol=0, atol=4e-7 * ALPHA)
            assert loss == pytest.approx(want_loss, rel=1e-5)
    asm = _window_gradients.inspect_asm(_window_gradients.signatures[0])
    assert re.search(r"cmp\w*ps\s", asm), "the scores' NaN checks are not in vectors"


def _one_pair_problem(score: float, n_out: int = 1):
    """Tables where the context row scores exactly ``score`` against every output row."""
    dim = 16
    input_table = np.zeros((4, dim), np.float32)
    output_table = np.zeros((4 + n_out, dim), np.float32)
    input_table[1, 0] = score
    output_table[2:2 + n_out, 0] = 1.0
    contexts = np.array([1], np.int32)
    outputs = np.arange(2, 2 + n_out, dtype=np.int32)
    labels = np.zeros(n_out, np.float32)
    labels[0] = 1.0
    return input_table, output_table, contexts, outputs, labels


def _run_kernel(kernel, input_table, output_table, contexts, outputs, labels):
    n_out, dim = len(outputs), input_table.shape[1]
    if kernel == "window":
        return update_window(input_table, output_table, contexts, 1, outputs, labels, n_out, ALPHA,
                             np.empty((1, n_out), np.float32), np.empty((n_out, dim), np.float32))
    if kernel == "window6":
        return update_window6(input_table, output_table, contexts, 1, outputs, n_out, ALPHA,
                              np.empty(8, np.float32), np.empty((6, dim), np.float32),
                              np.empty((1, dim), np.float32))
    if kernel == "pair":
        return update_pair_by_pair(input_table, output_table, contexts, 1, outputs, labels, n_out, ALPHA,
                                   np.empty(dim, np.float32), np.empty(n_out, np.float32))
    if kernel == "bag6":
        return update_bag6(input_table, output_table, contexts, 1, outputs, labels, n_out, ALPHA,
                           np.empty(dim, np.float32), np.empty(dim, np.float32),
                           np.empty(16, np.float32))
    return update_bag(input_table, output_table, contexts, 1, outputs, labels, np.ones(n_out, np.float32),
                      n_out, ALPHA, np.float32(1.0),
                      np.empty(dim, np.float32), np.empty(dim, np.float32))


@pytest.mark.parametrize("kernel", ["window", "window6", "pair", "bag", "bag6"])
@pytest.mark.parametrize("n_out", [1, 3])
def test_each_kernel_at_the_edges(kernel, n_out):
    for score in _edge_scores():
        input_table, output_table, contexts, outputs, labels = _one_pair_problem(score, n_out)
        before0, before1 = input_table.copy(), output_table.copy()
        loss = _run_kernel(kernel, input_table, output_table, contexts, outputs, labels)
        assert np.isfinite(loss) and 0 <= loss <= n_out * LOSS_CAP, (kernel, score, loss)
        if not np.isfinite(score):
            continue
        # Each output row moves by g * score and the context row by the sum of g over the
        # outputs, with |g| <= alpha: a read past the sigmoid table once gave g = -5 alpha.
        g_out = output_table[outputs, 0] - before1[outputs, 0]
        assert (np.abs(g_out) <= ALPHA * abs(score) * 1.0001 + 1e-30).all(), (kernel, score)
        assert abs(input_table[1, 0] - before0[1, 0]) <= n_out * ALPHA * 1.0001, (kernel, score)
        if abs(score) > 1e3:
            continue  # a float32 that large does not move by alpha
        sigmoid = 1 / (1 + np.exp(-np.float64(score)))  # saturation moves it by < 0.0025
        want = (labels - sigmoid) * ALPHA
        np.testing.assert_allclose(input_table[1, 0] - before0[1, 0], want.sum(),
                                   atol=0.004 * ALPHA * n_out)


def _fma_registers(function) -> list[str]:
    """The register kind (xmm, ymm, zmm) of each FMA in ``function``'s compiled code."""
    asm = function.inspect_asm(function.signatures[0])
    return re.findall(r"vfmadd\w+\s[^\n]*%(xmm|ymm|zmm)\d+\n", asm)


@pytest.mark.parametrize("cpu,bits", [
    ("skylake-avx512", 512), ("sapphirerapids", 512), ("rocketlake", 512),
    ("znver4", 256), ("znver3", 256), ("haswell", None), ("x86-64", None),
    ("neoverse-v1", None), ("apple-m1", None)])
def test_the_vector_width_is_chosen_for_the_cpu(cpu, bits):
    assert compiler.preferred_vector_width(cpu) == bits


def _compile_window_kernel(source: str):
    namespace = dict(vars(kernels))
    exec(source, namespace)
    return njit(fastmath=FASTMATH)(namespace["update_window6"])


def _run_window_kernel(function):
    input_table, output_table, contexts, outputs, labels = _one_pair_problem(0.5, 3)
    input_table[1, 1:] = output_table[2:5, 1:] = 0.25
    dim = input_table.shape[1]
    loss = function(input_table, output_table, contexts, 1, outputs, 3, ALPHA, np.empty(8, np.float32),
                    np.empty((6, dim), np.float32), np.empty((1, dim), np.float32))
    return loss, input_table, output_table


@pytest.mark.parametrize("cpu", ["skylake-avx512", "znver4", "haswell"])
def test_kernels_ask_for_the_vector_width_of_their_cpu(monkeypatch, cpu):
    """The window kernel's compiled code carries the width chosen for the CPU it is built for,
    or no width at all, and computes the same numbers as the kernel without ``wide_vectors``.
    Only the attribute is checked, not the registers LLVM then picks: those are the compiler's
    defaults for each CPU, which differ between vendors."""
    source = inspect.getsource(update_window6.py_func).split("\n", 1)[1]  # less the decorator
    assert "    wide_vectors()\n" in source
    monkeypatch.setattr(compiler, "target_cpu", lambda: cpu)
    wide = _compile_window_kernel(source)
    default = _compile_window_kernel(source.replace("    wide_vectors()\n", ""))
    results = [_run_window_kernel(function) for function in (wide, default)]
    ir = wide.inspect_llvm(wide.signatures[0])
    bits = compiler.preferred_vector_width(cpu)
    widths = set(re.findall(r'"prefer-vector-width"="(\d+)"', ir))
    assert widths == ({str(bits)} if bits else set())
    assert "prefer-vector-width" not in default.inspect_llvm(default.signatures[0])
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for a, b in zip(results[0][1:], results[1][1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.skipif("+avx512f" not in llvm.get_host_cpu_features().flatten()
                    or compiler.preferred_vector_width(compiler.target_cpu()) != 512,
                    reason="512-bit vectors are asked for on Intel CPUs with AVX-512")
def test_the_kernels_use_512_bit_vectors_where_they_ask_for_them():
    """Where the engine asks for 512-bit vectors (an Intel CPU with AVX-512, this one), the
    window kernel's products are 512-bit FMAs."""
    source = inspect.getsource(update_window6.py_func).split("\n", 1)[1]
    wide = _compile_window_kernel(source)
    _run_window_kernel(wide)
    assert "zmm" in _fma_registers(wide)


def test_every_update_kernel_asks_for_its_cpus_vector_width():
    """Each update kernel is compiled, and its loops vectorised, in a module of its own before
    LLVM inlines it into a loop, so the loop's ``wide_vectors`` does not reach the kernel's
    loops: each kernel asks itself (CBOW's scoring kernels once ran on 256-bit vectors)."""
    found = [f for f in vars(kernels).values()
             if getattr(getattr(f, "_compiler", None), "pipeline_class", None) is KernelCompiler]
    assert len(found) >= 8
    for function in found:
        body = inspect.getsource(function.py_func).split('"""')[-1]
        assert body.lstrip().startswith("wide_vectors()"), function.py_func.__name__


@njit
def _tail_sum(a):
    return a[1:].sum()


@njit
def _borrowed_sum_of_tails(a, n):
    view = compiler.borrowed(a)
    total = 0.0
    for k in range(n):
        total += _tail_sum(view[k:])
    return total


def test_borrowed_views_share_memory_and_own_none_of_it():
    """``borrowed`` gives views of the same memory (slices and named tuples of arrays too)
    that own none of it: handed back to Python (which the engine never does), such a view has
    no owner, where an owned slice keeps numba's record of its memory; and a loop over its
    slices compiles with no reference counting."""
    from collections import namedtuple

    Pair = namedtuple("Pair", ["a", "b"])

    @njit
    def write(x, pair):
        view = compiler.borrowed(x)
        view[1:][0] = 5.0
        both = compiler.borrowed(pair)
        both.a[2] = 7
        return both.b.sum()

    x, pair = np.zeros(4, np.float32), Pair(np.zeros(3, np.int64), np.ones(2))
    assert write(x, pair) == 2.0
    assert x[1] == 5.0 and pair.a[2] == 7

    a = np.arange(6.0)
    lent = njit(lambda a: compiler.borrowed(a)[1:])(a)
    owned = njit(lambda a: a[1:])(a)
    assert lent[0] == owned[0] == 1.0
    assert owned.base is not None and lent.base is None
    assert _borrowed_sum_of_tails(a, 3) == 41.0
    ir = "".join(_borrowed_sum_of_tails.inspect_llvm().values())
    assert "call void @NRT_incref" not in ir


def test_prefetches_are_hints_that_change_nothing_and_never_fault():
    """``prefetch_row`` (for writing, a line at a time) and ``prefetch_item`` (one line, for
    reading) compile to LLVM's prefetch, leave the arrays as they were, and are harmless at a
    place far past an array's end."""

    @njit
    def hint(table, items, k):
        compiler.prefetch_row(table, k)
        compiler.prefetch_item(items, k)
        return table.sum() + items.sum()

    table, items = np.arange(12, dtype=np.float32).reshape(3, 4), np.arange(5, dtype=np.int32)
    before = table.sum() + items.sum()
    for k in (0, 2, 10**6):
        assert hint(table, items, k) == before
    ir = hint.inspect_llvm(hint.signatures[0])
    calls = re.findall(r"call void @llvm\.prefetch[.\w]*\([^,]+, i32 (\d), i32 3, i32 1\)", ir)
    assert {"0", "1"} <= set(calls)  # a read and a write prefetch


def test_the_gradients_of_six_scores_are_taken_in_vectors():
    """``score_hidden6`` turns its 6 scores into gradients in one vector: its loop over the
    lanes compares floats in vectors. Its labels lie in the same array as the scores, at fixed
    places; a view of that array's tail, whose offset LLVM knew only at run time, left the
    loop scalar, behind a check too costly for 8 lanes."""
    # Compiled here, as the engine compiles it: code loaded from numba's cache has no IR.
    fresh = njit(fastmath=FASTMATH, pipeline_class=KernelCompiler)(kernels.score_hidden6.py_func)
    neu, grads = np.zeros(16, np.float32), np.zeros(16, np.float32)
    fresh(np.ones((4, 16), np.float32), np.ones(16, np.float32), np.arange(3, dtype=np.int32),
          np.zeros(3, np.float32), 3, ALPHA, neu, grads)
    # Scores of 16, past MAX_EXP, against label 0: a gradient of -alpha each, none past n_out.
    assert np.all(grads[:3] == -ALPHA) and np.all(grads[3:8] == 0.0)
    if not re.search(r"%[yz]mm\d", fresh.inspect_asm(fresh.signatures[0])):
        pytest.skip("a target without x86's 256-bit vectors (generic x86-64's SSE2, or "
                    "another architecture): there LLVM's cost model may keep 8 lanes scalar")
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert re.search(r"= fcmp [^\n]*<\d+ x float>", ir)


def _dot(a, b):
    total = np.float32(0.0)
    for i in range(a.shape[0]):
        total += a[i] * b[i]
    return total


def _vector_multiplies(function) -> int:
    """Vector multiplies in ``function``'s optimised LLVM IR: one for a loop that is not
    interleaved, more for one that is. Counted in the IR, not in the machine code, so that it
    holds for every CPU (generic x86-64 has no FMA instruction, ARM other names)."""
    ir = function.inspect_llvm(function.signatures[0])
    return len(re.findall(r"= fmul [^\n]*<\d+ x float>", ir))


def test_kernels_compile_without_interleaved_loops_and_leave_llvm_as_it_was():
    """Inside ``no_interleaving`` a row loop is one vector a step (no scalar remainder for
    the padded rows); after it, LLVM interleaves again, for code that is not the engine's."""
    x = np.arange(112, dtype=np.float32)
    with no_interleaving():
        plain = njit(fastmath=FASTMATH)(_dot)
        assert plain(x, x) == np.dot(x, x)
    interleaved = njit(fastmath=FASTMATH)(_dot)
    assert interleaved(x, x) == np.dot(x, x)
    assert 1 <= _vector_multiplies(plain) < _vector_multiplies(interleaved)
    # Nested (a loop's kernel is compiled while the loop compiles): off until the outer ends.
    with no_interleaving():
        with no_interleaving():
            pass
        after_inner = njit(fastmath=FASTMATH)(_dot)
        assert after_inner(x, x) == np.dot(x, x)
    assert _vector_multiplies(after_inner) == _vector_multiplies(plain)


@njit
def _draws(table, n, seed):
    state = np.array([seed], np.uint64)
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = draw_alias(state, table)
    return out


@njit
def _draws_at_once(table, n, seed):
    state = np.array([seed], np.uint64)
    out = np.empty(n, np.int32)
    draw_many(state, table, out, 0, n)
    return out, state[0]


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_alias_draws_stay_inside_the_table(size):
    p = np.random.default_rng(size).random(size) + 1e-12
    p[0] = 0.0 if size > 1 else 1.0
    table = alias_table(p)
    _, alias = split_alias_table(table)
    assert alias.min() >= 0 and alias.max() < size
    drawn = _draws(table, 20_000, size)
    assert drawn.min() >= 0 and drawn.max() < size
    if size > 1:
        assert not (drawn == 0).any()  # probability 0 is never drawn


def test_alias_draws_follow_the_distribution_and_draw_many_repeats_them():
    """Draws in a run (draw_many) are the same ids as one at a time, and leave the generator
    where as many single draws would; their shares match the noise distribution (within 5
    standard errors), words of tiny probability included."""
    p = np.r_[0.0, np.geomspace(1.0, 1e-4, 40)]
    p /= p.sum()
    table = alias_table(p)
    one_by_one = _draws(table, 400_000, 3)
    at_once, counter = _draws_at_once(table, 400_000, 3)
    np.testing.assert_array_equal(at_once, one_by_one)
    assert int(counter) == (3 + 400_000 * 0x9E3779B97F4A7C15) % 2**64
    share = np.bincount(one_by_one, minlength=p.size) / one_by_one.size
    assert np.all(np.abs(share - p) <= 5 * np.sqrt(p * (1 - p) / one_by_one.size) + 1e-12)


@njit
def _negatives_by_center(length, negative, share, table, seed):
    """Each center's negatives as the sentence loops take them (the ring of draws)."""
    state = np.array([seed], np.uint64)
    drawn = np.full(2 * DRAWN * negative, -1, np.int32)
    sentence = np.ones(length, np.int32)
    output_table = np.zeros((2, 16), np.float32)
    out = np.empty((length, negative), np.int32)
    for p in range(length):
        out[p] = center_negatives(output_table, sentence, p, length, negative, share, table,
                                  state, drawn)
    return out


@pytest.mark.parametrize("share", [1, 3])
@pytest.mark.parametrize("length", [1, DRAWN - 1, DRAWN, 2 * DRAWN, 2 * DRAWN + 1, 5 * DRAWN + 3])
def test_each_center_gets_its_own_negatives_from_the_ring(length, share):
    """The ring of drawn negatives, at and around its batches' edges: the centers of group g
    (``share`` consecutive centers) get the g-th set of a straight run of draws, none repeated
    from another group, none left unset."""
    negative = 5
    table = alias_table(np.r_[0.0, np.ones(50_000)])  # so that repeats would show
    got = _negatives_by_center(length, negative, share, table, 11)
    groups = -(-length // share)
    want, _ = _draws_at_once(table, groups * negative, 11)
    want = np.repeat(want.reshape(groups, negative), share, axis=0)[:length]
    np.testing.assert_array_equal(got, want)


@njit
def _belows(n, draws, seed):
    state = np.array([seed], np.uint64)
    out = np.empty(draws, np.int64)
    for i in range(draws):
        out[i] = below(state, n)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 10, 2**31 - 1, 2**32 - 1])
def test_random_integers_stay_below_n_and_are_uniform(n):
    """The multiply-shift draw (no division) stays in [0, n) up to the largest n it takes, and
    covers it evenly: for small n every value's share is within 4 standard errors of 1/n; for
    large n both halves of the range are hit equally."""
    drawn = _belows(n, 200_000, n)
    assert drawn.min() >= 0 and drawn.max() < n
    if n <= 10:
        share = np.bincount(drawn, minlength=n) / drawn.size
        assert np.all(np.abs(share - 1 / n) < 4 * np.sqrt((1 / n) / drawn.size) + 1e-12)
    else:
        assert abs((drawn < n // 2).mean() - 0.5) < 0.01
        assert drawn.max() > 0.99 * n  # reaches the top of the range


def test_a_kernel_compiles_the_same_whoever_compiles_it_first():
    """The update kernels are compiled by ``KernelCompiler``: a kernel called on its own first,
    outside ``no_interleaving`` (a test does; numba keeps what it compiled, on disk too), gets
    the engine's uninterleaved loops, and a loop that calls it gets it inlined, as it is."""
    for update in (update_window6, update_window, update_pair_by_pair, update_bag,
                   update_bag6, kernels.score_hidden, kernels.score_hidden6):
        assert update._compiler.pipeline_class is KernelCompiler, update.py_func.__name__

    def loop_over(kernel):
        @njit(fastmath=FASTMATH)
        def loop(input_table, output_table, contexts, m, outputs, n_out, alpha, scratch):
            compiler.wide_vectors()
            lanes, grad_out, in_rows = scratch
            return kernel(input_table, output_table, contexts, m, outputs, n_out, alpha, lanes, grad_out, in_rows)
        return loop

    def problem():
        input_table, output_table, contexts, outputs, _ = _one_pair_problem(0.5, 3)
        dim = input_table.shape[1]
        scratch = (np.empty(8, np.float32), np.empty((6, dim), np.float32),
                   np.empty((1, dim), np.float32))
        return (input_table, output_table, contexts, 1, outputs, 3, ALPHA), scratch

    def noalias_arguments(function) -> int:
        ir = function.inspect_llvm(function.signatures[0])
        return max(line.count(" noalias ") for line in ir.splitlines()
                   if line.startswith("define") and "update_window6" in line)

    def compiled_afresh():
        return njit(fastmath=FASTMATH, forceinline=True,
                    pipeline_class=KernelCompiler)(update_window6.py_func)

    counts = []
    for first_on_its_own in (False, True):
        kernel = compiled_afresh()
        if first_on_its_own:  # outside no_interleaving, as a test would
            args, scratch = problem()
            kernel(*args, *scratch)
        loop = loop_over(kernel)
        args, scratch = problem()
        with no_interleaving():  # as the engine compiles its loops
            loop(*args, scratch)
        counts.append(_vector_multiplies(loop))
    interleaved = loop_over(njit(fastmath=FASTMATH, inline="always")(update_window6.py_func))
    args, scratch = problem()
    interleaved(*args, scratch)  # LLVM's defaults
    assert 1 <= counts[0] == counts[1] < _vector_multiplies(interleaved)
    assert not re.search(r"call\w*\s+\S*update_window6", loop.inspect_asm(loop.signatures[0]))
    # Its arrays' pointers are noalias (each array's data and bookkeeping pointers).
    on_its_own = compiled_afresh()
    args, scratch = problem()
    on_its_own(*args, *scratch)
    plain = njit(fastmath=FASTMATH)(update_window6.py_func)
    args, scratch = problem()
    plain(*args, *scratch)
    assert noalias_arguments(on_its_own) >= noalias_arguments(plain) + 2 * 9
