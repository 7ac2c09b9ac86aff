"""The options of ``sgns train``, one group a function."""

from __future__ import annotations

import argparse
import os

from ..config import (
    ACCELERATOR_BATCH,
    CBOW_RUN,
    CBOW_SHARE,
    CPU_BATCH,
    DEFAULT_LR,
    ENGINES,
    INITS,
    LOSSES,
    MODELS,
    NOISE_KINDS,
    OPTIMIZERS,
    PRESETS,
    SCHEDULES,
    SPLIT_WINDOW,
    UPDATES,
    TrainConfig,
)
from ..engines.keras.cluster import DEFAULT_TIMEOUT
from ..training.checkpoint import CHECKPOINT_INTERVAL
from .common import formatter


def add_train_parser(sub) -> None:
    d = TrainConfig()
    t = sub.add_parser(
        "train", formatter_class=formatter,
        help="train embeddings and write a run folder",
        description="Load a corpus, clean it, build the vocabulary, train, and write a run "
        "folder with vectors.txt (word2vec text format), vocab.txt and run.json. Options left "
        "out take the preset's value (the preset 'word2vec' unless --preset says otherwise).",
    )
    io = _corpus_options(t, d)
    _growing_options(t, d, io)
    _cluster_options(t, d, io)
    m = _training_options(t, d)
    _subword_options(t, d, m)
    _phrase_options(t)


def _corpus_options(t: argparse.ArgumentParser, d):
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
    io.add_argument("--cleaning", choices=("notebook", "any-script", "none"),
                    help="'notebook': letters a-z only, words longer than 3 letters (the "
                    "notebook's steps); 'any-script': letters of every script, words of 2 letters "
                    "or more (1 for Hangul, kana, CJK). Both lower-case and drop NLTK's English "
                    "stop words. 'none': tokens split on whitespace, nothing else, as word2vec.c "
                    "and gensim read text (the fastest) [default: notebook for 20newsgroups, "
                    "any-script otherwise]")
    io.add_argument("--encoding", default="utf-8",
                    help="encoding of a user corpus; undecodable bytes are replaced")
    io.add_argument("--out", default=None,
                    help="run folder to write (default: runs/sgns-DATE-TIME)")
    io.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    io.add_argument("--resume", metavar="RUN_DIR",
                    help="continue an interrupted run from its last finished epoch (Ctrl-C, "
                    "SIGTERM or an error first save it), with the settings it was started with")
    io.add_argument("--checkpoint-interval", type=float, default=None, metavar="SECONDS",
                    help="save a checkpoint in the run folder after an epoch when this long has "
                    "passed since the last one; 0: after every epoch. A run stopped by Ctrl-C, "
                    "SIGTERM or an error saves its last finished epoch whatever the interval; "
                    "a process killed outright loses the epochs since the last checkpoint "
                    f"[default: {CHECKPOINT_INTERVAL:g}; 0 with --coordinator, where a lost "
                    "process ends the others at once]")
    return io


def _phrase_options(t: argparse.ArgumentParser) -> None:
    from .phrases import add_phrase_settings

    g = t.add_argument_group("phrases (gensim's Phrases, before the vocabulary is counted)")
    g.add_argument("--phrases", type=int, default=0, metavar="N",
                   help="passes of phrase detection: frequent collocations become one token "
                   "(new_york); 2 give three- and four-word phrases [default: 0, none]")
    add_phrase_settings(g, "phrase-")


def _growing_options(t: argparse.ArgumentParser, d, io) -> None:
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


def _cluster_options(t: argparse.ArgumentParser, d, io) -> None:
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


def _training_options(t: argparse.ArgumentParser, d):
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
                   "window: faster, with noisier neighbours on small corpora (see "
                   f"docs/benchmarks.md) "
                   f"[default: {d.model}]")
    m.add_argument("--epochs", type=int, help=f"passes over the corpus [default: {d.epochs}]")
    m.add_argument("--dim", type=int, help=f"embedding dimension [default: {d.dim}]")
    m.add_argument("--window", type=int, help=f"context words on each side [default: {d.window}]")
    m.add_argument("--fixed-window", dest="shrink_window", action="store_false", default=None,
                   help="always use the full window (the notebook's) instead of word2vec's "
                   "window drawn from 1..window per center word")
    m.add_argument("--loss", choices=LOSSES,
                   help="'ns': negative sampling; 'hs': hierarchical softmax over a Huffman tree "
                   "of the vocabulary (word2vec's -hs 1, gensim's hs=1 negative=0; native engine, "
                   f"--negative unused) [default: {d.loss}]")
    m.add_argument("--negative", type=float,
                   help=f"negative samples per positive pair (--loss ns) [default: {d.negative:g}]")
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
                   f"(about twice the time; see docs/benchmarks.md) [default: {d.update}]")
    m.add_argument("--cbow-share", type=int,
                   help="native engine, --model cbow: consecutive center words that share one "
                   "draw of negatives (their rows are then in cache for all but the first; see "
                   "docs/defaults.md); 1 draws fresh negatives for every center, as word2vec and "
                   f"gensim do [default: {CBOW_SHARE}]")
    return m


def _subword_options(t: argparse.ArgumentParser, d, m) -> None:
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
                   f"consecutive windows, see docs/engines.md) [default: {ACCELERATOR_BATCH} for "
                   f"skip-gram on a GPU or TPU, else {CPU_BATCH}]")
    m.add_argument("--cbow-run", type=int,
                   help=f"keras engine, --model cbow: windows a step takes as runs of "
                   f"consecutive ones of the text, each run's rows gathered once (faster on a "
                   f"CPU); 1 trains window by window, a little better on SimLex-999 (see "
                   f"docs/benchmarks.md) [default: {CBOW_RUN} where the batch splits into whole "
                   f"runs and "
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


