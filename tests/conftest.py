"""Shared fixtures. 20 Newsgroups comes from the archive named by SGNS_20NEWS_ARCHIVE (CI sets it
to ../shared/data/20news-bydate.tar.gz); a checkout beside ../shared finds it there too."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

REPO = Path(__file__).resolve().parents[1]
SHARED_ARCHIVE = REPO.parent / "shared" / "data" / "20news-bydate.tar.gz"


@pytest.fixture(scope="session")
def newsgroups_archive() -> Path:
    archive = Path(os.environ.get("SGNS_20NEWS_ARCHIVE") or SHARED_ARCHIVE)
    assert archive.is_file(), f"no 20 Newsgroups archive at {archive}: set SGNS_20NEWS_ARCHIVE"
    return archive


@pytest.fixture(scope="session")
def sklearn_home(tmp_path_factory, newsgroups_archive) -> Path:
    """A scikit-learn data folder holding the cache built from the archive (built once)."""
    from sgns.text.corpus import build_sklearn_cache

    home = tmp_path_factory.mktemp("scikit_learn_data")
    build_sklearn_cache(newsgroups_archive, home)
    return home


@pytest.fixture(scope="session")
def newsgroups_docs(sklearn_home, newsgroups_archive):
    from sgns.text.corpus import load_20newsgroups

    return load_20newsgroups(archive=newsgroups_archive, data_home=sklearn_home)


@pytest.fixture(scope="session")
def newsgroups_clean(newsgroups_docs):
    from sgns.text.cleaning import clean

    return clean(newsgroups_docs)


@pytest.fixture(scope="session")
def newsgroups_vocab(newsgroups_clean):
    from sgns.encoding.vocab import Vocabulary

    return Vocabulary.build(newsgroups_clean.documents)


@pytest.fixture(scope="session")
def newsgroups_encoded(newsgroups_vocab, newsgroups_clean):
    return newsgroups_vocab.encode(newsgroups_clean.documents)


def _topic_corpus(n_docs: int = 400, seed: int = 0) -> list[list[str]]:
    """Documents drawn from three disjoint topics plus shared filler words: words of one topic
    co-occur, so trained embeddings must put them together."""
    import random

    rng = random.Random(seed)
    topics = [
        ["apple", "banana", "cherry", "grape", "melon", "peach"],
        ["engine", "wheel", "brake", "clutch", "piston", "gearbox"],
        ["violin", "cello", "flute", "oboe", "trumpet", "harp"],
    ]
    filler = ["thing", "stuff", "really", "quite", "maybe", "often"]
    docs = []
    for _ in range(n_docs):
        topic = rng.choice(topics)
        docs.append([rng.choice(topic) if rng.random() < 0.7 else rng.choice(filler)
                     for _ in range(rng.randint(20, 40))])
    return docs


@pytest.fixture(scope="session")
def topic_corpus() -> list[list[str]]:
    return _topic_corpus()
