"""Corpora: 20 Newsgroups as the reference notebook loads it, or a user's own text.

A corpus is an iterable of raw document strings. 20 Newsgroups comes from scikit-learn; offline, a
local ``20news-bydate.tar.gz`` is turned into scikit-learn's own cache first, so that
``fetch_20newsgroups`` then loads it exactly as it would after its download.
"""

from __future__ import annotations

import codecs
import gzip
import os
import pickle
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import SgnsError

NEWSGROUPS = "20newsgroups"
ARCHIVE_ENV = "SGNS_20NEWS_ARCHIVE"
# scikit-learn's cache file name for the "bydate" archive (its CACHE_NAME plus the "_py3" suffix).
_SKLEARN_CACHE = "20news-bydate_py3.pkz"
_SPLITS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}


# A line longer than this many characters is read in parts (:class:`LinePart`), so that one
# line as large as a corpus is never held whole.
LINE_PART_CHARS = 1 << 18


class CorpusError(SgnsError):
    """The corpus cannot be found or read."""


class LinePart(str):
    """A part of a long line, cut after a space or a tab: the document goes on in the next
    string that :func:`read_text_corpus` yields (the line's last part is a plain ``str``).
    Joined, the parts are the line."""


def load_20newsgroups(
    archive: str | os.PathLike | None = None,
    data_home: str | os.PathLike | None = None,
    subset: str = "train",
    with_labels: bool = False,
) -> list[str] | tuple[list[str], list[str]]:
    """The notebook's corpus: ``fetch_20newsgroups(shuffle=True, random_state=1, remove=...)``.

    ``archive`` (or the ``SGNS_20NEWS_ARCHIVE`` variable) names a local ``20news-bydate.tar.gz``
    to use instead of scikit-learn's download. ``subset`` is ``train`` (the notebook's),
    ``test`` or ``all``; ``with_labels`` also returns each document's newsgroup.
    """
    from sklearn.datasets import fetch_20newsgroups, get_data_home

    archive = archive or os.environ.get(ARCHIVE_ENV) or None
    home = Path(get_data_home(data_home))
    if archive is not None:
        build_sklearn_cache(archive, home)
    try:
        bunch = fetch_20newsgroups(
            data_home=str(home),
            subset=subset,
            shuffle=True,
            random_state=1,
            remove=("headers", "footers", "quotes"),
            download_if_missing=archive is None,
        )
    except OSError as exc:  # no network, no cache
        raise CorpusError(
            f"cannot load 20 Newsgroups ({exc}); set {ARCHIVE_ENV} or --archive to a local "
            "20news-bydate.tar.gz"
        ) from None
    if with_labels:
        return list(bunch.data), [bunch.target_names[t] for t in bunch.target]
    return list(bunch.data)


def build_sklearn_cache(archive: str | os.PathLike, data_home: str | os.PathLike) -> Path:
    """Write scikit-learn's 20 Newsgroups cache from a local archive, as its downloader does.

    Does nothing when the cache is already there. The cache is written under a temporary name and
    renamed, so an interrupted run never leaves a torn cache behind.
    """
    from sklearn.datasets import load_files

    archive, home = Path(archive), Path(data_home)
    cache = home / _SKLEARN_CACHE
    if cache.exists():
        return cache
    if not archive.is_file():
        raise CorpusError(f"20 Newsgroups archive not found: {archive}")
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix=".sgns-20news-") as tmp:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise CorpusError(f"cannot read 20 Newsgroups archive {archive}: {exc}") from None
        missing = [d for d in _SPLITS.values() if not (Path(tmp) / d).is_dir()]
        if missing:
            raise CorpusError(f"{archive} is not the 20news-bydate archive (no {missing[0]}/)")
        content = {
            split: load_files(str(Path(tmp) / folder), encoding="latin1")
            for split, folder in _SPLITS.items()
        }
        partial = Path(tmp) / _SKLEARN_CACHE
        partial.write_bytes(codecs.encode(pickle.dumps(content), "zlib_codec"))
        shutil.move(str(partial), str(cache))
    return cache


def read_text_corpus(path: str | os.PathLike, encoding: str = "utf-8") -> Iterator[str]:
    """Stream documents from disk: a file (``.gz`` too) holds one document per line; a folder
    holds one document per ``.txt`` file (searched recursively, in sorted order).

    Undecodable bytes are replaced rather than fatal, so one stray byte does not end a long run.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise CorpusError(f"no .txt files in folder {path}")
        for file in files:
            yield _read_file(file, encoding)
    elif path.is_file():
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            with opener(path, "rt", encoding=encoding, errors="replace") as lines:
                yield from _lines(lines)
        except (OSError, EOFError) as exc:
            raise CorpusError(f"cannot read {path}: {exc}") from None
    else:
        raise CorpusError(f"corpus not found: {path}")


def _lines(file) -> Iterator[str]:
    """The file's lines, without their ends; a line of more than ``LINE_PART_CHARS``
    characters as :class:`LinePart` strings, each cut after its last space or tab, then the
    rest of the line."""
    carry, going_on = "", False
    while part := file.readline(LINE_PART_CHARS):
        text = carry + part
        if text.endswith("\n") or len(part) < LINE_PART_CHARS:  # a line's end, or the file's
            carry, going_on = "", False
            yield text.removesuffix("\n")
            continue
        cut = max(text.rfind(" "), text.rfind("\t"))
        if cut < 0:  # no space yet: the part grows until there is one
            carry = text
            continue
        carry, going_on = text[cut + 1:], True
        yield LinePart(text[:cut + 1])
    if carry or going_on:  # the rest of a long last line, without its end
        yield carry


def _read_file(file: Path, encoding: str) -> str:
    try:
        return file.read_text(encoding=encoding, errors="replace")
    except OSError as exc:
        raise CorpusError(f"cannot read {file}: {exc}") from None


def load_corpus(
    corpus: str | os.PathLike = NEWSGROUPS,
    archive: str | os.PathLike | None = None,
    data_home: str | os.PathLike | None = None,
    encoding: str = "utf-8",
) -> Iterable[str]:
    """``"20newsgroups"`` (the default) or a path to a text file or a folder of ``.txt`` files."""
    if str(corpus) == NEWSGROUPS:
        return load_20newsgroups(archive=archive, data_home=data_home)
    if not Path(corpus).exists():
        raise CorpusError(f"corpus not found: {corpus}")
    try:
        codecs.lookup(encoding)  # fail early on an unknown encoding name
    except LookupError:
        raise CorpusError(f"unknown encoding: {encoding}") from None
    return read_text_corpus(corpus, encoding=encoding)
