"""What the kernel compiler's settings are worth to the skip-gram kernel, by row width:
``update_window6`` (a window of 11 distinct context rows against 6 output rows) on a small table
that stays in cache, compiled afresh three ways: as the engine compiles it (``KernelCompiler``:
arrays noalias, loops not interleaved), with its loops not interleaved but without noalias
(LLVM then checks at run time that the rows do not overlap), and with LLVM's defaults
(interleaved, checked). Prints nanoseconds a context row, the fastest of 7 runs each,
alternating.

    python benchmarks/bench_rows.py [--widths 96 112 128] [--windows 100000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

from sgns.engines.native.compiler import FASTMATH, KernelCompiler, no_interleaving
from sgns.engines.native.kernels import update_window6
from sgns.engines.native.windows import aligned_rows

CONTEXTS = 11  # word2vec's shrunk windows of 10 hold about 11 context words


def _windows(kernel):
    @njit(fastmath=FASTMATH)
    def train(input_table, output_table, contexts, outputs, scratch, windows):
        lanes, grad_out, in_rows = scratch
        loss = 0.0
        for _ in range(windows):
            loss += kernel(input_table, output_table, contexts, contexts.shape[0], outputs, 6,
                           np.float32(1e-4), lanes, grad_out, in_rows)
        return loss
    return train


def problem(width: int):
    rng = np.random.default_rng(0)
    input_table = aligned_rows(64, width)
    output_table = aligned_rows(64, width)
    input_table[:] = (rng.random((64, width), dtype=np.float32) - 0.5) / 100
    output_table[:] = (rng.random((64, width), dtype=np.float32) - 0.5) / 100
    contexts = rng.choice(32, CONTEXTS, replace=False).astype(np.int32)
    outputs = np.arange(40, 46, dtype=np.int32)
    scratch = (np.empty(CONTEXTS * 8, np.float32), aligned_rows(6, width),
               aligned_rows(CONTEXTS, width))
    return input_table, output_table, contexts, outputs, scratch


def compiled(how: str):
    """The kernel and its loop compiled afresh (at the first call, inside the context)."""
    if how == "engine":
        kernel = njit(fastmath=FASTMATH, forceinline=True, pipeline_class=KernelCompiler)
    else:
        kernel = njit(fastmath=FASTMATH, inline="always")
    train = _windows(kernel(update_window6.py_func))
    if how == "interleaved":
        train(*problem(16), 1)
    else:
        with no_interleaving():
            train(*problem(16), 1)
    return train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[96, 112, 128])
    parser.add_argument("--windows", type=int, default=100_000)
    args = parser.parse_args()
    kinds = {"noalias, not interleaved (the engine)": compiled("engine"),
             "checked, not interleaved": compiled("checked"),
             "checked, interleaved (LLVM's defaults)": compiled("interleaved")}
    print("| row width | compiled | update_window6, ns a context row |")
    print("|---|---|---|")
    for width in args.widths:
        data = problem(width)
        best = dict.fromkeys(kinds, np.inf)
        for _ in range(7):
            for kind, train in kinds.items():
                start = time.perf_counter()
                train(*data, args.windows)
                best[kind] = min(best[kind], time.perf_counter() - start)
        for kind, seconds in best.items():
            print(f"| {width} | {kind} | {seconds / args.windows / CONTEXTS * 1e9:.1f} |")


if __name__ == "__main__":
    main()
