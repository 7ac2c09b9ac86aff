"""Cleaning: the reference notebook's steps, each one named and switchable.

Order (as in the notebook): non-letters to spaces, keep words of at least ``min_word_length``
characters, lower-case, drop empty documents, remove stop words, drop documents with fewer than
``min_doc_tokens`` tokens.

Three modes: ``notebook`` (letters a-z only, words longer than 3; the notebook's exact steps, used
for 20 Newsgroups); ``any-script``, which keeps the letters of every script (accents, Greek,
Cyrillic, Hangul, kana, CJK ideographs) and keeps words of 2 letters or more, or of one letter in
the scripts where one character is a syllable or a word (Hangul, kana, CJK ideographs); and
``none``: tokens split on ASCII whitespace and nothing else, as word2vec.c and gensim read a
corpus (no case change, no stop words, every non-empty line a document).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from ..config import LONGEST_DOCUMENT
from ..errors import SgnsError
from .corpus import LinePart

CLEANING_MODES = ("notebook", "any-script", "none")
_ASCII_WHITESPACE = re.compile("[ \t\n\r\x0b\x0c]+")
# Hangul, kana, CJK ideographs: scripts where one character already carries a syllable or a word.
_DENSE_SCRIPT = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def english_stop_words() -> list[str]:
    """NLTK's English stop-word list (179 words, NLTK's order), shipped with the package."""
    text = resources.files("sgns").joinpath("data/stopwords-en.txt").read_text("utf-8")
    return text.split()


@dataclass(frozen=True)
class Cleaner:
    """One document in, a list of tokens out. Every step can be turned off or changed."""

    # Replaced by spaces; None keeps every character and splits on ASCII whitespace alone.
    letters_pattern: str | None = "[^a-zA-Z]"
    min_word_length: int = 4  # the notebook keeps len(w) > 3
    lowercase: bool = True
    stop_words: frozenset[str] = field(default_factory=lambda: frozenset(english_stop_words()))
    min_doc_tokens: int = 2  # the notebook drops documents with one token or none
    dense_scripts_min_length: int | None = None  # word length rule for Hangul, kana, CJK

    @classmethod
    def mode(cls, name: str, **changes) -> Cleaner:
        """``notebook`` or ``any-script`` (see the module's docstring), with any field changed."""
        if name not in CLEANING_MODES:
            raise SgnsError(f"cleaning must be one of {CLEANING_MODES}, got {name!r}")
        if name == "none":
            changes = {"letters_pattern": None, "min_word_length": 1, "lowercase": False,
                       "stop_words": frozenset(), "min_doc_tokens": 1, **changes}
        elif name == "any-script":
            # \W is "not a letter, digit or _" in every script; digits and _ go too.
            changes = {"letters_pattern": r"[\W\d_]", "min_word_length": 2,
                       "dense_scripts_min_length": 1, **changes}
        return cls(**changes)

    def __post_init__(self) -> None:
        if self.min_word_length < 1:
            raise SgnsError(f"min_word_length must be >= 1, got {self.min_word_length}")
        if self.min_doc_tokens < 0:
            raise SgnsError(f"min_doc_tokens must be >= 0, got {self.min_doc_tokens}")
        object.__setattr__(
            self, "_pattern", re.compile(self.letters_pattern) if self.letters_pattern else None
        )

    def words(self, text: str) -> list[str]:
        """The steps before stop-word removal: letters, length, case."""
        if self._pattern is not None:
            split = self._pattern.sub(" ", text).split()
        else:
            split = [w for w in _ASCII_WHITESPACE.split(text) if w]
        words = [w for w in split if self._long_enough(w)]
        return [w.lower() for w in words] if self.lowercase else words

    def _long_enough(self, word: str) -> bool:
        if len(word) >= self.min_word_length:
            return True
        dense = self.dense_scripts_min_length
        return dense is not None and len(word) >= dense and bool(_DENSE_SCRIPT.search(word))

    def tokens(self, words: list[str]) -> list[str]:
        return [w for w in words if w not in self.stop_words]


@dataclass
class CleanCorpus:
    """Token lists plus the counts the notebook prints at each stage."""

    documents: list[list[str]]
    loaded: int  # documents read
    nonempty: int  # documents left after dropping the empty ones
    kept: int  # documents left after the stop words and the short-document rule

    @property
    def tokens(self) -> int:
        return sum(len(doc) for doc in self.documents)

    def counts(self) -> dict[str, int]:
        return {"loaded": self.loaded, "nonempty": self.nonempty, "kept": self.kept}


def clean(documents: Iterable[str], cleaner: Cleaner | None = None) -> CleanCorpus:
    """Apply ``cleaner`` (the notebook's steps by default) to every document."""
    tally: dict[str, int] = {}
    kept = list(_cleaned(documents, cleaner or Cleaner(), tally))
    return CleanCorpus(documents=kept, **tally)


def _cleaned(documents: Iterable[str], cleaner: Cleaner, tally: dict[str, int]):
    """The kept token lists, one document at a time; ``tally`` counts documents ``loaded``,
    ``nonempty`` and ``kept``. A document of more than ``LONGEST_DOCUMENT`` tokens is given out
    in pieces of that many, as the compiled reader keeps it; a long line read in parts
    (:class:`~sgns.text.corpus.LinePart`) is one document, its pieces given out as they fill,
    so that it is never held whole. An empty corpus, before or after cleaning, is an error."""
    tally.update(loaded=0, nonempty=0, kept=0)
    tokens: list[str] = []  # the document's tokens not yet given out
    seen = given = 0  # the document's words so far, and its pieces given out
    for text in documents:
        words = cleaner.words(text)
        seen += len(words)
        if words:
            tokens += cleaner.tokens(words)
        if isinstance(text, LinePart):
            while len(tokens) >= LONGEST_DOCUMENT:  # long enough to keep, whatever the minimum
                yield tokens[:LONGEST_DOCUMENT]
                tokens, given = tokens[LONGEST_DOCUMENT:], given + 1
            continue
        tally["loaded"] += 1
        tally["nonempty"] += seen > 0
        if given or (tokens and len(tokens) >= cleaner.min_doc_tokens):
            tally["kept"] += 1
            if len(tokens) <= LONGEST_DOCUMENT:
                if tokens:
                    yield tokens
            else:
                for k in range(0, len(tokens), LONGEST_DOCUMENT):
                    yield tokens[k:k + LONGEST_DOCUMENT]
        tokens, seen, given = [], 0, 0
    if tally["loaded"] == 0:
        raise SgnsError("the corpus is empty")
    if tally["kept"] == 0:
        raise SgnsError(f"the corpus is empty after cleaning ({tally['loaded']} documents read, "
                        "none kept)")


class StreamingCorpus:
    """A corpus on disk, read and cleaned afresh on every pass: only the document at hand is in
    memory. Iterating it yields token lists; ``counts()`` gives the cleaning counts of the last
    whole pass, and ``tokens`` its number of tokens."""

    def __init__(self, path, cleaner: Cleaner | None = None, encoding: str = "utf-8") -> None:
        self.path, self.encoding = path, encoding
        self.cleaner = cleaner or Cleaner.mode("any-script")
        self._read()  # fail now on a missing path or an unknown encoding
        self._counts: dict[str, int] | None = None
        self.tokens = 0

    def _read(self) -> Iterable[str]:
        from .corpus import load_corpus

        return load_corpus(self.path, encoding=self.encoding)

    def __iter__(self):
        tally: dict[str, int] = {}
        tokens = 0
        for doc in _cleaned(self._read(), self.cleaner, tally):
            tokens += len(doc)
            yield doc
        self._counts, self.tokens = tally, tokens

    def counts(self) -> dict[str, int]:
        if self._counts is None:
            raise SgnsError("the corpus has not been read through yet")
        return dict(self._counts)
