"""sgns: skip-gram with negative sampling (word2vec) on Keras 3, with a native CPU engine.

Step by step::

    import sgns
    docs = sgns.load_corpus("20newsgroups")
    corpus = sgns.clean(docs)
    result = sgns.training.train(corpus, sgns.TrainConfig(epochs=5))
    result.keyed_vectors().most_similar("doctor")
"""

import os

# Keras 3 falls back to TensorFlow; this package's default is JAX. An explicit KERAS_BACKEND wins.
os.environ.setdefault("KERAS_BACKEND", "jax")

# Names load on first use (PEP 562), so that `sgns neighbors` and other light commands do not
# pay for importing the training stack.
_EXPORTS = {
    "CleanCorpus": "text.cleaning", "Cleaner": "text.cleaning",
    "StreamingCorpus": "text.cleaning", "clean": "text.cleaning",
    "english_stop_words": "text.cleaning",
    "PRESETS": "config", "TrainConfig": "config", "preset": "config",
    "load_20newsgroups": "text.corpus", "load_corpus": "text.corpus",
    "read_text_corpus": "text.corpus",
    "SgnsError": "errors",
    "load_vectors": "embeddings.vectors", "save_word2vec_text": "embeddings.vectors",
    "to_keyed_vectors": "embeddings.vectors",
    "EncodedCorpus": "encoding.vocab", "Vocabulary": "encoding.vocab",
    "ScannedCorpus": "encoding.ingest", "scan_corpus": "encoding.ingest",
    "scanned_documents": "encoding.token_lists",
    "PhraseModel": "encoding.phrases", "PhraseSettings": "encoding.phrases",
    "apply_phrases": "encoding.phrases", "find_phrases": "encoding.phrases",
    "join_phrases": "encoding.phrases", "learn_phrases": "encoding.phrases",
    "load_checkpoint": "training.checkpoint",
}


from .training.result import TrainResult  # noqa: E402
from .training.train import train  # noqa: E402
from .version import __version__  # noqa: E402


def __getattr__(name: str):
    if name in _EXPORTS:
        from importlib import import_module

        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "PRESETS", "CleanCorpus", "Cleaner", "EncodedCorpus", "PhraseModel", "PhraseSettings",
    "ScannedCorpus", "SgnsError", "StreamingCorpus", "apply_phrases", "find_phrases",
    "join_phrases", "learn_phrases", "scan_corpus", "scanned_documents",
    "TrainConfig", "TrainResult", "Vocabulary", "clean", "english_stop_words",
    "__version__", "load_20newsgroups", "load_checkpoint", "load_corpus", "load_vectors",
    "preset", "read_text_corpus", "save_word2vec_text", "to_keyed_vectors", "train",
]
