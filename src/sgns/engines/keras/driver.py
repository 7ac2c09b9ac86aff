"""Keras engine: the pair stream feeds ``SkipGram.fit`` (or ``CBOW.fit``) one epoch at a time.

The numpy pair stream runs in a background thread so that making pairs overlaps the compiled
steps; the last, short batch of an epoch is padded with zero-weight pairs so that every step has
the same shape and the step is compiled once.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial

import keras
import numpy as np
from keras import ops

from ...config import CBOW_RUN, TrainConfig
from ...encoding.bags import bag_means
from ...encoding.pairs import PairConfig, PairStream, noise_distribution
from ...encoding.vocab import ChunkedCorpus, EncodedCorpus, Vocabulary
from ...errors import SgnsError
from ...progress import EpochBar
from ..base import EngineResult, EpochEnd, Start
from . import backend
from .batches import (
    BagBatches,
    ChunkPlans,
    examples_per_step,
    fed,
    padded_batches,
    zeros_like,
)
from .cluster import local_slice, process, to_host
from .models import MODELS, SUBWORD_MODELS

# Steps run by one compiled call, by backend. Measured by hand on 20 Newsgroups: on TensorFlow
# 32 steps per call (Keras' steps_per_execution) took an epoch from 10.5 s to 8.0 s (and XLA,
# jit_compile=True, made it several times slower on this CPU). On JAX Keras' steps_per_execution
# is a Python loop of calls: the models run 16 steps in one compiled loop over a stacked batch
# instead, which took an epoch on one CPU device from 6.2 s to about 5 s, and on two simulated
# devices (--data-parallel) from 11.5 s to under 8 s. PyTorch's models run 16 steps of a stacked
# batch per call of Keras' loop (its notebook epoch went from 192 s to 140 s).
STEPS_PER_CALL = {"tensorflow": 32, "jax": 16, "torch": 16}
STACKED = ("jax", "torch")  # the backends whose models take stacked batches (the others: Keras')


def steps_per_call() -> int:
    """Steps that one call of the compiled step runs on this backend."""
    return STEPS_PER_CALL.get(keras.backend.backend(), 1)


def cbow_run(config: TrainConfig, devices: int = 1) -> int:
    """Windows a run of consecutive ones holds in the Keras CBOW step (see
    :class:`~sgns.engines.keras.models.CBOW`): ``config.cbow_run`` where given (a one-line
    error where it
    cannot be), else ``CBOW_RUN`` where the batch splits into whole runs on every device and
    the model draws the negatives (the stream's would repeat windows), else 1."""
    if config.cbow_run is not None:
        run = config.cbow_run
        if run > 1 and not config.shared_negatives:
            raise SgnsError(f"cbow_run {run}: runs of windows train with shared negatives "
                            "(--shared-negatives at least 1), or use --cbow-run 1")
        if config.batch_size % (run * devices):
            raise SgnsError(f"cbow_run {run}: the batch ({config.batch_size} windows) must "
                            f"split into whole runs on each of {devices} device(s): make "
                            f"--batch-size a multiple of {run * devices}")
        return run
    runs = (config.model == "cbow" and not config.subwords and config.shared_negatives
            and config.batch_size % (CBOW_RUN * devices) == 0)
    return CBOW_RUN if runs else 1


def pair_config(config: TrainConfig, run: int = 1) -> PairConfig:
    return PairConfig(
        window=config.window,
        # With shared negatives the model draws its own; the stream makes positives only.
        negative=0.0 if config.shared_negatives else config.negative,
        noise=config.noise,
        sample=config.sample,
        shrink_window=config.shrink_window,
        batch_size=examples_per_step(config),
        # The subword skip-gram takes CBOW's layout: each center word with its whole window.
        model="cbow" if config.subwords else config.model,
        run=run,
        threads=stream_threads(),
    )


def stream_threads() -> int:
    """Threads that make the pair stream's examples: one on a CPU, whose cores train; where
    Keras sees a GPU or TPU, up to 4, a core left to the step's host side (on an H200's host
    one thread made 13 to 18 million pairs a second, about what PyTorch's skip-gram step took
    there: docs/benchmarks.md, "The Keras engine on a GPU")."""
    return max(1, min(4, backend.cores() - 1)) if backend.keras_accelerated() else 1


def build_model(vocab: Vocabulary, config: TrainConfig, total_steps: int,
                row_multiple: int = 1, run: int = 1) -> keras.Model:
    """The config's model (``SkipGram``, ``CBOW``, ``SubwordSkipGram`` or ``SubwordCBOW``),
    compiled, with its learning rate; ``row_multiple`` pads the tables' rows (see
    ``_TwoTables``), ``run`` is CBOW's (see :func:`cbow_run`)."""
    steps, stacked = steps_per_call(), keras.backend.backend() in STACKED
    if config.schedule == "linear":
        learning_rate = LinearDecay(config.lr, config.min_lr, max(total_steps, 1))
    else:
        learning_rate = config.lr
    shape = {}  # what the model's inputs look like
    if config.subwords:
        shape = dict(input_rows=vocab.size + config.buckets)
        if config.model == "skipgram":
            shape["window"] = config.window  # the outputs of an example: its window
    elif config.model == "cbow":
        shape = dict(run=run)
    model = (SUBWORD_MODELS if config.subwords else MODELS)[config.model](
        vocab.size,
        config.dim,
        **shape,
        learning_rate=learning_rate,
        optimizer=config.optimizer,
        noise=noise_distribution(vocab.counts, config.noise),
        shared=config.shared_negatives,
        group=config.shared_group,
        negative=config.negative,
        init=config.init,
        seed=config.seed,
        batch_size=examples_per_step(config),
        row_multiple=row_multiple,
        steps_per_call=steps if stacked else 1,
    )
    # TensorFlow graphs, not XLA: Keras turns XLA on where TensorFlow sees a GPU, and tf2xla
    # cannot compile the unique rows of lazy Adam (on this CPU XLA also measured slower).
    jit = False if keras.backend.backend() == "tensorflow" else "auto"
    model.compile(steps_per_execution=1 if stacked else steps, jit_compile=jit)
    return model


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """word2vec's learning rate: from ``start`` down to ``end`` in a straight line over
    ``steps`` steps, then ``end``. Keras' ``PolynomialDecay`` gives the same in a dozen
    operations, which PyTorch runs one by one every step (measured 88 us, against 37 for
    these three with their conversions)."""

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start, self.end, self.steps = float(start), float(end), int(steps)

    def __call__(self, step):
        done = ops.minimum(ops.cast(step, "float32") / self.steps, 1.0)
        return self.start + (self.end - self.start) * done

    def get_config(self) -> dict:
        return {"start": self.start, "end": self.end, "steps": self.steps}


class _Progress(keras.callbacks.Callback):
    """Feeds the tqdm bar every few calls."""

    # Not safe for Keras' asynchronous dispatch: Keras then reads the logs after every call,
    # so that one compiled call is in flight at a time. JAX on CPU with several devices can
    # deadlock with more (XLA's CPU collectives wait for threads that the next call holds).
    async_safe = False

    def __init__(self, bar: EpochBar, pairs_per_step: int, every: int = 50) -> None:
        super().__init__()
        self.bar, self.pairs_per_step, self.every = bar, pairs_per_step, every
        self.reported = 0  # steps of this epoch on the bar

    def on_epoch_begin(self, epoch, logs=None):
        self.reported = 0

    def on_train_batch_end(self, batch, logs=None):
        # With several steps per call, Keras reports only every call's last step.
        steps = batch + 1 - self.reported
        if steps >= self.every:
            self.bar.advance(steps * self.pairs_per_step, float(logs["loss"]))
            self.reported = batch + 1


def train_keras(
    *,
    corpus: EncodedCorpus | ChunkedCorpus,
    vocab: Vocabulary,
    config: TrainConfig,
    verbose: bool = True,
    on_epoch_end: Callable[[EpochEnd], None] | None = None,
    resume: dict[str, np.ndarray] | None = None,
    start_epoch: int = 0,
    start: Start | None = None,
    state_ahead: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    data_parallel: bool = False,
    shard_tables: bool = False,
) -> EngineResult:
    """Train with the Keras engine (see :class:`sgns.engines.base.Engine` for the arguments;
    ``state_ahead`` is the native engine's). ``callbacks`` are Keras callbacks.
    ``data_parallel`` splits every batch across all the devices Keras sees
    (``keras.distribution.DataParallel``), those of every process when several train together
    (:mod:`sgns.engines.keras.cluster`); ``shard_tables`` also splits the rows of both tables
    across them (``keras.distribution.ModelParallel``)."""
    # The devices are listed only when the batch is left to them (train() has resolved it).
    config = config.for_engine("keras",
                               accelerator=config.batch_size is None
                               and backend.keras_accelerated())
    job = _Job(corpus, vocab, config, callbacks, verbose, on_epoch_end, resume, start_epoch,
               start)
    if not (data_parallel or shard_tables):
        return job.run()
    if keras.backend.backend() != "jax":
        raise SgnsError("data-parallel training needs the JAX backend")
    devices = keras.distribution.list_devices()
    if examples_per_step(config) % len(devices):
        what = (f"batch_size {config.batch_size} makes {examples_per_step(config)} windows a "
                f"step (batch_size // (window + 1)), which do" if config.subwords
                else f"batch_size {config.batch_size} does")
        raise SgnsError(f"{what} not split evenly across {len(devices)} devices")
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(_distribution(devices, shard_tables))
    try:
        return job.run(row_multiple=len(devices) if shard_tables else 1, devices=len(devices))
    finally:
        keras.distribution.set_distribution(previous)


def _distribution(devices: list, shard_tables: bool):
    """Tables on every device, each batch split (steps exchange their row updates); or with
    ``shard_tables`` both tables (and lazy Adam's moments) split by rows over every device."""
    if shard_tables:
        mesh = keras.distribution.DeviceMesh((len(devices),), ["batch"], devices)
        layouts = keras.distribution.LayoutMap(mesh)
        for name in ("embeddings", "(input|output)_table_[mv]"):
            layouts[f".*{name}$"] = keras.distribution.TensorLayout(("batch", None))
        distribution = keras.distribution.ModelParallel(layout_map=layouts,
                                                        batch_dim_name="batch")
    else:
        distribution = keras.distribution.DataParallel(devices=devices)
    distribution.auto_shard_dataset = False  # each process feeds its own slice (local_slice)
    return distribution


class _Job:
    """One call of :func:`train_keras`: the model built once, then its epochs."""

    def __init__(self, corpus, vocab, config, callbacks, verbose, on_epoch_end, resume,
                 start_epoch, start) -> None:
        self.corpus, self.vocab, self.config = corpus, vocab, config
        self.callbacks, self.verbose, self.on_epoch_end = callbacks, verbose, on_epoch_end
        self.resume, self.start_epoch, self.start = resume, start_epoch, start

    def run(self, row_multiple: int = 1, devices: int = 1) -> EngineResult:
        corpus, vocab, config = self.corpus, self.vocab, self.config
        self.in_memory = isinstance(corpus, EncodedCorpus)
        first_chunk = corpus if self.in_memory else next(corpus.chunks())
        run = cbow_run(config, devices)
        self.pairs = pair_config(config, run)  # once: its thread count asks Keras the devices
        self.stream = PairStream(first_chunk, vocab.counts, self.pairs, seed=config.seed)
        self.first = self.stream.epoch(0)
        # Streamed from disk, an epoch's length is known only once it is over: the schedule's
        # length is estimated from the first chunk.
        self.per_epoch = self.first.n_batches if self.in_memory else math.ceil(
            self.first.n_batches * corpus.n_tokens / max(1, first_chunk.n_tokens))
        model = build_model(vocab, config, total_steps=self.per_epoch * config.epochs,
                            row_multiple=row_multiple, run=run)
        self.model = model
        # The subword models take bags of rows laid end to end.
        self.bags = BagBatches(vocab, config, multiple=devices) if config.subwords else None
        # By position: paths carry the model's instance name, which differs from run to run.
        self.variables = model.trainable_variables + model.non_trainable_variables
        process_index, self.processes = process()
        # Several processes each feed their slice of every batch.
        self.share = (partial(local_slice, index=process_index, count=self.processes)
                      if self.processes > 1 else None)
        if self.resume is not None:
            for k, variable in enumerate(self.variables):
                variable.assign(_fit_rows(_state_array(self.resume, k), variable.shape))
        elif self.start is not None:
            _assign_start(model, self.start)
        history = []
        self.compile_seconds = 0.0
        self.first_batch = None  # the shapes of every batch
        for epoch_index in range(self.start_epoch, config.epochs):
            history.append(self._epoch(epoch_index))
            if self.on_epoch_end is not None:
                self.on_epoch_end(self._epoch_end(epoch_index, history[-1]))
        return EngineResult(_table(model, 0), _table(model, 1), history, self.compile_seconds)

    def _batches(self, epoch_index: int):
        """The epoch's batches, their totals, the steps (None: as they come) and the pairs
        expected (for the progress bar)."""
        config, stack = self.config, self.model.steps_per_call
        if self.in_memory:
            epoch = self.first if epoch_index == 0 else self.stream.epoch(epoch_index)
            source, totals = [epoch], epoch
            # With bags (subwords) a batch whose bags do not fit is cut: the steps are counted
            # as they come.
            steps = None if self.bags is not None else -(-epoch.n_batches // stack)
            expected = epoch.n_pairs
        else:
            source = totals = ChunkPlans(self.corpus, self.vocab, self.pairs, config.seed,
                                         epoch_index)
            steps, expected = None, self.per_epoch * examples_per_step(config)
        batches = padded_batches(source, examples_per_step(config), bags=self.bags,
                                 share=self.share, stack=stack)
        if epoch_index == self.start_epoch and (
                first := next(batches, None)) is not None:
            # The step compiled before the clock starts, on padding shaped like the first
            # batch; then that batch goes first (in a generator: Keras takes no other iterator).
            self.first_batch = first
            self.compile_seconds = _compile_step(self.model, first)
            batches = (b for part in ([first], batches) for b in part)
        if self.first_batch is not None:
            batches = fed(batches, self.first_batch)
        return batches, totals, steps, expected

    def _epoch(self, epoch_index: int) -> dict:
        """Train one epoch; return its record."""
        config, stack = self.config, self.model.steps_per_call
        batches, totals, steps, expected = self._batches(epoch_index)
        with EpochBar(epoch_index, config.epochs, total=expected, unit="pair",
                      enabled=self.verbose) as bar:
            began = time.perf_counter()
            with warnings.catch_warnings():
                # A streamed epoch ends when its batches do, which Keras reports as a warning.
                warnings.filterwarnings("ignore", "Your input ran out of data")
                fit = self.model.fit(
                    batches,
                    steps_per_epoch=steps,
                    initial_epoch=epoch_index,
                    epochs=epoch_index + 1,
                    verbose=0,
                    shuffle=False,  # the stream shuffles
                    callbacks=[_Progress(bar, stack * examples_per_step(config),
                                         every=max(1, 50 // stack)),
                               *self.callbacks],
                )
            seconds = time.perf_counter() - began
            loss = float(fit.history["loss"][-1])
            bar.finish(loss)
        return {"epoch": epoch_index + 1, "loss": loss, "seconds": seconds,
                "pairs": totals.n_positive, "tokens": totals.n_tokens}

    def _epoch_end(self, epoch_index: int, record: dict) -> EpochEnd:
        model, bags, variables = self.model, self.bags, self.variables

        def word_vectors():
            return _word_vectors(model, bags)

        def state(into=None):  # copied off the device anew: nothing to reuse
            return {f"variable_{k:03d}": to_host(v.value) for k, v in enumerate(variables)}

        if self.processes > 1:  # gathered now, by every process together
            word_vectors, state = _now(word_vectors), _now(state)
        return EpochEnd(epoch_index, record, word_vectors, state)


def _state_array(state: dict[str, np.ndarray], k: int) -> np.ndarray:
    return state[f"variable_{k:03d}"]


def _compile_step(model: keras.Model, batch) -> float:
    """Compile the training step (XLA on JAX, a graph on TensorFlow) on a batch of padding
    shaped like ``batch``, whose steps change nothing (see ``_TwoTables``), before any epoch's
    clock starts; returns the seconds it took. So that, as with the native engine's numba
    compile, the compile is timed apart (``compile_seconds``): on JAX about 1 s for CBOW's
    step here, which would otherwise fall on the first epoch."""
    calls = model.steps_per_execution  # TensorFlow's steps per call; the others stack theirs
    began = time.perf_counter()
    padding = zeros_like(batch)
    model.fit(fed((padding for _ in range(calls)), batch), steps_per_epoch=calls, epochs=1,
              verbose=0, shuffle=False)
    return time.perf_counter() - began


def _table(model: keras.Model, k: int) -> np.ndarray:
    """The model's input (0) or output (1) table as numpy, its real rows only."""
    layer = (model.input_table, model.output_table)[k]
    return to_host(layer.embeddings.value)[: model.table_rows[k]]


def _now(f: Callable):
    value = f()
    return lambda *_: value


def _fit_rows(value: np.ndarray, shape) -> np.ndarray:
    """A saved table for a model whose tables have other padding rows (``row_multiple``)."""
    if value.ndim != 2 or value.shape[0] == shape[0]:
        return value
    if value.shape[0] > shape[0]:
        return value[: shape[0]]
    return np.pad(value, ((0, shape[0] - value.shape[0]), (0, 0)))


def _word_vectors(model: keras.Model, bags: BagBatches | None) -> np.ndarray:
    """The words' vectors now: their input rows, or with subwords their bags' means."""
    table = _table(model, 0)
    if bags is None:
        return table
    return bag_means(table, bags.starts, bags.ids, table.shape[1])


def _assign_start(model: keras.Model, start: Start) -> None:
    """Write the rows that ``start`` gives over the model's initial tables."""
    table = model.input_table.embeddings
    rows = np.array(to_host(table.value))
    words = rows[: len(start.given)]
    words[start.given] = start.input_rows[start.given]
    if start.bucket_rows is not None:
        rows[len(start.given): model.table_rows[0]] = start.bucket_rows
    table.assign(rows)
    if start.output_rows is not None:
        model.output_table.embeddings.assign(
            _fit_rows(start.output_rows, model.output_table.embeddings.shape))
