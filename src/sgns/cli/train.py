"""``sgns train``: the options made into settings, then :func:`sgns.train`, then the run
folder."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from ..config import TrainConfig
from ..errors import SgnsError
from ..training.result import RUN_FILES
from .common import PROBE_WORDS, map_words

# The options that set a TrainConfig field: every field, under its own name.
CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))




def run(args: argparse.Namespace) -> int:
    from ..text.corpus import NEWSGROUPS

    checkpoint, parent, pretrained, config, out, source, cluster = _settings(args)
    writes = cluster is None or cluster.writes  # process 0 alone writes files
    quiet = args.quiet or not writes
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    liveness = None
    if cluster is not None:
        from ..engines.keras.cluster import join

        print(f"process {cluster.process_id} of {cluster.num_processes}: joining "
              f"{cluster.coordinator} ...", file=sys.stderr)
        liveness = join(cluster, on_lost=lambda pid, why: _lost(cluster, out, pid, why))

    if source["source"] != NEWSGROUPS and not Path(source["source"]).exists():
        raise SgnsError(f"corpus not found: {source['source']}")
    from ..engines.choice import resolve_engine

    if cluster is None and resolve_engine(config.engine) == "native":
        from ..engines.native import compile_ahead

        compile_ahead(config)  # a first run's compile, on another core while the corpus is read
    corpus = _read(source, config, args, say, quiet)
    phrases = None
    if source.get("phrases"):
        corpus, phrases = _phrased(corpus, source, say, quiet)
    try:
        return _train_and_save(args, corpus, config, checkpoint, out, writes, cluster, source,
                               parent, pretrained, say, liveness, phrases)
    except Exception:
        # A collective that fails is often the first sign of a lost process: its link says
        # which (and ends this process) within moments.
        if liveness is not None and liveness.wait_for_loss(cluster.timeout):
            time.sleep(cluster.timeout)
        raise


def _lost(cluster, out: Path, pid: int, why: str) -> None:
    """A process of the run is gone: one line, the last checkpoint, exit status 2, at once
    (JAX's runtime would otherwise end this process with a fatal log). The checkpoint on disk
    is whole: it is written beside and renamed."""
    from ..training.checkpoint import checkpoint_epochs

    who = ("a process" if pid < 0 else f"process {pid}" + (" (the coordinator)" if pid == 0
                                                            else ""))
    if cluster.writes:
        epochs = checkpoint_epochs(out)
        kept = (f"the checkpoint after epoch {epochs} is in {out}: start every process again "
                f"with --resume {out}" if epochs else "no epoch had finished: start again")
    else:
        kept = "process 0 keeps the checkpoints: start every process again with --resume"
    sys.stderr.write(f"sgns train: error: {who} of {cluster.num_processes} is lost: {why}; "
                     f"{kept}\n")
    sys.stderr.flush()
    os._exit(2)


def _read(source: dict, config, args: argparse.Namespace, say, quiet: bool):
    """The corpus, read and cleaned: by the compiled scanner where the cleaning allows it
    (``notebook``, ``none``; the counts then exact, no ``--count-limit``), else in Python;
    spilled to disk or read again on every pass with ``--stream``."""
    from ..encoding.ingest import scan_corpus
    from ..text.cleaning import Cleaner, StreamingCorpus, clean
    from ..text.corpus import NEWSGROUPS, load_corpus

    cleaner = Cleaner.mode(source["cleaning"])
    stream = bool(source.get("stream"))
    say(f"{'streaming' if stream else 'loading'} corpus {source['source']} ...")
    if source["source"] == NEWSGROUPS or not stream:
        docs = load_corpus(source["source"], archive=args.archive, data_home=args.data_home,
                           encoding=source["encoding"])
    scanned = None
    if config.count_limit is None:
        text = docs if source["source"] == NEWSGROUPS else source["source"]
        scanned = scan_corpus(text, cleaner, encoding=source["encoding"], stream=stream,
                              progress=not quiet)
    if scanned is not None:
        corpus = scanned
        if scanned.undecodable:
            source["undecodable"] = scanned.undecodable  # recorded in run.json
            print(f"{scanned.undecodable:,} undecodable byte sequence(s) in the corpus, read "
                  "as U+FFFD", file=sys.stderr)
    elif stream:
        return StreamingCorpus(source["source"], cleaner, source["encoding"])
    else:
        corpus = clean(docs, cleaner)
    counts = corpus.counts()
    say(f"documents: {counts['loaded']:,} loaded, {counts['nonempty']:,} non-empty, "
        f"{counts['kept']:,} kept; {corpus.tokens:,} tokens")
    return corpus


def _phrased(corpus, source: dict, say, quiet: bool):
    """The corpus with its phrases joined, as ``source["phrases"]`` asks, and the phrases."""
    from ..encoding.ingest import ScannedCorpus
    from ..encoding.phrases import PhraseSettings, learn_phrases
    from ..encoding.token_lists import scanned_documents

    asked = dict(source["phrases"])
    passes = asked.pop("passes")
    settings = PhraseSettings(**{**asked, "connector_words": frozenset(asked["connector_words"])})
    if not isinstance(corpus, ScannedCorpus):  # cleaned in Python (any-script)
        corpus = scanned_documents(corpus, stream=bool(source.get("stream")))
    model, corpus = learn_phrases(corpus, settings, passes, progress=not quiet)
    say(f"phrases: {len(model.phrases()):,} found in {passes} pass(es); {corpus.tokens:,} "
        "tokens after joining")
    return corpus, model


def _settings(args: argparse.Namespace):
    """What the options ask for: a checkpoint to resume, or a parent run, pretrained vectors,
    the settings, the run folder and the corpus's description, and this process's place
    among several (None alone). Every check that needs no work is made here."""
    from ..config import preset
    from ..text.corpus import NEWSGROUPS
    from ..training.checkpoint import check_interval, load_checkpoint
    from ..training.result import check_output_dir

    overrides = {k: getattr(args, k) for k in CONFIG_FIELDS if getattr(args, k, None) is not None}
    given = [f"--{k.replace('_', '-')}" for k in ("min_n", "max_n", "buckets") if k in overrides]
    if given and not args.subwords:
        raise SgnsError(f"{', '.join(given)} set(s) the subword model: add --subwords")
    if args.checkpoint_interval is not None:
        check_interval(args.checkpoint_interval)
    checkpoint = parent = pretrained = None
    if args.init_vocab and not args.init_vectors:
        raise SgnsError("--init-vocab adds the words of --init-vectors: give --init-vectors")
    if args.from_run and args.init_vectors:
        raise SgnsError("--from continues a run with its own vectors; --init-vectors starts a "
                        "new one from a file: give one of them")
    if args.resume:
        if (overrides or args.out or args.preset != "word2vec" or args.cleaning
                or args.from_run or args.init_vectors):
            raise SgnsError("--resume continues a run with the settings it was started with; "
                            "give no training, cleaning, --from, --init-vectors or --out "
                            "options with it")
        checkpoint = load_checkpoint(args.resume)
        out, config, source = Path(args.resume), checkpoint.config, checkpoint.info["corpus"]
        cluster = _cluster(args, config)
    else:
        if args.from_run:
            from ..training.grow import MODEL_SETTINGS, Parent

            parent = Parent.load(args.from_run)
            # The parent's model settings, unless given (a different value fails in train).
            overrides = {**{k: getattr(parent.config, k) for k in MODEL_SETTINGS}, **overrides}
        if args.init_vectors:
            from ..training.grow import read_pretrained

            pretrained = read_pretrained(args.init_vectors)
            overrides.setdefault("dim", pretrained.vectors.vector_size)
        config = preset(args.preset, **overrides)  # invalid values fail here, before any work
        out = Path(args.out or f"runs/sgns-{datetime.now():%Y%m%d-%H%M%S}")
        cluster = _cluster(args, config)
        if cluster is None or cluster.writes:
            check_output_dir(out, args.overwrite)
        if parent is not None and out.resolve() == Path(parent.path):
            raise SgnsError("--out is the run that --from continues: write to another folder")
        if args.stream and args.corpus == NEWSGROUPS:
            raise SgnsError("--stream reads a corpus from disk; 20newsgroups comes from "
                            "scikit-learn, in memory")
        source = {"source": str(args.corpus), "encoding": args.encoding,
                  "cleaning": args.cleaning or ("notebook" if args.corpus == NEWSGROUPS
                                                else "any-script"),
                  "stream": args.stream}
        if args.phrases:
            from .phrases import phrase_settings

            if config.count_limit is not None:
                raise SgnsError("--phrases counts every word and pair exactly: leave out "
                                "--count-limit")
            if args.phrases < 0:
                raise SgnsError(f"--phrases must be >= 0, got {args.phrases}")
            source["phrases"] = {"passes": args.phrases,
                                 **phrase_settings(args, "phrase_").to_dict()}
    return checkpoint, parent, pretrained, config, out, source, cluster


def _train_and_save(args, corpus, config, checkpoint, out, writes, cluster, source, parent,
                    pretrained, say, liveness=None, phrases=None) -> int:
    """Train, then write the run folder, its plots and the first neighbours."""
    from ..training.train import train

    quiet = args.quiet or not writes
    if writes and checkpoint is None and out.exists():  # --overwrite: the old run goes now
        shutil.rmtree(out)
    if checkpoint is not None:
        say(f"resuming after epoch {checkpoint.epochs_done} of {config.epochs}")
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops a run as Ctrl-C does
    try:
        result = train(corpus, config, verbose=not quiet, evaluate_each_epoch=args.evaluate,
                       checkpoint_dir=out if writes else None, resume=checkpoint,
                       run_info={"corpus": source},
                       data_parallel=args.data_parallel or cluster is not None,
                       shard_tables=args.shard_tables, parent=parent,
                       init_vectors=pretrained, init_vocab=args.init_vocab,
                       checkpoint_final=False,  # the run folder is saved right after
                       checkpoint_interval=_checkpoint_interval(args, cluster))
        if liveness is not None:
            liveness.finish()  # the processes are done with each other
    except KeyboardInterrupt:
        kept = _saved_epochs(out) if writes else "process 0 keeps the checkpoints"
        print(f"sgns train: interrupted; {kept}", file=sys.stderr)
        return 130
    info = result.info
    if not writes:
        print(f"process {cluster.process_id} of {cluster.num_processes}: trained "
              f"{len(info['epochs'])} epochs in {info['train_seconds']:.1f} s; process 0 "
              f"writes {out}/", file=sys.stderr)
        return 0
    if source.get("stream"):
        d = info["documents"]
        say(f"documents: {d['loaded']:,} loaded, {d['nonempty']:,} non-empty, {d['kept']:,} "
            f"kept; {info['tokens']:,} tokens")
    say(f"vocabulary: {len(result.vocab):,} words; engine {info['engine']} ({info['backend']}); "
        f"trained in {info['train_seconds']:.1f} s"
        + (f" (+{info['compile_seconds']:.1f} s compiling)"
           if info["compile_seconds"] > 0.5 else ""))
    result.save(out, overwrite=True)  # our own run folder; the checkpoint goes with it
    written = list(RUN_FILES)
    if phrases is not None:  # what sgns phrases --model joins in new text
        phrases.save(out / "phrases.json")
        written.append("phrases.json")
    if args.plots:
        from ..embeddings.plots import plot_training, plot_words

        try:  # the vectors are saved already: a picture that cannot be drawn only gets a note
            plot_training(info, out / "training.png")
            plot_words(result.keyed_vectors(), map_words(result.keyed_vectors()),
                       out / "words.png")
            written += ["training.png", "words.png"]
        except SgnsError as exc:
            print(f"no plots: {exc}", file=sys.stderr)
    if args.diagram:
        from ..engines.keras.diagram import draw_diagram

        if draw_diagram(result.vocab.size, config.dim, out / "model.png"):
            written.append("model.png")
        else:
            print("no model diagram: it needs pydot and Graphviz "
                  "(pip install pydot; apt-get install graphviz, or brew install graphviz)",
                  file=sys.stderr)
    print(f"wrote {out}/ ({', '.join(written)})")
    if not args.quiet:
        kv = result.keyed_vectors()
        for word in (w for w in PROBE_WORDS if w in kv.key_to_index):  # trained words only
            neighbours = ", ".join(w for w, _ in kv.most_similar(word, topn=8))
            print(f"  {word}: {neighbours}")
    return 0


def _cluster(args: argparse.Namespace, config):
    """This process's place among several (--coordinator ...), or None when it trains alone."""
    from ..engines.keras.cluster import Cluster

    given = (args.coordinator, args.num_processes, args.process_id)
    if all(v is None for v in given):
        return None
    if any(v is None for v in given):
        raise SgnsError("--coordinator, --num-processes and --process-id go together")
    if config.engine != "keras":
        raise SgnsError("several processes (--coordinator) train on the Keras engine: "
                        "add --engine keras")
    return Cluster(args.coordinator, args.num_processes, args.process_id, args.join_timeout)


def _checkpoint_interval(args: argparse.Namespace, cluster) -> float:
    """--checkpoint-interval, else 30 s alone and every epoch for several processes: a lost
    process ends the others at once, with no time to write what is pending."""
    from ..training.checkpoint import CHECKPOINT_INTERVAL

    if args.checkpoint_interval is not None:
        return args.checkpoint_interval
    return CHECKPOINT_INTERVAL if cluster is None else 0.0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _saved_epochs(out: Path) -> str:
    from ..training.checkpoint import checkpoint_epochs

    epochs = checkpoint_epochs(out)  # the checkpoint, not run.json: it is what --resume reads
    if epochs == 0:
        return "no epoch had finished, nothing was saved"
    return f"{epochs} finished epoch(s) are saved: continue with sgns train --resume {out}"
