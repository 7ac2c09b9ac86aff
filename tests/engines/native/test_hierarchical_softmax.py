"""Hierarchical softmax in the native engine: a skip-gram window against a path's inner nodes
equals the same update written out in numpy, and every model path trains with it."""

import numpy as np
import pytest

from sgns.config import TrainConfig
from sgns.encoding.bags import identity_bags
from sgns.encoding.huffman import huffman_paths
from sgns.encoding.vocab import Vocabulary
from sgns.engines.native import alias_table, initial_tables, train_native, worker_ranges
from sgns.engines.native.driver import loop_settings
from sgns.engines.native.loops import shares_tree_top, train_slice
from sgns.engines.native.tree_top import TreeTop
from sgns.engines.native.windows import TOP_LEVELS, write_path
from sgns.training.train import train


def _sigmoid(f):
    return 1 / (1 + np.exp(-f))


def _path_window_in_numpy(input_table, output_table, contexts, nodes, labels, alpha):
    """HogBatch, 6 inner nodes at a time: each block scored from the rows as they were when
    it began, then both tables written."""
    loss = 0.0
    for b in range(0, len(nodes), 6):
        block, label = nodes[b:b + 6], labels[b:b + 6]
        rows, outs = input_table[contexts].astype(np.float64), output_table[block].astype(np.float64)
        f = rows @ outs.T
        g = (label - _sigmoid(f)) * alpha
        loss += float(np.sum(np.where(label == 1, -np.log(_sigmoid(f)), -np.log(1 - _sigmoid(f)))))
        input_table[contexts] += (g @ outs).astype(np.float32)
        output_table[block] += (g.T @ rows).astype(np.float32)
    return loss


@pytest.mark.parametrize("path_length", [1, 5, 6, 7, 14])
def test_a_window_against_a_path_is_the_update_written_out(path_length):
    """The path's first TOP_LEVELS nodes are rows of the worker's copy of the tree's top (here
    renumbered 0..5 into ``top``), the rest rows of the output table."""
    rng = np.random.default_rng(path_length)
    dim, m = 16, 5
    input_table = ((rng.random((40, dim)) - 0.5) / 2).astype(np.float32)
    output_table = ((rng.random((40, dim)) - 0.5) / 2).astype(np.float32)
    contexts = rng.choice(20, m, replace=False).astype(np.int32)
    nodes = rng.choice(np.arange(20, 40), path_length, replace=False).astype(np.int32)
    labels = rng.integers(0, 2, path_length).astype(np.float32)
    alpha = np.float32(0.1)
    want = input_table.copy(), output_table.copy()
    want_loss = _path_window_in_numpy(*want, contexts, nodes, labels, alpha)
    upper = nodes[:TOP_LEVELS]
    top = output_table[upper].copy()
    renumbered = nodes.copy()
    renumbered[:TOP_LEVELS] = np.arange(upper.size)
    untouched = output_table[upper].copy()
    n = max(6, path_length)
    loss = write_path(input_table, output_table, top, contexts, m, 2, renumbered, labels,
                      path_length, alpha, np.empty(8 * m, np.float32),
                      np.empty((n, dim), np.float32), np.empty((m, dim), np.float32),
                      np.empty((m, max(8, n)), np.float32))
    np.testing.assert_allclose(input_table, want[0], atol=2e-5)
    np.testing.assert_allclose(top, want[1][upper], atol=2e-5)
    np.testing.assert_array_equal(output_table[upper], untouched)
    lower = nodes[TOP_LEVELS:]
    np.testing.assert_allclose(output_table[lower], want[1][lower], atol=2e-5)
    assert loss == pytest.approx(want_loss, rel=1e-4)


@pytest.mark.parametrize("changes", [
    dict(model="skipgram"), dict(model="skipgram", update="pair"), dict(model="cbow"),
    dict(model="skipgram", subwords=True, buckets=5000),
    dict(model="cbow", subwords=True, buckets=5000),
])
def test_every_model_trains_with_hierarchical_softmax(topic_corpus, changes):
    config = TrainConfig(engine="native", loss="hs", dim=24, epochs=6, window=4, sample=0,
                         workers=1, seed=1, **changes)
    result = train(topic_corpus, config, verbose=False)
    losses = [e["loss"] for e in result.info["epochs"]]
    assert losses[-1] < losses[0]
    # Untrained, every score is 0: log 2 for each inner node on an example's path(s).
    longest = np.diff(huffman_paths(result.vocab.counts).starts).max()
    examples = 2 * config.window if config.subwords and config.model == "skipgram" else 1
    assert losses[0] < np.log(2) * longest * examples
    # Only the rows of the V - 2 inner nodes (V words, the padding one of them) are trained.
    assert not result.output_table[result.vocab.size - 2:].any()
    kv = result.keyed_vectors()
    fruit, cars = ["apple", "banana", "cherry", "grape"], ["engine", "wheel", "brake", "piston"]
    within = np.mean([kv.similarity(a, b) for a in fruit for b in fruit if a != b])
    across = np.mean([kv.similarity(a, b) for a in fruit for b in cars])
    assert within > across + 0.2, (within, across)


def test_one_worker_is_reproducible_with_hierarchical_softmax(topic_corpus):
    vocab = Vocabulary.build(topic_corpus)
    runs = []
    for seed in (3, 3, 4):
        config = TrainConfig(engine="native", loss="hs", dim=16, epochs=2, window=3, workers=1,
                             seed=seed)
        done = train_native(corpus=vocab.encode(topic_corpus), vocab=vocab, config=config,
                            verbose=False)
        runs.append(np.asarray(done.input_table).copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_one_workers_copy_of_the_tree_top_trains_as_the_rows_themselves(model):
    """With one worker, training the top of the tree in the worker's copy and merging it back
    after the slice gives the tables, bit for bit, that the shared rows alone give (``tops``
    here the output table itself)."""
    rng = np.random.default_rng(0)  # Zipf's counts over 400 words: paths longer than the top
    documents = [[f"w{k}" for k in np.minimum(rng.zipf(1.3, 30), 400)] for _ in range(200)]
    vocab = Vocabulary.build(documents)
    corpus = vocab.encode(documents)
    config = TrainConfig(engine="native", model=model, loss="hs", dim=16, window=3, workers=1)
    settings = loop_settings(config)
    assert shares_tree_top(settings)
    paths = huffman_paths(vocab.counts)
    assert np.diff(paths.starts).max() > TOP_LEVELS  # some paths go below the top
    ranges = worker_ranges(corpus.starts, 1, 1)[0]
    keep = np.ones(vocab.size, np.float32)
    noise = alias_table(np.full(vocab.size, 1.0 / vocab.size))
    runs = []
    for own_copy in (True, False):
        input_table, output_table = initial_tables(vocab.size, 16, 5)
        output_table += 0.01  # rows that differ from the start, so that a lost write shows
        states = np.full((1, 16), 9, np.uint64)
        if own_copy:
            top = TreeTop(paths, output_table, 1, True)
            given_paths, tops = top.paths, top.copies
        else:
            given_paths, tops = paths, output_table[None]
        for _ in range(3):
            train_slice(input_table, output_table, corpus.ids, corpus.starts, ranges, keep, noise,
                        given_paths, tops, settings, *identity_bags(vocab.size), 0.05, 0.05,
                        states, np.zeros((1, 4)))
            if own_copy:
                top.merge(output_table)
        runs.append((input_table, output_table))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_the_workers_copies_are_averaged_into_the_tree_top():
    paths = huffman_paths(np.array([0, 9, 7, 5, 3, 2, 2, 1, 1]))
    output_table = np.zeros((8, 16), np.float32)
    top = TreeTop(paths, output_table, 3, True)
    assert top.copies.shape == (3, top.nodes.size, 16)
    top.copies[:] = np.arange(3, dtype=np.float32)[:, None, None] + 1
    top.merge(output_table)
    assert np.all(output_table[top.nodes] == 2.0) and np.all(top.copies == 2.0)
    others = np.setdiff1d(np.arange(8), top.nodes)
    assert not output_table[others].any()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_the_compiled_merge_gives_numpys_mean(workers):
    """The copies' mean in one compiled pass: the floats of ``copies.mean(axis=0)``, into the
    top's rows of the output table and back into every copy; the other rows untouched."""
    counts = np.concatenate(([0], 1000 // np.arange(1, 300) + 1))
    paths = huffman_paths(counts)
    rng = np.random.default_rng(workers)
    output_table = rng.random((counts.size, 16), dtype=np.float32)
    before = output_table.copy()
    top = TreeTop(paths, output_table, workers, True)
    top.copies[:] = rng.random(top.copies.shape, dtype=np.float32)
    mean = top.copies.mean(axis=0, dtype=np.float32)
    top.merge(output_table)
    np.testing.assert_array_equal(output_table[top.nodes], mean)
    np.testing.assert_array_equal(top.copies, np.broadcast_to(mean, top.copies.shape))
    others = np.setdiff1d(np.arange(counts.size), top.nodes)
    np.testing.assert_array_equal(output_table[others], before[others])
