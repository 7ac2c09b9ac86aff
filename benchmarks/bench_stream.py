"""Streaming from disk: peak memory and speed on 20 Newsgroups and on a corpus 20 times its size.

Writes the raw 20 Newsgroups documents one per line (``news-1x.txt``) and twenty copies of them,
each copy in another order (``news-20x.txt``), then runs ``sgns train --stream`` on both with each
engine, each run in its own process so that its peak resident memory (``ru_maxrss`` from
``os.wait4``) is its own. For reference, the native engine also trains with the corpus in memory.
Cleaning is the notebook's, so the 1x corpus gives the usual 954,954 tokens.

    python benchmarks/bench_stream.py [--copies 20] [--epochs 2] [--repeats 1] [--workdir DIR]

words/s is tokens x epochs / training seconds (the first epoch includes reading, cleaning and
encoding the text; the vocabulary pass before it is in the wall time only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sgns


def write_corpora(folder: Path, copies: int) -> dict[str, Path]:
    docs = [" ".join(d.split()) for d in
            sgns.load_20newsgroups(archive=os.environ.get("SGNS_20NEWS_ARCHIVE"))]
    small, large = folder / "news-1x.txt", folder / f"news-{copies}x.txt"
    small.write_text("\n".join(docs) + "\n", encoding="utf-8")
    rng = np.random.default_rng(0)
    with open(large, "w", encoding="utf-8") as f:
        for _ in range(copies):
            f.write("\n".join(docs[k] for k in rng.permutation(len(docs))) + "\n")
    return {"1x": small, f"{copies}x": large}


def run(corpus: Path, engine: str, stream: bool, epochs: int, out: Path) -> dict:
    argv = [sys.executable, "-m", "sgns", "train", "--corpus", str(corpus), "--out", str(out),
            "--overwrite", "--engine", engine, "--epochs", str(epochs), "--cleaning", "notebook",
            "--encoding", "utf-8", "--quiet", "--no-plots", *(["--stream"] if stream else [])]
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    err = process.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
    info = json.loads((out / "run.json").read_text())
    return {"rss_mb": usage.ru_maxrss / 1024, "wall": wall, "tokens": info["tokens"],
            "words_per_s": info["tokens"] * epochs / info["train_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workdir", help="where the corpora go [default: a temporary folder]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        corpora = write_corpora(folder, args.copies)
        sizes = {size: path.stat().st_size / 2**20 for size, path in corpora.items()}
        cases = [(engine, True, size) for engine in ("native", "keras") for size in corpora]
        cases += [("native", False, size) for size in corpora]
        results: dict[tuple, list[dict]] = {case: [] for case in cases}
        for _ in range(args.repeats):  # the cases alternate within each repeat
            for engine, stream, size in cases:
                print(f"  {engine} {'stream' if stream else 'memory'} {size} ...", flush=True)
                results[(engine, stream, size)].append(
                    run(corpora[size], engine, stream, args.epochs, folder / "run"))
    print(f"\n{args.epochs} epochs, medians of {args.repeats} run(s), notebook cleaning, "
          f"{os.cpu_count()} cores\n")
    print("| engine | corpus | read | tokens | text MB | peak RSS MB | words/s | wall s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for (engine, stream, size), runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"| {engine} | 20news {size} | {'stream' if stream else 'memory'} | "
              f"{med['tokens']:,.0f} | {sizes[size]:.0f} | {med['rss_mb']:,.0f} | "
              f"{med['words_per_s']:,.0f} | {med['wall']:.1f} |")


if __name__ == "__main__":
    main()
