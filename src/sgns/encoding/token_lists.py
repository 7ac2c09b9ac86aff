"""Tokenised documents (lists of ``str``: a corpus cleaned in Python, or a user's own tokens)
read as a :class:`~sgns.encoding.ingest.ScannedCorpus`: counted and numbered by the compiled
interner a batch at a time, not by a dict in Python, with the same words, counts, order and
ids as ``Vocabulary.build`` and ``encode``."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import numpy as np

from ..config import LONGEST_DOCUMENT
from ..errors import SgnsError
from .ingest import CHUNK_TOKENS, MemoryStore, ScannedCorpus, SpillStore, Store
from .interner import Interner


def scanned_documents(corpus, *, stream: bool = False,
                      batch_tokens: int = CHUNK_TOKENS) -> ScannedCorpus:
    """Tokenised documents (a ``CleanCorpus`` or ``StreamingCorpus`` cleaned in Python, or
    any iterable of lists of ``str`` tokens) kept as a :class:`ScannedCorpus`, read once: for
    what works on ids (phrases), and for training on token lists, whose words are then
    counted and numbered by the compiled interner, about ``batch_tokens`` tokens at a time,
    rather than a dict in Python. The same words, counts and order as ``Vocabulary.build``,
    for any tokens: empty ones, ones holding spaces, any code point."""
    documents = getattr(corpus, "documents", corpus)
    interner = Interner(lowercase=False)
    store: Store = SpillStore(None) if stream else MemoryStore()
    word_counts, first_seen = np.zeros(0, np.int64), np.zeros(0, np.int64)
    tally = np.zeros(4, np.int64)
    for batch in _batches(documents, batch_tokens):
        known = len(interner)
        lengths = np.fromiter(map(len, batch), np.int64, count=len(batch))
        ids = _token_ids(interner, batch, int(lengths.sum()))
        word_counts = np.concatenate((word_counts, np.zeros(len(interner) - known, np.int64)))
        word_counts += np.bincount(ids, minlength=len(interner))
        first_seen = np.concatenate((first_seen, tally[3] + _first_sights(ids, known)))
        tally[3] += ids.size
        store.add(ids, _pieces(lengths))
        tally[:3] += len(batch)
    store.close()
    if hasattr(corpus, "counts"):  # a streamed corpus knows them after its pass
        counts = corpus.counts()
        tally[:3] = [counts["loaded"], counts["nonempty"], counts["kept"]]
    return ScannedCorpus(interner.words(errors="surrogatepass"), word_counts, first_seen, tally,
                         store)


def _batches(documents, batch_tokens: int) -> Iterator[list]:
    batch: list = []
    size = 0
    for doc in documents:
        batch.append(doc)
        size += len(doc)
        if size >= batch_tokens:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _token_ids(interner: Interner, batch: list, n_tokens: int) -> np.ndarray:
    """The ids of a batch's tokens. The batch is joined into one string with NUL between
    tokens, and its bytes (UTF-8, a lone surrogate kept as its 3 bytes, so that every str has
    bytes of its own) cut at the NUL bytes, which in UTF-8 stand for U+0000 alone; a batch
    that holds more of them than it has token boundaries has a token with a NUL in it, and is
    cut where each token's characters end instead (:func:`_token_ends`)."""
    if not n_tokens:
        return np.zeros(0, np.int32)
    try:  # each document joined first, the empty ones left out: 2 times as fast as one chain
        text = "\0".join(map("\0".join, filter(len, batch)))
    except TypeError:
        raise SgnsError("a document is a list of str tokens; found a token that is not a "
                        "str") from None
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), np.uint8)
    cuts = np.flatnonzero(data == 0)
    if cuts.size == n_tokens - 1:
        starts = np.concatenate(([0], cuts + 1))
        ends = np.concatenate((cuts, [data.size]))
    else:
        text = "".join(chain.from_iterable(batch))
        data = np.frombuffer(text.encode("utf-8", "surrogatepass"), np.uint8)
        ends = _token_ends(text, batch)
        starts = np.concatenate(([0], ends[:-1]))
    return interner.ids(data, starts, ends)


def _token_ends(text: str, batch: list) -> np.ndarray:
    """Where each token of ``batch`` ends in the UTF-8 bytes of ``text`` (the tokens joined):
    its end in characters when the text is ASCII, else the sum of its characters' UTF-8
    lengths, read from their code points."""
    char_ends = np.cumsum(np.fromiter(map(len, chain.from_iterable(batch)), np.int64))
    if text.isascii():
        return char_ends
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    widths = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    return np.concatenate(([0], np.cumsum(widths)))[char_ends]


def _first_sights(ids: np.ndarray, known: int) -> np.ndarray:
    """Where in ``ids`` (numbered in the order first met) each word from ``known`` on is
    first met: where an id passes every id before it."""
    if not ids.size:
        return np.zeros(0, np.int64)
    before = np.maximum.accumulate(np.concatenate(([known - 1], ids[:-1])))
    return np.flatnonzero(ids > before)


def _pieces(lengths: np.ndarray) -> np.ndarray:
    """Documents' lengths as the lengths of their pieces of at most ``LONGEST_DOCUMENT``
    tokens, the last of a document shorter (an empty document one empty piece), as
    ``Vocabulary.encode`` and the compiled reader cut them."""
    if not lengths.size or lengths.max() <= LONGEST_DOCUMENT:
        return lengths
    n = np.maximum(1, -(-lengths // LONGEST_DOCUMENT))
    pieces = np.full(int(n.sum()), LONGEST_DOCUMENT, np.int64)
    pieces[np.cumsum(n) - 1] = lengths - LONGEST_DOCUMENT * (n - 1)
    return pieces
