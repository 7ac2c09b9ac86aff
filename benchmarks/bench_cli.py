"""What users run: the plain `sgns train` command (defaults, checkpoints on, 20 Newsgroups)
against gensim's Word2Vec with the same settings, alternating.

Each sgns run is its own process (`python -m sgns train --quiet --no-plots`); its time is the
`train_seconds` of its run.json, which includes the checkpoint written after every epoch and
the engine's setup, but not reading and cleaning the corpus nor numba's compile (shown apart).
The table also shows the sum of the epochs' own seconds, to show what checkpoints and setup
cost. gensim trains on the same cleaned corpus in this process: Word2Vec(sg=1, negative=5,
window=10, vector_size=100, epochs=5, workers=2, sample=1e-3, min_count=1). With --model cbow:
`sgns train --model cbow` against Word2Vec(sg=0, cbow_mean=1, ...).

    python benchmarks/bench_cli.py [--runs 3] [--model cbow]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_train import run_gensim
from common import median, newsgroups


def run_cli(out: Path, model: str = "skipgram", epochs: int | None = None,
            env: dict | None = None) -> dict:
    """One `sgns train` in its own process (``env``: its environment, default this one's):
    its `train_seconds`, `compile_seconds` and the sum of its epochs' seconds."""
    argv = [sys.executable, "-m", "sgns", "train", "--out", str(out), "--overwrite", "--quiet",
            "--no-plots", "--model", model, *(["--epochs", str(epochs)] if epochs else [])]
    done = subprocess.run(argv, capture_output=True, text=True,
                          env=os.environ.copy() if env is None else env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    info = json.loads((out / "run.json").read_text())
    return {"train": info["train_seconds"], "compile": info["compile_seconds"],
            "epochs": sum(e["seconds"] for e in info["epochs"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram")
    args = parser.parse_args()
    corpus = newsgroups()
    gensim_seconds, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.runs + 1):
            gensim_seconds.append(run_gensim(corpus, seed, 2, args.model)[0])
            runs.append(run_cli(Path(tmp) / "run", args.model))
            print(f"run {seed}: gensim {gensim_seconds[-1]:.2f} s, sgns train "
                  f"{runs[-1]['train']:.2f} s (epochs {runs[-1]['epochs']:.2f} s)", flush=True)
    base = median(gensim_seconds)
    train, epochs = median([r["train"] for r in runs]), median([r["epochs"] for r in runs])
    print(f"\n{args.model}, {args.runs} runs each, alternating; numba compile or cache load "
          f"{median([r['compile'] for r in runs]):.2f} s per process (not in the times)")
    print("| trainer | seconds (median) | time vs gensim | sum of epochs | train / epochs |")
    print("|---|---|---|---|---|")
    print(f"| gensim Word2Vec (API) | {base:.2f} | 1.00x | | |")
    print(f"| `sgns train` (command line) | {train:.2f} | {train / base:.2f}x | {epochs:.2f} | "
          f"{train / epochs:.3f} |")
    # Each sgns run follows its gensim run, so the two share the machine's mood of the moment
    # (its speed moves by a third from minute to minute here): the run-by-run ratios.
    ratios = [r["train"] / g for r, g in zip(runs, gensim_seconds, strict=True)]
    print(f"\nrun by run, sgns train / gensim: {', '.join(f'{x:.3f}' for x in ratios)} "
          f"(median {median(ratios):.3f})")


if __name__ == "__main__":
    main()
