"""Vocabulary: words ranked by frequency, as Keras 2's ``Tokenizer`` ranks them, and the corpus
encoded as one flat array of word ids.

Index 0 is reserved (padding, never trained or exported); index 1 is the most frequent word, and
equal counts keep their first-seen order. ``size`` counts the reserved row, like the notebook's
``vocab_size = len(word_index) + 1``.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path

import numpy as np

from ..config import LONGEST_DOCUMENT
from ..errors import SgnsError
from ..files import atomic_write_text


@dataclass(frozen=True)
class EncodedCorpus:
    """All documents as one int32 array of word ids, ``starts[k]:starts[k+1]`` being document k."""

    ids: np.ndarray
    starts: np.ndarray

    @property
    def n_documents(self) -> int:
        return len(self.starts) - 1

    @property
    def n_tokens(self) -> int:
        return int(self.ids.size)

    def document(self, k: int) -> np.ndarray:
        return self.ids[self.starts[k] : self.starts[k + 1]]

    def chunks(self) -> Iterator[EncodedCorpus]:
        """The engines train chunk by chunk; a corpus in memory is one chunk."""
        yield self


class ChunkedCorpus:
    """A corpus encoded a chunk at a time, from a re-iterable of token lists (such as
    :class:`sgns.text.cleaning.StreamingCorpus`), so that only one chunk of word ids is in memory at
    once. ``n_tokens`` is known from the vocabulary's counts.

    The first whole pass reads and encodes the documents and writes their ids to a spill file
    (4 bytes a token, 8 a document) in ``spill_dir`` (the system's temporary folder by default);
    later passes read the ids back from it, so that the text is cleaned and encoded once rather
    than every epoch, as gensim's ``corpus_file`` mode avoids re-reading text. The file goes
    when the object does, or on :meth:`close`.
    """

    def __init__(self, documents: Iterable[Sequence[str]], vocab: Vocabulary,
                 chunk_tokens: int = 1_000_000, spill_dir: str | os.PathLike | None = None,
                 n_tokens: int | None = None) -> None:
        self.documents, self.vocab, self.chunk_tokens = documents, vocab, chunk_tokens
        # The corpus's tokens in the vocabulary: the sum of its counts unless the vocabulary
        # counts other text too (a continued run's).
        self.n_tokens = int(vocab.counts.sum()) if n_tokens is None else n_tokens
        self.spill_dir = spill_dir
        self._spill: tempfile.TemporaryDirectory | None = None
        self._spans: list[tuple[int, int]] | None = None  # (tokens, documents) per chunk

    def chunks(self) -> Iterator[EncodedCorpus]:
        if self._spans is not None:
            yield from self._read_spill()
            return
        self.close()
        self._spill = tempfile.TemporaryDirectory(prefix="sgns-ids-", dir=self.spill_dir)
        folder = Path(self._spill.name)
        spans: list[tuple[int, int]] = []
        with open(folder / "ids", "wb") as ids, open(folder / "lengths", "wb") as lengths:
            for chunk in self._encode_chunks():
                chunk.ids.tofile(ids)
                np.diff(chunk.starts).tofile(lengths)
                spans.append((chunk.n_tokens, chunk.n_documents))
                yield chunk
        self._spans = spans  # only a pass read to its end makes the spill whole
        self.n_tokens = sum(n for n, _ in spans)  # exact, even when counting was bounded

    def close(self) -> None:
        """Delete the spill file; the next pass reads the documents again."""
        if self._spill is not None:
            self._spill.cleanup()
        self._spill, self._spans = None, None

    def _encode_chunks(self) -> Iterator[EncodedCorpus]:
        batch: list[Sequence[str]] = []
        size = 0
        for doc in self.documents:
            batch.append(doc)
            size += len(doc)
            if size >= self.chunk_tokens:
                yield self.vocab.encode(batch)
                batch, size = [], 0
        if batch:
            yield self.vocab.encode(batch)

    def _read_spill(self) -> Iterator[EncodedCorpus]:
        folder = Path(self._spill.name)
        with open(folder / "ids", "rb") as ids, open(folder / "lengths", "rb") as lengths:
            for n_tokens, n_documents in self._spans:
                chunk_ids = np.fromfile(ids, dtype=np.int32, count=n_tokens)
                starts = np.zeros(n_documents + 1, dtype=np.int64)
                np.cumsum(np.fromfile(lengths, dtype=np.int64, count=n_documents),
                          out=starts[1:])
                yield EncodedCorpus(chunk_ids, starts)


class Vocabulary:
    """Words and their counts, ranked; ``words[0]`` is the reserved padding entry ``""``."""

    def __init__(self, words: Sequence[str], counts: Sequence[int]) -> None:
        if len(words) != len(counts):
            raise SgnsError("words and counts differ in length")
        self.words: list[str] = [""] + list(words)
        self.counts = np.asarray([0] + list(counts), dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words) if i}
        if len(self.index) != len(words):
            raise SgnsError("the vocabulary has duplicate words")

    @classmethod
    def build(
        cls,
        documents: Iterable[Sequence[str]],
        min_count: int = 1,
        max_vocab: int | None = None,
        count_limit: int | None = None,
    ) -> Vocabulary:
        """Count every token (one pass), then keep words seen at least ``min_count`` times, at
        most ``max_vocab`` of them (the most frequent).

        ``count_limit`` bounds the memory of counting a huge vocabulary: whenever more distinct
        words than that are being counted, the rarest go (those seen once, then twice, ... as
        word2vec.c's ``ReduceVocab`` and gensim's ``max_vocab_size`` do). The counts that remain
        may then be a little low for words that were dropped once and seen again.
        """
        if min_count < 1:
            raise SgnsError(f"min_count must be >= 1, got {min_count}")
        if max_vocab is not None and max_vocab < 1:
            raise SgnsError(f"max_vocab must be >= 1, got {max_vocab}")
        if count_limit is not None and count_limit < 1:
            raise SgnsError(f"count_limit must be >= 1, got {count_limit}")
        # A Counter counts a document in C (Counter.update), 4 times as fast as a loop here;
        # like any dict it keeps the first-seen order, which breaks ties between counts.
        counts: Counter[str] = Counter()
        floor = 0  # words seen this often or less were dropped to bound memory
        for doc in documents:
            counts.update(doc)
            while count_limit is not None and len(counts) > count_limit:
                floor += 1
                counts = Counter({w: c for w, c in counts.items() if c > floor})
        ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
        ranked = [(w, c) for w, c in ranked if c >= min_count][:max_vocab]
        if not ranked:
            raise SgnsError(f"no word occurs at least min_count={min_count} times")
        return cls([w for w, _ in ranked], [c for _, c in ranked])

    @property
    def size(self) -> int:
        """Rows of an embedding table: the words plus the reserved row 0."""
        return len(self.words)

    def __len__(self) -> int:
        return len(self.words) - 1

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, documents: Iterable[Sequence[str]]) -> EncodedCorpus:
        """Word ids of every document; words outside the vocabulary are dropped. A document of
        more than ``LONGEST_DOCUMENT`` words is encoded as pieces of that many words (the
        last shorter), as the compiled reader keeps it."""
        pieces = [piece for doc in documents for piece in (
            [doc] if len(doc) <= LONGEST_DOCUMENT else
            [doc[k:k + LONGEST_DOCUMENT] for k in range(0, len(doc), LONGEST_DOCUMENT)])]
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        # Every token looked up in C (map over dict.get), a word outside the vocabulary as 0
        # (the reserved row), then those dropped at once.
        lookup = self.index.get
        found = np.fromiter(chain.from_iterable(map(lookup, piece, repeat(0)) for piece in pieces),
                            dtype=np.int32, count=int(lengths.sum()))
        kept = np.concatenate([[0], np.cumsum(found != 0)])
        starts = kept[np.concatenate([[0], np.cumsum(lengths)])]
        return EncodedCorpus(found[found != 0], starts.astype(np.int64))

    def save(self, path: str | os.PathLike) -> None:
        """One ``word<TAB>count`` line per word, in rank order (row k+1 of the tables)."""
        lines = (f"{w}\t{c}\n" for w, c in zip(self.words[1:], self.counts[1:], strict=True))
        atomic_write_text(path, "".join(lines))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        words, counts = [], []
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SgnsError(f"cannot read vocabulary {path}: {exc}") from None
        for n, line in enumerate(text.split("\n"), start=1):
            if not line and n > text.count("\n"):
                break  # the end of the last line
            word, sep, count = line.rpartition("\t")
            if not sep or not word or not count.isascii() or not count.isdigit():
                raise SgnsError(f"{path}:{n}: expected 'word<TAB>count'")
            words.append(word)
            counts.append(int(count))
        if not words:
            raise SgnsError(f"{path} holds no words")
        return cls(words, counts)
