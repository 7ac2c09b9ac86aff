"""Pair stream: shuffled batches of ``(center, context, label)`` for one epoch (for CBOW,
``(window, center, label)``, a window being a padded row of context ids, shuffled one by one or
in runs of consecutive windows), made with numpy a chunk of documents at a time, so that an
epoch's examples are never all in memory.

Each epoch is planned first (document order, subsampling, window sizes: one byte or so per token),
which gives the exact number of pairs and batches before any pair is made; then each chunk's
pairs are made, shuffled within the chunk and cut into batches. Batches are full-sized except the
last one of the epoch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..config import NOISE_KINDS
from ..errors import SgnsError
from .vocab import EncodedCorpus


def noise_distribution(
    counts: np.ndarray, kind: str = "unigram", power: float = 0.75
) -> np.ndarray:
    """Probability of drawing each id as a negative; id 0 (padding) never.

    ``uniform`` is what Keras 2's ``skipgrams`` does; ``unigram`` is word2vec's counts**0.75
    (Mikolov et al., 2013, "Distributed Representations of Words and Phrases").
    """
    if kind not in NOISE_KINDS:
        raise SgnsError(f"noise must be one of {NOISE_KINDS}, got {kind!r}")
    weights = np.ones(len(counts)) if kind == "uniform" else np.asarray(counts, float) ** power
    weights[0] = 0.0
    return weights / weights.sum()


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Chance that each occurrence of a word survives frequent-word subsampling.

    word2vec.c's formula: with ``t = sample * total``, a word seen ``c`` times is kept with
    probability ``(sqrt(c / t) + 1) * t / c``, capped at 1. ``sample == 0`` keeps everything.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(len(counts))
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    p[counts == 0] = 1.0
    return np.minimum(p, 1.0)


@dataclass(frozen=True)
class PairConfig:
    """How pairs are made. ``negative`` is negatives per positive (a ratio, as in ``skipgrams``)."""

    window: int = 4
    negative: float = 1.0
    noise: str = "uniform"
    sample: float = 0.0
    shrink_window: bool = False  # word2vec draws each center's window from 1..window
    batch_size: int = 1024
    chunk_tokens: int = 100_000
    model: str = "skipgram"  # skipgram: (center, context) pairs; cbow: (window, center)
    # CBOW: windows shuffled in runs of this many consecutive ones, each chunk's last run
    # filled with empty windows (center 0); 1 shuffles them one by one. See EpochPairs.
    run: int = 1
    # Threads that make the chunks' examples (numpy, which lets go of the GIL for its array
    # work); the examples do not depend on it. More than one pays where a device consumes
    # faster than one CPU thread makes (a GPU).
    threads: int = 1

    def __post_init__(self) -> None:
        if self.window < 1:
            raise SgnsError(f"window must be >= 1, got {self.window}")
        if self.negative < 0:
            raise SgnsError(f"negative must be >= 0, got {self.negative}")
        if self.sample < 0:
            raise SgnsError(f"sample must be >= 0, got {self.sample}")
        if self.batch_size < 1:
            raise SgnsError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.noise not in NOISE_KINDS:
            raise SgnsError(f"noise must be one of {NOISE_KINDS}, got {self.noise!r}")
        if self.model not in ("skipgram", "cbow"):
            raise SgnsError(f"model must be skipgram or cbow, got {self.model!r}")
        if self.run < 1:
            raise SgnsError(f"run must be >= 1, got {self.run}")
        if self.threads < 1:
            raise SgnsError(f"threads must be >= 1, got {self.threads}")
        if self.run > 1 and (self.model != "cbow" or self.negative or self.batch_size % self.run):
            raise SgnsError("runs of windows are for CBOW without the stream's negatives, "
                            f"in batches of whole runs (run {self.run}, batch {self.batch_size})")


class PairStream:
    """Epochs of shuffled skip-gram pairs over an encoded corpus."""

    def __init__(
        self, corpus: EncodedCorpus, counts: np.ndarray, config: PairConfig, seed: int = 0
    ) -> None:
        self.corpus = corpus
        self.config = config
        self.seed = seed
        self.vocab_size = len(counts)
        self.keep = keep_probabilities(counts, config.sample)
        self.noise_cdf = np.cumsum(noise_distribution(counts, config.noise))

    def epoch(self, epoch: int) -> EpochPairs:
        return EpochPairs(self, epoch)


class EpochPairs:
    """One epoch's plan; iterate it for the batches. ``n_pairs`` and ``n_batches`` are exact.
    ``n_positive`` counts positive examples: pairs for skip-gram, windows for CBOW."""

    def __init__(self, stream: PairStream, epoch: int) -> None:
        self.stream = stream
        self.rng = np.random.default_rng([stream.seed, epoch])
        corpus, cfg, rng = stream.corpus, stream.config, self.rng
        lengths = np.diff(corpus.starts)
        order = rng.permutation(corpus.n_documents)
        # Chunks: runs of shuffled documents holding about chunk_tokens tokens each.
        ends = np.cumsum(lengths[order])
        cut = np.searchsorted(ends, np.arange(cfg.chunk_tokens, ends[-1], cfg.chunk_tokens))
        self.chunks = [c for c in np.split(order, np.unique(cut + 1)) if len(c)]
        self.kept_ids: list[np.ndarray] = []
        self.kept_docs: list[np.ndarray] = []
        self.windows: list[np.ndarray] = []
        self.n_positive_per_chunk: list[int] = []
        for docs in self.chunks:
            ids, doc_of = _gather(corpus, docs)
            keep = rng.random(ids.size) < stream.keep[ids]
            ids, doc_of = ids[keep], doc_of[keep]
            if cfg.shrink_window:
                b = rng.integers(1, cfg.window + 1, size=ids.size, dtype=np.int32)
            else:
                b = np.full(ids.size, cfg.window, dtype=np.int32)
            self.kept_ids.append(ids)
            self.kept_docs.append(doc_of)
            self.windows.append(b)
            self.n_positive_per_chunk.append(
                _count_windows(doc_of) if cfg.model == "cbow" else _count_pairs(doc_of, b))
        self.n_positive = int(sum(self.n_positive_per_chunk))
        # Examples, with the negatives the stream makes (and the padding of the last runs).
        self.n_pairs = sum(-(-p // cfg.run) * cfg.run + int(p * cfg.negative)
                           for p in self.n_positive_per_chunk)
        self.n_tokens = corpus.n_tokens  # read, as word2vec counts words; kept ones are fewer
        self.n_kept = int(sum(ids.size for ids in self.kept_ids))
        self.n_batches = -(-self.n_pairs // cfg.batch_size)

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        batch = self.stream.config.batch_size
        rest: tuple[np.ndarray, ...] | None = None
        for center, context, label in self._chunks():
            if rest is not None:  # carry the previous chunk's remainder so batches stay full
                fresh = (center, context, label)
                center, context, label = (np.concatenate(p) for p in zip(rest, fresh, strict=True))
            full = (len(center) // batch) * batch
            for s in range(0, full, batch):
                yield center[s : s + batch], context[s : s + batch], label[s : s + batch]
            rest = (center[full:], context[full:], label[full:])
        if rest is not None and len(rest[0]):
            yield rest

    def _chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each chunk's examples, in order. The random draws are taken here, chunk after chunk
        from the epoch's generator (a chunk's draws depend only on its count of positives,
        known from the plan), and the examples built from them, with ``threads`` > 1 in a pool
        that works up to that many chunks ahead: the same examples however many threads."""
        make = self._chunk_windows if self.stream.config.model == "cbow" else self._chunk_pairs
        threads = self.stream.config.threads
        if threads == 1:
            for k in range(len(self.chunks)):
                yield make(k, self._draws(k))
            return
        with ThreadPoolExecutor(threads, thread_name_prefix="sgns-pairs") as pool:
            ahead: deque = deque()
            for k in range(len(self.chunks)):
                ahead.append(pool.submit(make, k, self._draws(k)))
                if len(ahead) > threads:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    def _draws(self, k: int) -> dict[str, np.ndarray]:
        """Chunk ``k``'s random draws, in the order the examples use them: with runs of
        windows, the runs' order; else the positives that the negatives reuse beyond whole
        copies, the noise words and the shuffle of positives and negatives together."""
        cfg, rng = self.stream.config, self.rng
        n_pos = self.n_positive_per_chunk[k]
        if cfg.model == "cbow" and cfg.run > 1:
            return {"runs": rng.permutation(-(-n_pos // cfg.run))}
        n_neg = int(n_pos * cfg.negative)
        draws = {}
        if n_neg:
            draws["extra"] = rng.choice(n_pos, n_neg % n_pos, replace=False)
            draws["noise"] = self._draw_noise(n_neg)
        draws["perm"] = rng.permutation(n_pos + n_neg)
        return draws

    def _chunk_pairs(self, k: int, draws: dict[str, np.ndarray]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.stream.config
        ids, doc_of, b = self.kept_ids[k], self.kept_docs[k], self.windows[k]
        centers, contexts = [], []
        for d in range(1, cfg.window + 1):
            same_doc = doc_of[:-d] == doc_of[d:]
            forward = same_doc & (b[:-d] >= d)  # center i, context i + d
            backward = same_doc & (b[d:] >= d)  # center i + d, context i
            centers += [ids[:-d][forward], ids[d:][backward]]
            contexts += [ids[d:][forward], ids[:-d][backward]]
        return self._with_negatives(np.concatenate(centers), np.concatenate(contexts), draws)

    def _chunk_windows(self, k: int, draws: dict[str, np.ndarray]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CBOW's examples: for each kept token with a non-empty window, the ``2 * window``
        context ids (columns 2(d-1) and 2d-1 hold the words d places left and right; 0 where
        the shrunk window or the document ends) and the token itself.

        With ``run`` > 1 the windows are shuffled in runs of that many in a row, so that a run's
        windows share their rows (the Keras engine's CBOW gathers each once): every kept
        token of a document with two or more is a window, so the word ``d`` places from a
        window's center is the center of the window ``d`` places from it in the run. The
        last run of the chunk is filled with empty windows, which count for nothing."""
        cfg = self.stream.config
        ids, doc_of, b = self.kept_ids[k], self.kept_docs[k], self.windows[k]
        window = np.zeros((ids.size, 2 * cfg.window), dtype=np.int32)
        for d in range(1, cfg.window + 1):
            inside = (doc_of[:-d] == doc_of[d:])
            window[d:, 2 * d - 2] = np.where(inside & (b[d:] >= d), ids[:-d], 0)
            window[:-d, 2 * d - 1] = np.where(inside & (b[:-d] >= d), ids[d:], 0)
        has_context = window.any(axis=1)
        window, center = window[has_context], ids[has_context].astype(np.int32)
        run = cfg.run
        if run == 1:
            return self._with_negatives(window, center, draws)
        pad = -len(center) % run
        window = np.concatenate([window, np.zeros((pad, window.shape[1]), np.int32)])
        center = np.concatenate([center, np.zeros(pad, np.int32)])
        order = (draws["runs"][:, None] * run + np.arange(run)).reshape(-1)
        return window[order], center[order], (center[order] != 0).astype(np.float32)

    def _with_negatives(self, inputs: np.ndarray, outputs: np.ndarray,
                        draws: dict[str, np.ndarray]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positive examples, plus ``negative`` per positive (the inputs of random positives
        with a noise word as output), shuffled together, with the chunk's draws."""
        n_pos = len(outputs)
        if "noise" in draws:
            whole = len(draws["noise"]) // n_pos
            reused = np.concatenate([np.tile(np.arange(n_pos), whole), draws["extra"]])
            inputs = np.concatenate([inputs, inputs[reused]])
            outputs = np.concatenate([outputs, draws["noise"]])
        label = np.zeros(len(outputs), dtype=np.float32)
        label[:n_pos] = 1.0
        perm = draws["perm"]
        if len(perm) != len(outputs):  # the plan's count must be the chunk's: never silently cut
            raise RuntimeError(f"planned {len(perm)} examples, made {len(outputs)}")
        return inputs[perm], outputs[perm], label[perm]

    def _draw_noise(self, n: int) -> np.ndarray:
        stream = self.stream
        if stream.config.noise == "uniform":
            return self.rng.integers(1, stream.vocab_size, size=n, dtype=np.int32)
        u = self.rng.random(n) * stream.noise_cdf[-1]
        return np.searchsorted(stream.noise_cdf, u, side="right").astype(np.int32)


def _gather(corpus: EncodedCorpus, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of ``docs`` (in that order), and for each token its position in ``docs``."""
    starts, lengths = corpus.starts[docs], np.diff(corpus.starts)[docs]
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
    offsets = np.cumsum(lengths) - lengths
    positions = np.arange(lengths.sum()) - np.repeat(offsets, lengths) + np.repeat(starts, lengths)
    return corpus.ids[positions], doc_of


def _count_windows(doc_of: np.ndarray) -> int:
    """CBOW examples of a chunk: tokens of documents with at least two kept tokens (each such
    token has a neighbour within any window of 1 or more)."""
    if doc_of.size == 0:
        return 0
    lengths = np.bincount(doc_of)
    return int(lengths[lengths >= 2].sum())


def _count_pairs(doc_of: np.ndarray, b: np.ndarray) -> int:
    """Positive pairs of a chunk without making them: a center at place q of a document of
    length L with window b has min(b, q) + min(b, L - 1 - q) contexts."""
    if doc_of.size == 0:
        return 0
    new_doc = np.flatnonzero(np.diff(doc_of)) + 1
    first = np.repeat(np.r_[0, new_doc], np.diff(np.r_[0, new_doc, doc_of.size]))
    last = np.repeat(np.r_[new_doc, doc_of.size] - 1, np.diff(np.r_[0, new_doc, doc_of.size]))
    q = np.arange(doc_of.size)
    return int(np.minimum(b, q - first).sum() + np.minimum(b, last - q).sum())
