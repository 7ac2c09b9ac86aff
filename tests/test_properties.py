"""Property-based tests (hypothesis) with a bounded number of examples, and fuzzed readers."""

import random
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgns.embeddings.export import save_npz, save_word2vec_binary
from sgns.embeddings.vectors import load_vectors, save_word2vec_text
from sgns.encoding.pairs import PairConfig, PairStream
from sgns.encoding.token_lists import scanned_documents
from sgns.encoding.vocab import ChunkedCorpus, Vocabulary
from sgns.errors import SgnsError
from sgns.text.preprocessing import skipgrams

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

sequences = st.lists(st.integers(0, 30), max_size=40)
documents = st.lists(st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=30),
                     min_size=1, max_size=12)
words = st.text(st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=8)


def _brute_force_positives(sequence, window):
    return Counter((sequence[i], sequence[j]) for i in range(len(sequence))
                   for j in range(max(0, i - window), min(len(sequence), i + window + 1))
                   if i != j and sequence[i] and sequence[j])


@SETTINGS
@given(sequences, st.integers(1, 6), st.sampled_from([0.0, 0.5, 1.0, 2.5]), st.integers(0, 99))
def test_skipgrams_properties(sequence, window, negative, seed):
    pairs, labels = skipgrams(sequence, 31, window_size=window, negative_samples=negative,
                              rng=random.Random(seed))
    positives = Counter(tuple(p) for p, label in zip(pairs, labels, strict=True) if label == 1)
    assert positives == _brute_force_positives(sequence, window)
    n_pos = sum(positives.values())
    assert len(pairs) == len(labels) == n_pos + int(n_pos * negative)
    assert all(1 <= p[1] <= 30 for p, label in zip(pairs, labels, strict=True) if label == 0)


@SETTINGS
@given(documents, st.integers(1, 3))
def test_vocabulary_properties(docs, min_count):
    counts = Counter(w for doc in docs for w in doc)
    if max(counts.values()) < min_count:
        return
    vocab = Vocabulary.build(docs, min_count=min_count)
    assert list(vocab.counts[1:]) == sorted(vocab.counts[1:], reverse=True)
    assert all(vocab.counts[vocab.index[w]] == c for w, c in counts.items() if c >= min_count)
    encoded = vocab.encode(docs)
    assert [vocab.words[i] for i in encoded.ids] == [w for doc in docs for w in doc
                                                     if counts[w] >= min_count]
    assert encoded.ids.min() >= 1 and encoded.n_documents == len(docs)


# Any str at all: empty, spaces, NUL, lone surrogates, every plane; few enough to repeat.
any_tokens = st.lists(st.lists(st.sampled_from(["", "a", "a b", "\0", "x\0y", "é", "\ud800",
                                                 "\U0001f600", "\t", "ab"]) | st.text(max_size=3),
                               max_size=12), max_size=8)


@SETTINGS
@given(any_tokens, st.integers(1, 3), st.integers(1, 20))
def test_token_lists_numbered_at_compiled_speed_as_in_python(docs, min_count, batch_tokens):
    """``scanned_documents`` (the compiled interner, a batch of tokens at a time) gives the
    vocabulary, counts, ids and documents of ``Vocabulary.build`` and ``encode`` (Python's
    Counter and dict), for any str tokens."""
    try:
        expected = Vocabulary.build(docs, min_count)
    except SgnsError:
        return  # no word that often: nothing to compare
    scanned = scanned_documents(docs, batch_tokens=batch_tokens) if docs else None
    if scanned is None:
        return
    vocab = scanned.vocabulary(min_count)
    assert vocab.words == expected.words
    np.testing.assert_array_equal(vocab.counts, expected.counts)
    assert scanned.tokens == sum(map(len, docs))
    for given_vocab in (vocab, expected):  # ranked here, and from elsewhere
        got, want = scanned.encode(given_vocab), expected.encode(docs)
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_array_equal(got.starts, want.starts)


@SETTINGS
@given(documents, st.integers(1, 8))
def test_bounded_counting_keeps_the_frequent_words(docs, limit):
    counts = Counter(w for doc in docs for w in doc)
    try:
        vocab = Vocabulary.build(docs, count_limit=limit)
    except SgnsError:  # every word dropped: possible only when no word dominates
        return
    assert len(vocab) <= limit
    assert all(0 < vocab.counts[vocab.index[w]] <= counts[w] for w in vocab.words[1:])
    if len(counts) <= limit:  # nothing to drop: exact
        exact = Vocabulary.build(docs)
        assert vocab.words == exact.words and np.array_equal(vocab.counts, exact.counts)


@SETTINGS
@given(documents, st.integers(1, 40))
def test_chunked_corpus_equals_the_corpus_in_memory_on_every_pass(tmp_path_factory, docs,
                                                                   chunk_tokens):
    vocab = Vocabulary.build(docs)
    whole = vocab.encode(docs)
    chunked = ChunkedCorpus(docs, vocab, chunk_tokens=chunk_tokens,
                            spill_dir=tmp_path_factory.mktemp("spill"))
    for _ in range(2):  # the first pass encodes the documents, the second reads the spill file
        chunks = list(chunked.chunks())
        assert all(c.n_tokens >= min(chunk_tokens, whole.n_tokens) for c in chunks[:-1])
        assert np.array_equal(np.concatenate([c.ids for c in chunks]), whole.ids)
        lengths = np.concatenate([np.diff(c.starts) for c in chunks])
        assert np.array_equal(lengths, np.diff(whole.starts))
    assert chunked.n_tokens == whole.n_tokens
    spill = chunked._spill.name
    chunked.close()
    assert not Path(spill).exists()


@SETTINGS
@given(documents, st.integers(1, 5), st.sampled_from([0.0, 1.0, 3.0]), st.integers(1, 64),
       st.booleans())
def test_pair_stream_properties(docs, window, negative, batch, shrink):
    vocab = Vocabulary.build(docs)
    encoded = vocab.encode(docs)
    config = PairConfig(window=window, negative=negative, batch_size=batch, chunk_tokens=17,
                        shrink_window=shrink)
    epoch = PairStream(encoded, vocab.counts, config, seed=1).epoch(0)
    batches = list(epoch)
    assert len(batches) == epoch.n_batches
    if not batches:
        assert epoch.n_pairs == 0
        return
    center, context, label = (np.concatenate([b[i] for b in batches]) for i in range(3))
    assert len(center) == epoch.n_pairs and label.sum() == epoch.n_positive
    if not shrink:
        expected = sum(sum(_brute_force_positives(encoded.document(k).tolist(), window).values())
                       for k in range(encoded.n_documents))
        assert epoch.n_positive == expected
    assert center.min() >= 1 and context.min() >= 1 and context.max() < vocab.size


@SETTINGS
@given(st.lists(words, min_size=1, max_size=10, unique=True), st.integers(1, 6),
       st.sampled_from(["text", "binary", "npz"]), st.data())
def test_vector_formats_round_trip(tmp_path_factory, unique_words, dim, fmt, data):
    vectors = np.array(data.draw(st.lists(
        st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=dim,
                 max_size=dim),
        min_size=len(unique_words), max_size=len(unique_words))), dtype=np.float32)
    folder = tmp_path_factory.mktemp("formats")
    path = folder / {"text": "v.txt", "binary": "v.bin", "npz": "v.npz"}[fmt]
    {"text": save_word2vec_text, "binary": save_word2vec_binary, "npz": save_npz}[fmt](
        path, unique_words, vectors)
    kv = load_vectors(path)
    assert kv.index_to_key == unique_words
    np.testing.assert_array_equal(kv.vectors, vectors)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.sampled_from(["v.txt", "v.bin", "v.npz", "vocab.txt"]))
def test_readers_fail_only_with_a_clear_error(tmp_path_factory, blob, name):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(blob)
    try:
        Vocabulary.load(path) if name == "vocab.txt" else load_vectors(path)
    except SgnsError as exc:
        assert str(exc) and "\n" not in str(exc).strip()


@SETTINGS
@given(st.binary(min_size=1, max_size=200))
def test_mutated_text_vectors_never_load_silently_wrong(tmp_path_factory, noise):
    folder = tmp_path_factory.mktemp("mutate")
    path = folder / "v.txt"
    save_word2vec_text(path, ["alpha", "beta", "gamma"], np.eye(3, dtype=np.float32))
    original = path.read_bytes()
    cut = len(noise) % len(original)
    path.write_bytes(original[:cut] + noise + original[cut:])
    try:
        kv = load_vectors(path)
    except SgnsError:
        return
    assert len(set(kv.index_to_key)) == len(kv) and None not in kv.index_to_key
    assert kv.vectors.shape[1] == 3
