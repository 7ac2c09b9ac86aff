"""The native engine: its sampling tables, schedule, determinism and what training achieves."""

import numpy as np
import pytest

from sgns.config import TrainConfig
from sgns.native import _alpha, alias_table, initial_tables, train_native, worker_ranges
from sgns.pairs import noise_distribution
from sgns.vectors import to_keyed_vectors
from sgns.vocab import Vocabulary


@pytest.mark.parametrize("seed", range(4))
def test_alias_table_draws_exactly_the_noise_distribution(seed):
    rng = np.random.default_rng(seed)
    counts = np.r_[0, rng.integers(1, 1000, size=200)]
    p = noise_distribution(counts, "unigram")
    accept, alias = alias_table(p)
    n = len(p)
    # P(k) = (accept[k] + sum of (1 - accept[j]) over the j whose alias is k) / n
    drawn = accept.astype(float) + np.bincount(alias, weights=1 - accept.astype(float),
                                               minlength=n)
    np.testing.assert_allclose(drawn / n, p, atol=1e-6)
    assert accept[0] == 0 or alias[0] != 0  # the padding id is never drawn


def test_learning_rate_decays_linearly_to_min_lr():
    config = TrainConfig(lr=0.05, min_lr=0.001)
    assert _alpha(config, 0.0) == pytest.approx(0.05)
    assert _alpha(config, 0.5) == pytest.approx(0.0255)
    assert _alpha(config, 1.0) == pytest.approx(0.001)
    assert _alpha(config.replace(schedule="constant"), 0.7) == pytest.approx(0.05)


def test_worker_ranges_cover_every_document_once():
    starts = np.r_[0, np.cumsum(np.random.default_rng(0).integers(1, 50, size=333))]
    ranges = worker_ranges(starts, workers=3, slices=7)
    assert ranges.shape == (7, 3, 2)
    pieces = sorted(map(tuple, ranges.reshape(-1, 2)))
    covered = np.concatenate([np.arange(a, b) for a, b in pieces])
    np.testing.assert_array_equal(np.sort(covered), np.arange(333))


def test_initial_tables_as_word2vec():
    syn0, syn1 = initial_tables(100, 20, seed=0)
    assert syn0.dtype == np.float32 and np.abs(syn0).max() <= 0.5 / 20
    assert not syn1.any()


def _train(corpus, **changes):
    vocab = Vocabulary.build(corpus)
    settings = dict(engine="native", dim=24, epochs=4, window=4, sample=0)
    config = TrainConfig(**{**settings, **changes})
    return vocab, train_native(vocab.encode(corpus), vocab, config, verbose=False)


def test_one_worker_is_reproducible_bit_for_bit(topic_corpus):
    _, (a, a_out, history_a, _) = _train(topic_corpus, workers=1, seed=3)
    _, (b, b_out, history_b, _) = _train(topic_corpus, workers=1, seed=3)
    _, (c, _, _, _) = _train(topic_corpus, workers=1, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a_out, b_out)
    assert [h["loss"] for h in history_a] == [h["loss"] for h in history_b]
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("workers", [1, 2])
def test_training_lowers_the_loss_and_groups_topic_words(topic_corpus, workers):
    vocab, (center, _, history, _) = _train(topic_corpus, workers=workers, seed=1)
    losses = [h["loss"] for h in history]
    assert losses[-1] < 0.95 * losses[0]
    assert all(h["tokens"] == sum(map(len, topic_corpus)) for h in history)
    kv = to_keyed_vectors(vocab.words[1:], center[1:])
    fruit, cars = ["apple", "banana", "cherry", "grape"], ["engine", "wheel", "brake", "piston"]
    within = np.mean([kv.similarity(a, b) for a in fruit for b in fruit if a != b])
    across = np.mean([kv.similarity(a, b) for a in fruit for b in cars])
    assert within > across + 0.3
    assert kv.most_similar("violin", topn=3)[0][0] in {"cello", "flute", "oboe", "trumpet", "harp"}


def test_shrunk_window_trains_on_the_expected_share_of_pairs():
    rng = np.random.default_rng(0)
    long_docs = [[f"w{k}" for k in rng.integers(0, 50, size=2000)] for _ in range(10)]
    _, (_, _, shrunk, _) = _train(long_docs, workers=1, epochs=1, window=5)
    _, (_, _, full, _) = _train(long_docs, workers=1, epochs=1, window=5, shrink_window=False)
    assert full[0]["pairs"] == pytest.approx(10 * 2000 * 10, rel=0.01)
    # Windows drawn uniformly from 1..5 give (5 + 1) / (2 * 5) of the full window's pairs.
    assert shrunk[0]["pairs"] / full[0]["pairs"] == pytest.approx(0.6, abs=0.02)


def test_subsampling_trains_on_fewer_pairs_of_frequent_words():
    docs = [["the"] * 30 + ["rare", "word"] for _ in range(50)]
    _, (_, _, plain, _) = _train(docs, workers=1, epochs=1)
    _, (_, _, sub, _) = _train(docs, workers=1, epochs=1, sample=1e-3)
    assert sub[0]["pairs"] < 0.5 * plain[0]["pairs"]
