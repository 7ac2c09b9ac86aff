"""Soak test of the native engine: many two-worker runs on 20 Newsgroups, and one run on a corpus
20 times its size, looking for divergence.

Each run trains with the defaults (skip-gram, or --model cbow) and 2 workers, a new seed each
time. After every epoch it records the loss and the largest absolute value in either table. A
run diverges when the engine's guard stops it (a loss that is not finite or explodes) or when a
table holds a value that is not finite. Every divergence is printed with its seed and epoch;
the tables show, per epoch, the largest table value and loss over all runs.

    python benchmarks/bench_soak.py [--runs 200] [--copies 20] [--model skipgram]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sgns
from common import newsgroups


def soak_run(documents, seed: int, model: str, workers: int) -> dict:
    """One run: per-epoch loss and largest |value| of both tables, and the divergence if any."""
    epochs: list[dict] = []

    def record(end) -> None:
        state = end.state()
        largest = max(float(np.abs(table).max()) for table in (state["input_table"], state["output_table"]))
        finite = all(np.isfinite(table).all() for table in (state["input_table"], state["output_table"]))
        epochs.append({"loss": end.record["loss"], "largest": largest, "finite": finite})

    config = sgns.TrainConfig(engine="native", model=model, workers=workers, seed=seed)
    diverged = None
    try:
        sgns.train(documents, config, verbose=False, on_epoch_end=record)
    except sgns.SgnsError as exc:
        diverged = str(exc)
    if diverged is None and not all(e["finite"] for e in epochs):
        diverged = "a table holds a value that is not finite"
    return {"epochs": epochs, "diverged": diverged}


def _table(title: str, runs: list[dict]) -> None:
    print(f"\n{title}")
    print("| epoch | runs | largest table value (max over runs) | loss (min-max) |")
    print("|---|---:|---:|---|")
    n_epochs = max(len(r["epochs"]) for r in runs)
    for k in range(n_epochs):
        at = [r["epochs"][k] for r in runs if len(r["epochs"]) > k]
        losses = [e["loss"] for e in at]
        print(f"| {k + 1} | {len(at)} | {max(e['largest'] for e in at):.3f} | "
              f"{min(losses):.4f}-{max(losses):.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="two-worker runs on 20 Newsgroups")
    parser.add_argument("--copies", type=int, default=20,
                        help="the large corpus: this many copies of 20 Newsgroups, each in "
                        "another document order (0: skip it)")
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    corpus = newsgroups()
    start = time.perf_counter()
    runs = []
    for seed in range(1, args.runs + 1):
        runs.append(soak_run(corpus.documents, seed, args.model, args.workers))
        if runs[-1]["diverged"]:
            print(f"seed {seed}: DIVERGED: {runs[-1]['diverged']}", flush=True)
        if seed % 20 == 0:
            print(f"{seed} runs, {time.perf_counter() - start:.0f} s", flush=True)
    diverged = sum(r["diverged"] is not None for r in runs)
    _table(f"{args.model}, {args.workers} workers, 20 Newsgroups ({corpus.tokens:,} tokens), "
           f"{args.runs} runs, seeds 1-{args.runs}: {diverged} diverged", runs)
    if args.copies:
        rng = np.random.default_rng(0)
        n = len(corpus.documents)
        large = [corpus.documents[k] for _ in range(args.copies) for k in rng.permutation(n)]
        tokens = sum(map(len, large))
        t = time.perf_counter()
        big = soak_run(large, 1, args.model, args.workers)
        if big["diverged"]:
            print(f"large corpus: DIVERGED: {big['diverged']}")
        _table(f"{args.model}, {args.workers} workers, {args.copies} copies of 20 Newsgroups "
               f"({tokens:,} tokens), seed 1, {time.perf_counter() - t:.0f} s: "
               f"{'diverged' if big['diverged'] else 'no divergence'}", [big])


if __name__ == "__main__":
    main()
