"""The figures of ../shared/data/README.md, from the offline archive."""

import numpy as np
from keras_preprocessing import sequence as k2seq
from keras_preprocessing import text as k2text

from sgns.encoding.pairs import PairConfig, PairStream
from sgns.text.corpus import build_sklearn_cache
from sgns.text.preprocessing import Tokenizer, skipgrams


def test_archive_becomes_sklearn_cache_once(sklearn_home, newsgroups_archive):
    cache = build_sklearn_cache(newsgroups_archive, sklearn_home)
    assert cache.name == "20news-bydate_py3.pkz"
    stamp = cache.stat().st_mtime_ns
    build_sklearn_cache(newsgroups_archive, sklearn_home)  # already there: left alone
    assert cache.stat().st_mtime_ns == stamp
    assert [p.name for p in sklearn_home.iterdir()] == [cache.name]  # nothing extracted left


def test_documents_as_the_notebook_loads_them(newsgroups_docs):
    assert len(newsgroups_docs) == 11314
    first = "Well i'm not sure about the story nad it did seem biased."
    assert newsgroups_docs[0].startswith(first)


def test_cleaning_counts(newsgroups_clean):
    assert newsgroups_clean.counts() == {"loaded": 11314, "nonempty": 10995, "kept": 10940}
    assert newsgroups_clean.tokens == 954954


def test_vocabulary_and_first_documents(newsgroups_vocab, newsgroups_encoded):
    assert newsgroups_vocab.size == 64277
    assert len(newsgroups_vocab) == 64276
    first, second = newsgroups_encoded.document(0), newsgroups_encoded.document(1)
    assert len(first) == 61 and len(second) == 40
    assert first[:15].tolist() == [9, 59, 603, 207, 3278, 1495, 474, 702, 9470, 13686, 5533,
                                   15227, 702, 442, 702]
    assert second[:10].tolist() == [1026, 532, 2, 60, 98, 582, 107, 800, 23, 79]


def test_vocabulary_equals_keras2_tokenizer(newsgroups_clean, newsgroups_vocab):
    theirs = k2text.Tokenizer()
    theirs.fit_on_texts(newsgroups_clean.documents)
    ours = Tokenizer()
    ours.fit_on_texts(newsgroups_clean.documents)
    assert ours.word_index == theirs.word_index
    assert newsgroups_vocab.index == theirs.word_index
    assert [newsgroups_vocab.counts[i] for i in range(1, 50)] == [
        theirs.word_counts[theirs.index_word[i]] for i in range(1, 50)
    ]


def test_skipgrams_on_first_document(newsgroups_encoded):
    first = newsgroups_encoded.document(0).tolist()
    pairs, labels = skipgrams(first, vocabulary_size=64277, window_size=10)
    assert len(pairs) == 2220 and sum(labels) == 1110
    their_pairs, _ = k2seq.skipgrams(first, vocabulary_size=64277, window_size=10)
    assert len(their_pairs) == 2220


def test_pair_stream_positives_over_the_corpus(newsgroups_vocab, newsgroups_encoded):
    config = PairConfig(window=10, negative=1.0, noise="uniform", batch_size=65536)
    epoch = PairStream(newsgroups_encoded, newsgroups_vocab.counts, config, seed=0).epoch(0)
    assert epoch.n_positive == 17920656
    assert epoch.n_pairs == 2 * 17920656
    labels = np.concatenate([label for _, _, label in epoch])
    assert labels.size == epoch.n_pairs and labels.sum() == 17920656
