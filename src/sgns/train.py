"""A training run from cleaned documents to embeddings: vocabulary, encoding, one engine's update
loop, and the run folder. Everything here is shared by the engines."""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .checkpoint import Checkpoint, CheckpointWriter, EpochEnd
from .cleaning import CleanCorpus, StreamingCorpus
from .config import TrainConfig
from .errors import SgnsError
from .files import atomic_write_text, make_folder_temp
from .grow import (
    Parent,
    Pretrained,
    grown_start,
    merged_vocabulary,
    pretrained_start,
    read_pretrained,
    tokens_in,
    with_pretrained_words,
)
from .vectors import save_npz, save_word2vec_text, to_keyed_vectors
from .vocab import ChunkedCorpus, Vocabulary

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

RUN_FILES = ("vectors.txt", "vectors.npz", "vocab.txt", "run.json")


@dataclass
class TrainResult:
    """The trained tables (row 0 is the reserved padding row), their vocabulary and the record of
    the run (what ``run.json`` holds)."""

    vocab: Vocabulary
    center: np.ndarray
    context: np.ndarray
    config: TrainConfig
    info: dict = field(default_factory=dict)
    # With subwords: the words' own input rows and the n-gram bucket rows (``center`` then holds
    # each word's full vector, the mean of its own row and its n-grams' rows).
    word_rows: np.ndarray | None = None
    bucket_rows: np.ndarray | None = None

    @property
    def vectors(self) -> np.ndarray:
        """The embeddings: the center table without the padding row, one row per word."""
        return self.center[1:]

    def keyed_vectors(self) -> KeyedVectors:
        """A gensim ``KeyedVectors``; with subwords a ``FastTextKeyedVectors``, which also
        answers for words outside the vocabulary."""
        if self.bucket_rows is not None:
            from .subwords import fasttext_vectors

            return fasttext_vectors(self.vocab.words[1:], self.word_rows[1:], self.bucket_rows,
                                    self.config.subword_spec())
        return to_keyed_vectors(self.vocab.words[1:], self.vectors)

    def save(self, out_dir: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write ``vectors.txt``, ``vectors.npz`` (the same vectors, quick to load), ``vocab.txt``
        and ``run.json`` into ``out_dir``.

        Everything is written into a temporary folder beside it and moved into place at the end,
        so a failed or interrupted save never leaves a half-written run folder.
        """
        out = Path(out_dir)
        check_output_dir(out, overwrite)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = make_folder_temp(out.parent, out.name)
        try:
            save_word2vec_text(staging / "vectors.txt", self.vocab.words[1:], self.vectors)
            # The output table too (without subwords; subwords.npz holds it otherwise), so
            # that the run can be continued (sgns.grow).
            save_npz(staging / "vectors.npz", self.vocab.words[1:], self.vectors,
                     context=None if self.bucket_rows is not None else self.context[1:])
            if self.bucket_rows is not None:
                from .subwords import SUBWORDS_FILE, save_subwords

                save_subwords(staging / SUBWORDS_FILE, self.config.subword_spec(),
                              self.word_rows[1:], self.bucket_rows, self.context[1:])
            self.vocab.save(staging / "vocab.txt")
            atomic_write_text(staging / "run.json", json.dumps(self.info, indent=2) + "\n")
            if out.exists():
                shutil.rmtree(out)
            os.replace(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return out


def check_output_dir(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SgnsError(f"output path exists and is not a folder: {out}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise SgnsError(f"output folder {out} exists; pass --overwrite to replace it")


def check_memory(config: TrainConfig, vocab_size: int) -> None:
    """Fail at once, not by the kernel's out-of-memory killer, when the subword tables cannot
    fit: the input table (words and buckets), a copy of it for each epoch's checkpoint, and the
    output table."""
    from .native.loop import row_width

    width = row_width(config.dim)
    needed = 4 * width * (2 * (vocab_size + config.buckets) + 2 * vocab_size)
    available = _available_memory()
    if available is not None and needed > available:
        raise SgnsError(
            f"--buckets {config.buckets:,} needs about {needed / 2**30:.1f} GiB for the n-gram "
            f"table and its checkpoint copy ({config.buckets:,} x {config.dim} floats, twice), "
            f"and {available / 2**30:.1f} GiB is available: lower --buckets (or --dim)")


def _available_memory() -> int | None:
    """Bytes of memory available to a new allocation, from /proc/meminfo (None elsewhere)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


KERAS_BACKENDS = ("jax", "tensorflow", "torch")  # those the Keras engine's sparse step runs on


def import_keras():
    """Keras, on a backend the Keras engine runs on, or a one-line error that says which
    backend cannot start (Keras picks it from $KERAS_BACKEND when it is first imported)."""
    backend = keras_backend_name()
    try:
        import keras
    except (ImportError, ValueError) as exc:
        raise SgnsError(f"Keras cannot start its {backend} backend (KERAS_BACKEND={backend}): "
                        f"{exc}; install it, or choose another") from None
    return keras


def tensorflow_threads(config: TrainConfig) -> None:
    """When the pair stream draws the negatives (``shared_negatives=0``, the notebook preset),
    TensorFlow's operations on a CPU get one thread fewer than the cores (at least one): the
    stream's thread is then busy, and TensorFlow's pool, one thread a core, waits on it. On 2
    cores, 10 alternating runs each of the notebook preset's epoch (1,200 documents): median
    5.0 s with one thread, 10.2 s with two. With the stream making positives only (the
    defaults) one thread measured about 10% slower, so there TensorFlow keeps its own choice,
    as it does where $TF_NUM_INTRAOP_THREADS says, where it sees a GPU, and once it has started
    (its threads are then fixed). Called before the backend's first operation."""
    if keras_backend_name() != "tensorflow" or config.shared_negatives:
        return
    import_keras()  # a one-line error where TensorFlow cannot start
    import tensorflow as tf

    if os.environ.get("TF_NUM_INTRAOP_THREADS") or tf.config.list_physical_devices("GPU"):
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(max(1, _cores() - 1))
    except RuntimeError:  # TensorFlow already runs: its threads cannot change
        pass


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def keras_backend_name() -> str:
    """$KERAS_BACKEND (default jax), or a one-line error when the Keras engine cannot run on
    it; Keras is not imported."""
    backend = os.environ.get("KERAS_BACKEND", "jax")
    if backend not in KERAS_BACKENDS:
        raise SgnsError(f"KERAS_BACKEND={backend!r}: the Keras engine runs on "
                        f"{', '.join(KERAS_BACKENDS)}")
    return backend


def resolve_engine(engine: str) -> str:
    """``auto`` means the Keras engine when Keras sees an accelerator, else the native one.
    Keras is asked only where the system shows an accelerator's device: importing it (and
    its backend) took 1.7 s here, a third of a native run of 20 Newsgroups."""
    if engine != "auto":
        return engine
    keras_backend_name()  # a bad $KERAS_BACKEND is an error whichever engine runs
    if not accelerator_visible():
        return "native"
    return "keras" if keras_accelerated() else "native"


# Device nodes of NVIDIA GPUs, AMD GPUs (ROCm) and TPUs on Linux.
ACCELERATOR_NODES = ("/dev/nvidia[0-9]*", "/dev/kfd", "/dev/accel[0-9]*", "/dev/vfio/[0-9]*")


def accelerator_visible() -> bool:
    """Whether the system may have an accelerator for Keras: on Linux, whether one of
    :data:`ACCELERATOR_NODES` exists; elsewhere always (Keras is then asked)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(glob.glob(pattern) for pattern in ACCELERATOR_NODES)


def keras_accelerated() -> bool:
    """Whether Keras sees a GPU or TPU."""
    return any(not d.startswith("cpu") for d in keras_devices())


def keras_devices() -> list[str]:
    """The devices the Keras backend computes on, as ``"cpu:0"``, ``"gpu:0"``, ...
    (``keras.distribution`` lists them on JAX and TensorFlow; on PyTorch, torch does)."""
    keras = import_keras()
    if keras.backend.backend() == "torch":
        import torch

        gpus = [f"gpu:{k}" for k in range(torch.cuda.device_count())]
        return gpus or ["cpu:0"]
    return [d.lower() for d in keras.distribution.list_devices()]


def train(
    corpus: CleanCorpus | Iterable[Sequence[str]],
    config: TrainConfig | None = None,
    *,
    vocab: Vocabulary | None = None,
    callbacks: Sequence = (),
    verbose: bool = True,
    evaluate_each_epoch: bool = False,
    on_epoch_end: Callable[[EpochEnd], None] | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: Checkpoint | None = None,
    run_info: dict | None = None,
    data_parallel: bool = False,
    checkpoint_final: bool = True,
    parent: TrainResult | str | os.PathLike | None = None,
    init_vectors: Pretrained | KeyedVectors | str | os.PathLike | None = None,
    init_vocab: bool = False,
    shard_tables: bool = False,
) -> TrainResult:
    """Train skip-gram embeddings on tokenised documents.

    ``corpus`` is a :class:`CleanCorpus` (from :func:`sgns.clean`), any iterable of token lists,
    or a :class:`StreamingCorpus`, which is read from disk on every pass so that memory holds
    the vocabulary, the tables and one chunk of word ids, never the corpus.
    ``callbacks`` are Keras callbacks, for the Keras engine. ``evaluate_each_epoch`` records
    WordSim-353, SimLex-999 and Google-analogy figures in every epoch's record;
    ``on_epoch_end(EpochEnd)`` is any other per-epoch hook. With ``checkpoint_dir``, a checkpoint
    and the run record so far are saved there after every epoch; ``resume`` (from
    :func:`sgns.checkpoint.load_checkpoint`) continues such a run. A loss that stops being
    finite or explodes ends training with :class:`SgnsError`, the last checkpoint kept.
    ``run_info`` is added to the run record (the CLI records the corpus there).
    ``data_parallel`` (Keras engine, JAX) splits every batch across all devices Keras sees,
    those of several processes after :func:`sgns.cluster.join` (every process calls ``train``
    alike; see :mod:`sgns.cluster`); ``shard_tables`` also splits the tables' rows across them.
    ``checkpoint_final=False`` skips the checkpoint after the last epoch, for a caller that
    saves the finished run at once (the command line): that write would be thrown away.

    ``parent`` (a :class:`TrainResult` or a run folder) continues a finished run on this
    corpus: its tables and vocabulary are kept, the new words added, and its model settings
    taken (``config=None`` means the defaults with them); see :mod:`sgns.grow`.
    ``init_vectors`` (a ``KeyedVectors`` or a vectors file) starts the input rows of the
    words it holds from its vectors; ``init_vocab`` also adds its words that the corpus lacks.
    """
    grown: dict = {}  # what run.json records of a parent or pretrained vectors
    if resume is not None:
        config, vocab = resume.config, resume.vocab
        grown = {k: resume.info[k] for k in ("parent", "init_vectors") if k in resume.info}
        parent = init_vectors = None
    if parent is not None and init_vectors is not None:
        raise SgnsError("a run starts from a parent run or from pretrained vectors, not both")
    if init_vocab and init_vectors is None:
        raise SgnsError("init_vocab (--init-vocab) adds the words of --init-vectors: give it")
    if parent is not None:
        parent = Parent.of(parent)
        config = parent.config_for(config)
        grown["parent"] = parent.summary()
    pretrained = None
    if init_vectors is not None:
        pretrained = read_pretrained(init_vectors)
        config = config or TrainConfig(dim=pretrained.vectors.vector_size)
    config = config or TrainConfig()
    corpus_tokens = resume.info.get("tokens_in_vocabulary") if resume is not None else None
    if isinstance(corpus, StreamingCorpus):  # read from disk on every pass, a chunk at a time
        if vocab is None:
            vocab, corpus_tokens = _vocabulary(corpus, config, parent, pretrained, init_vocab)
        encoded = ChunkedCorpus(corpus, vocab, n_tokens=corpus_tokens)
        if resume is not None:
            counts, tokens = resume.info["documents"], resume.info["tokens"]
        else:
            counts, tokens = corpus.counts(), corpus.tokens
    else:
        documents = corpus.documents if isinstance(corpus, CleanCorpus) else list(corpus)
        if vocab is None:
            vocab, _ = _vocabulary(documents, config, parent, pretrained, init_vocab)
        encoded = vocab.encode(documents)
        counts = (corpus.counts() if isinstance(corpus, CleanCorpus)
                  else {"loaded": len(documents), "nonempty": len(documents),
                        "kept": len(documents)})
        tokens = int(sum(len(d) for d in documents))
    if encoded.n_tokens < 2:
        raise SgnsError("the corpus has fewer than two tokens in the vocabulary")
    engine = resume.engine if resume is not None else resolve_engine(config.engine)
    if engine == "keras":
        tensorflow_threads(config)
    config = config.for_engine(engine, accelerator=engine == "keras" and keras_accelerated())
    if (data_parallel or shard_tables) and engine != "keras":
        raise SgnsError("data-parallel training and sharded tables are for the Keras engine "
                        "(--engine keras)")
    distribution = None
    if engine == "keras":
        distribution = _agree_with_other_processes(data_parallel or shard_tables, config, vocab,
                                                   encoded, resume, shard_tables)
    if config.subwords and engine == "keras" and not config.shared_negatives:
        raise SgnsError("subwords on the Keras engine draw shared negatives: "
                        "--shared-negatives must be at least 1")
    if config.subwords and resume is None:
        check_memory(config, vocab.size)
    start_rows = None
    if parent is not None:
        start_rows = grown_start(parent, vocab, config)
    elif pretrained is not None:
        start_rows = pretrained_start(pretrained, vocab, config)
        grown["init_vectors"] = {"source": pretrained.source, "words": len(pretrained.vectors),
                                 "found": int(start_rows.given.sum()), "added": init_vocab}
    info = {
        "sgns_version": _version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": counts,
        "tokens": tokens,
        "vocab_size": vocab.size,
        "tokens_in_vocabulary": encoded.n_tokens,
        "engine": engine,
        "backend": "numba" if engine == "native" else _keras_backend(),
        **({"devices": keras_devices()} if engine == "keras" else {}),
        "params": config.to_dict(),
        **({"distribution": distribution} if distribution else {}),
        **(run_info or {}),
        **grown,
        "epochs": list(resume.info["epochs"]) if resume is not None else [],
    }
    if resume is not None and resume.info.get("tokens") != info["tokens"]:
        raise SgnsError(f"the corpus differs from the checkpoint's ({info['tokens']} tokens, "
                        f"the checkpoint was trained on {resume.info.get('tokens')})")
    writer = CheckpointWriter(checkpoint_dir) if checkpoint_dir is not None else None
    hook = _epoch_end_hook(engine, vocab, config, info, evaluate_each_epoch, on_epoch_end,
                           writer, checkpoint_final)
    start_epoch = resume.epochs_done if resume is not None else 0
    state = resume.state if resume is not None else None
    # The engine's modules (numba and its kernels, Keras) are imported before the clock starts:
    # importing is not training (numba's compile, and Keras' of its step, are timed apart:
    # ``compile_seconds``).
    if engine == "native":
        from .native import train_native
    else:
        from .keras_engine import train_keras
    start = time.perf_counter()
    compile_seconds = 0.0
    try:
        if engine == "native":
            center, context, _, compile_seconds = train_native(
                encoded, vocab, config, verbose, hook, state, start_epoch, start_rows,
                # The hook copies the state after the first epoch for its checkpoint.
                state_ahead=writer is not None
                and (checkpoint_final or start_epoch + 1 < config.epochs),
            )
        else:
            center, context, _, compile_seconds = train_keras(
                encoded, vocab, config, callbacks, verbose, hook, state, start_epoch,
                data_parallel, start_rows, shard_tables
            )
    finally:
        if writer is not None:  # the last checkpoint is whole on disk before we go on
            writer.wait()
    info["train_seconds"] = round(time.perf_counter() - start - compile_seconds, 3)
    info["compile_seconds"] = round(compile_seconds, 3)
    if resume is not None:
        info["resumed_after_epoch"] = resume.epochs_done
    if not config.subwords:
        return TrainResult(vocab=vocab, center=center, context=context, config=config,
                           info=info)
    from .native.loop import bag_means

    # The input table: the words' own rows, then the buckets. A word's vector is its bag's mean.
    starts, ids = config.subword_spec().bags(vocab.words)
    return TrainResult(vocab=vocab, center=bag_means(center, starts, ids, config.dim),
                       context=context, config=config, info=info,
                       word_rows=center[: vocab.size], bucket_rows=center[vocab.size:])


def _agree_with_other_processes(split: bool, config: TrainConfig, vocab: Vocabulary,
                                encoded, resume: Checkpoint | None,
                                shard_tables: bool) -> dict | None:
    """With several processes (:mod:`sgns.cluster`): a one-line error on every one of them
    unless they all split their batches and train the same settings on the same corpus.
    Returns what run.json records of the devices when batches are split."""
    from .cluster import agree, process

    _, count = process()
    described = None
    if split:
        described = {"devices": len(keras_devices()), "processes": count,
                     "shard_tables": shard_tables}
    if count == 1:
        return described
    if not split:
        raise SgnsError(f"this process is one of {count} training together: train with "
                        f"data_parallel=True (--data-parallel) or shard_tables=True")
    agree({"params": config.to_dict(), "vocab_size": vocab.size,
           "tokens_in_vocabulary": encoded.n_tokens,
           "epochs_done": resume.epochs_done if resume is not None else 0,
           "distribution": described})
    return described


def _vocabulary(documents: Iterable[Sequence[str]], config: TrainConfig, parent: Parent | None,
                pretrained: Pretrained | None, init_vocab: bool) -> tuple[Vocabulary, int | None]:
    """The run's vocabulary, and how many of the corpus's tokens it holds when that is not the
    sum of its counts (a grown vocabulary counts the parent's tokens too)."""
    if parent is None and not init_vocab:
        return Vocabulary.build(documents, config.min_count, config.max_vocab,
                                config.count_limit), None
    counted = Vocabulary.build(documents, 1, None, config.count_limit)
    if parent is not None:
        vocab = merged_vocabulary(parent.vocab, counted, config.min_count, config.max_vocab)
    else:
        corpus_words = merged_vocabulary(Vocabulary([], []), counted, config.min_count,
                                         config.max_vocab)
        vocab = with_pretrained_words(corpus_words, pretrained.vectors)
    return vocab, tokens_in(counted, vocab)


def _epoch_end_hook(
    engine: str,
    vocab: Vocabulary,
    config: TrainConfig,
    info: dict,
    evaluate_each_epoch: bool,
    then: Callable[[EpochEnd], None] | None,
    writer: CheckpointWriter | None,
    checkpoint_final: bool = True,
) -> Callable[[EpochEnd], None]:
    """After each epoch: evaluate, check for divergence, hand the checkpoint to ``writer``
    (written while the next epoch trains), then call ``then`` (so a hook that stops training
    leaves this epoch saved)."""
    # An untrained model scores (1 + negative) * log 2 per positive pair; ten times that is
    # no longer learning.
    limit = 10 * (1 + config.negative) * math.log(2)
    written: dict = {}  # the state arrays of the checkpoint written last

    def hook(end: EpochEnd) -> None:
        if evaluate_each_epoch:
            from .evaluate import evaluate, summary

            kv = to_keyed_vectors(vocab.words[1:], end.center()[1:])
            end.record["evaluation"] = summary(evaluate(kv))
        loss = end.record["loss"]
        if not math.isfinite(loss) or loss > limit:
            kept = (f"; the checkpoint after epoch {end.epoch} is kept in {writer.folder}"
                    if writer is not None and end.epoch > 0 else "")
            raise SgnsError(f"training diverged in epoch {end.epoch + 1} (loss {loss:.4g}): "
                            f"lower the learning rate (--lr, now {config.lr:g}){kept}")
        info["epochs"].append(end.record)
        if writer is not None and (checkpoint_final or end.epoch + 1 < config.epochs):
            record = {**info, "status": f"running: {end.epoch + 1} of {config.epochs} epochs"}
            # The last checkpoint is on disk: this epoch's state is copied into its arrays
            # (fresh 60 MB each epoch measured 10 to 130 ms, page faults included).
            writer.wait()
            written["state"] = end.state(written.get("state"))
            writer.submit(Checkpoint(engine, end.epoch + 1, written["state"], vocab, config,
                                     info),
                          record)
        if then is not None:
            then(end)

    return hook


def _keras_backend() -> str:
    return import_keras().backend.backend()


def _version() -> str:
    from . import __version__

    return __version__
