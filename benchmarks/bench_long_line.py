"""One line of text as large as a corpus: ``sgns train --stream`` on a file that is a single
line of ``--megabytes`` MB (words drawn from Zipf's law over 50,000 words, no line end until the
last byte), in its own process, for its wall time and peak resident memory (``ru_maxrss``
from ``os.wait4``). The reader keeps such a line as pieces of LONGEST_DOCUMENT words, so its
memory should not grow with the line.

    python benchmarks/bench_long_line.py [--megabytes 500] [--epochs 1] [--workdir DIR]
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

import numpy as np

from common import cpu


def write_line(path: Path, megabytes: int) -> None:
    rng = np.random.default_rng(0)
    words = np.array([f"w{k}" for k in range(50_000)])
    written = 0
    with open(path, "w", encoding="utf-8") as file:
        while written < megabytes * 1_000_000:
            text = " ".join(words[np.minimum(rng.zipf(1.2, 1_000_000), 50_000) - 1]) + " "
            file.write(text)
            written += len(text)
        file.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as folder:
        path = Path(folder) / "one-line.txt"
        write_line(path, args.megabytes)
        command = [sys.executable, "-m", "sgns", "train", "--corpus", str(path), "--stream",
                   "--cleaning", "none", "--epochs", str(args.epochs), "--no-plots", "--quiet",
                   "--out", str(Path(folder) / "run")]
        began = time.perf_counter()
        process = subprocess.Popen(command)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        if status:
            raise SystemExit(f"sgns train failed ({status})")
        info = json.loads((Path(folder) / "run" / "run.json").read_text())
        print(f"CPU: {cpu()}")
        print("| line | tokens | pieces trained | wall s | peak RSS MB |\n|---|---|---|---|---|")
        tokens = info["tokens"]
        print(f"| {path.stat().st_size / 1e6:.0f} MB | {tokens:,} | "
              f"{-(-tokens // 10_000):,} of up to 10,000 words | {wall:.1f} | "
              f"{usage.ru_maxrss / 1024:.0f} |")


if __name__ == "__main__":
    main()
