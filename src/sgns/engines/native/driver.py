"""The native engine's driver: the Python loop over epochs and slices around the compiled loop
(:mod:`sgns.engines.native.loops`), the tables' start, and the state a checkpoint takes.

Training is cut into slices so the progress bar and the learning rate move between compiled
calls; with one worker and a seed the result is the same bit for bit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numba
import numpy as np

from ...config import TrainConfig
from ...encoding.bags import bag_means, identity_bags
from ...encoding.huffman import huffman_paths, no_paths
from ...encoding.pairs import keep_probabilities, noise_distribution
from ...encoding.subwords import word_bags
from ...encoding.tables import aligned_zeros, row_width, uniform_rows
from ...encoding.vocab import ChunkedCorpus, EncodedCorpus, Vocabulary
from ...progress import EpochBar, waiting_for
from ..base import EngineResult, EpochEnd, Start
from .loops import model_path, shares_tree_top, train_slice
from .prepare import compile_kernels, loop_settings
from .sampling import alias_table
from .tree_top import TreeTop

# An epoch is trained in slices of about SLICE_TOKENS tokens (at least one a chunk): the
# progress bar and the learning rate move between them, and at each one's end every worker
# waits for the slowest. 20 slices an epoch, as before, cost 20 Newsgroups 4-5% of an epoch
# against 5 (docs/engines.md); 2M tokens train in about a second on 2 cores.
SLICE_TOKENS = 2_000_000
# With each worker's copy of hierarchical softmax's tree top, at least this many slices an
# epoch: the copies are averaged into the table between slices (:mod:`.tree_top`).
TREE_TOP_SLICES = 20
# Each worker's generator state lies in a cache line of its own (16 x 8 bytes apart): every
# draw writes it, and side by side the workers' states would bounce one line between the cores
# (false sharing).
STATE_STRIDE = 16
# The names of the engine's state arrays in a checkpoint.
STATE_KEYS = ("input_table", "output_table")


def slices_of(chunk_tokens: int, epoch_tokens: int, tree_top: bool) -> int:
    """How many slices train a chunk of ``chunk_tokens`` of an epoch's ``epoch_tokens``:
    about ``SLICE_TOKENS`` each, and with ``tree_top`` copies at least ``TREE_TOP_SLICES``
    an epoch."""
    slices = round(chunk_tokens / SLICE_TOKENS)
    if tree_top:
        slices = max(slices, round(TREE_TOP_SLICES * chunk_tokens / max(1, epoch_tokens)))
    return max(1, slices)


def worker_ranges(starts: np.ndarray, workers: int, slices: int) -> np.ndarray:
    """``(slices, workers, 2)`` document ranges: the documents cut into ``workers * slices``
    token-balanced pieces, in order, slice ``s`` training pieces ``s * workers`` to
    ``s * workers + workers - 1`` side by side (as gensim hands consecutive jobs to its
    threads). Each worker taking a contiguous run of the epoch instead put two workers on
    the same text at the same time wherever the corpus repeats itself (20 Newsgroups x10:
    copies 1 and 6 in step), each write of a row taking its cache line from the other core:
    CBOW ``--loss hs`` took 4.9 s an epoch on 2 cores, against 2.4 s with the documents
    shuffled (docs/engines.md)."""
    n_docs = len(starts) - 1
    bounds = np.searchsorted(starts, np.linspace(0, starts[-1], workers * slices + 1))
    bounds = np.clip(bounds, 0, n_docs)
    bounds[0], bounds[-1] = 0, n_docs
    pieces = np.stack([bounds[:-1], bounds[1:]], axis=1)
    return np.ascontiguousarray(pieces.reshape(slices, workers, 2))


def initial_tables(
    vocab_size: int, dim: int, seed: int, width: int | None = None,
    input_rows: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """word2vec's start: input rows uniform in +-0.5/dim, output rows zero; columns past ``dim``
    (up to ``width``) are zero. The input table has ``input_rows`` rows (the vocabulary's size
    unless subwords add bucket rows), filled a block at a time so that no temporary copy of a
    large table is made."""
    output_table = aligned_zeros((vocab_size, width or dim))
    # Zeros that nothing wrote yet are pages the system has not mapped: written here, in a
    # thread, while the input rows are drawn, rather than at the first touch of each row
    # inside the first epoch's compiled loop.
    mapper = threading.Thread(target=output_table.fill, args=(0.0,),
                              name="sgns-map-output-table")
    mapper.start()
    input_table = uniform_rows(input_rows or vocab_size, dim, dim, seed, width=width)
    mapper.join()
    return input_table, output_table


def starting_tables(
    vocab_size: int, config: TrainConfig, width: int, input_rows: int, start: Start | None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`initial_tables`, with the rows that ``start`` gives written over them. Bucket
    rows it gives are copied in, not drawn first."""
    dim = config.dim
    given_buckets = start is not None and start.bucket_rows is not None
    input_table, output_table = initial_tables(vocab_size, dim, config.seed, width,
                                               vocab_size if given_buckets else input_rows)
    if start is None:
        return input_table, output_table
    if given_buckets:
        words, input_table = input_table, aligned_zeros((input_rows, width))
        input_table[:vocab_size] = words
        input_table[vocab_size:, :dim] = start.bucket_rows
    input_table[:vocab_size, :dim][start.given] = start.input_rows[start.given]
    if start.output_rows is not None:
        output_table[:, :dim] = start.output_rows
    return input_table, output_table


def _aligned_copy(table: np.ndarray) -> np.ndarray:
    copy = aligned_zeros(table.shape, table.dtype)
    np.copyto(copy, table)
    return copy


def train_native(
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
    callbacks: Sequence = (),
    data_parallel: bool = False,
    shard_tables: bool = False,
) -> EngineResult:
    """Train with the native engine (see :class:`sgns.engines.base.Engine` for the arguments;
    ``callbacks``, ``data_parallel`` and ``shard_tables`` are the Keras engine's)."""
    config = config.for_engine("native")
    settings = loop_settings(config)
    # A first run compiles the model's path (about 10 s on 2 cores); numba caches it after.
    compile_seconds = waiting_for(
        lambda: compile_kernels(settings),
        f"compiling the native engine's {model_path(settings)} path (the first run only)",
        enabled=verbose)
    numba.set_num_threads(min(config.workers, numba.config.NUMBA_NUM_THREADS))
    width = row_width(config.dim)
    if config.subwords:
        bags = word_bags(config.subword_spec(), vocab.words)
        input_rows = vocab.size + config.buckets
    else:
        bags = identity_bags(vocab.size)
        input_rows = vocab.size
    if resume is not None:
        tables = tuple(_aligned_copy(_state_array(resume, k)) for k in range(2))
    else:
        tables = starting_tables(vocab.size, config, width, input_rows, start)
    epoch = _Epoch(corpus, vocab, config, tables, bags, verbose)
    state = _State(tables, spare=state_ahead)

    def word_vectors() -> np.ndarray:
        if not config.subwords:
            return tables[0][:, : config.dim]
        return bag_means(tables[0], *bags, config.dim)

    history = []
    for k in range(start_epoch, config.epochs):
        history.append(epoch.train(k))
        if on_epoch_end is not None:
            on_epoch_end(EpochEnd(k, history[-1], word_vectors, state))
    # The tables handed on as views of their first ``dim`` columns, not copied: a copy is two
    # fresh arrays of the vocabulary's size, whose pages cost 10 to 50 ms to map here.
    return EngineResult(tables[0][:, :config.dim], tables[1][:, :config.dim], history,
                        compile_seconds)


def _state_array(state: dict[str, np.ndarray], k: int) -> np.ndarray:
    """Table ``k`` of a saved state; checkpoints before 0.2 named them ``syn0`` and ``syn1``."""
    return state[STATE_KEYS[k]] if STATE_KEYS[k] in state else state[("syn0", "syn1")[k]]


class _Epoch:
    """One epoch over the corpus, a chunk at a time, each chunk in slices."""

    def __init__(self, corpus, vocab: Vocabulary, config: TrainConfig, tables, bags,
                 verbose: bool) -> None:
        self.corpus, self.config, self.tables, self.bags = corpus, config, tables, bags
        self.verbose = verbose
        self.keep = keep_probabilities(vocab.counts, config.sample).astype(np.float32)
        self.noise = alias_table(noise_distribution(vocab.counts, config.noise))
        self.settings = loop_settings(config)
        self.top = TreeTop(huffman_paths(vocab.counts) if self.settings.hs
                           else no_paths(vocab.size), tables[1], config.workers,
                           shares_tree_top(self.settings))

    def train(self, epoch: int) -> dict:
        """Train epoch ``epoch``; return its record."""
        config, corpus = self.config, self.corpus
        total = max(1, corpus.n_tokens)  # a corpus streamed from disk knows it after a pass
        with EpochBar(epoch, config.epochs, total=corpus.n_tokens, unit="word",
                      enabled=self.verbose) as bar:
            stats = np.zeros((config.workers, 4))
            began = time.perf_counter()
            done = 0  # tokens of this epoch trained so far
            for c, chunk in enumerate(corpus.chunks()):
                slices = slices_of(chunk.n_tokens, total, self.top.shared)
                ranges = worker_ranges(chunk.starts, config.workers, slices)
                for s in range(slices):
                    piece = int(sum(chunk.starts[b] - chunk.starts[a] for a, b in ranges[s]))
                    train_slice(
                        *self.tables, chunk.ids, chunk.starts, ranges[s], self.keep, self.noise,
                        self.top.paths, self.top.copies, self.settings, *self.bags,
                        _alpha(config, (epoch + done / total) / config.epochs),
                        _alpha(config, (epoch + (done + piece) / total) / config.epochs),
                        _random_states(config, epoch, c, s), stats,
                    )
                    self.top.merge(self.tables[1])
                    done += piece
                    loss_so_far = stats[:, 0].sum() / max(1.0, stats[:, 1].sum())
                    bar.advance(int(stats[:, 3].sum()) - bar.bar.n, loss_so_far)
            seconds = time.perf_counter() - began
            loss = float(stats[:, 0].sum() / max(1.0, stats[:, 1].sum()))
            bar.finish(loss)
        return {"epoch": epoch + 1, "loss": loss, "seconds": seconds,
                "pairs": int(stats[:, 1].sum()), "tokens": int(stats[:, 3].sum())}


def _random_states(config: TrainConfig, epoch: int, chunk: int, piece: int) -> np.ndarray:
    """The workers' generator states for one slice, seeded by (seed, epoch, chunk, slice)
    alone: a resumed run draws the same."""
    seeds = np.random.SeedSequence([config.seed, epoch, chunk, piece])
    states = np.zeros((config.workers, STATE_STRIDE), dtype=np.uint64)
    states[:, 0] = seeds.generate_state(config.workers, np.uint64)
    return states


class _State:
    """The engine's state for a checkpoint: ``state()`` fresh copies of the tables,
    ``state(into)`` copied into the arrays of an earlier state. With ``spare``, the arrays of
    the first copy are made ready in the background (:class:`_SpareState`)."""

    def __init__(self, tables, spare: bool) -> None:
        self.tables = tables
        self.spare = _SpareState(*tables) if spare else None

    def __call__(self, into: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        if into is None and self.spare is not None:
            into, self.spare = self.spare.take(), None
        if into is None:
            return {key: table.copy() for key, table in zip(STATE_KEYS, self.tables,
                                                            strict=True)}
        for key, table in zip(STATE_KEYS, self.tables, strict=True):
            np.copyto(into[key], table)
        return into


class _SpareState:
    """Arrays for the first state copy, allocated and written once (so that their pages are
    mapped) in a background thread while the first epoch trains: a fresh 60 MB copy at the end
    of the epoch, page faults and all, measured 10 to 130 ms in the foreground (113 ms in a
    profile of a first run, most of what ``train_seconds`` adds to the epochs' sum)."""

    def __init__(self, *tables: np.ndarray) -> None:
        self.shapes = [(t.shape, t.dtype) for t in tables]
        self.arrays: list[np.ndarray] = []
        self.thread = threading.Thread(target=self._fill, name="sgns-spare-state", daemon=True)
        self.thread.start()

    def _fill(self) -> None:
        try:
            for shape, dtype in self.shapes:
                self.arrays.append(np.empty(shape, dtype))
                self.arrays[-1].fill(0)  # writing every page maps it now, not at the copy
        except MemoryError:  # then the copy is made at the end of the epoch, as it would be
            self.arrays.clear()

    def take(self) -> dict[str, np.ndarray] | None:
        self.thread.join()
        if len(self.arrays) != len(self.shapes):
            return None
        return dict(zip(("input_table", "output_table"), self.arrays, strict=True))


def _alpha(config: TrainConfig, progress: float) -> float:
    if config.schedule == "constant":
        return config.lr
    return config.lr - (config.lr - config.min_lr) * min(progress, 1.0)
