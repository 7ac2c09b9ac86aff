"""What a training run gives back, and the run folder it saves."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import TrainConfig
from ..embeddings.vectors import save_npz, save_word2vec_text, to_keyed_vectors
from ..encoding.vocab import Vocabulary
from ..errors import SgnsError
from ..files import atomic_write_text, make_folder_temp

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

# The files every run folder holds (with subwords also subwords.npz; during and after
# training checkpoint.npz; with plots training.png and words.png).
RUN_FILES = ("vectors.txt", "vectors.npz", "vocab.txt", "run.json")


@dataclass
class TrainResult:
    """The trained tables (row 0 is the reserved padding row), their vocabulary and the record of
    the run (what ``run.json`` holds)."""

    vocab: Vocabulary
    # The words' vectors (with subwords each word's bag mean) and the output table.
    input_table: np.ndarray
    output_table: np.ndarray
    config: TrainConfig
    info: dict = field(default_factory=dict)
    # With subwords: the words' own input rows and the n-gram bucket rows (``input_table``
    # then holds
    # each word's full vector, the mean of its own row and its n-grams' rows).
    word_rows: np.ndarray | None = None
    bucket_rows: np.ndarray | None = None

    @property
    def vectors(self) -> np.ndarray:
        """The embeddings: the input table without the padding row, one row per word."""
        return self.input_table[1:]

    @property
    def center(self) -> np.ndarray:
        """Deprecated name of :attr:`input_table` (until 0.3)."""
        _renamed("center", "input_table")
        return self.input_table

    @property
    def context(self) -> np.ndarray:
        """Deprecated name of :attr:`output_table` (until 0.3)."""
        _renamed("context", "output_table")
        return self.output_table

    def keyed_vectors(self) -> KeyedVectors:
        """A gensim ``KeyedVectors``; with subwords a ``FastTextKeyedVectors``, which also
        answers for words outside the vocabulary."""
        if self.bucket_rows is not None:
            from ..encoding.subwords import fasttext_vectors

            return fasttext_vectors(self.vocab.words[1:], self.word_rows[1:], self.bucket_rows,
                                    self.config.subword_spec())
        return to_keyed_vectors(self.vocab.words[1:], self.vectors)

    def save(self, out_dir: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write ``vectors.txt``, ``vectors.npz`` (the same vectors, quick to load), ``vocab.txt``
        and ``run.json`` into ``out_dir``.

        Everything is written into a temporary folder beside it and moved into place at the end,
        so a failed or interrupted save never leaves a half-written run folder.
        """
        out = Path(out_dir)
        check_output_dir(out, overwrite)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = make_folder_temp(out.parent, out.name)
        # The npz is written in a thread while the text is formatted: each file ends in an
        # fsync, a wait for the disk that the other file's work fills.
        npz = ThreadPoolExecutor(1, thread_name_prefix="sgns-save")
        try:
            # The output table too (without subwords; subwords.npz holds it otherwise), so
            # that the run can be continued (sgns.training.grow).
            npz_written = npz.submit(
                save_npz, staging / "vectors.npz", self.vocab.words[1:], self.vectors,
                context=None if self.bucket_rows is not None else self.output_table[1:])
            save_word2vec_text(staging / "vectors.txt", self.vocab.words[1:], self.vectors)
            npz_written.result()
            if self.bucket_rows is not None:
                from ..encoding.subwords import SUBWORDS_FILE, save_subwords

                save_subwords(staging / SUBWORDS_FILE, self.config.subword_spec(),
                              self.word_rows[1:], self.bucket_rows, self.output_table[1:])
            self.vocab.save(staging / "vocab.txt")
            atomic_write_text(staging / "run.json", json.dumps(self.info, indent=2) + "\n")
            if out.exists():
                shutil.rmtree(out)
            os.replace(staging, out)
        except BaseException:
            npz.shutdown(wait=True)  # nothing is written into the folder once it is gone
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            npz.shutdown(wait=False)
        return out


def check_output_dir(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SgnsError(f"output path exists and is not a folder: {out}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise SgnsError(f"output folder {out} exists; pass --overwrite to replace it")


def _renamed(old: str, new: str) -> None:
    warnings.warn(f"TrainResult.{old} is now TrainResult.{new}", DeprecationWarning, stacklevel=3)
