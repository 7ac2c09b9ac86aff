"""The Keras engine's batches: the pair stream's examples padded to one shape, made ahead in a
thread of their own, as bags of rows for the subword models, stacked for several steps a call,
and fed to ``fit``."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

import keras
import numpy as np

from ...config import TrainConfig
from ...encoding.pairs import EpochPairs, PairConfig, PairStream, keep_probabilities
from ...encoding.subwords import flat_bags, window_bags, word_bags
from ...encoding.vocab import Vocabulary
from ...errors import SgnsError


def examples_per_step(config: TrainConfig) -> int:
    """A step's examples. ``batch_size`` counts pairs; the subword model's examples are whole
    windows, which hold ``window + 1`` pairs on average with word2vec's shrunk windows (and up
    to ``2 * window``): so that a step holds about as many pairs, and as many repeats of a
    frequent word, whose gradients add up."""
    if not config.subwords:
        return config.batch_size
    return max(1, config.batch_size // (config.window + 1))


class ChunkPlans:
    """One epoch's pairs over a corpus streamed from disk, planned a chunk at a time. A plan is
    dropped once its batches are made; only the epoch's totals are kept, known at its end."""

    def __init__(self, corpus, vocab, pairs: PairConfig, seed: int, epoch: int) -> None:
        self.corpus, self.vocab, self.pairs, self.epoch = corpus, vocab, pairs, epoch
        self.seed = seed
        self.n_positive = self.n_tokens = 0

    def __iter__(self):
        for c, chunk in enumerate(self.corpus.chunks()):
            stream = PairStream(chunk, self.vocab.counts, self.pairs,
                                seed=self.seed + 1_000_003 * c)
            plan = stream.epoch(self.epoch)
            self.n_positive += plan.n_positive
            self.n_tokens += plan.n_tokens
            yield plan


class BagBatches:
    """Turns CBOW-layout batches ``((window, center), label, weight)`` into the subword models'
    ``(((rows, owner), outputs), label, weight)``: for the subword skip-gram the centers' bags
    of rows laid end to end in ``size`` slots, the window as the outputs; for CBOW each
    window's bags together, the center (a ``(batch, 1)`` matrix) as the output. A batch whose
    bags do not fit is cut in two (or more), each padded with zero-weight examples, so that
    every step has the same shapes."""

    def __init__(self, vocab: Vocabulary, config: TrainConfig, multiple: int = 1) -> None:
        self.starts, self.ids = word_bags(config.subword_spec(), vocab.words)
        self.batch_size = examples_per_step(config)
        self.cbow = config.model == "cbow"
        self.make = window_bags if self.cbow else flat_bags
        # Room for a batch of bags of the size that tokens have on average after subsampling,
        # with a margin, and for the longest bag; a CBOW example holds its window's words,
        # about window + 1 with word2vec's shrunk windows.
        lengths = np.diff(self.starts)
        seen = vocab.counts * keep_probabilities(vocab.counts, config.sample)
        mean = float((lengths * seen).sum() / max(seen.sum(), 1.0))
        words = config.window + 1 if self.cbow else 1
        most = 2 * config.window if self.cbow else 1  # the longest window, in words
        size = int(1.25 * mean * words * self.batch_size) + most * int(lengths.max())
        self.size = -(-size // multiple) * multiple  # split evenly across devices

    def __call__(self, batch: tuple) -> list[tuple]:
        (window, center), label, weight = batch
        # What the bags are made of, and what they are scored against.
        sources, outputs = (window, center[:, None]) if self.cbow else (center, window)
        out = []
        while True:
            rows, owner, n = self.make(sources, self.starts, self.ids, self.size)
            if n == 0:  # the room holds the longest bag: only a smaller size gets here
                raise SgnsError(f"a bag of rows longer than the step's {self.size} slots")
            if n == len(sources):
                return [*out, (((rows, owner), outputs), label, weight)]
            pad = len(sources) - n  # the rest goes on in a batch of its own
            head = [np.concatenate([a[:n], np.zeros((pad, *a.shape[1:]), a.dtype)])
                    for a in (outputs, label, weight)]
            out.append((((rows, owner), head[0]), head[1], head[2]))
            sources, outputs, label, weight = (
                np.concatenate([a[n:], np.zeros((n, *a.shape[1:]), a.dtype)])
                for a in (sources, outputs, label, weight))


def padded_batches(epochs: Iterable[EpochPairs], batch_size: int,
                   prefetch: int = 32, bags: BagBatches | None = None,
                   share: Callable[[tuple], tuple] | None = None,
                   stack: int = 1) -> Iterator[tuple]:
    """``((inputs, output), label, weight)`` batches of one or more planned epochs (chunks),
    made ahead in a background thread; with ``bags``, the subword model's batches. With
    ``stack`` > 1, that many batches stacked along a second axis (JAX's several steps per
    call), the last stack filled with zero-weight batches. ``share`` (in that thread too)
    cuts each batch (stacked or not) to what this process feeds."""
    batches: queue.Queue = queue.Queue(maxsize=prefetch)
    done = object()
    failure: list[BaseException] = []
    group: list[tuple] = []

    def hand_on() -> None:
        item = group[0] if stack == 1 else stacked(group)
        group.clear()
        batches.put(item if share is None else share(item))

    def produce() -> None:
        try:
            for inputs, output, label in (b for epoch in epochs for b in epoch):
                weight = np.ones(len(output), dtype=np.float32)
                if len(output) < batch_size:
                    pad = batch_size - len(output)
                    inputs, output, label, weight = (
                        np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)])
                        for a in (inputs, output, label, weight)
                    )
                batch = ((inputs, output), label, weight)
                for item in [batch] if bags is None else bags(batch):
                    group.append(item)
                    if len(group) == stack:
                        hand_on()
            if group:
                group.extend([zeros_like(group[0])] * (stack - len(group)))
                hand_on()
        except BaseException as exc:  # surfaced in the consumer
            failure.append(exc)
        finally:
            batches.put(done)

    threading.Thread(target=produce, daemon=True).start()
    while (item := batches.get()) is not done:
        yield item
    if failure:
        raise failure[0]


def fed(batches: Iterator[tuple], like: tuple):
    """What ``fit`` takes the batches as: the generator itself, or on TensorFlow a
    ``tf.data`` pipeline over it without tf.data's autotuning. Keras' own pipeline for a
    generator prefetches with ``AUTOTUNE``, and with it whole epochs ran at half speed at
    random (docs/benchmarks.md, "The Keras engine on each backend"). ``padded_batches``
    already makes the batches ahead in a thread of its own. ``like`` is a batch with the
    shapes and dtypes of all of them."""
    if keras.backend.backend() != "tensorflow":
        return batches
    import tensorflow as tf

    signature = keras.tree.map_structure(
        lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)), like)
    dataset = tf.data.Dataset.from_generator(lambda: batches, output_signature=signature)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)


def stacked(batches: list):
    """Batches of the same shapes as one, each array stacked along a new second axis."""
    return keras.tree.map_structure(lambda *arrays: np.stack(arrays, axis=1), *batches)


def zeros_like(batch):
    return keras.tree.map_structure(np.zeros_like, batch)
