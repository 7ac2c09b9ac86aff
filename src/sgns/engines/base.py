"""What both engines share: the rows they may start from, what they hand the caller after each
epoch, what they return, and their one keyword-only signature (:class:`Engine`).

The two tables have one name everywhere: the **input table** (word2vec's ``syn0``, Keras'
center embedding: the rows a hidden vector is made from; with subwords the words' own rows,
then one row per n-gram bucket) and the **output table** (word2vec's ``syn1neg``, the context
embedding: the rows a hidden vector is scored against). Row 0 of both is the reserved padding
row.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..config import TrainConfig
    from ..encoding.vocab import ChunkedCorpus, EncodedCorpus, Vocabulary


@dataclass
class Start:
    """Rows for the engines to start from instead of their random ones."""

    input_rows: np.ndarray  # (vocab.size, dim) the words' input rows
    given: np.ndarray  # bool (vocab.size,): which of ``input_rows`` to take; others as usual
    output_rows: np.ndarray | None = None  # (vocab.size, dim); None: zero, as usual
    bucket_rows: np.ndarray | None = None  # (buckets, dim) n-gram rows; None: random, as usual


@dataclass
class EpochEnd:
    """What an engine hands its ``on_epoch_end`` hook after each epoch."""

    epoch: int  # index of the epoch just finished (0-based)
    record: dict  # its record in the run's history; a hook may add to it
    # The words' vectors now, one row per word (row 0 is padding): their input rows, or with
    # subwords the mean of each word's bag of rows.
    word_vectors: Callable[[], np.ndarray]
    # The engine's whole state, to resume from: ``state()`` fresh arrays; ``state(into)`` may
    # copy into the arrays of a state it gave before, which the caller no longer needs (the
    # checkpoint writer's, so that each epoch does not take and fault in new memory).
    state: Callable[..., dict[str, np.ndarray]]

    @property
    def center(self) -> Callable[[], np.ndarray]:
        """Deprecated name of :attr:`word_vectors` (until 0.3)."""
        warnings.warn("EpochEnd.center is now EpochEnd.word_vectors", DeprecationWarning,
                      stacklevel=2)
        return self.word_vectors


@dataclass(frozen=True)
class EngineResult:
    """What an engine returns: both tables as trained (``dim`` columns; with subwords the input
    table holds the words' own rows, then the buckets), one record per epoch trained, and the
    seconds spent compiling, timed apart from the epochs."""

    input_table: np.ndarray
    output_table: np.ndarray
    history: list[dict]
    compile_seconds: float


class Engine(Protocol):
    """The signature both engines (:func:`sgns.engines.native.train_native`,
    :func:`sgns.engines.keras.driver.train_keras`) share. ``resume`` is a state an earlier
    :class:`EpochEnd` gave and ``start_epoch`` the first epoch still to train; ``start`` holds
    rows to start from (a continued run's, or pretrained vectors). The rest is for one engine
    and left alone by the other: ``state_ahead`` (native: the caller will take a state after
    the first epoch, whose arrays are made ready while it trains), ``callbacks``,
    ``data_parallel`` and ``shard_tables`` (Keras)."""

    def __call__(
        self,
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
    ) -> EngineResult: ...
