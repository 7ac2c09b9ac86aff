"""Checkpoints: everything needed to continue a run after its last finished epoch, in one file
(``checkpoint.npz`` in the run folder) written to a temporary name and renamed, so a kill at any
moment leaves either the previous checkpoint or the new one.

A checkpoint holds the engine's state (tables, optimizer moments, step counter, random state),
the vocabulary, the configuration and the run record so far. Every random draw of both engines
is seeded from (seed, epoch, ...) alone, so continuing after epoch k repeats exactly what an
uninterrupted run would have done (bit for bit with ``workers=1`` on the native engine).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from ..encoding.vocab import Vocabulary
from ..errors import SgnsError
from ..files import DAMAGED, atomic_open, atomic_write_text

CHECKPOINT_FILE = "checkpoint.npz"


@dataclass
class Checkpoint:
    engine: str
    epochs_done: int
    state: dict[str, np.ndarray]
    vocab: Vocabulary
    config: TrainConfig
    info: dict  # run.json so far: history, corpus, counts


def save_checkpoint(folder: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    path = Path(folder) / CHECKPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"engine": checkpoint.engine, "epochs_done": checkpoint.epochs_done,
            "config": checkpoint.config.to_dict(), "info": checkpoint.info}
    arrays = {f"state/{name}": value for name, value in checkpoint.state.items()}
    with atomic_open(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)),
                 words=np.asarray(checkpoint.vocab.words[1:], dtype=str),
                 counts=checkpoint.vocab.counts[1:], **arrays)
    return path


CHECKPOINT_INTERVAL = 30.0  # seconds: the default least time between two checkpoints


def check_interval(seconds: float) -> float:
    """``seconds`` as a checkpoint interval, or a one-line error."""
    if not seconds >= 0:  # NaN too
        raise SgnsError(f"the checkpoint interval must be >= 0 seconds, got {seconds}")
    return float(seconds)


class CheckpointWriter:
    """Writes a run's checkpoints, each with the run record, in a background thread while the
    next epoch trains; one write at a time.

    ``interval`` bounds what checkpoints cost a run of short epochs: an epoch's state is
    written when at least ``interval`` seconds have passed since the last write (or since
    the writer began), else kept as :attr:`pending` (0 writes every epoch). On 20 Newsgroups,
    written after every epoch, they took a fifth (skip-gram) to a third (CBOW) of a run's
    training time: each is 70 MB of tables, its checksum, an fsync and the page cache, on
    the cores the workers train on. A run that stops early calls
    :meth:`flush`, so the last finished epoch is on disk all the same; only a process killed
    outright loses the epochs since the last write. The caller hands over a copy of the
    state, taken at the end of the epoch, and must :meth:`wait` before it stops (in a
    ``finally``)."""

    def __init__(self, folder: str | os.PathLike,
                 interval: float = CHECKPOINT_INTERVAL) -> None:
        self.folder = Path(folder)
        self.interval = check_interval(interval)
        self.pending: tuple[Checkpoint, dict] | None = None  # an epoch not yet written
        self._last = time.monotonic()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def offer(self, checkpoint: Checkpoint, record: dict, now: bool = False) -> None:
        """This epoch's checkpoint: written in the background if ``now`` or the interval has
        passed, else kept as :attr:`pending` until the next epoch or :meth:`flush`."""
        self.wait()
        # Snapshots: the caller goes on changing its run record.
        checkpoint.info = json.loads(json.dumps(checkpoint.info))
        self.pending = (checkpoint, json.loads(json.dumps(record)))
        if now or time.monotonic() - self._last >= self.interval:
            self._start(background=True)

    def drop_pending(self) -> None:
        """Forget the pending checkpoint: its arrays are about to take the next epoch's state,
        and a stop while they are half copied must not write them."""
        self.pending = None

    def flush(self) -> None:
        """Write the pending checkpoint, if any, and wait until it is on disk: a run that
        stops before its end keeps its last finished epoch."""
        self.wait()
        if self.pending is not None:
            self._start(background=False)
            self.wait()

    def _start(self, background: bool) -> None:
        (checkpoint, record), self.pending = self.pending, None
        self._last = time.monotonic()
        text = json.dumps(record, indent=2) + "\n"

        def write() -> None:
            try:
                save_checkpoint(self.folder, checkpoint)
                atomic_write_text(self.folder / "run.json", text)
            except BaseException as exc:  # raised in the training thread by wait()
                self._error = exc

        if not background:
            write()
            return
        self._thread = threading.Thread(target=write, name="sgns-checkpoint")
        self._thread.start()

    def wait(self) -> None:
        """Block until the write under way (if any) is on disk; raise its error, if any."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def checkpoint_epochs(folder: str | os.PathLike) -> int:
    """How many finished epochs the checkpoint in ``folder`` holds (0 when there is none or it
    cannot be read); reads only its small header, not the tables."""
    try:
        with np.load(Path(folder) / CHECKPOINT_FILE, allow_pickle=False) as data:
            return int(json.loads(str(data["meta"]))["epochs_done"])
    except DAMAGED:
        return 0


def load_checkpoint(folder: str | os.PathLike) -> Checkpoint:
    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        raise SgnsError(f"no checkpoint to resume from in {folder} (no {CHECKPOINT_FILE})")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            vocab = Vocabulary(data["words"].tolist(), data["counts"].tolist())
            state = {k.removeprefix("state/"): data[k] for k in data.files
                     if k.startswith("state/")}
        config = TrainConfig(**meta["config"])
        epochs_done = int(meta["epochs_done"])
        engine, info = meta["engine"], meta["info"]
    except (*DAMAGED, SgnsError) as exc:
        raise SgnsError(f"{path} is not a readable sgns checkpoint ({exc}); resume from a copy, "
                        "or train afresh") from None
    _check_tables(path, state, vocab, config)
    return Checkpoint(engine=engine, epochs_done=epochs_done, state=state, vocab=vocab,
                      config=config, info=info)


def _check_tables(path: Path, state: dict[str, np.ndarray], vocab: Vocabulary,
                  config: TrainConfig) -> None:
    """The two tables as this vocabulary and these settings make them: float32, a row a word
    (and a bucket), at least ``dim`` columns, every number finite."""
    for name in ("input_table", "output_table", "syn0", "syn1"):
        table = state.get(name)
        if table is None:
            continue
        problem = None
        if table.dtype != np.float32 or table.ndim != 2:
            problem = f"{name} is {table.dtype} of {table.ndim} dimensions, not a float32 table"
        elif table.shape[0] < vocab.size or table.shape[1] < config.dim:
            problem = (f"{name} has shape {table.shape}, too small for {vocab.size} words of "
                       f"dimension {config.dim}")
        elif not np.isfinite(table).all():
            problem = f"{name} holds numbers that are not finite"
        if problem:
            raise SgnsError(f"{path} is not a readable sgns checkpoint ({problem}); resume "
                            "from a copy, or train afresh")

