"""Tokens found in raw bytes at compiled speed: the notebook's cleaning and ``none`` (split on
whitespace) as one compiled pass over UTF-8 bytes, a block at a time.

A token is a maximal run of *token bytes*: ASCII letters for the notebook's ``[^a-zA-Z]``
(a byte of a multi-byte UTF-8 character, or of an undecodable sequence, is never an ASCII
letter, so this is exactly the regular expression on the decoded text), or every byte but
ASCII whitespace for ``none``. Documents end at a line's end (``\\n``, ``\\r\\n`` or a lone
``\\r``, as Python's universal newlines read a file) or at given offsets (one document a
string, or a file of a folder). Cleanings that need Unicode (``any-script``) are not done
here: :func:`token_bytes` says which cleanings are.
"""

from __future__ import annotations

import codecs
import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from .cleaning import Cleaner
from .corpus import CorpusError

# A block of the corpus, scanned at once: large steps, bounded memory (its token offsets, int32,
# take at most four times its size).
BLOCK_BYTES = 16 << 20
_WHITESPACE = b" \t\n\r\x0b\x0c"


def token_bytes(cleaner: Cleaner) -> np.ndarray | None:
    """A 256-entry table, 1 for the bytes a token is made of, when ``cleaner``'s words are runs
    of such bytes; None when its cleaning needs the decoded text (``any-script``)."""
    table = np.zeros(256, np.uint8)
    if cleaner.letters_pattern == "[^a-zA-Z]":
        for letters in (b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            table[np.frombuffer(letters, np.uint8)] = 1
        return table
    if (cleaner.letters_pattern is None and not cleaner.lowercase
            and cleaner.min_word_length == 1 and cleaner.dense_scripts_min_length is None):
        table[:] = 1
        table[np.frombuffer(_WHITESPACE, np.uint8)] = 0
        return table
    return None


@dataclass
class Tokens:
    """One block's tokens: ``starts``/``ends`` (byte offsets into ``data``), and the number of
    tokens of each document that ended in the block (``doc_sizes``); tokens after the last
    of them belong to a document that goes on in the next block."""

    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    doc_sizes: np.ndarray


@njit(cache=True, nogil=True)
def _scan(data, is_token, min_length, lines, doc_ends, state, starts, ends, sizes):
    """Token spans at least ``min_length`` bytes long (into ``starts``, ``ends``) and the
    token counts of the documents that end in ``data`` (into ``sizes``); returns how many of
    each. Documents end at ``doc_ends`` and, if ``lines``, at line ends. ``state[0]``: tokens
    of the open document so far; ``state[1]``: 1 if the block before ended in ``\\r`` (so a
    ``\\n`` first here ends no second line). The arrays are sized by the caller for the worst
    case: growing them here, reassigned inside the loop, made the loop three times slower."""
    n = data.shape[0]
    n_tokens = 0
    n_docs = 0
    open_doc = state[0]
    after_cr = state[1]
    segment_start = 0
    for segment in range(doc_ends.shape[0] + 1):
        # Documents given by offsets are segments; the bytes after the last form one more,
        # left open.
        segment_end = doc_ends[segment] if segment < doc_ends.shape[0] else n
        i = segment_start
        while i < segment_end:
            byte = data[i]
            if is_token[byte]:
                start = i
                i += 1
                while i < segment_end and is_token[data[i]]:
                    i += 1
                if i - start >= min_length:
                    starts[n_tokens] = start
                    ends[n_tokens] = i
                    n_tokens += 1
                    open_doc += 1
                after_cr = 0
                continue
            if lines and (byte == 10 or byte == 13) and not (byte == 10 and after_cr):
                sizes[n_docs] = open_doc
                n_docs += 1
                open_doc = 0
            after_cr = 1 if byte == 13 else 0
            i += 1
        if segment < doc_ends.shape[0]:
            sizes[n_docs] = open_doc
            n_docs += 1
            open_doc = 0
        segment_start = segment_end
    state[0] = open_doc
    state[1] = after_cr
    return n_tokens, n_docs


class Scanner:
    """Splits a stream of byte blocks into tokens, carrying the open document and a ``\\r``
    from one block to the next."""

    def __init__(self, is_token: np.ndarray, min_length: int) -> None:
        self.is_token, self.min_length = is_token, min_length
        self.state = np.zeros(2, np.int64)
        self.line_open = False  # bytes seen since the last line end

    def scan(self, data: np.ndarray, lines: bool, doc_ends: np.ndarray | None = None) -> Tokens:
        ends = np.zeros(0, np.int64) if doc_ends is None else doc_ends
        most_tokens = data.size // (self.min_length + 1) + 1
        most_docs = ends.size + (np.count_nonzero(data == 10) + np.count_nonzero(data == 13)
                                 if lines else 0)
        starts = np.empty(most_tokens, np.int32)
        stops = np.empty(most_tokens, np.int32)
        sizes = np.empty(most_docs, np.int64)
        n_tokens, n_docs = _scan(data, self.is_token, self.min_length, lines, ends,
                                 self.state, starts, stops, sizes)
        starts, stops, sizes = starts[:n_tokens], stops[:n_tokens], sizes[:n_docs]
        if data.size:
            self.line_open = data[-1] not in (10, 13)
        return Tokens(data, starts, stops, sizes)

    def close(self, lines: bool) -> np.ndarray:
        """The last document's size when a file of lines ends without a line end (Python
        reads that last line too); nothing otherwise."""
        if lines and self.line_open:
            return np.array([self.state[0]], np.int64)
        return np.zeros(0, np.int64)


def file_blocks(path: Path, encoding: str, block_bytes: int = BLOCK_BYTES,
                on_bytes=None, on_replaced=None) -> Iterator[np.ndarray]:
    """A text file (``.gz`` too) as UTF-8 blocks of about ``block_bytes``, each cut after a
    whitespace byte, so that no token and no line end (``\\r\\n``) is split between blocks.
    Another encoding than UTF-8 is decoded (undecodable bytes replaced) and re-encoded.
    ``on_bytes(n)`` is told of every ``n`` bytes read from the file, ``on_replaced(n)`` of
    ``n`` undecodable sequences (each read as U+FFFD, as Python reads the file)."""
    decoder = None
    if codecs.lookup(encoding).name != "utf-8":
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    opener = gzip.open if path.suffix == ".gz" else open
    carry = b""
    try:
        with opener(path, "rb") as file:
            while raw := file.read(block_bytes):
                if on_bytes is not None:
                    on_bytes(len(raw))
                if decoder is not None:
                    text = decoder.decode(raw)
                    _tell(on_replaced, text.count("\ufffd"))
                    raw = text.encode()
                data = carry + raw
                cut = max(data.rfind(byte) for byte in (b" ", b"\n", b"\t"))
                if cut < 0:  # no whitespace at all: the block grows until there is
                    carry = data
                    continue
                carry = data[cut + 1:]
                yield _checked(data[: cut + 1], decoder is None and on_replaced)
    except (OSError, EOFError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from None
    if decoder is not None:
        carry += decoder.decode(b"", final=True).encode()
    if carry:
        yield _checked(carry, decoder is None and on_replaced)


def _tell(on_replaced, n: int) -> None:
    if on_replaced and n:
        on_replaced(n)


def _checked(data: bytes, on_replaced) -> np.ndarray:
    """``data`` as an array, its undecodable UTF-8 sequences counted (a strict decode at C
    speed first: most text has none)."""
    if on_replaced:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            replaced = data.decode("utf-8", "replace").count("\ufffd")
            _tell(on_replaced, replaced - data.count("\ufffd".encode()))
    return np.frombuffer(data, np.uint8)


def string_blocks(documents: Iterable[str], block_bytes: int = BLOCK_BYTES
                  ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Documents given as strings, UTF-8 encoded and packed into blocks of about
    ``block_bytes``: each block with the end offset of each of its documents."""
    batch: list[bytes] = []
    size = 0
    for text in documents:
        data = text.encode("utf-8", "surrogatepass")
        batch.append(data)
        size += len(data)
        if size >= block_bytes:
            yield _packed(batch)
            batch, size = [], 0
    if batch:
        yield _packed(batch)


def _packed(batch: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    ends = np.cumsum(np.fromiter(map(len, batch), np.int64, len(batch)))
    return np.frombuffer(b"".join(batch), np.uint8), ends
