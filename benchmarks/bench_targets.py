"""The native engine compiled for other CPUs, on this one: `sgns train` with the kernels built
for this CPU, for Haswell (AVX2, 256-bit vectors) and for generic x86-64 (SSE2, 128-bit), each
target in its own numba cache (compiled once, before the timed runs), runs alternating.

This is the speed a user on a CPU without AVX-512 can expect relative to one with it, as far as
code generation goes (their memory system is their own). Each run is its own process; its
time is the `train_seconds` of its run.json (checkpoints and setup in, compile out).

    python benchmarks/bench_targets.py [--rounds 3] [--model skipgram|cbow] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench_cli import run_cli
from common import cpu, median

TARGETS = {  # NUMBA_CPU_FEATURES must be set with NUMBA_CPU_NAME, which alone keeps AVX-512
    "this CPU": {},
    "haswell (AVX2)": {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": ""},
    "generic x86-64 (SSE2)": {"NUMBA_CPU_NAME": "generic", "NUMBA_CPU_FEATURES": ""},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        envs = {}
        for k, (name, extra) in enumerate(TARGETS.items()):
            envs[name] = {**os.environ, **extra, "NUMBA_CACHE_DIR": f"{tmp}/cache{k}"}
            first = run_cli(Path(tmp) / "run", args.model, 1, envs[name])  # compiles, untimed
            print(f"{name}: compiled in {first['compile']:.1f} s", flush=True)
        times = {name: [] for name in TARGETS}
        for r in range(args.rounds):
            for name in TARGETS:
                times[name].append(run_cli(Path(tmp) / "run", args.model, args.epochs,
                                           envs[name]))
                print(f"round {r + 1}, {name}: {times[name][-1]['train']:.2f} s", flush=True)
    base = median([t["train"] for t in times["this CPU"]])
    print(f"\n{args.model}, {args.epochs} epochs, 20 Newsgroups, {args.rounds} rounds alternating; "
          f"{cpu()}, {os.cpu_count()} cores")
    print("| kernels compiled for | train s (median) | epochs s | vs this CPU's build |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        train = median([t["train"] for t in runs])
        print(f"| {name} | {train:.2f} | {median([t['epochs'] for t in runs]):.2f} | "
              f"{train / base:.2f}x |")


if __name__ == "__main__":
    main()
