"""Embeddings: the trained center table with its words, saved in word2vec's text format and
handed to users as a gensim ``KeyedVectors`` (gensim already answers similarity queries well).

gensim is imported where it is used: importing it takes most of a second, which the command
line's quick answers (``sgns neighbors`` on a run folder) do without."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SgnsError
from ..files import DAMAGED, atomic_open
from .text_format import word2vec_text

if TYPE_CHECKING:
    from gensim.models import KeyedVectors


def to_keyed_vectors(words: Sequence[str], vectors: np.ndarray) -> KeyedVectors:
    """A ``KeyedVectors`` of ``words`` (in order) and their rows of ``vectors``."""
    from gensim.models import KeyedVectors

    if len(words) != len(vectors):
        raise SgnsError(f"{len(words)} words but {len(vectors)} vectors")
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(list(words), np.asarray(vectors, dtype=np.float32))
    return kv


def save_word2vec_text(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray) -> None:
    """word2vec text format: a ``count dim`` header, then ``word v1 ... vd`` per line."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if any(not w or any(c.isspace() for c in w) for w in words):
        raise SgnsError("word2vec text format cannot hold empty words or words with spaces")
    if len(words) != len(vectors):
        raise SgnsError(f"{len(words)} words but {len(vectors)} vectors")
    with atomic_open(path, "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for lines in word2vec_text(words, vectors):  # each float as "%.9g" writes it
            f.write(lines)


def save_npz(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray,
             context: np.ndarray | None = None) -> None:
    """Compact native format: ``words`` (unicode array) and ``vectors`` (float32), no pickle;
    a run folder's also holds ``context``, the output table, to continue the run from."""
    if not str(path).endswith(".npz"):
        raise SgnsError(f"an npz file must end in .npz, got {path}")
    tables = {} if context is None else {"context": np.asarray(context, dtype=np.float32)}
    with atomic_open(path, "wb") as f:
        np.savez(f, words=np.asarray(list(words), dtype=str),
                 vectors=np.asarray(vectors, dtype=np.float32), **tables)


def read_npz(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """The words and vectors of an sgns ``.npz`` file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            words, vectors = data["words"].tolist(), data["vectors"]
    except DAMAGED as exc:
        raise SgnsError(f"{path} is not an sgns .npz vectors file: {exc}") from None
    if vectors.ndim != 2 or len(words) != len(vectors):
        raise SgnsError(f"{path} is not an sgns .npz vectors file: {len(words)} words but "
                        f"vectors of shape {vectors.shape}")
    return words, vectors


def load_npz(path: str | os.PathLike) -> KeyedVectors:
    return to_keyed_vectors(*read_npz(path))


def vectors_path(path: str | os.PathLike) -> str:
    """The vectors file a path names: a run folder's ``vectors.npz`` (or ``vectors.txt`` in
    folders written before there was one), or the path itself."""
    path = os.fspath(path)
    if os.path.isdir(path):
        npz = os.path.join(path, "vectors.npz")
        path = npz if os.path.isfile(npz) else os.path.join(path, "vectors.txt")
    if not os.path.isfile(path):
        raise SgnsError(f"vectors file not found: {path}")
    return path


def load_vectors(path: str | os.PathLike) -> KeyedVectors:
    """Read vectors as a ``KeyedVectors``: a run folder (its ``vectors.npz``, or
    ``vectors.txt`` in folders written before there was one), ``.npz`` (sgns' native format),
    word2vec binary (``.bin``) or word2vec text (anything else)."""
    from gensim.models import KeyedVectors

    from ..encoding.subwords import SUBWORDS_FILE

    if os.path.isfile(os.path.join(os.fspath(path), SUBWORDS_FILE)):
        return load_subword_run(path)
    path = vectors_path(path)
    if path.endswith(".npz"):
        return load_npz(path)
    binary = path.endswith(".bin")
    try:
        kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    except (ValueError, UnicodeDecodeError, EOFError, IndexError) as exc:
        raise SgnsError(f"{path} is not a valid word2vec file: {exc}") from None
    if len(set(kv.index_to_key)) != len(kv) or None in kv.index_to_key:
        # gensim keeps the first of repeated words and leaves a hole where the others were.
        raise SgnsError(f"{path} is not a valid word2vec file: {_first_duplicate(path, binary)}")
    return kv


def load_subword_run(folder: str | os.PathLike) -> KeyedVectors:
    """A subword run folder as gensim's ``FastTextKeyedVectors``: a vector for any word."""
    from ..encoding.subwords import SUBWORDS_FILE, fasttext_vectors, load_subwords

    spec, word_rows, bucket_rows = load_subwords(os.path.join(folder, SUBWORDS_FILE))
    words, _ = read_npz(vectors_path(folder))
    if len(words) != len(word_rows):
        raise SgnsError(f"{folder}: {len(words)} words but {len(word_rows)} word rows in "
                        f"{SUBWORDS_FILE}")
    return fasttext_vectors(words, word_rows, bucket_rows, spec)


def has_subwords(kv: KeyedVectors) -> bool:
    """Whether ``kv`` builds vectors for words outside its vocabulary (fastText's n-grams)."""
    return hasattr(kv, "vectors_ngrams")


def _first_duplicate(path: str, binary: bool) -> str:
    if binary:
        return "it repeats a word"
    seen: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as f:
        next(f, None)
        for n, line in enumerate(f, start=2):
            word = line.split(" ", 1)[0]
            if word in seen:
                return f"line {n} repeats the word {word!r}"
            seen.add(word)
    return "it repeats a word"
