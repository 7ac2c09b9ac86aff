"""sgns: skip-gram with negative sampling (word2vec) on Keras 3, with a native CPU engine.

Step by step::

    import sgns
    docs = sgns.load_corpus("20newsgroups")
    corpus = sgns.clean(docs)
    result = sgns.train(corpus, sgns.TrainConfig(epochs=5))
    result.keyed_vectors().most_similar("doctor")
"""

import os

# Keras 3 falls back to TensorFlow; this package's default is JAX. An explicit KERAS_BACKEND wins.
os.environ.setdefault("KERAS_BACKEND", "jax")

from .cleaning import CleanCorpus, Cleaner, clean, english_stop_words  # noqa: E402
from .config import PRESETS, TrainConfig, preset  # noqa: E402
from .corpus import load_20newsgroups, load_corpus, read_text_corpus  # noqa: E402
from .errors import SgnsError  # noqa: E402
from .train import TrainResult, train  # noqa: E402
from .vectors import load_vectors, save_word2vec_text, to_keyed_vectors  # noqa: E402
from .vocab import EncodedCorpus, Vocabulary  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "PRESETS", "CleanCorpus", "Cleaner", "EncodedCorpus", "SgnsError", "StreamingCorpus",
    "TrainConfig", "TrainResult", "Vocabulary", "clean", "english_stop_words",
    "load_20newsgroups", "load_corpus", "load_vectors", "preset", "read_text_corpus",
    "save_word2vec_text", "to_keyed_vectors", "train",
]
