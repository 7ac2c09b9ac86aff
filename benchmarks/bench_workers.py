"""Native engine throughput with 1 and 2 (or more) worker threads, on the cleaned 20 Newsgroups.

Runs alternate between the worker counts (1, 2, 1, 2, ...), same seed and recipe as
bench_train.py (sgns' defaults); the table shows median training seconds, words/s and the speed-up
over one worker.

    python benchmarks/bench_workers.py [--runs 3] [--workers 1 2]
"""

from __future__ import annotations

import argparse

import sgns
from common import median, newsgroups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--update", default="window", choices=["window", "pair"])
    args = parser.parse_args()
    corpus = newsgroups()
    sgns.train(corpus.documents[:50], sgns.TrainConfig(engine="native", epochs=1),
               verbose=False)  # numba's compile or cache load, outside the timings
    seconds: dict[int, list[float]] = {w: [] for w in args.workers}
    for _ in range(args.runs):
        for workers in args.workers:
            config = sgns.TrainConfig(engine="native", workers=workers, update=args.update)
            result = sgns.train(corpus, config, verbose=False)
            seconds[workers].append(result.info["train_seconds"])
            print(f"  {workers} worker(s): {seconds[workers][-1]:.2f} s", flush=True)
    words = corpus.tokens * sgns.TrainConfig().epochs
    base = median(seconds[args.workers[0]])
    print(f"\nnative engine, update {args.update}, {args.runs} runs each, medians")
    print(f"| workers | seconds | words/s | throughput vs {args.workers[0]} worker(s) |")
    print("|---:|---:|---:|---:|")
    for workers, times in seconds.items():
        t = median(times)
        print(f"| {workers} | {t:.2f} | {words / t / 1e3:,.0f}K | {base / t:.2f}x |")


if __name__ == "__main__":
    main()
