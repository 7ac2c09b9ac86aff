"""Phrases: frequent collocations ("new york", "hard drive") joined into one token before the
vocabulary is counted (Mikolov et al. 2013, "Distributed Representations of Words and Phrases",
section 4), with gensim's ``Phrases`` semantics: the same candidates, counts, scorers
(word2vec's default and NPMI), connector words and greedy left-to-right joining.

It works on a :class:`~sgns.encoding.ingest.ScannedCorpus` (ids, never Python strings), a chunk
of whole documents at a time, in memory or spilled. A candidate is the run of tokens from one
non-connector word to the next, connector words between (gensim's ``start_token``, its
``in_between`` and the word); candidates are numbered by the corpus's interner over the bytes of
their ids, counted, scored, and joined by a compiled pass. ``passes`` runs it again on its own
output (2 passes give trigrams and four-word phrases, as gensim's stacked models do).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from numba import njit

from ..errors import SgnsError
from ..files import atomic_write_text, read_json
from ..progress import token_bar
from .ingest import ScannedCorpus, corpus_parts, rebuilt_corpus
from .interner import Interner

SCORINGS = ("default", "npmi")
# gensim's ENGLISH_CONNECTOR_WORDS: articles, prepositions and conjunctions that may sit inside
# a phrase ("bank_of_america") but never begin or end one.
ENGLISH_CONNECTORS = frozenset(
    "a an the for of with without at from to in on by and or".split())
PHRASES_VERSION = 1


@dataclass(frozen=True)
class PhraseSettings:
    """How phrases are found; the defaults are gensim's ``Phrases``: a candidate seen more
    than ``min_count`` times (default scorer) scoring above ``threshold``."""

    min_count: float = 5
    threshold: float = 10.0
    scoring: str = "default"  # word2vec's formula, or npmi (threshold in -1..1)
    connector_words: frozenset[str] = field(default_factory=frozenset)
    delimiter: str = "_"

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise SgnsError(f"phrase min_count must be >= 1, got {self.min_count:g}")
        if self.scoring not in SCORINGS:
            raise SgnsError(f"phrase scoring must be one of {SCORINGS}, got {self.scoring!r}")
        if self.scoring == "npmi" and not -1 <= self.threshold <= 1:
            raise SgnsError(f"an npmi threshold is between -1 and 1, got {self.threshold:g}")
        if not self.delimiter:
            raise SgnsError("the phrase delimiter must not be empty")

    def to_dict(self) -> dict:
        return {**asdict(self), "connector_words": sorted(self.connector_words)}


@dataclass
class PhraseModel:
    """The phrases found by each pass, as word tuples with their scores: what
    :func:`apply_phrases` needs to join them in new text."""

    settings: PhraseSettings
    layers: list[dict[tuple[str, ...], float]]

    def save(self, path: str | os.PathLike) -> None:
        layers = [[[*words, score] for words, score in layer.items()] for layer in self.layers]
        atomic_write_text(path, json.dumps({"sgns_phrases": PHRASES_VERSION,
                                            "settings": self.settings.to_dict(),
                                            "layers": layers}) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> PhraseModel:
        data = read_json(path, "phrase model")
        try:
            if data.get("sgns_phrases") != PHRASES_VERSION:
                raise ValueError("not an sgns phrase model of this version")
            given = data["settings"]
            settings = PhraseSettings(**{**given, "connector_words":
                                         frozenset(given["connector_words"])})
            layers = [{tuple(map(str, row[:-1])): float(row[-1]) for row in layer}
                      for layer in data["layers"]]
            if any(len(words) < 2 for layer in layers for words in layer):
                raise ValueError("a phrase of fewer than two words")
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise SgnsError(f"{path} is damaged or not a phrase model: {exc}") from None
        return cls(settings, layers)

    def phrases(self) -> list[str]:
        """Every phrase, joined as in the text."""
        return [self.settings.delimiter.join(w) for layer in self.layers for w in layer]


@njit(cache=True, nogil=True)
def _candidates(ids, lengths, is_connector):
    """Each candidate's span of tokens (byte offsets into ``ids``, 4 bytes a token) and the
    token that ends it: from a non-connector word to the next one in its document."""
    n = ids.shape[0]
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    at = np.empty(n, np.int64)
    count = 0
    t = 0
    for d in range(lengths.shape[0]):
        previous = -1
        for k in range(t, t + lengths[d]):
            if is_connector[ids[k]]:
                continue
            if previous >= 0:
                starts[count], ends[count], at[count] = 4 * previous, 4 * (k + 1), k
                count += 1
            previous = k
        t += lengths[d]
    return starts[:count], ends[:count], at[:count]


@njit(cache=True, nogil=True)
def _join(ids, lengths, is_connector, phrase_at, n_words, counts, first_seen, tally):
    """gensim's ``analyze_sentence`` over each document: a candidate whose phrase is kept
    (``phrase_at[k]``: its rank, at the token ``k`` that ends it; -1 none) becomes the token
    ``n_words + rank``; else its first word goes out alone, and its connector words, and the
    candidate starts again at its last word. Counts the output's tokens and numbers them in
    the order first seen (``tally[3]``: tokens so far). Returns the ids and lengths."""
    out = np.empty(ids.shape[0], np.int32)
    out_lengths = np.empty(lengths.shape[0], np.int64)
    n = 0
    t = 0
    for d in range(lengths.shape[0]):
        begin = n
        start = -1  # the open candidate's first word, if any
        for k in range(t, t + lengths[d]):
            if is_connector[ids[k]]:
                if start < 0:
                    out[n] = ids[k]
                    n += 1
                continue
            if start >= 0:
                if phrase_at[k] >= 0:
                    out[n] = n_words + phrase_at[k]
                    n += 1
                    start = -1
                    continue
                for q in range(start, k):
                    out[n] = ids[q]
                    n += 1
            start = k
        if start >= 0:
            for q in range(start, t + lengths[d]):
                out[n] = ids[q]
                n += 1
        t += lengths[d]
        out_lengths[d] = n - begin
        for q in range(begin, n):
            if counts[out[q]] == 0:
                first_seen[out[q]] = tally[3] + q - begin
            counts[out[q]] += 1
        tally[3] += n - begin
    return out[:n], out_lengths


def _is_connector(corpus: ScannedCorpus, settings: PhraseSettings) -> np.ndarray:
    return np.array([w in settings.connector_words for w in corpus.words], np.bool_)


class _Candidates:
    """The candidates of a corpus, numbered by an interner over their ids' bytes, chunk by
    chunk; ``known`` phrases (id spans) are numbered first, 0..len(known)-1."""

    def __init__(self, is_connector: np.ndarray, known: list[np.ndarray] = ()) -> None:
        self.is_connector = is_connector
        self.interner = Interner(lowercase=False)
        if known:
            joined = np.concatenate(known).astype(np.int32)
            bounds = 4 * np.cumsum([0, *map(len, known)])
            self.interner.ids(joined.view(np.uint8), bounds[:-1], bounds[1:])

    def number(self, ids: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's number, and the token that ends it."""
        starts, ends, at = _candidates(ids, lengths, self.is_connector)
        return self.interner.ids(ids.view(np.uint8), starts, ends), at

    def span(self, number: int) -> np.ndarray:
        """The ids of candidate ``number``."""
        offsets = self.interner.offsets
        return self._ids()[offsets[number] // 4:offsets[number + 1] // 4]

    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Every candidate's first and last word, by number."""
        offsets = self.interner.offsets[:len(self.interner) + 1] // 4
        ids = self._ids()
        return ids[offsets[:-1]].astype(np.int64), ids[offsets[1:] - 1].astype(np.int64)

    def _ids(self) -> np.ndarray:
        return self.interner.arena[:self.interner.offsets[len(self.interner)]].view(np.int32)


def _parts(corpus: ScannedCorpus, desc: str = "", progress: bool = False
           ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The corpus's ids and document lengths, a chunk at a time, with a bar over its tokens."""
    with token_bar(corpus.tokens, desc, progress) as bar:
        for ids, lengths in corpus_parts(corpus):
            yield np.ascontiguousarray(corpus.mapping[ids]), lengths
            bar.update(ids.size)


def _scores(corpus, settings, candidates, counts) -> np.ndarray:
    """gensim's scorers over every candidate, as float64 in gensim's order of operations."""
    first, last = candidates.ends()
    unigrams = np.where(candidates.is_connector, 0, corpus.word_counts)
    count_a, count_b = unigrams[first].astype(np.float64), unigrams[last].astype(np.float64)
    count = counts.astype(np.float64)
    if settings.scoring == "default":
        vocab_size = int(np.count_nonzero(unigrams)) + first.size  # gensim's len(vocab)
        return (count - settings.min_count) / (count_a * count_b) * vocab_size
    total = float(corpus.tokens)
    pa, pb, pab = count_a / total, count_b / total, count / total
    with np.errstate(divide="ignore"):
        score = np.log(pab / (pa * pb)) / -np.log(pab)
    return np.where(count >= settings.min_count, score, -math.inf)


def find_phrases(corpus: ScannedCorpus, settings: PhraseSettings | None = None,
                 progress: bool = False) -> dict[tuple[str, ...], float]:
    """The phrases of one pass over ``corpus``: word tuples scoring above the threshold, with
    their scores (gensim's ``export_phrases``); ``progress`` shows a bar."""
    settings = settings or PhraseSettings()
    candidates = _Candidates(_is_connector(corpus, settings))
    counts = np.zeros(0, np.int64)
    for ids, lengths in _parts(corpus, "phrases: counting", progress):
        numbers, _ = candidates.number(ids, lengths)
        found = np.bincount(numbers, minlength=len(candidates.interner))
        counts = np.concatenate((counts, np.zeros(found.size - counts.size, np.int64))) + found
    if not counts.size:
        return {}
    scores = _scores(corpus, settings, candidates, counts)
    return {tuple(corpus.words[w] for w in candidates.span(p)): float(scores[p])
            for p in np.flatnonzero(scores > settings.threshold)}


def join_phrases(corpus: ScannedCorpus, phrases: dict[tuple[str, ...], float] | list,
                 settings: PhraseSettings | None = None, progress: bool = False
                 ) -> ScannedCorpus:
    """``corpus`` with ``phrases`` (word tuples) joined by the delimiter wherever gensim's
    greedy pass would join them; in memory or spilled, as ``corpus`` is."""
    settings = settings or PhraseSettings()
    index = {w: k for k, w in enumerate(corpus.words)}
    known = [p for p in phrases if all(w in index for w in p)]
    spans = [np.array([index[w] for w in p], np.int32) for p in known]
    candidates = _Candidates(_is_connector(corpus, settings), spans)
    n_words = len(corpus.words)
    counts = np.zeros(n_words + len(known), np.int64)
    first_seen = np.zeros(n_words + len(known), np.int64)
    tally = np.array([*corpus.counts().values(), 0], np.int64)

    def joined() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for ids, lengths in _parts(corpus, "phrases: joining", progress):
            numbers, at = candidates.number(ids, lengths)
            phrase_at = np.full(ids.size, -1, np.int64)
            phrase_at[at] = np.where(numbers < len(known), numbers, -1)
            yield _join(ids, lengths, candidates.is_connector, phrase_at, n_words, counts,
                        first_seen, tally)

    words = [*corpus.words, *(settings.delimiter.join(p) for p in known)]
    return rebuilt_corpus(corpus, joined(), words, counts, first_seen, tally)


def learn_phrases(corpus: ScannedCorpus, settings: PhraseSettings | None = None,
                  passes: int = 1, progress: bool = False) -> tuple[PhraseModel, ScannedCorpus]:
    """``passes`` rounds of :func:`find_phrases` then :func:`join_phrases`: the model and the
    corpus with its phrases joined."""
    settings = settings or PhraseSettings()
    if passes < 1:
        raise SgnsError(f"phrase passes must be >= 1, got {passes}")
    layers = []
    for _ in range(passes):
        layers.append(find_phrases(corpus, settings, progress))
        corpus = join_phrases(corpus, layers[-1], settings, progress)
    return PhraseModel(settings, layers), corpus


def apply_phrases(corpus: ScannedCorpus, model: PhraseModel, progress: bool = False
                  ) -> ScannedCorpus:
    """A saved model's phrases joined in new text, pass by pass."""
    for layer in model.layers:
        corpus = join_phrases(corpus, layer, model.settings, progress)
    return corpus


@njit(cache=True, nogil=True)
def _text(ids, lengths, arena, offsets):
    """Documents as UTF-8 lines, tokens joined by spaces (``arena[offsets[w]:offsets[w+1]]``
    is word w's bytes)."""
    size = lengths.shape[0]
    for k in range(ids.shape[0]):
        size += offsets[ids[k] + 1] - offsets[ids[k]] + 1
    out = np.empty(size, np.uint8)
    n = t = 0
    for d in range(lengths.shape[0]):
        for k in range(t, t + lengths[d]):
            w = ids[k]
            for b in range(offsets[w], offsets[w + 1]):
                out[n] = arena[b]
                n += 1
            if k + 1 < t + lengths[d]:
                out[n] = 32
                n += 1
        out[n] = 10
        n += 1
        t += lengths[d]
    return out[:n]


def save_text(corpus: ScannedCorpus, path: str | os.PathLike, progress: bool = False) -> None:
    """``corpus`` as text, one document a line, its tokens joined by spaces: what ``sgns
    phrases`` writes (whole, or not at all)."""
    from ..files import atomic_open

    encoded = [w.encode("utf-8") for w in corpus.words]
    offsets = np.cumsum([0, *map(len, encoded)]).astype(np.int64)
    arena = np.frombuffer(b"".join(encoded), np.uint8)
    with atomic_open(path, "wb") as file:
        for ids, lengths in _parts(corpus, f"writing {Path(path).name}", progress):
            file.write(_text(ids, lengths, arena, offsets).tobytes())
