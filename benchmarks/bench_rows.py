"""How LLVM's code for a row loop costs per row width: 6 dot products of a row (the shape of the
skip-gram kernel's first pass) and one row update, over rows of a small table that stays in
cache, compiled as the native engine compiles its kernels (512-bit vectors, loops not
interleaved) and with LLVM's interleaving left on. Prints nanoseconds a row, the fastest of 7
runs each, alternating.

    python benchmarks/bench_rows.py [--widths 96 100 112 128] [--rows 2000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

from sgns.native.kernels import FASTMATH, wide_vectors
from sgns.native.loop import _no_interleaving


def _six_dots(table, rows, out6):
    wide_vectors()
    total = np.float32(0.0)
    for j in range(rows.shape[0]):
        r = rows[j]
        a0 = a1 = a2 = a3 = a4 = a5 = np.float32(0.0)
        for i in range(table.shape[1]):
            x = table[r, i]
            a0 += x * out6[0, i]
            a1 += x * out6[1, i]
            a2 += x * out6[2, i]
            a3 += x * out6[3, i]
            a4 += x * out6[4, i]
            a5 += x * out6[5, i]
        total += a0 + a1 + a2 + a3 + a4 + a5
    return total


def _row_update(table, rows, vector):
    wide_vectors()
    for j in range(rows.shape[0]):
        r = rows[j]
        for i in range(table.shape[1]):
            table[r, i] += np.float32(1e-6) * vector[i]


def compiled(interleaved: bool):
    """Fresh compiles of both loops (numba compiles at the first call, inside the context)."""
    dots, update = njit(fastmath=FASTMATH)(_six_dots), njit(fastmath=FASTMATH)(_row_update)
    table, rows = np.ones((4, 16), np.float32), np.zeros(2, np.int32)
    if interleaved:
        dots(table, rows, table), update(table, rows, table[0])
    else:
        with _no_interleaving():
            dots(table, rows, table), update(table, rows, table[0])
    return dots, update


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[96, 100, 112, 128])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    kinds = {"not interleaved (the engine)": compiled(False), "interleaved (LLVM's default)":
             compiled(True)}
    rng = np.random.default_rng(0)
    print("| row width | loops | 6 dot products, ns a row | row update, ns a row |")
    print("|---|---|---|---|")
    for width in args.widths:
        table = rng.random((256, width), dtype=np.float32)
        out6 = rng.random((6, width), dtype=np.float32)
        rows = rng.integers(0, 256, args.rows).astype(np.int32)
        best = {kind: [np.inf, np.inf] for kind in kinds}
        for _ in range(7):
            for kind, (dots, update) in kinds.items():
                start = time.perf_counter()
                dots(table, rows, out6)
                middle = time.perf_counter()
                update(table, rows, out6[0])
                end = time.perf_counter()
                best[kind] = [min(best[kind][0], middle - start), min(best[kind][1], end - middle)]
        for kind, (dot_seconds, update_seconds) in best.items():
            print(f"| {width} | {kind} | {dot_seconds / args.rows * 1e9:.1f} "
                  f"| {update_seconds / args.rows * 1e9:.1f} |")


if __name__ == "__main__":
    main()
