"""Where the native engine's compiled loop spends its time, instruction by instruction: a
training run on the cleaned 20 Newsgroups corpus sampled by Linux ``perf`` (``cpu-clock``,
which works in VMs without hardware counters), the loop's machine code dumped from the
process' memory for ``objdump``, and the hottest 64-byte blocks printed with their
instructions and sample counts.

    python benchmarks/bench_profile.py [--model cbow] [--loss hs] [--workers 2] [--top 12]

Needs ``perf`` and ``objdump`` (Debian: ``linux-perf``, ``binutils``). A sample lands on the
instruction after the one that waited (skid): a load that misses the cache shows on the
instruction after it, a locked add as the stores before it drain. Numba's JIT code has no
symbols, so the blocks are named by address; read the instructions to know the loop.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import sgns
from common import newsgroups

CHILD = "SGNS_PROFILE_DUMP"  # set in the process that trains: where to dump its code


def train_and_dump(args: argparse.Namespace, folder: Path) -> None:
    """Train (once to compile, once sampled), then write every executable anonymous mapping
    of this process (numba's compiled code among them) to ``folder/map_<start>.bin``."""
    corpus = newsgroups()
    config = sgns.TrainConfig(engine="native", model=args.model, loss=args.loss,
                              workers=args.workers, epochs=args.epochs, seed=1)
    sgns.train(corpus.documents[:50], config, verbose=False)
    sgns.train(corpus, config, verbose=False)
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb") as memory:
        for line in maps:
            fields = line.split()
            if "x" not in fields[1] or len(fields) != 5:  # executable, no file behind it
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                memory.seek(start)
                (folder / f"map_{start:x}.bin").write_bytes(memory.read(end - start))
            except OSError:
                continue


def hottest(folder: Path, top: int) -> None:
    samples: collections.Counter[int] = collections.Counter()
    script = subprocess.run(["perf", "script", "-i", str(folder / "perf.data"), "-F", "ip,dso"],
                            capture_output=True, text=True, check=True).stdout
    for line in script.splitlines():
        fields = line.split()
        if len(fields) == 2 and "perf-" in fields[1]:  # JIT code, named by perf's map file
            samples[int(fields[0], 16)] += 1
    regions = [(int(p.stem[4:], 16), p) for p in folder.glob("map_*.bin")]
    by_region: collections.Counter = collections.Counter()
    for address, n in samples.items():
        for start, path in regions:
            if start <= address < start + path.stat().st_size:
                by_region[(start, path)] += n
    if not by_region:
        sys.exit("no samples in the compiled code")
    (start, path), inside = by_region.most_common(1)[0]
    print(f"{sum(samples.values())} samples in compiled code, {inside} in the mapping at "
          f"{start:#x}")
    listing = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64",
                              f"--adjust-vma={start:#x}", str(path)],
                             capture_output=True, text=True, check=True).stdout
    instructions = {}
    for line in listing.splitlines():
        match = re.match(r"\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*(.*)", line)
        if match and match.group(2):  # not the rest of a long instruction's bytes
            instructions[int(match.group(1), 16)] = match.group(2).strip()
    blocks: collections.Counter[int] = collections.Counter()
    for address, n in samples.items():
        if start <= address < start + path.stat().st_size:
            blocks[address & ~63] += n
    for block, n in blocks.most_common(top):
        print(f"\n{block:#x}: {n} samples ({100 * n / inside:.1f}%)")
        for address in sorted(a for a in instructions if block <= a < block + 64):
            print(f"  {samples.get(address, 0):6d}  {address:#x}  {instructions[address]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="skipgram", choices=["skipgram", "cbow"])
    parser.add_argument("--loss", default="ns", choices=["ns", "hs"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--top", type=int, default=12, help="blocks to print")
    args = parser.parse_args()
    if os.environ.get(CHILD):
        train_and_dump(args, Path(os.environ[CHILD]))
        return
    with tempfile.TemporaryDirectory(prefix="sgns-profile-") as folder:
        # NUMBA_ENABLE_PROFILING has numba tell perf where its code is (a perf-PID.map file).
        env = {**os.environ, CHILD: folder, "NUMBA_ENABLE_PROFILING": "1"}
        subprocess.run(["perf", "record", "-q", "-k", "1", "-e", "cpu-clock", "-F", "4000",
                        "-o", str(Path(folder) / "perf.data"), sys.executable, *sys.argv],
                       env=env, check=True)
        hottest(Path(folder), args.top)


if __name__ == "__main__":
    main()
