"""Keras engine: the pair stream feeds ``SkipGram.fit`` (or ``CBOW.fit``) one epoch at a time.

The numpy pair stream runs in a background thread so that making pairs overlaps the compiled
steps; the last, short batch of an epoch is padded with zero-weight pairs so that every step has
the same shape and the step is compiled once.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial

import keras
import numpy as np
from keras import ops

from .checkpoint import EpochEnd
from .cluster import local_slice, process, to_host
from .config import CBOW_RUN, TrainConfig
from .errors import SgnsError
from .grow import Start
from .model import MODELS, SUBWORD_MODELS
from .pairs import EpochPairs, PairConfig, PairStream, noise_distribution
from .progress import EpochBar
from .subwords import flat_bags, window_bags
from .vocab import ChunkedCorpus, EncodedCorpus, Vocabulary

# Steps run by one compiled call, by backend. Measured by hand on 20 Newsgroups: on TensorFlow
# 32 steps per call (Keras' steps_per_execution) took an epoch from 10.5 s to 8.0 s (and XLA,
# jit_compile=True, made it several times slower on this CPU). On JAX Keras' steps_per_execution
# is a Python loop of calls: the models run 16 steps in one compiled loop over a stacked batch
# instead, which took an epoch on one CPU device from 6.2 s to about 5 s, and on two simulated
# devices (--data-parallel) from 11.5 s to under 8 s. PyTorch's models run 16 steps of a stacked
# batch per call of Keras' loop (its notebook epoch went from 192 s to 140 s).
STEPS_PER_CALL = {"tensorflow": 32, "jax": 16, "torch": 16}
STACKED = ("jax", "torch")  # the backends whose models take stacked batches (the others: Keras')


def examples_per_step(config: TrainConfig) -> int:
    """A step's examples. ``batch_size`` counts pairs; the subword model's examples are whole
    windows, which hold ``window + 1`` pairs on average with word2vec's shrunk windows (and up
    to ``2 * window``): so that a step holds about as many pairs, and as many repeats of a
    frequent word, whose gradients add up."""
    if not config.subwords:
        return config.batch_size
    return max(1, config.batch_size // (config.window + 1))


def steps_per_call() -> int:
    """Steps that one call of the compiled step runs on this backend."""
    return STEPS_PER_CALL.get(keras.backend.backend(), 1)


def cbow_run(config: TrainConfig, devices: int = 1) -> int:
    """Windows a run of consecutive ones holds in the Keras CBOW step (see
    :class:`sgns.model.CBOW`): ``config.cbow_run`` where given (a one-line error where it
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
    there: README, "The Keras engine on a GPU")."""
    from .train import _cores, keras_accelerated

    return max(1, min(4, _cores() - 1)) if keras_accelerated() else 1


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


class _ChunkPlans:
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
        from .pairs import keep_probabilities

        self.starts, self.ids = config.subword_spec().bags(vocab.words)
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
        item = group[0] if stack == 1 else _stacked(group)
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
                group.extend([_zeros_like(group[0])] * (stack - len(group)))
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
    corpus: EncodedCorpus | ChunkedCorpus,
    vocab: Vocabulary,
    config: TrainConfig,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: bool = True,
    on_epoch_end: Callable[[EpochEnd], None] | None = None,
    resume: dict[str, np.ndarray] | None = None,
    start_epoch: int = 0,
    data_parallel: bool = False,
    start: Start | None = None,
    shard_tables: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[dict], float]:
    """Train; return the center table, the context table, one record per epoch trained and the
    seconds spent compiling the step (timed apart from the epochs).
    ``resume`` is a state from :class:`EpochEnd` and ``start_epoch`` the first epoch still to
    train; ``on_epoch_end`` is called after every epoch. ``data_parallel`` splits every batch
    across all the devices Keras sees (``keras.distribution.DataParallel``), those of every
    process when several train together (:mod:`sgns.cluster`); ``shard_tables`` also splits
    the rows of both tables across them (``keras.distribution.ModelParallel``). ``start``
    holds rows to start from (a continued run's, or pretrained vectors)."""
    from .train import keras_accelerated

    # The devices are listed only when the batch is left to them (train() has resolved it).
    config = config.for_engine("keras",
                               accelerator=config.batch_size is None and keras_accelerated())
    if not (data_parallel or shard_tables):
        return _train(corpus, vocab, config, callbacks, verbose, on_epoch_end, resume,
                      start_epoch, start, 1)
    if keras.backend.backend() != "jax":
        raise SgnsError("data-parallel training needs the JAX backend")
    devices = keras.distribution.list_devices()
    if examples_per_step(config) % len(devices):
        what = (f"batch_size {config.batch_size} makes {examples_per_step(config)} windows a "
                f"step (batch_size // (window + 1)), which do" if config.subwords
                else f"batch_size {config.batch_size} does")
        raise SgnsError(f"{what} not split evenly across {len(devices)} devices")
    previous = keras.distribution.distribution()
    if shard_tables:
        mesh = keras.distribution.DeviceMesh((len(devices),), ["batch"], devices)
        layouts = keras.distribution.LayoutMap(mesh)
        # Both tables (and lazy Adam's moments) split by rows over every device; the batch is
        # split over the same devices.
        for name in ("embeddings", "(center|context)_[mv]"):
            layouts[f".*{name}$"] = keras.distribution.TensorLayout(("batch", None))
        distribution = keras.distribution.ModelParallel(layout_map=layouts,
                                                        batch_dim_name="batch")
    else:  # tables on every device, each batch split; steps exchange their row updates
        distribution = keras.distribution.DataParallel(devices=devices)
    distribution.auto_shard_dataset = False  # each process feeds its own slice (local_slice)
    keras.distribution.set_distribution(distribution)
    try:
        return _train(corpus, vocab, config, callbacks, verbose, on_epoch_end, resume,
                      start_epoch, start, len(devices) if shard_tables else 1, len(devices))
    finally:
        keras.distribution.set_distribution(previous)


def _train(corpus, vocab, config, callbacks, verbose, on_epoch_end, resume, start_epoch,
           start, row_multiple, devices=1):
    in_memory = isinstance(corpus, EncodedCorpus)
    first_chunk = corpus if in_memory else next(corpus.chunks())
    run = cbow_run(config, devices)
    pairs = pair_config(config, run)  # once: its thread count asks Keras for the devices
    stream = PairStream(first_chunk, vocab.counts, pairs, seed=config.seed)
    first = stream.epoch(0)
    # Streamed from disk, an epoch's length is known only once it is over: the schedule's
    # length is estimated from the first chunk.
    per_epoch = first.n_batches if in_memory else math.ceil(
        first.n_batches * corpus.n_tokens / max(1, first_chunk.n_tokens))
    model = build_model(vocab, config, total_steps=per_epoch * config.epochs,
                        row_multiple=row_multiple, run=run)
    # The subword models take bags of rows laid end to end.
    bags = BagBatches(vocab, config, multiple=devices) if config.subwords else None
    # By position: paths carry the model's instance name, which differs from run to run.
    variables = model.trainable_variables + model.non_trainable_variables
    process_index, processes = process()
    # Several processes each feed their slice of every batch.
    share = partial(local_slice, index=process_index, count=processes) if processes > 1 else None
    stack = model.steps_per_call
    if resume is not None:
        for k, variable in enumerate(variables):
            variable.assign(_fit_rows(resume[f"variable_{k:03d}"], variable.shape))
    elif start is not None:
        _assign_start(model, start)
    history = []
    compile_seconds = 0.0
    first_batch = None  # the shapes of every batch
    for epoch_index in range(start_epoch, config.epochs):
        if in_memory:
            epoch = first if epoch_index == 0 else stream.epoch(epoch_index)
            source, totals = [epoch], epoch
            # With bags (subwords) a batch whose bags do not fit is cut: the steps are counted
            # as they come.
            steps = None if bags is not None else -(-epoch.n_batches // stack)
            expected = epoch.n_pairs
        else:
            source = totals = _ChunkPlans(corpus, vocab, pairs, config.seed, epoch_index)
            steps, expected = None, per_epoch * examples_per_step(config)
        batches = padded_batches(source, examples_per_step(config), bags=bags, share=share,
                                 stack=stack)
        if epoch_index == start_epoch and (first_batch := next(batches, None)) is not None:
            # The step compiled before the clock starts, on padding shaped like the first
            # batch; then that batch goes first (in a generator: Keras takes no other iterator).
            compile_seconds = _compile_step(model, first_batch)
            batches = (b for part in ([first_batch], batches) for b in part)
        if first_batch is not None:
            batches = _fed(batches, first_batch)
        with EpochBar(epoch_index, config.epochs, total=expected, unit="pair",
                      enabled=verbose) as bar:
            began = time.perf_counter()
            with warnings.catch_warnings():
                # A streamed epoch ends when its batches do, which Keras reports as a warning.
                warnings.filterwarnings("ignore", "Your input ran out of data")
                fit = model.fit(
                    batches,
                    steps_per_epoch=steps,
                    initial_epoch=epoch_index,
                    epochs=epoch_index + 1,
                    verbose=0,
                    shuffle=False,  # the stream shuffles
                    callbacks=[_Progress(bar, stack * examples_per_step(config),
                                         every=max(1, 50 // stack)),
                               *callbacks],
                )
            seconds = time.perf_counter() - began
            loss = float(fit.history["loss"][-1])
            bar.finish(loss)
        history.append(
            {"epoch": epoch_index + 1, "loss": loss, "seconds": seconds,
             "pairs": totals.n_positive, "tokens": totals.n_tokens}
        )
        if on_epoch_end is not None:
            def word_vectors():
                return _word_vectors(model, bags)

            def state(into=None):  # copied off the device anew: nothing to reuse
                return {f"variable_{k:03d}": to_host(v.value) for k, v in enumerate(variables)}

            if processes > 1:  # gathered now, by every process together
                word_vectors, state = _now(word_vectors), _now(state)
            on_epoch_end(EpochEnd(epoch_index, history[-1], word_vectors, state))
    center, context = (_table(model, k) for k in (0, 1))
    return center, context, history, compile_seconds


def _compile_step(model: keras.Model, batch) -> float:
    """Compile the training step (XLA on JAX, a graph on TensorFlow) on a batch of padding
    shaped like ``batch``, whose steps change nothing (see ``_TwoTables``), before any epoch's
    clock starts; returns the seconds it took. So that, as with the native engine's numba
    compile, the compile is timed apart (``compile_seconds``): on JAX about 1 s for CBOW's
    step here, which would otherwise fall on the first epoch."""
    calls = model.steps_per_execution  # TensorFlow's steps per call; the others stack theirs
    began = time.perf_counter()
    padding = _zeros_like(batch)
    model.fit(_fed((padding for _ in range(calls)), batch), steps_per_epoch=calls, epochs=1,
              verbose=0, shuffle=False)
    return time.perf_counter() - began


def _fed(batches: Iterator[tuple], like: tuple):
    """What ``fit`` takes the batches as: the generator itself, or on TensorFlow a
    ``tf.data`` pipeline over it without tf.data's autotuning. Keras' own pipeline for a
    generator prefetches with ``AUTOTUNE``, and with it whole epochs of the default recipe ran
    at half speed at random (20.6 s against 10-11 s, in 8 of 15 epochs on 2 cores; none of 15
    with a fixed prefetch and the autotuner off, alternating runs: README, "The Keras engine
    on each backend"). ``padded_batches`` already makes the batches ahead in a thread of its
    own. ``like`` is a batch with the shapes and dtypes of all of them."""
    if keras.backend.backend() != "tensorflow":
        return batches
    import tensorflow as tf

    signature = keras.tree.map_structure(
        lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)), like)
    dataset = tf.data.Dataset.from_generator(lambda: batches, output_signature=signature)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)


def _stacked(batches: list):
    """Batches of the same shapes as one, each array stacked along a new second axis."""
    return keras.tree.map_structure(lambda *arrays: np.stack(arrays, axis=1), *batches)


def _zeros_like(batch):
    return keras.tree.map_structure(np.zeros_like, batch)


def _table(model: keras.Model, k: int) -> np.ndarray:
    """The model's input (0) or output (1) table as numpy, its real rows only."""
    layer = (model.input_embedding, model.output_embedding)[k]
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
    from .native.loop import bag_means

    return bag_means(table, bags.starts, bags.ids, table.shape[1])


def _assign_start(model: keras.Model, start: Start) -> None:
    """Write the rows that ``start`` gives over the model's initial tables."""
    table = model.input_embedding.embeddings
    center = np.array(to_host(table.value))
    words = center[: len(start.given)]
    words[start.given] = start.words[start.given]
    if start.buckets is not None:
        center[len(start.given): model.table_rows[0]] = start.buckets
    table.assign(center)
    if start.context is not None:
        model.output_embedding.embeddings.assign(
            _fit_rows(start.context, model.output_embedding.embeddings.shape))
