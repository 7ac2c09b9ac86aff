"""`sgns serve` under load: 200 clients at once for 10 s asking for neighbours of random words
of a 20 Newsgroups run, over the loopback address (the latency percentiles and failures), and
one neighbours query on 20 Newsgroups and on a vocabulary of 1M words (random vectors of
dimension 100), answered by the server, median of 50.

    python benchmarks/bench_serve.py [--clients 200] [--seconds 10] [--run RUN_DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sgns
from sgns.embeddings.vectors import save_npz


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(runs: list[Path]) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sgns", "serve", *map(str, runs),
                                "--port", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/api/runs", timeout=2)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


async def load(url: str, words: list[str], clients: int, seconds: float):
    import httpx

    latencies, failures = [], 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def one_client(seed: int) -> None:
            nonlocal failures
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await client.get("/api/neighbors",
                                                params={"word": rng.choice(words), "topn": 10})
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                failures += not ok

        await asyncio.gather(*(one_client(k) for k in range(clients)))
    return np.array(latencies), failures


def one_query_ms(url: str, word: str, run: int) -> float:
    import httpx

    times = []
    with httpx.Client(base_url=url) as client:
        for _ in range(50):
            start = time.perf_counter()
            client.get("/api/neighbors", params={"word": word, "topn": 10, "run": run})
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def million_word_run(folder: Path, words: int = 1_000_000, dim: int = 100) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    save_npz(folder / "vectors.npz", [f"w{k}" for k in range(words)],
             rng.standard_normal((words, dim), dtype=np.float32))
    (folder / "run.json").write_text(json.dumps({"params": {"dim": dim}, "epochs": []}))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--run", help="a 20 Newsgroups run folder [default: trains one]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else Path(tmp) / "news"
        if not args.run:
            docs = sgns.clean(sgns.load_20newsgroups(
                archive=os.environ.get("SGNS_20NEWS_ARCHIVE")))
            sgns.train(docs, sgns.TrainConfig(engine="native", epochs=1),
                       verbose=False).save(run)
        big = million_word_run(Path(tmp) / "million")
        vocab = [w.split("\t")[0] for w in (run / "vocab.txt").read_text().splitlines()]
        words = vocab[:20000]  # the queries: the 20,000 most frequent words
        process, url = serve([run, big])
        try:
            small_ms, big_ms = one_query_ms(url, "doctor", 0), one_query_ms(url, "w12345", 1)
            latencies, failures = asyncio.run(load(url, words, args.clients, args.seconds))
        finally:
            process.terminate()
            process.wait()
    p = np.percentile(latencies * 1000, [50, 90, 99])
    print(f"\n{os.cpu_count()} cores; server and clients on this machine")
    print("| neighbours of one word | vocabulary | median ms (50 queries) |")
    print("|---|---|---|")
    print(f"| 20 Newsgroups | {len(vocab):,} | {small_ms:.1f} |")
    print(f"| random vectors | 1,000,000 | {big_ms:.1f} |")
    print("\n| load | requests | failed | requests/s | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.clients} clients, {args.seconds:g} s | {len(latencies):,} | {failures} | "
          f"{len(latencies) / args.seconds:.0f} | {p[0]:.0f} | {p[1]:.0f} | {p[2]:.0f} | "
          f"{1000 * latencies.max():.0f} |")


if __name__ == "__main__":
    main()
