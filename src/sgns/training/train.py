"""``train()``: a training run from tokenised documents to embeddings, read top to bottom:
the settings and where the run starts, the vocabulary and the encoded corpus, the engine, the
run record, the epochs (with their hook: :mod:`sgns.training.hooks`), the result."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..config import TrainConfig
from ..encoding.bags import bag_means
from ..encoding.ingest import ScannedCorpus
from ..encoding.subwords import word_bags
from ..encoding.token_lists import scanned_documents
from ..encoding.vocab import ChunkedCorpus, Vocabulary
from ..engines.base import Engine, EngineResult, EpochEnd
from ..engines.choice import resolve_engine
from ..errors import SgnsError
from ..text.cleaning import CleanCorpus, StreamingCorpus
from ..version import __version__
from .checkpoint import CHECKPOINT_INTERVAL, Checkpoint, CheckpointWriter, check_interval
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
from .hooks import epoch_end_hook
from .memory import check_memory
from .result import TrainResult

if TYPE_CHECKING:
    from gensim.models import KeyedVectors


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
    checkpoint_interval: float = CHECKPOINT_INTERVAL,
    parent: TrainResult | str | os.PathLike | None = None,
    init_vectors: Pretrained | KeyedVectors | str | os.PathLike | None = None,
    init_vocab: bool = False,
    shard_tables: bool = False,
) -> TrainResult:
    """Train skip-gram embeddings on tokenised documents.

    ``corpus`` is a :class:`CleanCorpus` (from :func:`sgns.clean`), any iterable of lists of
    ``str`` tokens (counted at compiled speed: :mod:`sgns.encoding.token_lists`),
    or a :class:`StreamingCorpus`, which is read from disk on every pass so that memory holds
    the vocabulary, the tables and one chunk of word ids, never the corpus.
    ``callbacks`` are Keras callbacks, for the Keras engine. ``evaluate_each_epoch`` records
    WordSim-353, SimLex-999 and Google-analogy figures in every epoch's record;
    ``on_epoch_end(EpochEnd)`` is any other per-epoch hook. With ``checkpoint_dir``, a checkpoint
    and the run record so far are saved there after an epoch when ``checkpoint_interval``
    seconds have passed since the last one (0: after every epoch), after the last epoch, and
    when the run stops early (an exception, Ctrl-C), so that the last finished epoch is kept;
    ``resume`` (from :func:`sgns.load_checkpoint`) continues such a run. A loss that stops
    being finite or explodes ends training with :class:`SgnsError`, the last checkpoint kept.
    ``run_info`` is added to the run record (the CLI records the corpus there).
    ``data_parallel`` (Keras engine, JAX) splits every batch across all devices Keras sees,
    those of several processes after :func:`sgns.engines.keras.cluster.join` (every process
    calls ``train`` alike; see that module); ``shard_tables`` also splits the tables' rows
    across them.
    ``checkpoint_final=False`` skips the checkpoint after the last epoch, for a caller that
    saves the finished run at once (the command line): that write would be thrown away.

    ``parent`` (a :class:`TrainResult` or a run folder) continues a finished run on this
    corpus: its tables and vocabulary are kept, the new words added, and its model settings
    taken (``config=None`` means the defaults with them); see :mod:`sgns.training.grow`.
    ``init_vectors`` (a ``KeyedVectors`` or a vectors file) starts the input rows of the
    words it holds from its vectors; ``init_vocab`` also adds its words that the corpus lacks.
    """
    check_interval(checkpoint_interval)
    config, parent, pretrained, grown = _starting_point(config, resume, parent, init_vectors,
                                                        init_vocab)
    if resume is not None:
        vocab = resume.vocab
    vocab, encoded, counts, tokens = _encoded(corpus, config, vocab, resume, parent, pretrained,
                                              init_vocab)
    engine, config, distribution = _engine_for(config, vocab, encoded, resume, data_parallel,
                                               shard_tables)
    start = None
    if parent is not None:
        start = grown_start(parent, vocab, config)
    elif pretrained is not None:
        start = pretrained_start(pretrained, vocab, config)
        grown["init_vectors"] = {"source": pretrained.source, "words": len(pretrained.vectors),
                                 "found": int(start.given.sum()), "added": init_vocab}
    info = _run_record(engine, config, vocab, encoded, counts, tokens, distribution, run_info,
                       grown, resume)
    writer = (CheckpointWriter(checkpoint_dir, checkpoint_interval)
              if checkpoint_dir is not None else None)
    hook = epoch_end_hook(engine, vocab, config, info, evaluate_each_epoch, on_epoch_end,
                          writer, checkpoint_final)
    start_epoch = resume.epochs_done if resume is not None else 0
    # The engine's modules (numba and its kernels, Keras) are imported before the clock starts:
    # importing is not training (numba's compile, and Keras' of its step, are timed apart:
    # ``compile_seconds``).
    run_engine = _engine_function(engine)
    began = time.perf_counter()
    try:
        done = run_engine(
            corpus=encoded, vocab=vocab, config=config, verbose=verbose, on_epoch_end=hook,
            resume=resume.state if resume is not None else None, start_epoch=start_epoch,
            start=start, callbacks=callbacks, data_parallel=data_parallel,
            shard_tables=shard_tables,
            # The hook copies the state after the first epoch for its checkpoint.
            state_ahead=writer is not None
            and (checkpoint_final or start_epoch + 1 < config.epochs),
        )
    except BaseException:
        if writer is not None:  # a run that stops early keeps its last finished epoch
            writer.flush()
        raise
    finally:
        if writer is not None:  # the last checkpoint is whole on disk before we go on
            writer.wait()
    info["train_seconds"] = round(time.perf_counter() - began - done.compile_seconds, 3)
    info["compile_seconds"] = round(done.compile_seconds, 3)
    if resume is not None:
        info["resumed_after_epoch"] = resume.epochs_done
    return _result(done, vocab, config, info)


def _starting_point(config, resume, parent, init_vectors, init_vocab):
    """The run's settings, its parent run or pretrained vectors, and what run.json records of
    them: a resumed run's own, else from ``parent`` or ``init_vectors`` where given."""
    grown: dict = {}  # what run.json records of a parent or pretrained vectors
    if resume is not None:
        grown = {k: resume.info[k] for k in ("parent", "init_vectors") if k in resume.info}
        return resume.config, None, None, grown
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
    return config or TrainConfig(), parent, pretrained, grown


def _encoded(corpus, config, vocab, resume, parent, pretrained, init_vocab):
    """``(vocab, encoded, counts, tokens)``: the vocabulary (built here unless given), the
    corpus as ids (in memory, or a chunk at a time from disk), its document counts and its
    tokens before the vocabulary."""
    corpus_tokens = resume.info.get("tokens_in_vocabulary") if resume is not None else None
    if (not isinstance(corpus, ScannedCorpus | StreamingCorpus)
            and config.count_limit is None):
        # Token lists in memory, counted and numbered at compiled speed (20 Newsgroups' token
        # lists: 0.18 s of Counter and dict lookups became 0.11 s), then as any corpus read
        # as ids. count_limit's pruning is Vocabulary.build's.
        corpus = scanned_documents(corpus)
    if isinstance(corpus, ScannedCorpus):  # read and counted already, as ids
        if vocab is None:
            vocab, _ = _vocabulary(corpus.vocabulary, config, parent, pretrained, init_vocab)
        encoded = corpus.encode(vocab)
        counts, tokens = corpus.counts(), corpus.tokens
    elif isinstance(corpus, StreamingCorpus):  # read from disk on every pass, a chunk at a time
        if vocab is None:
            vocab, corpus_tokens = _vocabulary(_counter(corpus, config), config, parent,
                                               pretrained, init_vocab)
        encoded = ChunkedCorpus(corpus, vocab, n_tokens=corpus_tokens)
        if resume is not None:
            counts, tokens = resume.info["documents"], resume.info["tokens"]
        else:
            counts, tokens = corpus.counts(), corpus.tokens
    else:
        documents = corpus.documents if isinstance(corpus, CleanCorpus) else list(corpus)
        if vocab is None:
            vocab, _ = _vocabulary(_counter(documents, config), config, parent, pretrained,
                                   init_vocab)
        encoded = vocab.encode(documents)
        counts = (corpus.counts() if isinstance(corpus, CleanCorpus)
                  else {"loaded": len(documents), "nonempty": len(documents),
                        "kept": len(documents)})
        tokens = int(sum(len(d) for d in documents))
    if encoded.n_tokens < 2:
        raise SgnsError("the corpus has fewer than two tokens in the vocabulary")
    return vocab, encoded, counts, tokens


def _engine_for(config, vocab, encoded, resume, data_parallel, shard_tables):
    """``(engine, config, distribution)``: the engine that trains (a resumed run's own), the
    settings with its defaults filled in, and what run.json records of the devices."""
    from ..engines.keras.backend import keras_accelerated, tensorflow_threads

    if config.loss == "hs" and config.engine == "keras":
        raise SgnsError("hierarchical softmax (--loss hs) is trained by the native engine: "
                        "use --engine native")
    engine = resume.engine if resume is not None else resolve_engine(
        "native" if config.loss == "hs" else config.engine)
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
    return engine, config, distribution


def _engine_function(engine: str) -> Engine:
    if engine == "native":
        from ..engines.native import train_native

        return train_native
    from ..engines.keras.driver import train_keras

    return train_keras


def _run_record(engine, config, vocab, encoded, counts, tokens, distribution, run_info, grown,
                resume) -> dict:
    """What run.json says of the run before its first epoch."""
    if engine == "keras":
        from ..engines.keras.backend import import_keras, keras_devices

        backend = {"backend": import_keras().backend.backend(), "devices": keras_devices()}
    else:
        backend = {"backend": "numba"}
    info = {
        "sgns_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": counts,
        "tokens": tokens,
        "vocab_size": vocab.size,
        "tokens_in_vocabulary": encoded.n_tokens,
        "engine": engine,
        **backend,
        "params": config.to_dict(),
        **({"distribution": distribution} if distribution else {}),
        **(run_info or {}),
        **grown,
        "epochs": list(resume.info["epochs"]) if resume is not None else [],
    }
    if resume is not None and resume.info.get("tokens") != info["tokens"]:
        raise SgnsError(f"the corpus differs from the checkpoint's ({info['tokens']} tokens, "
                        f"the checkpoint was trained on {resume.info.get('tokens')})")
    return info


def _result(done: EngineResult, vocab: Vocabulary, config: TrainConfig,
            info: dict) -> TrainResult:
    if not config.subwords:
        return TrainResult(vocab=vocab, input_table=done.input_table,
                           output_table=done.output_table, config=config, info=info)
    # The input table: the words' own rows, then the buckets. A word's vector is its bag's mean.
    table = done.input_table
    starts, ids = word_bags(config.subword_spec(), vocab.words)
    return TrainResult(vocab=vocab, input_table=bag_means(table, starts, ids, config.dim),
                       output_table=done.output_table, config=config, info=info,
                       word_rows=table[: vocab.size], bucket_rows=table[vocab.size:])


def _agree_with_other_processes(split: bool, config: TrainConfig, vocab: Vocabulary,
                                encoded, resume: Checkpoint | None,
                                shard_tables: bool) -> dict | None:
    """With several processes (:mod:`sgns.engines.keras.cluster`): a one-line error on every
    one of them unless they all split their batches and train the same settings on the same corpus.
    Returns what run.json records of the devices when batches are split."""
    from ..engines.keras.backend import keras_devices
    from ..engines.keras.cluster import agree, process

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


def _counter(documents: Iterable[Sequence[str]], config: TrainConfig
             ) -> Callable[[int, int | None], Vocabulary]:
    """Counts ``documents`` into a vocabulary for a ``min_count`` and ``max_vocab``."""
    return lambda min_count, max_vocab: Vocabulary.build(documents, min_count, max_vocab,
                                                         config.count_limit)


def _vocabulary(count: Callable[[int, int | None], Vocabulary], config: TrainConfig,
                parent: Parent | None, pretrained: Pretrained | None, init_vocab: bool
                ) -> tuple[Vocabulary, int | None]:
    """The run's vocabulary from ``count(min_count, max_vocab)``, and how many of the corpus's
    tokens it holds when that is not the sum of its counts (a grown vocabulary counts the
    parent's tokens too)."""
    if parent is None and not init_vocab:
        return count(config.min_count, config.max_vocab), None
    counted = count(1, None)
    if parent is not None:
        vocab = merged_vocabulary(parent.vocab, counted, config.min_count, config.max_vocab)
    else:
        corpus_words = merged_vocabulary(Vocabulary([], []), counted, config.min_count,
                                         config.max_vocab)
        vocab = with_pretrained_words(corpus_words, pretrained.vectors)
    return vocab, tokens_in(counted, vocab)
