"""Writing files so that a crash or a kill never leaves a torn one: write beside, then rename;
and reading back what sgns wrote, with one error for every way a file can be damaged.

Python's temporary files and folders are private (0600, 0700); what we write is given the
permissions the user's umask gives any new file or folder before it takes its final name."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import SgnsError

# What reading a damaged file raises: numpy's npz reader alone raises zipfile's, zlib's,
# EOFError and ValueError for a truncated, cut or bit-flipped file, and KeyError for a
# missing array; json raises ValueError, a wrong type TypeError or IndexError.
DAMAGED = (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile,
           zlib.error)


def read_json(path: str | os.PathLike, what: str) -> dict:
    """A JSON object that sgns wrote (``what`` names it in the error), or a one-line error."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except DAMAGED as exc:
        raise SgnsError(f"{path} is not a readable {what}: {exc}") from None
    if not isinstance(data, dict):
        raise SgnsError(f"{path} is not a readable {what}: not a JSON object")
    return data


def umask() -> int:
    """The process' umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def public_file(path: str | os.PathLike) -> None:
    """Give a file we made the permissions an ordinary new file would have."""
    os.chmod(path, 0o666 & ~umask())


def make_folder_temp(parent: Path, name: str) -> Path:
    """A new, empty folder beside ``parent / name``, with the umask's permissions."""
    folder = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".tmp"))
    os.chmod(folder, 0o777 & ~umask())
    return folder


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        public_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary file name beside ``path`` (same suffix) for writers that want a name rather
    than a file object; on success it replaces ``path`` in one rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        public_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
