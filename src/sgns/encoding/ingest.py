"""Reading, cleaning, counting and encoding a corpus in one compiled pass, a block at a time:
the scanner finds the tokens (:mod:`sgns.text.scanner`), the interner numbers them, and one
more compiled loop applies the cleaning's document rules (stop words, the shortest document
kept) and counts what is kept. The result holds the corpus as int32 ids of first sight and
the document lengths, in memory or spilled to disk (``stream``), plus the counts: the
vocabulary is then ranked from the counts and the ids remapped to it, with no token ever a
Python string. It gives exactly the tokens, counts and order of ``clean`` then
``Vocabulary.build`` for the cleanings the scanner supports (``notebook``, ``none``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from numba import njit

from ..config import LONGEST_DOCUMENT
from ..errors import SgnsError
from ..progress import byte_bar
from ..text.cleaning import Cleaner
from ..text.corpus import CorpusError
from ..text.scanner import BLOCK_BYTES, Scanner, file_blocks, string_blocks, token_bytes
from .interner import Interner
from .vocab import EncodedCorpus, Vocabulary

CHUNK_TOKENS = 1_000_000  # a streamed corpus is trained a chunk of about this many tokens


@njit(cache=True, nogil=True, inline="always")
def _store_piece(piece, size, counts, first_seen, tally, out_ids, out_lengths, n_ids, n_docs):
    """A piece of a kept document into the output, its words counted and numbered in the order
    first seen (``first_seen``, for the vocabulary's ties). Returns the new ``n_ids, n_docs``."""
    for k in range(size):
        word = piece[k]
        out_ids[n_ids + k] = word
        if counts[word] == 0:
            first_seen[word] = tally[3] + k
        counts[word] += 1
    tally[3] += size
    out_lengths[n_docs] = size
    return n_ids + size, n_docs + 1


@njit(cache=True, nogil=True)
def _keep(ids, doc_sizes, is_stop, min_doc_tokens, counts, first_seen, tally, open_doc, pending,
          out_ids, out_lengths):
    """The cleaning's document rules over a block's tokens: stop words go, then a document is
    kept if it has ``min_doc_tokens`` tokens (at least one), in pieces of at most
    ``pending.size`` (``LONGEST_DOCUMENT``) tokens. ``doc_sizes``: the documents that end in
    the block, in tokens (the first counts those of earlier blocks too); the tokens after them
    open a document that goes on. ``open_doc``: [its tokens in earlier blocks, its kept tokens
    waiting in ``pending``, its pieces already written]: a document is never held whole, so a
    line of 500 MB takes no more memory than a short one. ``tally``: [documents read,
    non-empty, kept, tokens kept]. Returns how many ids and pieces were written."""
    longest = pending.shape[0]
    n_ids = n_docs = 0
    t = 0
    for d in range(doc_sizes.shape[0] + 1):
        ended = d < doc_sizes.shape[0]
        size = doc_sizes[d] - open_doc[0] if ended else ids.shape[0] - t
        for k in range(t, t + size):
            word = ids[k]
            if not is_stop[word]:
                pending[open_doc[1]] = word
                open_doc[1] += 1
                if open_doc[1] == longest:  # a whole piece: the document is long enough
                    n_ids, n_docs = _store_piece(pending, longest, counts, first_seen, tally,
                                                 out_ids, out_lengths, n_ids, n_docs)
                    open_doc[1] = 0
                    open_doc[2] += 1
        t += size
        if not ended:
            open_doc[0] += size
            break
        tally[0] += 1
        if doc_sizes[d] > 0:
            tally[1] += 1
        kept = open_doc[1]
        if open_doc[2] > 0 or (kept > 0 and kept >= min_doc_tokens):
            tally[2] += 1
            if kept > 0:
                n_ids, n_docs = _store_piece(pending, kept, counts, first_seen, tally, out_ids,
                                             out_lengths, n_ids, n_docs)
        open_doc[:] = 0
    return n_ids, n_docs


@njit(cache=True, nogil=True)
def _remap(ids, lengths, mapping):
    """``ids`` through ``mapping`` (0: not in the vocabulary, dropped), documents kept even
    when empty, as ``Vocabulary.encode`` keeps them."""
    out = np.empty(ids.shape[0], np.int32)
    starts = np.zeros(lengths.shape[0] + 1, np.int64)
    n = 0
    t = 0
    for d in range(lengths.shape[0]):
        for k in range(t, t + lengths[d]):
            word = mapping[ids[k]]
            if word != 0:
                out[n] = word
                n += 1
        t += lengths[d]
        starts[d + 1] = n
    return out[:n].copy(), starts


class ScannedCorpus:
    """A corpus read by :func:`scan_corpus`: every kept token as the id of its word in the
    order first met, with the words' counts. ``counts()`` and ``tokens`` are as for a
    :class:`~sgns.text.cleaning.CleanCorpus`; ``undecodable`` counts the byte sequences that
    could not be decoded and were read as U+FFFD."""

    def __init__(self, words: list[str], counts: np.ndarray, first_seen: np.ndarray,
                 tally: np.ndarray, store: Store, undecodable: int = 0) -> None:
        words, counts, first_seen, self.mapping = _merged(words, counts, first_seen)
        self.words, self.word_counts, self.first_seen = words, counts, first_seen
        self.tokens = int(tally[3])
        self._tally = {"loaded": int(tally[0]), "nonempty": int(tally[1]),
                       "kept": int(tally[2])}
        self.store = store
        self.undecodable = undecodable  # sequences of bytes read as U+FFFD
        self._ranked: tuple[Vocabulary, np.ndarray] | None = None  # the last vocabulary()
        if self._tally["loaded"] == 0:
            raise SgnsError("the corpus is empty")
        if self._tally["kept"] == 0:
            raise SgnsError(f"the corpus is empty after cleaning ({self._tally['loaded']} "
                            "documents read, none kept)")

    def counts(self) -> dict[str, int]:
        return dict(self._tally)

    def vocabulary(self, min_count: int = 1, max_vocab: int | None = None) -> Vocabulary:
        """As ``Vocabulary.build`` ranks the same tokens: by count, ties in first-seen order."""
        if min_count < 1:
            raise SgnsError(f"min_count must be >= 1, got {min_count}")
        candidates = np.flatnonzero(self.word_counts >= min_count)
        order = candidates[np.lexsort((self.first_seen[candidates],
                                       -self.word_counts[candidates]))][:max_vocab]
        if not order.size:
            raise SgnsError(f"no word occurs at least min_count={min_count} times")
        vocab = Vocabulary([self.words[k] for k in order], self.word_counts[order].tolist())
        self._ranked = (vocab, order)
        return vocab

    def encode(self, vocab: Vocabulary) -> EncodedCorpus | StreamedIds:
        """The corpus in ``vocab``'s ids: in memory, or read back chunk by chunk if spilled."""
        ranked = self._ranked
        if ranked is not None and ranked[0] is vocab:  # ranked here: no word to look up
            to_vocab = np.zeros(len(self.words), np.int32)
            to_vocab[ranked[1]] = np.arange(1, ranked[1].size + 1, dtype=np.int32)
        else:
            index = vocab.index
            to_vocab = np.array([index.get(w, 0) for w in self.words], np.int32)
        mapping = to_vocab[self.mapping]
        n_tokens = int(self.word_counts[to_vocab > 0].sum())
        if isinstance(self.store, SpillStore):
            return StreamedIds(self.store, mapping, n_tokens)
        ids, starts = _remap(self.store.ids, self.store.lengths, mapping)
        return EncodedCorpus(ids, starts)


def _merged(words, counts, first_seen):
    """Words that decode alike (different undecodable bytes, each replaced) made one."""
    if len(set(words)) == len(words):
        return words, counts, first_seen, np.arange(len(words), dtype=np.int32)
    index: dict[str, int] = {}
    mapping = np.array([index.setdefault(w, len(index)) for w in words], np.int32)
    merged_counts = np.zeros(len(index), np.int64)
    np.add.at(merged_counts, mapping, counts)
    seen = np.where(counts > 0, first_seen, np.iinfo(np.int64).max)
    merged_first = np.full(len(index), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(merged_first, mapping, seen)
    return list(index), merged_counts, merged_first, mapping


class MemoryStore:
    """Kept ids and document lengths, in memory."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        self.parts.append((ids, lengths))

    def close(self) -> None:
        self.ids = np.concatenate([p[0] for p in self.parts] or [np.zeros(0, np.int32)])
        self.lengths = np.concatenate([p[1] for p in self.parts] or [np.zeros(0, np.int64)])
        self.parts = []


class SpillStore:
    """Kept ids and document lengths in a temporary folder (4 bytes a token, 8 a document),
    deleted when the object goes."""

    def __init__(self, spill_dir) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="sgns-ids-", dir=spill_dir)
        self.path = Path(self.folder.name)
        self.ids_file = open(self.path / "ids", "wb")  # noqa: SIM115 (closed in close())
        self.lengths_file = open(self.path / "lengths", "wb")  # noqa: SIM115

    def add(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        ids.tofile(self.ids_file)
        lengths.tofile(self.lengths_file)

    def close(self) -> None:
        self.ids_file.close()
        self.lengths_file.close()
        self.lengths = np.fromfile(self.path / "lengths", np.int64)


Store = MemoryStore | SpillStore


class StreamedIds:
    """A spilled corpus in a vocabulary's ids, read back a chunk of about ``CHUNK_TOKENS``
    tokens (whole documents) at a time, on every pass."""

    def __init__(self, spill: SpillStore, mapping: np.ndarray, n_tokens: int) -> None:
        self.spill, self.mapping, self.n_tokens = spill, mapping, n_tokens

    def chunks(self) -> Iterator[EncodedCorpus]:
        for ids, lengths in _stored_parts(self.spill):
            chunk_ids, starts = _remap(ids, lengths, self.mapping)
            yield EncodedCorpus(chunk_ids, starts)

    def close(self) -> None:
        self.spill.folder.cleanup()


def _stored_parts(store: Store) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(ids, document lengths)`` of a store, about ``CHUNK_TOKENS`` tokens (whole
    documents) at a time, read back from disk if spilled."""
    lengths = store.lengths
    bounds = np.cumsum(lengths)
    spilled = isinstance(store, SpillStore)
    with open(store.path / "ids", "rb") if spilled else nullcontext() as file:
        first = 0
        while first < lengths.size:
            done = int(bounds[first - 1]) if first else 0
            last = int(np.searchsorted(bounds, done + CHUNK_TOKENS, side="left")) + 1
            last = min(last, lengths.size)
            count = int(bounds[last - 1]) - done
            ids = (np.fromfile(file, np.int32, count=count) if spilled
                   else store.ids[done:done + count])
            yield ids, lengths[first:last]
            first = last


def corpus_parts(corpus: ScannedCorpus) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A scanned corpus's ids of first sight and document lengths, a chunk at a time."""
    return _stored_parts(corpus.store)


def rebuilt_corpus(corpus: ScannedCorpus, parts: Iterable[tuple[np.ndarray, np.ndarray]],
                   words: list[str], counts: np.ndarray, first_seen: np.ndarray,
                   tally: np.ndarray) -> ScannedCorpus:
    """A corpus made from ``corpus`` (:mod:`sgns.encoding.phrases`): its new ids and document
    lengths stored as ``corpus``'s are, in memory or spilled beside them; ``counts``,
    ``first_seen`` and ``tally`` are complete once ``parts`` is."""
    spilled = isinstance(corpus.store, SpillStore)
    store: Store = SpillStore(corpus.store.path.parent) if spilled else MemoryStore()
    for ids, lengths in parts:
        store.add(ids, lengths)
    store.close()
    return ScannedCorpus(words, counts, first_seen, tally, store, corpus.undecodable)


def scan_corpus(source: str | os.PathLike | Iterable[str], cleaner: Cleaner, *,
                encoding: str = "utf-8", stream: bool = False,
                spill_dir: str | os.PathLike | None = None, progress: bool = False,
                block_bytes: int = BLOCK_BYTES) -> ScannedCorpus | None:
    """Read and clean ``source`` (a text file of one document a line, ``.gz`` too, a folder of
    ``.txt`` files, one document each, or document strings), count its words and keep it as
    ids; ``stream`` spills the ids to a temporary file instead of memory. The text is read
    ``block_bytes`` at a time. None when
    ``cleaner`` needs the decoded text (``any-script``): use ``clean`` then."""
    is_token = token_bytes(cleaner)
    if is_token is None:
        return None
    scanner = Scanner(is_token, cleaner.min_word_length)
    interner = Interner(cleaner.lowercase)
    stop_words = cleaner.stop_words
    state = _Counting(stop_words, max(1, cleaner.min_doc_tokens))
    store: Store = SpillStore(spill_dir) if stream else MemoryStore()
    replaced = [0]
    # Two stages on two threads (the compiled loops release the GIL): one thread scans a block
    # while this one numbers and counts the block before, and reads the next.
    with ThreadPoolExecutor(1, thread_name_prefix="sgns-scan") as scanning:
        scanned: Future | None = None
        for data, lines, doc_ends in _blocks(source, encoding, progress, block_bytes,
                                             replaced):
            following = scanning.submit(scanner.scan, data, lines, doc_ends)
            if scanned is not None:
                state.add(interner, scanned.result(), store)
            scanned = following
        if scanned is not None:
            state.add(interner, scanned.result(), store)
    state.finish(interner, scanner.close(lines=isinstance(source, str | os.PathLike)
                                         and Path(source).is_file()), store)
    store.close()
    return ScannedCorpus(interner.words(), state.counts[:len(interner)],
                         state.first_seen[:len(interner)], state.tally, store, replaced[0])


class _Counting:
    """What :func:`scan_corpus` carries from block to block: the open document's ids, the
    stop-word flag of each word, the counts and the tally."""

    def __init__(self, stop_words, min_doc_tokens: int) -> None:
        self.stop_words, self.min_doc_tokens = stop_words, min_doc_tokens
        self.is_stop = np.zeros(1024, np.bool_)
        self.counts = np.zeros(1024, np.int64)
        self.first_seen = np.zeros(1024, np.int64)
        self.tally = np.zeros(4, np.int64)
        # The open document (:func:`_keep`): [tokens read, kept tokens pending, pieces written].
        self.open_doc = np.zeros(3, np.int64)
        self.pending = np.empty(LONGEST_DOCUMENT, np.int32)
        self.known = 0  # words whose stop-word flag is set

    def add(self, interner: Interner, tokens, store) -> None:
        ids = interner.ids(tokens.data, tokens.starts, tokens.ends)
        self._grow(interner)
        self._keep(ids, tokens.doc_sizes, store)

    def finish(self, interner: Interner, last_doc: np.ndarray, store) -> None:
        self._keep(np.zeros(0, np.int32), last_doc, store)

    def _grow(self, interner: Interner) -> None:
        n = len(interner)
        if n > self.is_stop.size:
            size = max(n, 2 * self.is_stop.size)
            for name in ("is_stop", "counts", "first_seen"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate((old, np.zeros(size - old.size, old.dtype))))
        if self.stop_words and n > self.known:
            new = interner.words(self.known)
            self.is_stop[self.known:n] = [w in self.stop_words for w in new]
        self.known = n

    def _keep(self, ids: np.ndarray, doc_sizes: np.ndarray, store) -> None:
        most = ids.size + self.pending.size  # what the block and the pending tokens can make
        out_ids = np.empty(most, np.int32)
        out_lengths = np.empty(doc_sizes.size + most // self.pending.size + 1, np.int64)
        n_ids, n_docs = _keep(ids, doc_sizes, self.is_stop, self.min_doc_tokens, self.counts,
                              self.first_seen, self.tally, self.open_doc, self.pending,
                              out_ids, out_lengths)
        if n_docs:
            store.add(out_ids[:n_ids], out_lengths[:n_docs])


def _blocks(source, encoding: str, progress: bool, block_bytes: int, replaced: list[int]
            ) -> Iterator[tuple[np.ndarray, bool, np.ndarray | None]]:
    """``(utf-8 bytes, lines are documents, document ends)`` for each block of ``source``;
    ``replaced[0]`` counts the undecodable sequences read as U+FFFD."""

    def count(n: int) -> None:
        replaced[0] += n

    if not isinstance(source, str | os.PathLike):
        for data, ends in string_blocks(source, block_bytes):
            yield data, False, ends
        return
    path = Path(source)
    if path.is_file():
        total = None if path.suffix == ".gz" else path.stat().st_size
        with byte_bar(total, f"reading {path.name}", progress) as bar:
            for data in file_blocks(path, encoding, block_bytes, bar.update, count):
                yield data, True, None
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise CorpusError(f"no .txt files in folder {path}")
        with byte_bar(sum(f.stat().st_size for f in files), f"reading {path.name}/",
                      progress) as bar:
            for data, ends in string_blocks(_texts(files, encoding, bar.update, count),
                                            block_bytes):
                yield data, False, ends
    else:
        raise CorpusError(f"corpus not found: {path}")


def _texts(files: list[Path], encoding: str, on_bytes, on_replaced) -> Iterator[str]:
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CorpusError(f"cannot read {file}: {exc}") from None
        on_bytes(len(raw))
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError:
            text = raw.decode(encoding, "replace")
            on_replaced(text.count("\ufffd") - raw.decode(encoding, "ignore").count("\ufffd"))
            yield text
