"""The Keras engine on each installed Keras backend, on whatever device Keras sees there: words
per second, pairs per second, step time, seconds per epoch and quality, on the cleaned 20
Newsgroups corpus. Also how many pairs per second the CPU-side pair stream makes alone, with 1,
2 and 4 threads making its examples, which bounds what it can feed a device, and how many
threads the engine gives it on this machine.

Each backend trains in its own process (Keras picks its backend at import); with --rounds 2
or more the backends alternate and the medians are printed. Recipes: the defaults ("word2vec",
5 epochs) and --preset notebook (1 epoch), as the command line runs them.

    python benchmarks/bench_device.py [--rounds 1] [--backends jax tensorflow torch]
        [--recipes word2vec notebook] [--batch-size N]

--batch-size trains the recipes with another batch than their own (a GPU takes larger ones).
A backend that fails is reported with its error's last line, and the others still run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

RECIPES = {"word2vec": {}, "notebook": {"epochs": 1}}


def worker(preset_name: str, batch_size: int | None) -> None:
    """Train one recipe on this process's backend; print one JSON line."""
    import keras

    import sgns
    from common import newsgroups, quality
    from sgns.engines.keras.backend import keras_devices

    corpus = newsgroups()
    overrides = {"batch_size": batch_size} if batch_size else {}
    config = sgns.preset(preset_name, engine="keras", **RECIPES[preset_name], **overrides)
    result = sgns.train(corpus, config, verbose=False)
    epochs = result.info["epochs"]
    # Positive pairs, and with negatives drawn per pair by the stream, those too, fill steps.
    per_positive = 1 + (0 if config.shared_negatives else config.negative)
    batch = result.info["params"]["batch_size"]  # the default suits the device
    steps = sum(-(-int(e["pairs"] * per_positive) // batch) for e in epochs)
    q = quality(result.keyed_vectors())
    print(json.dumps({
        "backend": keras.backend.backend(), "batch_size": batch,
        "device": ", ".join(keras_devices()),
        "train_seconds": result.info["train_seconds"],
        "epoch_seconds": [e["seconds"] for e in epochs],
        "words": sum(e["tokens"] for e in epochs), "pairs": sum(e["pairs"] for e in epochs),
        "steps": steps, "ws353": q["ws353"], "simlex": q["simlex"],
    }))


def stream_rates(thread_counts, seconds: float = 10.0) -> dict[int, float]:
    """Positive pairs per second that the default recipe's pair stream makes, alone, with
    each count of threads making the chunks' examples."""
    import dataclasses

    import sgns
    from common import newsgroups
    from sgns.encoding.pairs import PairStream
    from sgns.engines.keras.driver import padded_batches, pair_config

    corpus = newsgroups()
    vocab = sgns.Vocabulary.build(corpus.documents)
    encoded = vocab.encode(corpus.documents)
    config = sgns.TrainConfig(engine="keras").for_engine("keras")
    rates = {}
    for threads in thread_counts:
        pairs = dataclasses.replace(pair_config(config), threads=threads)
        stream = PairStream(encoded, vocab.counts, pairs, seed=1)
        made, start, epoch = 0, time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            for _ in padded_batches([stream.epoch(epoch)], config.batch_size):
                made += config.batch_size
            epoch += 1
        rates[threads] = made / (time.perf_counter() - start)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow", "torch"])
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    parser.add_argument("--batch-size", type=int, help="default: each recipe's own")
    parser.add_argument("--timeout", type=float, help="seconds per backend run (default: none)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.batch_size)
        return
    installed = [b for b in args.backends if importlib.util.find_spec(b)]
    runs: dict[tuple[str, str], list[dict]] = {}
    extra = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    for _ in range(args.rounds):
        for preset_name in args.recipes:
            for backend in installed:
                env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
                try:
                    done = subprocess.run([sys.executable, __file__, "--worker", preset_name,
                                           *extra], env=env, capture_output=True, text=True,
                                          timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    print(f"{backend}, {preset_name}: timed out after {args.timeout:g} s",
                          file=sys.stderr)
                    continue
                if done.returncode:
                    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                    print(f"{backend}, {preset_name}: failed: {last}", file=sys.stderr)
                    print(done.stderr[-3000:], file=sys.stderr)
                    continue
                runs.setdefault((preset_name, backend), []).append(
                    json.loads(done.stdout.strip().splitlines()[-1]))
    from sgns.engines.keras.driver import stream_threads

    for threads, rate in stream_rates((1, 2, 4)).items():
        print(f"pair stream alone: {rate:,.0f} pairs/s (default recipe, "
              f"{threads} thread{'s' * (threads > 1)} making examples)")
    print(f"threads the engine uses here: {stream_threads()}")
    print("| recipe | batch | backend | device | train s | s/epoch | vs jax | words/s | pairs/s | "
          "ms/step | WS353 | SimLex |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for preset_name in args.recipes:
        base = None
        for backend in installed:
            rows = runs.get((preset_name, backend))
            if not rows:
                print(f"| {preset_name} | | {backend} | failed (above) | | | | | | | | |")
                continue
            seconds = statistics.median(r["train_seconds"] for r in rows)
            base = base or seconds
            r = rows[0]
            epochs = len(r["epoch_seconds"])
            print(f"| {preset_name} ({epochs} epoch{'s' * (epochs > 1)}) | {r['batch_size']} | "
                  f"{backend} | "
                  f"{r['device']} | {seconds:.1f} | {seconds / epochs:.1f} | "
                  f"{seconds / base:.2f} | {r['words'] / seconds:,.0f} | "
                  f"{r['pairs'] / seconds:,.0f} | {1000 * seconds / r['steps']:.2f} | "
                  f"{statistics.mean(x['ws353'] for x in rows):.3f} | "
                  f"{statistics.mean(x['simlex'] for x in rows):.3f} |")


if __name__ == "__main__":
    main()
