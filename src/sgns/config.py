"""Training parameters, validated up front, and the named presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import SgnsError

ENGINES = ("auto", "keras", "native")
NOISE_KINDS = ("uniform", "unigram")  # uniform (Keras 2's skipgrams) or unigram**0.75 (word2vec)
MODELS = ("skipgram", "cbow")
OPTIMIZERS = ("sgd", "adam")
INITS = ("word2vec", "keras")
SCHEDULES = ("linear", "constant")
UPDATES = ("window", "pair")
LOSSES = ("ns", "hs")  # negative sampling, or hierarchical softmax over a Huffman tree

# How each default below was chosen, with its measurements and the commands behind them:
# docs/defaults.md.

# Keras engine, CBOW: consecutive windows a step takes together (sgns.engines.keras.runs).
CBOW_RUN = 64
# Native engine, CBOW: consecutive center words that share one draw of negatives.
CBOW_SHARE = 4
# Starting learning rates by (engine, model); the native ones are word2vec.c's. The Keras
# engine's CBOW gives each context row its share of the gradient, so it needs a larger rate.
DEFAULT_LR = {
    ("native", "skipgram"): 0.025,
    ("native", "cbow"): 0.05,
    ("keras", "skipgram"): 0.025,
    ("keras", "cbow"): 0.1,
    ("keras", "skipgram+subwords"): 0.06,
    ("keras", "cbow+subwords"): 0.05,
}
# The Keras engine's pairs per step when none is given: large steps on a GPU or TPU (skip-gram
# only: CBOW and subwords diverge there at their default rates), 4096 on a CPU.
CPU_BATCH, ACCELERATOR_BATCH = 4096, 32768
# Native engine, --update window: a skip-gram window of this many context words or more is
# written in two parts, split at its center (sgns.engines.native.windows._split_at, for every
# HogBatch window kernel).
SPLIT_WINDOW = 10
# A document longer than this many words (after cleaning) is kept as pieces of this many, in
# order, as gensim's LineSentence and corpus_file reading cut a line (max_sentence_length):
# what one document holds in memory, read or trained, stays bounded, one line of 500 MB
# included. No window crosses a cut.
LONGEST_DOCUMENT = 10_000


@dataclass(frozen=True)
class SubwordSpec:
    """How words are cut into n-grams (fastText's), and how many bucket rows they hash into;
    :func:`sgns.encoding.subwords.word_bags` makes each word's bag of rows from it."""

    min_n: int = 3
    max_n: int = 6
    buckets: int = 2_000_000

    def __post_init__(self) -> None:
        if self.min_n < 1:
            raise SgnsError(f"min_n must be >= 1, got {self.min_n}")
        if self.max_n < self.min_n:
            raise SgnsError(f"max_n ({self.max_n}) must be >= min_n ({self.min_n})")
        if self.buckets < 1:
            raise SgnsError(f"buckets must be >= 1, got {self.buckets}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Defaults: word2vec's skip-gram recipe (see
    docs/defaults.md for the measurements behind them)."""

    engine: str = "auto"  # auto: native unless Keras sees an accelerator
    model: str = "skipgram"  # skipgram, or cbow: the center word from the mean of its window
    dim: int = 100
    window: int = 10
    shrink_window: bool = True  # word2vec draws each center's window from 1..window
    loss: str = "ns"  # ns: negative sampling; hs: hierarchical softmax (native engine)
    negative: float = 5.0  # negatives per positive pair (negative sampling)
    noise: str = "unigram"  # unigram**0.75 (word2vec) or uniform (Keras 2's skipgrams)
    sample: float = 1e-3  # frequent-word subsampling threshold; 0 turns it off
    min_count: int = 1  # the notebook keeps every word
    max_vocab: int | None = None
    count_limit: int | None = None  # most distinct words held while counting; None: exact
    epochs: int = 5
    lr: float | None = None  # None: the engine's and model's default (DEFAULT_LR)
    min_lr: float = 0.0001  # the linear schedule ends here, as word2vec's does
    schedule: str = "linear"
    optimizer: str = "sgd"  # keras engine: sgd or adam (the notebook's)
    init: str = "word2vec"
    batch_size: int | None = None  # keras engine: pairs per step; None: CPU_BATCH or the GPU one
    shared_negatives: int = 16  # keras engine: negatives shared by each group of pairs; 0: per pair
    shared_group: int = 256  # keras engine: pairs per group sharing negatives
    # keras engine, CBOW: windows a step takes as runs of consecutive ones of the text; None:
    # CBOW_RUN where the batch splits into whole runs and negatives are shared, else 1.
    cbow_run: int | None = None
    workers: int = 2  # native engine: threads
    update: str = "window"  # native engine: a center's window at once (HogBatch), or pair by pair
    # native engine, CBOW: consecutive center words that share one draw of negatives; 1: fresh
    # negatives for every center, as word2vec; None: CBOW_SHARE.
    cbow_share: int | None = None
    subwords: bool = False  # fastText: a word's input is its row and its n-grams' rows, averaged
    min_n: int = 3  # subwords: shortest n-gram, in characters (fastText's default)
    max_n: int = 6  # subwords: longest n-gram
    buckets: int = 2_000_000  # subwords: rows the n-grams are hashed into (100 dims: 800 MB)
    seed: int = 1

    def __post_init__(self) -> None:
        checks = [
            (self.model in MODELS, f"model must be one of {MODELS}"),
            (self.engine in ENGINES, f"engine must be one of {ENGINES}"),
            (self.dim >= 1, "dim must be >= 1"),
            (self.window >= 1, "window must be >= 1"),
            (self.negative >= 0, "negative must be >= 0"),
            (self.loss in LOSSES, f"loss must be one of {LOSSES}"),
            (self.noise in NOISE_KINDS, f"noise must be one of {NOISE_KINDS}"),
            (self.sample >= 0, "sample must be >= 0"),
            (self.min_count >= 1, "min_count must be >= 1"),
            (self.max_vocab is None or self.max_vocab >= 1, "max_vocab must be >= 1"),
            (self.count_limit is None or self.count_limit >= 1, "count_limit must be >= 1"),
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.lr is None or self.lr > 0, "lr (learning rate) must be > 0"),
            (0 <= self.min_lr <= (self.lr or self.min_lr), "min_lr must be between 0 and lr"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
            (self.init in INITS, f"init must be one of {INITS}"),
            (self.batch_size is None or self.batch_size >= 1, "batch_size must be >= 1"),
            (self.shared_negatives >= 0, "shared_negatives must be >= 0"),
            (self.shared_group >= 1, "shared_group must be >= 1"),
            (self.cbow_run is None or self.cbow_run >= 1, "cbow_run must be >= 1"),
            (self.cbow_run is None or (self.model == "cbow" and not self.subwords),
             "cbow_run is for CBOW without subwords (--model cbow)"),
            (self.workers >= 1, "workers must be >= 1"),
            (self.cbow_share is None or self.cbow_share >= 1, "cbow_share must be >= 1"),
            (self.cbow_share is None or self.model == "cbow",
             "cbow_share is for CBOW (--model cbow): skip-gram's window shares its negatives"),
            (self.update in UPDATES, f"update must be one of {UPDATES}"),
            (self.seed >= 0, "seed must be >= 0"),
            (self.model == "skipgram" or self.update == "window",
             "update='pair' is the skip-gram window's order; CBOW has one example per window"),
            (not (self.subwords and self.update == "pair"),
             "update='pair' is word2vec's order for single words; subwords train the center "
             "word's bag of rows against its whole window"),
        ]
        for ok, message in checks:
            if not ok:
                raise SgnsError(message)
        self.subword_spec()  # checks min_n, max_n and buckets

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def subword_spec(self) -> SubwordSpec:
        """The n-gram settings as a :class:`SubwordSpec` (which validates them)."""
        return SubwordSpec(self.min_n, self.max_n, self.buckets)

    def for_engine(self, engine: str, accelerator: bool = False) -> TrainConfig:
        """This configuration with the learning rate filled in for ``engine`` (``native`` or
        ``keras``) when it was left to the default, on the Keras engine the batch size:
        ``ACCELERATOR_BATCH`` for skip-gram on a GPU or TPU (``accelerator``), else
        ``CPU_BATCH``, and on the native engine CBOW's ``cbow_share``: ``CBOW_SHARE``."""
        if engine == "native" and self.model == "cbow" and self.cbow_share is None:
            return self.replace(cbow_share=CBOW_SHARE).for_engine(engine)
        if engine == "keras" and self.batch_size is None:
            large = accelerator and self.model == "skipgram" and not self.subwords
            return self.replace(
                batch_size=ACCELERATOR_BATCH if large else CPU_BATCH).for_engine(engine)
        if self.lr is not None:
            return self
        model = self.model
        if self.subwords and (engine, f"{model}+subwords") in DEFAULT_LR:
            model += "+subwords"
        lr = DEFAULT_LR[(engine, model)]
        if self.min_lr > lr:
            raise SgnsError(f"min_lr {self.min_lr:g} is above the default learning rate {lr:g}")
        return self.replace(lr=lr)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, dict] = {
    "word2vec": {},
    # The reference notebook: window 10, one uniform negative per positive, no subsampling, Adam
    # at 1e-3, 5 epochs, dimension 100, Keras' default initialisation.
    "notebook": dict(
        window=10, shrink_window=False, negative=1.0, noise="uniform", sample=0.0,
        optimizer="adam", lr=1e-3, schedule="constant", epochs=5, dim=100, init="keras",
        shared_negatives=0, batch_size=1024,
    ),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A named recipe, with any field overridden."""
    if name not in PRESETS:
        raise SgnsError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return TrainConfig(**{**PRESETS[name], **overrides})
