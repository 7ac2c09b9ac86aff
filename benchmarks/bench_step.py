"""Keras engine: time of one training step at a fixed batch, 64K vs 1M words.

The sparse step (sgns.engines.keras.models.SkipGram) against the stock model (two Embedding layers, Dot,
sigmoid, binary cross-entropy, Adam) that the notebook compiles: the stock gradient of an
Embedding is dense and Adam updates every row, so its step grows with the vocabulary.

Word ids are drawn as in text (Zipf: frequency proportional to 1 / rank) or uniformly. Uniform ids
are the worst case for the sparse step: at 1M words nearly every row it touches is a cache miss
in a 400 MB table, which is memory latency, not work that grows with the vocabulary.

    python benchmarks/bench_step.py [--batch 4096] [--steps 50]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from sgns.engines.keras.models import SkipGram  # noqa: E402


def stock_model(vocab_size: int, dim: int) -> keras.Model:
    center = keras.Input((), dtype="int32")
    context = keras.Input((), dtype="int32")
    score = keras.layers.Dot(axes=-1)([keras.layers.Embedding(vocab_size, dim)(center),
                                       keras.layers.Embedding(vocab_size, dim)(context)])
    model = keras.Model([center, context], keras.layers.Activation("sigmoid")(score))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def word_ids(rng, vocab_size: int, n: int, zipf: bool) -> np.ndarray:
    if not zipf:
        return rng.integers(1, vocab_size, n).astype("int32")
    cdf = np.cumsum(1.0 / np.arange(1, vocab_size))
    return (np.searchsorted(cdf, rng.random(n) * cdf[-1]) + 1).astype("int32")


def step_seconds(model: keras.Model, vocab_size: int, batch: int, steps: int,
                 zipf: bool) -> float:
    rng = np.random.default_rng(0)
    data = [((word_ids(rng, vocab_size, batch, zipf), word_ids(rng, vocab_size, batch, zipf)),
             (rng.random(batch) < 0.5).astype("float32")) for _ in range(steps + 5)]
    for x, y in data[:5]:  # compile and warm up
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for x, y in data[5:]:
        loss = model.train_on_batch(x, y)
    float(np.asarray(loss))  # wait for the device
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--dim", type=int, default=100)
    args = parser.parse_args()
    print(f"backend {keras.backend.backend()}, batch {args.batch}, dim {args.dim}")
    print("| model | word ids | 64,277 words | 1,000,000 words | ratio |")
    print("|---|---|---|---|---|")
    builders = {
        "sgns sparse step (SGD, 16 shared negatives / 256 pairs)":
            lambda v: _compiled(SkipGram(v, args.dim, shared=16,
                                         noise=np.full(v, 1.0 / v))),
        "sgns sparse step (lazy Adam, notebook preset)":
            lambda v: _compiled(SkipGram(v, args.dim, optimizer="adam", learning_rate=1e-3)),
        "stock Keras model (dense gradient, Adam)": lambda v: stock_model(v, args.dim),
    }
    for name, build in builders.items():
        for zipf in (True, False):
            times = [step_seconds(build(v), v, args.batch, args.steps, zipf)
                     for v in (64277, 1_000_000)]
            print(f"| {name} | {'Zipf' if zipf else 'uniform'} | {times[0] * 1e3:.2f} ms | "
                  f"{times[1] * 1e3:.2f} ms | {times[1] / times[0]:.2f}x |", flush=True)


def _compiled(model: SkipGram) -> SkipGram:
    model.compile()
    return model


if __name__ == "__main__":
    main()
