"""Handing embeddings on: word2vec binary, the Embedding Projector's TSV files, a compact
``.npz``, and a Keras model that maps raw strings to vectors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import SgnsError
from ..files import atomic_open, atomic_path, read_json
from .vectors import save_npz, to_keyed_vectors

FORMATS = ("word2vec-binary", "projector", "npz", "keras", "fasttext")


def export(words: Sequence[str], vectors: np.ndarray, fmt: str, out: str | os.PathLike) -> Path:
    """Write ``words``/``vectors`` to ``out`` in format ``fmt`` (one of :data:`FORMATS`)."""
    writers = {"word2vec-binary": save_word2vec_binary, "projector": save_projector,
               "npz": save_npz, "keras": save_keras}
    if fmt == "fasttext":
        raise SgnsError("the fasttext format holds a subword model: export a run folder "
                        "trained with --subwords (export_fasttext)")
    if fmt not in writers:
        raise SgnsError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    writers[fmt](out, words, vectors)
    return Path(out)


def save_word2vec_binary(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray):
    """word2vec's binary format (gensim ``binary=True``, word2vec.c's ``-binary 1``)."""
    kv = to_keyed_vectors(words, vectors)
    with atomic_path(path) as tmp:
        kv.save_word2vec_format(str(tmp), binary=True)


def save_projector(folder: str | os.PathLike, words: Sequence[str], vectors: np.ndarray) -> None:
    """TensorFlow Embedding Projector files in ``folder``: ``vectors.tsv`` and ``metadata.tsv``
    (one word per line, no header, as the projector expects for a single column)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise SgnsError(f"projector output must be a folder: {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    vectors = np.asarray(vectors, dtype=np.float32)
    row_format = "\t".join(["%.9g"] * vectors.shape[1]) + "\n"
    with atomic_open(folder / "vectors.tsv", "w", encoding="utf-8") as f:
        for row in vectors.tolist():
            f.write(row_format % tuple(row))
    with atomic_open(folder / "metadata.tsv", "w", encoding="utf-8") as f:
        f.writelines(f"{w}\n" for w in words)


def string_embedding_model(words: Sequence[str], vectors: np.ndarray, trainable: bool = False):
    """A Keras model from token strings ``(batch, length)`` to vectors ``(batch, length, dim)``:
    ``StringLookup`` with the vocabulary (``""`` is padding, masked; unknown words get index 1),
    then an ``Embedding`` holding the trained table (padding and unknown rows are zeros).

    Keras' string layers run on TensorFlow: install the ``keras-export`` extra. With
    ``KERAS_BACKEND=tensorflow`` the model takes strings directly; JAX has no string type, so
    there run ``model.get_layer("lookup")`` in the input pipeline and
    ``model.get_layer("embedding")`` (or a model built on it) on the ids.
    """
    keras = _quiet_keras()
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        raise SgnsError(
            "the keras export needs TensorFlow for Keras' StringLookup: "
            "pip install 'sgns[keras-export]'"
        ) from None
    vectors = np.asarray(vectors, dtype=np.float32)
    table = np.concatenate([np.zeros((2, vectors.shape[1]), np.float32), vectors])
    tokens = keras.Input(shape=(None,), dtype="string", name="tokens")
    lookup = keras.layers.StringLookup(vocabulary=list(words), mask_token="",
                                       num_oov_indices=1, name="lookup")
    embedding = keras.layers.Embedding(
        len(table), vectors.shape[1], mask_zero=True, trainable=trainable, name="embedding",
        embeddings_initializer=keras.initializers.Constant(table),
    )
    return keras.Model(tokens, embedding(lookup(tokens)), name="sgns_embeddings")


def _quiet_keras():
    """Keras, imported with TensorFlow's C++ start-up notices (oneDNN's, among others, straight
    to stderr) turned off unless the user set them: an export runs no heavy TensorFlow compute.
    Set before the import, which starts TensorFlow on Keras' TensorFlow backend."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    return keras


def save_keras(path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray) -> None:
    """Save :func:`string_embedding_model` as a ``.keras`` file (``keras.saving.load_model``)."""
    keras = _quiet_keras()

    path = Path(path)
    if path.suffix != ".keras":
        raise SgnsError(f"a keras model file must end in .keras, got {path.name}")
    model = string_embedding_model(words, vectors)
    with atomic_path(path) as tmp:  # keeps the .keras suffix Keras insists on
        keras.saving.save_model(model, str(tmp))


def export_fasttext(run_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Facebook's fastText binary (``.bin``) of a subword run folder, written by gensim's
    ``save_facebook_model``. ``fasttext.load_model`` and gensim's ``load_facebook_model`` /
    ``load_facebook_vectors`` read it, with the same vectors for seen and unseen words."""

    from gensim.models.fasttext import FastText, save_facebook_model

    from ..encoding.subwords import SUBWORDS_FILE, load_subwords
    from ..encoding.vocab import Vocabulary

    run_dir, out = Path(run_dir), Path(out)
    if not (run_dir / SUBWORDS_FILE).is_file():
        raise SgnsError(f"{run_dir} has no {SUBWORDS_FILE}: the fasttext format needs a run "
                        "folder trained with --subwords")
    spec, word_rows, bucket_rows, output_rows = load_subwords(run_dir / SUBWORDS_FILE, True)
    vocab = Vocabulary.load(run_dir / "vocab.txt")
    params = read_json(run_dir / "run.json", "sgns run record").get("params")
    if not isinstance(params, dict):
        raise SgnsError(f"{run_dir / 'run.json'} is not a readable sgns run record: no params")
    model = FastText(vector_size=word_rows.shape[1], sg=int(params["model"] == "skipgram"),
                     window=params["window"], negative=int(round(params["negative"])),
                     min_count=1, sample=params["sample"], epochs=params["epochs"],
                     alpha=params["lr"], min_n=spec.min_n, max_n=spec.max_n,
                     bucket=spec.buckets, seed=params["seed"])
    counts = dict(zip(vocab.words[1:], vocab.counts[1:].tolist(), strict=True))
    model.build_vocab_from_freq(counts)
    # gensim orders equal counts its own way: place every row by its word.
    order = np.array([vocab.index[w] - 1 for w in model.wv.index_to_key])
    model.wv.vectors_vocab = np.ascontiguousarray(word_rows[order])
    model.wv.vectors_ngrams = np.ascontiguousarray(bucket_rows)
    model.syn1neg = np.ascontiguousarray(output_rows[order])
    model.wv.adjust_vectors()
    with atomic_path(out) as tmp:
        save_facebook_model(model, str(tmp))
    return out
