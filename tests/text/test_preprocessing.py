"""sgns.text.preprocessing against the original Keras 2 code, keras-preprocessing 1.1.2."""

import random
from collections import Counter

import numpy as np
import pytest
from keras_preprocessing import sequence as k2seq
from keras_preprocessing import text as k2text

from sgns.text.preprocessing import Tokenizer, make_sampling_table, skipgrams, text_to_word_sequence

TEXTS = [
    "The cat sat on the mat.",
    "The dog ate my homework!! The DOG.",
    "Tab\tseparated\nand newline; punctuation: (brackets) [square] {curly}",
    "",
    "élan café naïve Ünïcode words, café again",
    "ties ties order order first second",
]
TOKEN_LISTS = [["Well", "sure", "story"], ["story", "Sure", "bias"], [], ["zebra"]]

TOKENIZER_KWARGS = [
    {},
    {"num_words": 5},
    {"oov_token": "<unk>"},
    {"num_words": 4, "oov_token": "<unk>"},
    {"lower": False},
    {"split": ";", "filters": "!"},
    {"char_level": True},
]


def _compare(ours, theirs):
    assert ours.word_index == theirs.word_index
    assert ours.index_word == theirs.index_word
    assert list(ours.word_counts.items()) == list(theirs.word_counts.items())
    assert dict(ours.word_docs) == dict(theirs.word_docs)
    assert dict(ours.index_docs) == dict(theirs.index_docs)
    assert ours.document_count == theirs.document_count


@pytest.mark.parametrize("kwargs", TOKENIZER_KWARGS)
@pytest.mark.parametrize("texts", [TEXTS, TOKEN_LISTS], ids=["strings", "token-lists"])
def test_tokenizer_matches_keras2(kwargs, texts):
    ours, theirs = Tokenizer(**kwargs), k2text.Tokenizer(**kwargs)
    ours.fit_on_texts(texts)
    theirs.fit_on_texts(texts)
    _compare(ours, theirs)
    queries = texts + (["unseen words here", "The cat"] if isinstance(texts[0], str)
                       else [["unseen", "Story"]])
    assert ours.texts_to_sequences(queries) == theirs.texts_to_sequences(queries)
    sequences = theirs.texts_to_sequences(queries)
    assert ours.sequences_to_texts(sequences) == theirs.sequences_to_texts(sequences)


def test_tokenizer_fits_incrementally_like_keras2():
    ours, theirs = Tokenizer(), k2text.Tokenizer()
    for chunk in (TEXTS[:2], TEXTS[2:]):
        ours.fit_on_texts(chunk)
        theirs.fit_on_texts(chunk)
    _compare(ours, theirs)


@pytest.mark.parametrize("text", TEXTS)
def test_text_to_word_sequence_matches_keras2(text):
    assert text_to_word_sequence(text) == k2text.text_to_word_sequence(text)


@pytest.mark.parametrize("size,factor", [(10, 1e-5), (1000, 1e-3), (64277, 1e-5)])
def test_make_sampling_table_matches_keras2(size, factor):
    np.testing.assert_allclose(
        make_sampling_table(size, factor), k2seq.make_sampling_table(size, factor), rtol=1e-12
    )


SKIPGRAM_CASES = [
    dict(sequence=[1, 2, 3, 4, 5, 6, 7], vocabulary_size=10, window_size=2),
    dict(sequence=[3, 0, 5, 5, 0, 2, 9, 1], vocabulary_size=10, window_size=3,
         negative_samples=0.5),
    dict(sequence=list(range(1, 30)), vocabulary_size=40, window_size=4, negative_samples=2.0),
    dict(sequence=[4, 8, 15, 16, 23, 42], vocabulary_size=50, categorical=True),
    dict(sequence=[1, 2, 3, 4, 5, 6], vocabulary_size=7, window_size=1, negative_samples=0.0),
    dict(sequence=list(range(1, 50)), vocabulary_size=50, window_size=5,
         sampling_table=k2seq.make_sampling_table(50, sampling_factor=0.1)),
    dict(sequence=[], vocabulary_size=5),
]


@pytest.mark.parametrize("case", SKIPGRAM_CASES)
@pytest.mark.parametrize("seed", [None, 7])
def test_skipgrams_identical_to_keras2_under_the_same_global_random_state(case, seed):
    random.seed(1234)
    ours = skipgrams(**case, seed=seed)
    random.seed(1234)
    theirs = k2seq.skipgrams(**case, seed=seed)
    assert ours == theirs


@pytest.mark.parametrize("case", SKIPGRAM_CASES[:4])
def test_skipgrams_pairs_as_multisets_with_independent_randomness(case):
    """Without a shared random state the order and the negatives differ, but the positives,
    the counts and the label balance must not."""
    ours_pairs, ours_labels = skipgrams(**case, rng=random.Random(1))
    random.seed(99)
    their_pairs, their_labels = k2seq.skipgrams(**case)
    positive = [1] if not case.get("categorical") else [[0, 1]]

    def positives(pairs, labels):
        return Counter(tuple(p) for p, lab in zip(pairs, labels, strict=True) if lab in positive)

    assert positives(ours_pairs, ours_labels) == positives(their_pairs, their_labels)
    assert len(ours_pairs) == len(their_pairs)
    assert Counter(map(str, ours_labels)) == Counter(map(str, their_labels))
    vocabulary_size = case["vocabulary_size"]
    for pair, label in zip(ours_pairs, ours_labels, strict=True):
        if label not in positive:
            assert 1 <= pair[1] < vocabulary_size
            assert pair[0] in case["sequence"]


def test_skipgrams_windows():
    pairs, labels = skipgrams([1, 2, 3, 4, 5], 6, window_size=1, negative_samples=0, shuffle=False)
    assert pairs == [[1, 2], [2, 1], [2, 3], [3, 2], [3, 4], [4, 3], [4, 5], [5, 4]]
    assert labels == [1] * 8


def test_skipgrams_own_rng_leaves_global_random_alone():
    random.seed(5)
    before = random.getstate()
    skipgrams(list(range(1, 20)), 30, rng=random.Random(3))
    assert random.getstate() == before
