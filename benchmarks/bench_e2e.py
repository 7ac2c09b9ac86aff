"""What a user waits for, from the command's start to the vectors on disk: `sgns train` against
gensim's fastest reader (`Word2Vec(corpus_file=...)`) plus `save_word2vec_format`, each a
process of its own, alternating, on the cleaned 20 Newsgroups text repeated (one document a
line, the tokens split on whitespace: `--cleaning none`, as gensim reads it).

Both use the same settings (skip-gram, negative 5, window 10, dim 100, sample 1e-3,
min_count 1, the given workers and epochs; ``--model cbow`` and ``--loss hs``, gensim's
``sg=0`` and ``hs=1, negative=0``, as asked; ``--lr`` gives both the same learning rate,
else each has its own default). The table gives each one's wall seconds, the
sgns run's training seconds (run.json) and the rest (reading, counting, compiling or loading
the compiled code, writing), peak RSS, and WordSim-353's Spearman rho of the vectors written.
It then measures ingest alone (read, clean, count, encode, in this process; median of 3) for
`--cleaning none` on the cleaned text and for the notebook's cleaning on the raw text.

    python benchmarks/bench_e2e.py [--copies 10] [--epochs 5] [--runs 3] [--stream]
    python benchmarks/bench_e2e.py --copies 100 --epochs 1 --stream
    python benchmarks/bench_e2e.py --model cbow --loss hs [--lr 0.025]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gensim.models import KeyedVectors
from gensim.test.utils import datapath

import sgns
from common import cpu, median, newsgroups

GENSIM = """
import sys
from gensim.models import Word2Vec
corpus, out, epochs, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sg, hs = int(sys.argv[5] == "skipgram"), int(sys.argv[6] == "hs")
alpha = {"alpha": float(sys.argv[7])} if len(sys.argv) > 7 else {}
model = Word2Vec(corpus_file=corpus, sg=sg, hs=hs, negative=0 if hs else 5, window=10,
                 vector_size=100, sample=1e-3, min_count=1, epochs=epochs, workers=workers,
                 seed=1, **alpha)
model.wv.save_word2vec_format(out)
"""


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of a process run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{process.stderr.read().decode()[-3000:]}")
    return wall, usage.ru_maxrss / 1e6


def ws353(path: Path) -> float:
    kv = KeyedVectors.load_word2vec_format(str(path))
    return kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0]


def ingest_rates(clean_file: Path, raw_file: Path) -> list[tuple[str, float, int]]:
    from sgns.encoding.ingest import scan_corpus

    rows = []
    for mode, path in (("none", clean_file), ("notebook", raw_file)):
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            scanned = scan_corpus(path, sgns.Cleaner.mode(mode))
            scanned.encode(scanned.vocabulary())
            seconds.append(time.perf_counter() - start)
        rows.append((mode, median(seconds), scanned.tokens))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--stream", action="store_true", help="sgns train --stream")
    parser.add_argument("--model", default="skipgram", choices=["skipgram", "cbow"])
    parser.add_argument("--loss", default="ns", choices=["ns", "hs"])
    parser.add_argument("--lr", type=float, default=None,
                        help="the same learning rate for both (default: each one's own, "
                        "gensim's alpha 0.025 and sgns's for the model)")
    args = parser.parse_args()
    docs = sgns.load_20newsgroups(archive=os.environ.get("SGNS_20NEWS_ARCHIVE"))
    cleaned = "".join(" ".join(d) + "\n" for d in newsgroups().documents)
    raw = "".join(" ".join(d.split()) + "\n" for d in docs)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, raw_file = Path(tmp) / "corpus.txt", Path(tmp) / "raw.txt"
        with open(corpus, "w") as file:
            for _ in range(args.copies):
                file.write(cleaned)
        with open(raw_file, "w") as file:
            for _ in range(args.copies):
                file.write(raw)
        tokens = len(cleaned.split()) * args.copies
        sgns_argv = [sys.executable, "-m", "sgns", "train", "--corpus", str(corpus),
                     "--cleaning", "none", "--out", str(Path(tmp) / "run"), "--overwrite",
                     "--quiet", "--no-plots", "--epochs", str(args.epochs), "--workers",
                     str(args.workers), "--model", args.model, "--loss", args.loss,
                     *(["--stream"] if args.stream else []),
                     *(["--lr", str(args.lr)] if args.lr else [])]
        gensim_argv = [sys.executable, "-c", GENSIM, str(corpus), str(Path(tmp) / "g.txt"),
                       str(args.epochs), str(args.workers), args.model, args.loss,
                       *([str(args.lr)] if args.lr else [])]
        rows: dict[str, list] = {"gensim": [], "sgns": []}
        for run in range(args.runs):
            rows["gensim"].append((*timed(gensim_argv), None, ws353(Path(tmp) / "g.txt")))
            wall, rss = timed(sgns_argv)
            info = json.loads((Path(tmp) / "run" / "run.json").read_text())
            rows["sgns"].append((wall, rss, info["train_seconds"],
                                 ws353(Path(tmp) / "run" / "vectors.txt")))
            print(f"run {run + 1}: gensim {rows['gensim'][-1][0]:.1f} s, sgns {wall:.1f} s",
                  flush=True)
        rates = ingest_rates(corpus, raw_file)
    print(f"\n20 Newsgroups x{args.copies} ({tokens / 1e6:.1f}M tokens, "
          f"{corpus_mb(cleaned, args.copies):.0f} MB), {args.epochs} epoch(s), "
          f"{args.workers} workers, {args.model}, loss {args.loss}"
          f"{f', lr {args.lr:g} for both' if args.lr else ''}"
          f"{', sgns --stream' if args.stream else ''}; {cpu()}, "
          f"{os.cpu_count()} cores; median of {args.runs}, alternating")
    print("| | wall s | vs gensim | training s | the rest s | peak RSS GB | WS-353 |")
    print("|---|---|---|---|---|---|---|")
    base = median([r[0] for r in rows["gensim"]])
    for name, runs in rows.items():
        wall, rss = median([r[0] for r in runs]), max(r[1] for r in runs)
        train = median([r[2] for r in runs]) if runs[0][2] is not None else None
        rest = f"{wall - train:.1f}" if train is not None else ""
        print(f"| {name} | {wall:.1f} | {wall / base:.3f}x | "
              f"{'' if train is None else f'{train:.1f}'} | {rest} | {rss:.2f} | "
              f"{median([r[3] for r in runs]):.3f} |")
    print("\n| ingest (read, clean, count, encode) | seconds | tokens kept | tokens/s |")
    print("|---|---|---|---|")
    for mode, seconds, kept in rates:
        print(f"| --cleaning {mode} | {seconds:.2f} | {kept / 1e6:.1f}M | "
              f"{kept / seconds / 1e6:.1f}M |")


def corpus_mb(cleaned: str, copies: int) -> float:
    return len(cleaned.encode()) * copies / 1e6


if __name__ == "__main__":
    main()
