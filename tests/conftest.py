"""Shared fixtures. 20 Newsgroups comes from the archive named by SGNS_20NEWS_ARCHIVE (CI sets it
to ../shared/data/20news-bydate.tar.gz); a checkout beside ../shared finds it there too."""

import os
from pathlib import Path

import pytest

import support

os.environ.setdefault("KERAS_BACKEND", "jax")

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Marks for the runs of ``tests/variants.sh``: ``keras`` on the tests of the Keras engine
    (test_model.py whole, and every test named for Keras but those of text/, whose Keras is
    keras-preprocessing's API and uses no backend), run again on each Keras backend;
    ``native`` on the native engine's tests, run again for other CPUs and under bounds checks."""
    for item in items:
        path = Path(str(item.fspath)).resolve().relative_to(TESTS)
        if path.name == "test_model.py" or ("keras" in item.name and path.parts[0] != "text"):
            item.add_marker(pytest.mark.keras)
        if path.parts[:2] == ("engines", "native"):
            item.add_marker(pytest.mark.native)
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


@pytest.fixture(scope="session")
def topic_corpus() -> list[list[str]]:
    return support.topic_corpus()
