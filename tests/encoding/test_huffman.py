"""Hierarchical softmax's tree against gensim's: the same code and points for every word of a
vocabulary, ties included (gensim's heap compares counts alone)."""

import numpy as np
import pytest
from gensim.models import Word2Vec
from hypothesis import given, settings
from hypothesis import strategies as st

from sgns.encoding.huffman import huffman_paths, split_top


def _gensim_tree(counts: list[int]):
    """gensim's vocabulary of these counts (its own order) and its Huffman codes and points."""
    model = Word2Vec(vector_size=4, hs=1, negative=0, min_count=1)
    model.build_vocab_from_freq({f"w{i}": int(c) for i, c in enumerate(counts)})
    wv = model.wv
    ranked = [wv.get_vecattr(k, "count") for k in range(len(wv))]
    return ranked, [(list(wv.get_vecattr(k, "code")), list(wv.get_vecattr(k, "point")))
                    for k in range(len(wv))]


def _assert_same_tree(counts: list[int]):
    ranked, gensim_paths = _gensim_tree(counts)
    paths = huffman_paths(np.array([0, *ranked]))  # id 0: the padding, outside the tree
    assert paths.starts[1] == paths.starts[0] == 0
    for k, (code, point) in enumerate(gensim_paths):
        lo, hi = paths.starts[k + 1], paths.starts[k + 2]
        assert paths.nodes[lo:hi].tolist() == [int(p) for p in point], k
        assert (1 - paths.labels[lo:hi]).astype(int).tolist() == [int(c) for c in code], k
    assert paths.nodes.max() == len(counts) - 2  # the root: inner nodes are 0..V-2


def test_the_tree_of_20_newsgroups_is_gensims(newsgroups_vocab):
    _assert_same_tree(newsgroups_vocab.counts[1:].tolist())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=60))
def test_ties_fall_as_in_gensim(counts):
    """Small counts, so most are tied: the order of ties is where trees differ."""
    _assert_same_tree(counts)


@pytest.mark.parametrize("n", [1, 2])
def test_the_smallest_vocabularies(n):
    paths = huffman_paths(np.array([0] + [3] * n))
    assert np.diff(paths.starts).tolist() == [0] + [n - 1] * n


def test_the_top_of_the_tree_is_split_off(newsgroups_vocab):
    """Each path's first ``levels`` nodes renumbered as places in ``top`` (the nodes within
    ``levels`` of the root), the rest kept."""
    levels = 6
    paths = huffman_paths(newsgroups_vocab.counts)
    split, top = split_top(paths, levels)
    assert top.size <= 2 ** levels - 1 and np.all(np.diff(top) > 0)
    np.testing.assert_array_equal(split.starts, paths.starts)
    np.testing.assert_array_equal(split.labels, paths.labels)
    upper = set()
    for k in range(len(paths.starts) - 1):
        lo, hi = paths.starts[k], paths.starts[k + 1]
        cut = min(hi, lo + levels)
        np.testing.assert_array_equal(top[split.nodes[lo:cut]], paths.nodes[lo:cut])
        np.testing.assert_array_equal(split.nodes[cut:hi], paths.nodes[cut:hi])
        upper.update(paths.nodes[lo:cut].tolist())
    assert upper == set(top.tolist())
    assert paths.nodes.max() in upper  # the root
