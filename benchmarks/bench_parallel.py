"""The Keras engine split across devices and processes, on the cleaned 20 Newsgroups corpus (JAX,
CPU): seconds per epoch on one device, with --data-parallel on one and on two simulated devices,
with --shard-tables on two, and as two processes of one device each (--coordinator); what each
step exchanges, read from the compiled step; and the tables' memory per device.

Every way trains in its own process (the device count is fixed when JAX starts); the ways
alternate, --rounds times, and the medians are printed, with the ratio to one device.

    python benchmarks/bench_parallel.py [--rounds 3] [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WAYS = {  # name: (simulated devices per process, processes, train() arguments)
    "one device": (1, 1, {}),
    "--data-parallel, 1 device": (1, 1, {"data_parallel": True}),
    "--data-parallel, 2 devices": (2, 1, {"data_parallel": True}),
    "--shard-tables, 2 devices": (2, 1, {"data_parallel": True, "shard_tables": True}),
    "2 processes (--coordinator)": (1, 2, {"data_parallel": True}),
}


def worker(way: str, epochs: int, coordinator: str | None, process_id: int) -> None:
    """Train one way in this process; print one JSON line (process 0)."""
    import sgns
    from common import newsgroups
    from sgns.engines.keras.cluster import Cluster, join

    if coordinator:
        join(Cluster(coordinator, 2, process_id))
    corpus = newsgroups()
    config = sgns.TrainConfig(engine="keras", epochs=epochs, seed=1)
    result = sgns.train(corpus, config, verbose=False, **WAYS[way][2])
    if process_id == 0:
        print(json.dumps({"epochs": [e["seconds"] for e in result.info["epochs"]],
                          "loss": result.info["epochs"][-1]["loss"],
                          "vocab": result.vocab.size, "dim": config.dim,
                          "batch": result.info["params"]["batch_size"]}))


def run(way: str, epochs: int, hlo: Path | None = None) -> dict:
    devices, processes, _ = WAYS[way]
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONWARNINGS": "ignore"}
    flags = [f"--xla_force_host_platform_device_count={devices}"] if devices > 1 else []
    if hlo is not None:
        flags += [f"--xla_dump_to={hlo}", "--xla_dump_hlo_as_text",
                  "--xla_dump_hlo_module_re=.*train_step.*"]
    env["XLA_FLAGS"] = " ".join(flags)
    coordinator = None
    if processes > 1:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            coordinator = f"127.0.0.1:{s.getsockname()[1]}"
    started = [subprocess.Popen(
        [sys.executable, __file__, "--worker", way, "--epochs", str(epochs),
         "--process-id", str(i), *(["--coordinator", coordinator] if coordinator else [])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(processes)]
    outputs = [p.communicate() for p in started]
    for p, (_, err) in zip(started, outputs, strict=True):
        if p.returncode:
            sys.exit(f"{way}: failed\n{err[-3000:]}")
    return json.loads(outputs[0][0].strip().splitlines()[-1])


def exchanged(hlo: Path) -> list[str]:
    """The collectives of the compiled data-parallel step, with their shapes."""
    text = next(hlo.glob("*train_step*after_optimizations.txt")).read_text()
    return [f"{op} {shape}" for shape, op in re.findall(
        r"= (.*?) (all-reduce|all-gather|all-to-all|collective-permute|reduce-scatter)\(", text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--coordinator", help=argparse.SUPPRESS)
    parser.add_argument("--process-id", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.epochs, args.coordinator, args.process_id)
        return
    runs: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        for way in WAYS:
            runs.setdefault(way, []).append(run(way, args.epochs))
    print(f"| way | s/epoch (median of {args.rounds}) | vs one device | last loss |")
    print("|---|---|---|---|")
    base = None
    for way, rows in runs.items():
        seconds = statistics.median(statistics.mean(r["epochs"]) for r in rows)
        base = base or seconds
        print(f"| {way} | {seconds:.2f} | {seconds / base:.2f} | {rows[0]['loss']:.4f} |")
    r = runs["one device"][0]
    for way in ("--data-parallel, 2 devices", "--shard-tables, 2 devices"):
        with tempfile.TemporaryDirectory() as tmp:
            run(way, 1, Path(tmp))
            found = exchanged(Path(tmp))
        print(f"\n{way}, the compiled step's collectives: {'; '.join(found)}")
        for shape in found:
            if shape.startswith("all-gather f32[2,"):  # the row updates: (devices, rows, width)
                rows, width = map(int, re.findall(r"\[2,(\d+),(\d+)\]", shape)[0])
                total = 2 * (rows - 1) * width * 4  # the batch's updates, without the sums row
                print("  row updates received per device per step: "
                      + ", ".join(f"{d} devices {total * (d - 1) / d / 1e6:.2f} MB"
                                  for d in (2, 64)))
    rows, dim, batch = r["vocab"], r["dim"], r["batch"]
    print(f"\ntables: {rows:,} rows x {dim}, float32, two tables; batch {batch} pairs")
    print("| vocabulary | devices | tables per device, replicated | with --shard-tables |")
    print("|---|---|---|---|")
    for words, d in ((rows, dim), (10_000_000, 100), (10_000_000, 300)):
        whole = 2 * words * d * 4
        for devices in (2, 64):
            print(f"| {words:,} words x {d} | {devices} | {whole / 2**30:.2f} GiB | "
                  f"{whole / devices / 2**30:.3f} GiB |")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
