"""``sgns``: a thin command line over the Python API. Bad input ends with one line on stderr and
exit status 2."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from datetime import datetime
from pathlib import Path

from .errors import SgnsError

PROBE_WORDS = ("doctor", "police", "knife", "engine")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


class _Formatter(argparse.HelpFormatter):
    """Appends "[default: X]" to every option whose help does not state its default already."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        flag = isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction)
        if flag or "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return f"{text} [default: {action.default}]"


_formatter = _Formatter


def build_parser() -> argparse.ArgumentParser:
    from .cluster import DEFAULT_TIMEOUT
    from .config import (
        ACCELERATOR_BATCH,
        CBOW_RUN,
        CBOW_SHARE,
        CPU_BATCH,
        DEFAULT_LR,
        ENGINES,
        INITS,
        MODELS,
        OPTIMIZERS,
        PRESETS,
        SCHEDULES,
        SPLIT_WINDOW,
        UPDATES,
        TrainConfig,
    )
    from .export import FORMATS
    from .pairs import NOISE_KINDS

    d = TrainConfig()
    parser = _Parser(
        prog="sgns",
        description="Train word embeddings with skip-gram and negative sampling (word2vec), "
        "then query them.",
        formatter_class=_formatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser(
        "train", formatter_class=_formatter,
        help="train embeddings and write a run folder",
        description="Load a corpus, clean it, build the vocabulary, train, and write a run "
        "folder with vectors.txt (word2vec text format), vocab.txt and run.json. Options left "
        "out take the preset's value (the preset 'word2vec' unless --preset says otherwise).",
    )
    io = t.add_argument_group("corpus and output")
    io.add_argument("--corpus", default="20newsgroups",
                    help="'20newsgroups', a text file (one document per line, .gz allowed) or a "
                    "folder of .txt files (one document each)")
    io.add_argument("--archive", default=os.environ.get("SGNS_20NEWS_ARCHIVE"),
                    help="local 20news-bydate.tar.gz to use instead of downloading "
                    "(default: $SGNS_20NEWS_ARCHIVE)")
    io.add_argument("--data-home", default=None,
                    help="scikit-learn data folder for the 20 Newsgroups cache "
                    "(default: scikit-learn's, ~/scikit_learn_data)")
    io.add_argument("--cleaning", choices=("notebook", "any-script"),
                    help="'notebook': letters a-z only, words longer than 3 letters (the "
                    "notebook's steps); 'any-script': letters of every script, words of 2 letters "
                    "or more (1 for Hangul, kana, CJK). Both lower-case and drop NLTK's English "
                    "stop words [default: notebook for 20newsgroups, any-script otherwise]")
    io.add_argument("--encoding", default="utf-8",
                    help="encoding of a user corpus; undecodable bytes are replaced")
    io.add_argument("--out", default=None,
                    help="run folder to write (default: runs/sgns-DATE-TIME)")
    io.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    io.add_argument("--resume", metavar="RUN_DIR",
                    help="continue an interrupted run from its last finished epoch (a checkpoint "
                    "is saved in the run folder after every epoch; Ctrl-C or SIGTERM stop a run "
                    "cleanly), with the settings it was started with")
    g = t.add_argument_group("growing a model")
    g.add_argument("--from", dest="from_run", metavar="RUN_DIR",
                   help="continue a finished run on new text (--corpus): its tables and "
                   "vocabulary are kept, the corpus's new words added (each seen --min-count "
                   "times), counts summed, and the learning rate scheduled afresh. The model, "
                   "--dim and the subword settings come from the run; giving other values is an "
                   "error [default: start from random tables]")
    g.add_argument("--init-vectors", metavar="FILE",
                   help="start the input vectors of the corpus's words from pretrained ones: "
                   "word2vec text or binary (.bin), fastText .vec, sgns .npz or a run folder. "
                   "Words not in the file start as usual; --dim defaults to the file's "
                   "[default: none]")
    g.add_argument("--init-vocab", action="store_true",
                   help="with --init-vectors: also add the file's words that the corpus lacks "
                   "(count 0: they keep their vectors and are never trained)")
    io.add_argument("--quiet", action="store_true", help="no progress bars or neighbours")
    io.add_argument("--evaluate", action="store_true",
                    help="evaluate after every epoch (WordSim-353, SimLex-999, Google analogies; "
                    "about 4 s each time) and record the figures in run.json")
    io.add_argument("--no-plots", dest="plots", action="store_false",
                    help="do not draw training.png and words.png into the run folder")
    io.add_argument("--stream", action="store_true",
                    help="read a corpus file or folder from disk instead of holding it in "
                    "memory: memory then holds the vocabulary, the tables and one chunk of word "
                    "ids (for corpora larger than memory). After the first epoch the word ids "
                    "are read from a temporary file in $TMPDIR, 4 bytes a token [default: off]")
    io.add_argument("--data-parallel", action="store_true",
                    help="Keras engine on JAX: split every batch across all the devices Keras "
                    "sees (keras.distribution.DataParallel), those of every process with "
                    "--coordinator; each step exchanges only the rows its batch touches")
    io.add_argument("--shard-tables", action="store_true",
                    help="Keras engine on JAX: also split the rows of both tables across the "
                    "devices (keras.distribution.ModelParallel), for vocabularies larger than "
                    "one device's memory [default: every device holds both tables]")
    c = t.add_argument_group("several processes (Keras engine on JAX; run the same command "
                             "once per process, changing only --process-id)")
    c.add_argument("--coordinator", metavar="HOST:PORT",
                   help="address of process 0, which listens there; implies --data-parallel "
                   "[default: one process]")
    c.add_argument("--num-processes", type=int, metavar="N",
                   help="how many processes train together [default: 1]")
    c.add_argument("--process-id", type=int, metavar="I",
                   help="this process's number, 0 to N-1; process 0 alone writes the run "
                   "folder, checkpoints and plots [default: 0]")
    c.add_argument("--join-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help="how long to wait for the coordinator, or process 0 for the others, "
                   "before a one-line error [default: %(default)g]")
    io.add_argument("--diagram", action="store_true",
                    help="also draw the Keras model diagram (model.png; needs pydot and Graphviz)")

    m = t.add_argument_group("training (defaults: the word2vec preset)")
    m.add_argument("--preset", default="word2vec", choices=sorted(PRESETS),
                   help="'word2vec': word2vec's skip-gram recipe; 'notebook': the reference "
                   "notebook's (window 10, one uniform negative per pair, no subsampling, Adam at "
                   "1e-3, 5 epochs, dimension 100)")
    m.add_argument("--engine", choices=ENGINES, default=None,
                   help=f"'native' (numba, CPU), 'keras' (Keras 3 on $KERAS_BACKEND, JAX by "
                   f"default) or 'auto': keras when Keras sees a GPU/TPU, else native "
                   f"[default: {d.engine}]")
    m.add_argument("--model", choices=MODELS,
                   help="'skipgram' predicts each context word from the center word; 'cbow' "
                   "(continuous bag of words) predicts the center word from the mean of its "
                   f"window: faster, with noisier neighbours on small corpora (see the README) "
                   f"[default: {d.model}]")
    m.add_argument("--epochs", type=int, help=f"passes over the corpus [default: {d.epochs}]")
    m.add_argument("--dim", type=int, help=f"embedding dimension [default: {d.dim}]")
    m.add_argument("--window", type=int, help=f"context words on each side [default: {d.window}]")
    m.add_argument("--fixed-window", dest="shrink_window", action="store_false", default=None,
                   help="always use the full window (the notebook's) instead of word2vec's "
                   "window drawn from 1..window per center word")
    m.add_argument("--negative", type=float,
                   help=f"negative samples per positive pair [default: {d.negative:g}]")
    m.add_argument("--noise", choices=NOISE_KINDS,
                   help=f"negative distribution: unigram counts**0.75 (word2vec) or uniform "
                   f"(Keras 2's skipgrams) [default: {d.noise}]")
    m.add_argument("--sample", type=float,
                   help=f"frequent-word subsampling threshold, 0 for none [default: {d.sample:g}]")
    m.add_argument("--min-count", type=int,
                   help=f"drop words seen fewer times [default: {d.min_count}, keeps every word]")
    m.add_argument("--max-vocab", type=int,
                   help="keep at most this many most frequent words [default: no limit]")
    m.add_argument("--count-limit", type=int,
                   help="bound the memory of counting words: when more distinct words than "
                   "this are being counted, drop the rarest, as word2vec does (counts may come "
                   "out a little low) [default: no limit, exact counts]")
    m.add_argument("--lr", type=float,
                   help="initial learning rate [default: "
                   + ", ".join(f"{lr:g} for {model} on the {engine} engine"
                               for (engine, model), lr in DEFAULT_LR.items())
                   + "; 1e-3 with --preset notebook]")
    m.add_argument("--min-lr", type=float,
                   help=f"learning rate at the end of the linear schedule [default: {d.min_lr:g}]")
    m.add_argument("--schedule", choices=SCHEDULES,
                   help=f"learning-rate schedule [default: {d.schedule}]")
    m.add_argument("--seed", type=int, help=f"random seed [default: {d.seed}]")
    m.add_argument("--workers", type=int,
                   help=f"native engine: threads [default: {d.workers}]")
    m.add_argument("--update", choices=UPDATES,
                   help="native engine: 'window' computes the updates of a center word's whole "
                   "window from the rows as they were, then writes them (HogBatch, fastest; a "
                   f"window of {SPLIT_WINDOW} context words or more in two parts, split at its "
                   "center); "
                   "'pair' writes them one context word at a time, as word2vec and gensim do "
                   f"(about twice the time; see the README) [default: {d.update}]")
    m.add_argument("--cbow-share", type=int,
                   help="native engine, --model cbow: consecutive center words that share one "
                   "draw of negatives (their rows are then in cache for all but the first; see "
                   "the README); 1 draws fresh negatives for every center, as word2vec and "
                   f"gensim do [default: {CBOW_SHARE}]")
    sw = t.add_argument_group("subwords (fastText)")
    sw.add_argument("--subwords", action="store_const", const=True, default=None,
                    help="fastText's subword model (skip-gram or CBOW, both engines): a word's "
                    "input vector is the mean of its own row and the rows of its character "
                    "n-grams, hashed "
                    "into --buckets rows, so that any word, seen or not, gets a vector. The "
                    "run folder keeps subwords.npz for words outside the vocabulary [default: "
                    "off]")
    sw.add_argument("--min-n", type=int,
                    help=f"with --subwords: shortest n-gram, in characters [default: {d.min_n}]")
    sw.add_argument("--max-n", type=int,
                    help=f"with --subwords: longest n-gram [default: {d.max_n}]")
    sw.add_argument("--buckets", type=int,
                    help="with --subwords: rows the n-grams are hashed into. Memory: buckets x "
                    "dim x 4 bytes, twice while training (the table and its checkpoint copy): "
                    f"800 MB for the table at 2M x 100 [default: {d.buckets}]")
    m.add_argument("--batch-size", type=int,
                   help=f"keras engine: pairs per step (CBOW: windows; a multiple of "
                   f"{CBOW_RUN}, with shared negatives, trains on runs of {CBOW_RUN} "
                   f"consecutive windows, see the README) [default: {ACCELERATOR_BATCH} for "
                   f"skip-gram on a GPU or TPU, else {CPU_BATCH}]")
    m.add_argument("--cbow-run", type=int,
                   help=f"keras engine, --model cbow: windows a step takes as runs of "
                   f"consecutive ones of the text, each run's rows gathered once (faster on a "
                   f"CPU); 1 trains window by window, a little better on SimLex-999 (see the "
                   f"README) [default: {CBOW_RUN} where the batch splits into whole runs and "
                   f"negatives are shared, else 1]")
    m.add_argument("--optimizer", choices=OPTIMIZERS,
                   help=f"keras engine: sparse SGD or lazy Adam [default: {d.optimizer}]")
    m.add_argument("--shared-negatives", type=int,
                   help=f"keras engine: negatives drawn per group of pairs and shared by it; 0 "
                   f"draws --negative per pair [default: {d.shared_negatives}]")
    m.add_argument("--shared-group", type=int,
                   help=f"keras engine: pairs per group sharing negatives "
                   f"[default: {d.shared_group}]")
    m.add_argument("--init", choices=INITS,
                   help=f"initial tables: word2vec's or Keras' default uniform [default: {d.init}]")

    n = sub.add_parser(
        "neighbors", formatter_class=_formatter,
        help="nearest words by cosine similarity",
        description="Print the nearest words with their cosine similarity. Without --negative "
        "each WORD is queried on its own; with --negative the words are combined as in gensim's "
        "most_similar(positive=WORDS, negative=NEGATIVE), e.g. king woman --negative man.",
    )
    n.add_argument("vectors", help="a word2vec file (.txt; .bin for binary) or a run folder")
    n.add_argument("words", nargs="+", metavar="WORD", help="query words")
    n.add_argument("--topn", type=int, default=10, help="how many neighbours")
    n.add_argument("--negative", nargs="+", default=[], metavar="WORD",
                   help="words to subtract; the query words are then combined into one "
                   "query, as in most_similar(positive=..., negative=...) [default: none, each "
                   "word queried on its own]")

    e = sub.add_parser(
        "evaluate", formatter_class=_formatter, help="word similarity and analogy scores",
        description="Spearman rho (and the share of pairs out of vocabulary) on word-pair "
        "similarity sets, accuracy on analogy sets. Without --pairs or --analogies: WordSim-353, "
        "SimLex-999 and the Google analogies, as shipped with gensim.",
    )
    e.add_argument("vectors", help="a run folder, a word2vec file (.txt, .bin) or an .npz")
    e.add_argument("--pairs", nargs="+", default=[], metavar="FILE",
                   help="word-pair files: 'word word score' per line, tab, comma or space "
                   "separated, header and '#' comments allowed [default: with neither option, "
                   "WordSim-353, SimLex-999 and the Google analogies that gensim ships]")
    e.add_argument("--analogies", nargs="+", default=[], metavar="FILE",
                   help="analogy files in the questions-words.txt layout [default: see --pairs]")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser(
        "plot", formatter_class=_formatter, help="training curves and a map of word neighbours",
        description="Draw a 2-D map of chosen words and their nearest neighbours, and, for a run "
        "folder, its training curves (loss, and per-epoch evaluation when recorded). PNG or SVG "
        "by the file name's ending.",
    )
    p.add_argument("source", help="a run folder, or a vectors file (.txt, .bin, .npz)")
    p.add_argument("--words", nargs="+", metavar="WORD",
                   help="words to map [default: doctor police knife engine, those in the "
                   "vocabulary, else the five most frequent words]")
    p.add_argument("--out", help="the map's file [default: words.png in the run folder, or "
                   "beside the vectors file]")
    p.add_argument("--curves", help="the training curves' file, for a run folder "
                   "[default: training.png in the run folder]")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca", help="2-D projection")
    p.add_argument("--neighbours", type=int, default=6, help="neighbours drawn per word")

    x = sub.add_parser(
        "export", formatter_class=_formatter, help="write the vectors in another format",
        description="word2vec-binary: word2vec's binary format (gensim binary=True, word2vec.c). "
        "projector: a folder with vectors.tsv and metadata.tsv for the Embedding Projector. "
        "npz: sgns' compact format (loads fastest; neighbors, evaluate and plot read it). "
        "keras: a .keras model mapping token strings to vectors (StringLookup + Embedding), "
        "which needs TensorFlow: pip install 'sgns[keras-export]'. fasttext: Facebook's fastText "
        "binary (.bin) of a run folder trained with --subwords, which fastText and gensim's "
        "load_facebook_model read, unseen words included.",
    )
    x.add_argument("vectors", help="a run folder, a word2vec file (.txt, .bin) or an .npz")
    x.add_argument("--format", required=True, choices=FORMATS, help="output format")
    x.add_argument("out", help="output file (a folder for projector)")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed on one line
        return int(exit_.code or 0)
    try:
        commands = {"train": _train, "neighbors": _neighbors, "evaluate": _evaluate,
                    "plot": _plot, "export": _export}
        return commands[args.command](args)
    except SgnsError as exc:
        print(f"sgns {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sgns {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (sgns neighbors ... | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


_CONFIG_FIELDS = (
    "engine", "model", "epochs", "dim", "window", "shrink_window", "negative", "noise", "sample",
    "min_count", "max_vocab", "count_limit", "lr", "min_lr", "schedule", "seed", "workers",
    "batch_size", "update", "optimizer", "shared_negatives", "shared_group", "init",
    "subwords", "min_n", "max_n", "buckets", "cbow_run", "cbow_share",
)


def _train(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint
    from .cleaning import Cleaner, StreamingCorpus, clean
    from .config import preset
    from .corpus import NEWSGROUPS, load_corpus
    from .train import check_output_dir, train

    overrides = {k: getattr(args, k) for k in _CONFIG_FIELDS if getattr(args, k) is not None}
    given = [f"--{k.replace('_', '-')}" for k in ("min_n", "max_n", "buckets") if k in overrides]
    if given and not args.subwords:
        raise SgnsError(f"{', '.join(given)} set(s) the subword model: add --subwords")
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
            from .grow import MODEL_SETTINGS, Parent

            parent = Parent.load(args.from_run)
            # The parent's model settings, unless given (a different value fails in train).
            overrides = {**{k: getattr(parent.config, k) for k in MODEL_SETTINGS}, **overrides}
        if args.init_vectors:
            from .grow import read_pretrained

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
    writes = cluster is None or cluster.writes  # process 0 alone writes files
    quiet = args.quiet or not writes
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    if cluster is not None:
        from .cluster import join

        print(f"process {cluster.process_id} of {cluster.num_processes}: joining "
              f"{cluster.coordinator} ...", file=sys.stderr)
        join(cluster)

    if source["source"] != NEWSGROUPS and not Path(source["source"]).exists():
        raise SgnsError(f"corpus not found: {source['source']}")
    if source.get("stream"):
        say(f"streaming corpus {source['source']} (read again on every pass)")
        corpus = StreamingCorpus(source["source"], Cleaner.mode(source["cleaning"]),
                                 source["encoding"])
    else:
        say(f"loading corpus {source['source']} ...")
        docs = load_corpus(source["source"], archive=args.archive, data_home=args.data_home,
                           encoding=source["encoding"])
        corpus = clean(docs, Cleaner.mode(source["cleaning"]))
        say(f"documents: {corpus.loaded:,} loaded, {corpus.nonempty:,} non-empty, "
            f"{corpus.kept:,} kept; {corpus.tokens:,} tokens")
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
                       checkpoint_final=False)  # the run folder is saved right after
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
    written = ["vectors.txt", "vectors.npz", "vocab.txt", "run.json"]
    if args.plots:
        from .plots import plot_training, plot_words

        try:  # the vectors are saved already: a picture that cannot be drawn only gets a note
            plot_training(info, out / "training.png")
            plot_words(result.keyed_vectors(), _map_words(result.keyed_vectors()),
                       out / "words.png")
            written += ["training.png", "words.png"]
        except SgnsError as exc:
            print(f"no plots: {exc}", file=sys.stderr)
    if args.diagram:
        from .model import draw_diagram

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
    from .cluster import Cluster

    given = (args.coordinator, args.num_processes, args.process_id)
    if all(v is None for v in given):
        return None
    if any(v is None for v in given):
        raise SgnsError("--coordinator, --num-processes and --process-id go together")
    if config.engine != "keras":
        raise SgnsError("several processes (--coordinator) train on the Keras engine: "
                        "add --engine keras")
    return Cluster(args.coordinator, args.num_processes, args.process_id, args.join_timeout)


def _neighbors(args: argparse.Namespace) -> int:
    from .vectors import load_vectors, read_npz, vectors_path

    if args.topn < 1:
        raise SgnsError(f"--topn must be >= 1, got {args.topn}")
    from .subwords import SUBWORDS_FILE

    path = vectors_path(args.vectors)  # a run folder or a vectors file
    built = set()  # words outside the vocabulary, built from their n-grams
    if (Path(args.vectors) / SUBWORDS_FILE).is_file():
        kv = load_vectors(args.vectors)
        built = {w for w in [*args.words, *args.negative] if not kv.has_index_for(w)}
    elif path.endswith(".npz"):  # sgns' own vectors: answered without importing gensim
        from .neighbors import NearestWords

        kv = NearestWords(*read_npz(path))
    else:
        kv = load_vectors(path)
    for word in [*args.words, *args.negative]:
        if word not in kv:
            raise SgnsError(f"word {word!r} is not in the vocabulary of {args.vectors}")
    queries = [(args.words, args.negative)] if args.negative else [([w], []) for w in args.words]
    for positive, negative in queries:
        mark = {w: f"{w} (not in the vocabulary: built from its n-grams)" if w in built else w
                for w in [*positive, *negative]}
        title = " + ".join(mark[w] for w in positive) + "".join(f" - {mark[w]}"
                                                                for w in negative)
        print(title)
        for word, score in kv.most_similar(positive=positive, negative=negative, topn=args.topn):
            print(f"  {score:7.4f}  {word}")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _saved_epochs(out: Path) -> str:
    from .checkpoint import checkpoint_epochs

    epochs = checkpoint_epochs(out)  # the checkpoint, not run.json: it is what --resume reads
    if epochs == 0:
        return "no epoch had finished, nothing was saved"
    return f"{epochs} finished epoch(s) are saved: continue with sgns train --resume {out}"


def _map_words(kv) -> list[str]:
    present = [w for w in PROBE_WORDS if w in kv.key_to_index]  # not words built from n-grams
    return present or list(kv.index_to_key[:5])


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from .evaluate import evaluate
    from .vectors import load_vectors

    kv = load_vectors(args.vectors)
    chosen = bool(args.pairs or args.analogies)
    results = evaluate(
        kv,
        pairs={Path(f).stem: f for f in args.pairs} if chosen else None,
        analogies={Path(f).stem: f for f in args.analogies} if chosen else None,
    )
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'set':<22}{'metric':<10}{'value':>8}{'out of vocabulary':>20}")
    for name, r in results.items():
        metric = "spearman" if "spearman" in r else "accuracy"
        print(f"{name:<22}{metric:<10}{r[metric]:>8.4f}{r['oov_ratio']:>19.1%}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    import json

    from .plots import plot_training, plot_words
    from .vectors import load_vectors

    if args.neighbours < 1:
        raise SgnsError(f"--neighbours must be >= 1, got {args.neighbours}")
    source = Path(args.source)
    kv = load_vectors(source)
    folder = source if source.is_dir() else source.parent
    words_file = plot_words(kv, args.words or _map_words(kv), args.out or folder / "words.png",
                            neighbours=args.neighbours, method=args.method)
    print(f"wrote {words_file}")
    if source.is_dir() and (source / "run.json").is_file():
        info = json.loads((source / "run.json").read_text(encoding="utf-8"))
        print(f"wrote {plot_training(info, args.curves or source / 'training.png')}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export, export_fasttext
    from .vectors import load_vectors

    if args.format == "fasttext":
        if not Path(args.vectors).is_dir():
            raise SgnsError("the fasttext format needs a run folder trained with --subwords, "
                            f"not a vectors file: {args.vectors}")
        print(f"wrote {export_fasttext(args.vectors, args.out)}")
        return 0
    kv = load_vectors(args.vectors)
    out = export(kv.index_to_key, kv.vectors, args.format, args.out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
