"""The vectorised pair stream: exact positives, counts, negatives, subsampling, determinism."""

from collections import Counter

import numpy as np
import pytest

from sgns.encoding.pairs import PairConfig, PairStream, keep_probabilities, noise_distribution
from sgns.encoding.vocab import Vocabulary
from sgns.errors import SgnsError
from sgns.text.preprocessing import skipgrams


@pytest.fixture()
def small(topic_corpus):
    vocab = Vocabulary.build(topic_corpus)
    return vocab, vocab.encode(topic_corpus)


def _all(epoch):
    parts = list(epoch)
    return [np.concatenate([p[i] for p in parts]) for i in range(3)], parts


@pytest.mark.parametrize("window", [1, 3, 10])
def test_positives_equal_keras2_skipgrams_over_every_document(small, window):
    vocab, corpus = small
    config = PairConfig(window=window, negative=0, batch_size=97, chunk_tokens=1000)
    (center, context, label), _ = _all(PairStream(corpus, vocab.counts, config).epoch(0))
    expected = Counter()
    for k in range(corpus.n_documents):
        pairs, _ = skipgrams(corpus.document(k).tolist(), vocab.size, window, 0, shuffle=False)
        expected.update(map(tuple, pairs))
    assert Counter(zip(center.tolist(), context.tolist(), strict=True)) == expected
    assert label.min() == 1.0


@pytest.mark.parametrize("negative", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("noise", ["uniform", "unigram"])
def test_counts_labels_and_negative_ranges(small, negative, noise):
    vocab, corpus = small
    config = PairConfig(window=4, negative=negative, noise=noise, batch_size=128,
                        chunk_tokens=2000)
    epoch = PairStream(corpus, vocab.counts, config, seed=3).epoch(0)
    (center, context, label), batches = _all(epoch)
    assert len(batches) == epoch.n_batches
    assert all(len(b[0]) == 128 for b in batches[:-1]) and 0 < len(batches[-1][0]) <= 128
    assert len(center) == epoch.n_pairs
    assert label.sum() == epoch.n_positive
    assert len(label) - label.sum() == pytest.approx(epoch.n_positive * negative, abs=10)
    negatives = context[label == 0]
    assert negatives.min() >= 1 and negatives.max() < vocab.size
    assert set(center[label == 0]) <= set(center[label == 1])


def test_unigram_negatives_follow_counts_to_the_three_quarters(small):
    vocab, corpus = small
    config = PairConfig(window=5, negative=5, noise="unigram", batch_size=4096)
    (_, context, label), _ = _all(PairStream(corpus, vocab.counts, config, seed=1).epoch(0))
    drawn = np.bincount(context[label == 0], minlength=vocab.size) / (label == 0).sum()
    expected = vocab.counts**0.75 / (vocab.counts**0.75).sum()
    np.testing.assert_allclose(drawn, expected, atol=0.004)
    np.testing.assert_allclose(noise_distribution(vocab.counts, "unigram"), expected)
    uniform = noise_distribution(vocab.counts, "uniform")
    assert uniform[0] == 0 and np.allclose(uniform[1:], 1 / (vocab.size - 1))


def test_keep_probabilities_follow_word2vec_formula():
    counts = np.array([0, 1000, 100, 10, 1])
    sample = 0.01
    t = sample * counts.sum()
    p = keep_probabilities(counts, sample)
    for c, kept in zip(counts[1:], p[1:], strict=True):
        assert kept == pytest.approx(min(1.0, (np.sqrt(c / t) + 1) * t / c))
    assert np.all(keep_probabilities(counts, 0) == 1)


def test_subsampling_drops_frequent_words_at_the_expected_rate(small):
    vocab, corpus = small
    config = PairConfig(window=2, negative=0, sample=1e-3)
    stream = PairStream(corpus, vocab.counts, config, seed=2)
    kept = np.zeros(vocab.size)
    for e in range(5):
        epoch = stream.epoch(e)
        for ids in epoch.kept_ids:
            kept += np.bincount(ids, minlength=vocab.size)
    rate = kept[1:] / (5 * vocab.counts[1:])
    np.testing.assert_allclose(rate, stream.keep[1:], atol=0.03)
    assert rate.max() < 0.5  # the topic words here are all "frequent" at this threshold


def test_shrunk_windows_reach_at_most_window(small):
    vocab, corpus = small
    config = PairConfig(window=5, negative=0, shrink_window=True)
    epoch = PairStream(corpus, vocab.counts, config, seed=4).epoch(0)
    full = PairStream(corpus, vocab.counts, PairConfig(window=5, negative=0)).epoch(0)
    # Window drawn uniformly from 1..5: about (5 + 1) / (2 * 5) of the full window's pairs.
    assert epoch.n_positive / full.n_positive == pytest.approx(0.6, abs=0.03)
    assert all(w.min() >= 1 and w.max() <= 5 for w in epoch.windows)


def test_same_seed_same_batches_other_seed_other_order(small):
    vocab, corpus = small
    config = PairConfig(window=3, negative=1, batch_size=256)
    a = [b[0] for b in PairStream(corpus, vocab.counts, config, seed=5).epoch(0)]
    b = [b[0] for b in PairStream(corpus, vocab.counts, config, seed=5).epoch(0)]
    c = [b[0] for b in PairStream(corpus, vocab.counts, config, seed=6).epoch(0)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(np.concatenate(a), np.concatenate(c))


@pytest.mark.parametrize("settings", [
    dict(window=4, negative=2.5, noise="unigram", sample=1e-3, shrink_window=True),
    dict(window=3, negative=0.0),  # the Keras engine's default: the model draws the negatives
    dict(window=3, negative=1.5, model="cbow"),
    dict(window=2, negative=0.0, model="cbow", run=8),
])
def test_threads_make_the_same_batches_as_one(small, settings):
    """Chunks built in a pool of threads, ahead and out of order, give the batches that one
    thread gives, in the same order (the draws stay in chunk order)."""
    vocab, corpus = small
    epochs = []
    for threads in (1, 3):
        config = PairConfig(**settings, batch_size=64, chunk_tokens=40, threads=threads)
        stream = PairStream(corpus, vocab.counts, config, seed=7)
        epochs.append([batch for e in range(2) for batch in stream.epoch(e)])
        assert len(stream.epoch(0).chunks) > 3  # several chunks, so threads run ahead
    one, three = epochs
    assert len(one) == len(three) > 4
    for a, b in zip(one, three, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("bad", [dict(window=0), dict(negative=-1), dict(sample=-0.1),
                                 dict(batch_size=0), dict(noise="zipf"), dict(threads=0)])
def test_bad_pair_config(bad):
    with pytest.raises(SgnsError):
        PairConfig(**bad)


def test_bounded_counting_finds_the_frequent_words_of_a_zipf_corpus():
    rng = np.random.default_rng(0)
    ranks = rng.zipf(1.3, size=200_000)
    docs = [[f"w{r}" for r in ranks[i : i + 50]] for i in range(0, ranks.size, 50)]
    exact = Vocabulary.build(docs)
    bounded = Vocabulary.build(docs, count_limit=500)
    assert len(exact) > 5_000 and len(bounded) <= 500
    assert bounded.words[1:51] == exact.words[1:51]
    relative = bounded.counts[1:51] / exact.counts[1:51]
    assert relative[:20].min() > 0.99 and relative.min() > 0.9 and relative.max() <= 1.0


@pytest.mark.parametrize("window,shrink", [(1, False), (3, False), (4, True)])
def test_cbow_windows_are_each_tokens_context(window, shrink):
    """Every token with a non-empty window is one example: its neighbours within its window and
    document, in their columns (d places left in 2(d-1), right in 2d-1), zeros elsewhere."""
    rng = np.random.default_rng(window)
    docs = [[f"w{k}" for k in rng.integers(0, 30, size=n)] for n in (1, 2, 5, 17, 40)]
    vocab = Vocabulary.build(docs)
    corpus = vocab.encode(docs)
    config = PairConfig(window=window, negative=0, shrink_window=shrink, batch_size=7,
                        chunk_tokens=20, model="cbow")
    epoch = PairStream(corpus, vocab.counts, config, seed=2).epoch(0)
    (windows, centers, label), _ = _all(epoch)
    assert windows.shape == (len(centers), 2 * window) and label.min() == 1.0
    assert len(centers) == epoch.n_positive == sum(len(d) for d in docs if len(d) > 1)
    # Rebuild each example from the planned windows, document by document.
    expected = Counter()
    for ids, doc_of, b in zip(epoch.kept_ids, epoch.kept_docs, epoch.windows, strict=True):
        for i in range(ids.size):
            row = [0] * (2 * window)
            for d in range(1, b[i] + 1):
                if i - d >= 0 and doc_of[i - d] == doc_of[i]:
                    row[2 * d - 2] = int(ids[i - d])
                if i + d < ids.size and doc_of[i + d] == doc_of[i]:
                    row[2 * d - 1] = int(ids[i + d])
            if any(row):
                expected[(int(ids[i]), tuple(row))] += 1
    got = Counter(zip(centers.tolist(), map(tuple, windows.tolist()), strict=True))
    assert got == expected
    if not shrink:
        assert (windows != 0).sum() == sum(
            min(window, q) + min(window, len(d) - 1 - q) for d in docs for q in range(len(d)))


def test_cbow_runs_keep_consecutive_windows_together():
    """With ``run`` the same windows come in runs of consecutive ones (what the Keras CBOW step
    takes together): in a run every slot that holds a word holds the word at that place of the
    text, so that the word d places right of window i's center is window (i + d)'s center; each
    chunk's last run is filled with empty windows (center 0, label 0)."""
    rng = np.random.default_rng(7)
    docs = [[f"w{k}" for k in rng.integers(0, 30, size=n)] for n in (1, 2, 5, 17, 40, 9, 3)]
    vocab = Vocabulary.build(docs)
    corpus = vocab.encode(docs)
    base = dict(window=3, negative=0, shrink_window=True, batch_size=8, chunk_tokens=20,
                model="cbow")
    run = 4
    one = PairStream(corpus, vocab.counts, PairConfig(**base), seed=2).epoch(0)
    epoch = PairStream(corpus, vocab.counts, PairConfig(**base, run=run), seed=2).epoch(0)
    (windows, centers, label), batches = _all(epoch)
    assert all(len(b[1]) % run == 0 for b in batches) and len(batches) == epoch.n_batches
    assert len(centers) == epoch.n_pairs
    real = centers != 0
    assert real.sum() == epoch.n_positive == one.n_positive
    assert not windows[~real].any() and not label[~real].any() and label[real].min() == 1
    assert 0 < (~real).sum() < run * len(epoch.chunks)
    (w1, c1, _), _ = _all(one)
    examples = Counter(zip(centers[real].tolist(), map(tuple, windows[real].tolist()),
                           strict=True))
    assert examples == Counter(zip(c1.tolist(), map(tuple, w1.tolist()), strict=True))
    offsets = [o for d in range(1, 4) for o in (-d, d)]
    for start in range(0, len(centers), run):
        text = {}
        for i in range(run):
            for k, o in enumerate(offsets):
                word = int(windows[start + i, k])
                if word:
                    assert text.setdefault(i + o, word) == word
        for place, word in text.items():
            if 0 <= place < run:
                assert centers[start + place] == word
    # The runs are the text's, cut every ``run`` windows in each chunk, in shuffled order.
    text_runs = []
    for ids, doc_of in zip(epoch.kept_ids, epoch.kept_docs, strict=True):
        kept = ids[np.bincount(doc_of)[doc_of] >= 2].tolist()
        kept += [0] * (-len(kept) % run)
        text_runs += [tuple(kept[i : i + run]) for i in range(0, len(kept), run)]
    runs = [tuple(centers[i : i + run].tolist()) for i in range(0, len(centers), run)]
    assert Counter(runs) == Counter(text_runs) and runs != text_runs
    with pytest.raises(SgnsError, match="runs of windows"):
        PairConfig(**{**base, "negative": 1}, run=run)
    with pytest.raises(SgnsError, match="runs of windows"):
        PairConfig(**{**base, "batch_size": 6}, run=run)


def test_cbow_negatives_reuse_windows_with_noise_centers(small):
    vocab, corpus = small
    config = PairConfig(window=3, negative=2, noise="unigram", batch_size=256, model="cbow")
    epoch = PairStream(corpus, vocab.counts, config, seed=4).epoch(0)
    (windows, centers, label), _ = _all(epoch)
    assert (label == 0).sum() == 2 * epoch.n_positive
    positive_windows = set(map(tuple, windows[label == 1].tolist()))
    assert set(map(tuple, windows[label == 0].tolist())) <= positive_windows
    assert centers[label == 0].min() >= 1 and centers[label == 0].max() < vocab.size
