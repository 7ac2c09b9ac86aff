"""An engine before and after a change, in one process: the package at a git revision
and the package in the working tree are imported side by side (as two renamed copies) and train
the cleaned 20 Newsgroups corpus in turn, round after round. On these machines one process can
run a third faster or slower than the next, which hides a change of 5 to 10% between separate
runs; inside one process the two copies see the same machine.

Prints the median and fastest seconds per epoch of each, and WordSim-353 and SimLex-999 means
over the first two rounds' seeds (the same seeds for both).

    python benchmarks/bench_ab.py --base REV [--model cbow] [--subwords] [--update pair]
        [--loss ns] [--workers 1] [--rounds 3]
    KERAS_BACKEND=torch python benchmarks/bench_ab.py --base REV --engine keras [--epochs 1]
        [--preset notebook] [--documents 4000]

With ``--engine keras`` both copies train on the backend that KERAS_BACKEND names, each
building its own model, so that a change to the Keras step is timed the same way.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import newsgroups, quality

REPO = Path(__file__).resolve().parents[1]


def package_copies(base: str, into: Path) -> tuple[str, str]:
    """``sgns`` at ``base`` as ``sgns_base`` and the working tree's as ``sgns_head``, in
    ``into``; the engine imports itself relatively, so a renamed copy runs as it is."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", base, "src/sgns"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "src" / "sgns").rename(into / "sgns_base")
    shutil.copytree(REPO / "src" / "sgns", into / "sgns_head",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return "sgns_base", "sgns_head"


def config(pkg, args, seed: int, epochs: int | None = None):
    settings = dict(engine=args.engine, workers=args.workers, seed=seed)
    if args.preset is None:
        settings["model"] = args.model
    if args.subwords:
        settings["subwords"] = True
    if args.update != "window":
        settings["update"] = args.update
    if args.loss != "ns":
        settings["loss"] = args.loss
    if epochs or args.epochs:
        settings["epochs"] = epochs or args.epochs
    if args.preset is not None:
        return pkg.preset(args.preset, **settings)
    return pkg.TrainConfig(**settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the git revision to compare against")
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--subwords", action="store_true", help="with subword n-grams")
    parser.add_argument("--update", choices=("window", "pair"), default="window",
                        help="how the native engine writes a skip-gram window [default: window]")
    parser.add_argument("--loss", choices=("ns", "hs"), default="ns")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engine", choices=("native", "keras"), default="native")
    parser.add_argument("--preset", default=None, help="a preset's settings (e.g. notebook)")
    parser.add_argument("--epochs", type=int, default=None, help="[default: the recipe's]")
    parser.add_argument("--documents", type=int, default=None,
                        help="train on the first N documents [default: all]")
    args = parser.parse_args()
    corpus = newsgroups()
    documents = corpus.documents[:args.documents]
    with tempfile.TemporaryDirectory() as tmp:
        names = package_copies(args.base, Path(tmp))
        sys.path.insert(0, tmp)
        packages = {name: importlib.import_module(name) for name in names}
        seconds: dict[str, list[float]] = {name: [] for name in names}
        scores: dict[str, list[dict]] = {name: [] for name in names}
        for pkg in packages.values():  # compile, or load numba's cache, outside the clock
            pkg.train(corpus.documents[:50], config(pkg, args, seed=0, epochs=1), verbose=False)
        for r in range(args.rounds):
            for name, pkg in packages.items():
                result = pkg.train(documents, config(pkg, args, seed=r + 1), verbose=False)
                seconds[name] += [e["seconds"] for e in result.info["epochs"]]
                if r < 2:
                    scores[name].append(quality(result.keyed_vectors()))
    print(f"{args.engine}, {args.preset or args.model}{' with subwords' * args.subwords}, "
          f"update {args.update}, loss {args.loss}, "
          f"{args.workers} worker(s), "
          f"{args.rounds} rounds, base {args.base}")
    print("| package | s/epoch (median) | fastest | WS353 | SimLex |")
    print("|---|---|---|---|---|")
    for name in names:
        ws = statistics.mean(s["ws353"] for s in scores[name])
        simlex = statistics.mean(s["simlex"] for s in scores[name])
        print(f"| {name} | {statistics.median(seconds[name]):.3f} | {min(seconds[name]):.3f} "
              f"| {ws:.3f} | {simlex:.3f} |")


if __name__ == "__main__":
    main()
