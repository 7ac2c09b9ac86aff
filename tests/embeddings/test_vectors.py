"""word2vec text files: gensim reads what we write, float32 values come back exactly."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

from sgns.embeddings.vectors import load_vectors, save_word2vec_text, to_keyed_vectors
from sgns.encoding.vocab import Vocabulary
from sgns.errors import SgnsError


def test_round_trip_with_non_ascii_words(tmp_path):
    words = ["doctor", "café", "naïve", "서울", "Ωmega", "zürich"]
    vectors = np.random.default_rng(0).standard_normal((len(words), 7)).astype(np.float32)
    vectors[0, 0] = 1e-30  # extremes survive too
    vectors[1, 1] = -3.4e38
    path = tmp_path / "v.txt"
    save_word2vec_text(path, words, vectors)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "6 7"
    kv = KeyedVectors.load_word2vec_format(str(path))
    assert kv.index_to_key == words
    np.testing.assert_array_equal(kv.vectors, vectors)
    ours = load_vectors(path)
    np.testing.assert_array_equal(ours.vectors, vectors)
    assert ours.most_similar("café", topn=2) == to_keyed_vectors(words, vectors).most_similar(
        "café", topn=2)


@pytest.mark.parametrize("content,message", [
    ("2 3\na 1 2 3\na 4 5 6\n", "line 3 repeats the word 'a'"),
    ("2 3\na 1 2 3\nb 4 5\n", "not a valid word2vec file"),
    ("2 3\na 1 2 3\nb 4 x 6\n", "could not convert string to float"),
    ("x y\na 1 2 3\n", "not a valid word2vec file"),
    ("3 3\na 1 2 3\nb 4 5 6\n", "count incorrect"),
    ("\x00\x01binary junk", "not a valid word2vec file"),
])
def test_broken_vector_files_are_refused_clearly(tmp_path, content, message):
    path = tmp_path / "v.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SgnsError, match=message):
        load_vectors(path)


def test_words_with_spaces_are_refused(tmp_path):
    with pytest.raises(SgnsError):
        save_word2vec_text(tmp_path / "v.txt", ["two words"], np.zeros((1, 2)))
    assert not (tmp_path / "v.txt").exists()
    assert not list(tmp_path.iterdir())  # no temporary file left behind


def test_vocabulary_round_trip(tmp_path):
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]])
    assert vocab.words == ["", "b", "a", "c"] and vocab.counts.tolist() == [0, 3, 2, 1]
    vocab.save(tmp_path / "vocab.txt")
    again = Vocabulary.load(tmp_path / "vocab.txt")
    assert again.words == vocab.words and again.counts.tolist() == vocab.counts.tolist()
    (tmp_path / "bad.txt").write_text("word-without-count\n")
    with pytest.raises(SgnsError, match="bad.txt:1"):
        Vocabulary.load(tmp_path / "bad.txt")


def test_min_count_and_max_vocab():
    docs = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]]
    assert Vocabulary.build(docs, min_count=2).words == ["", "a", "b", "c"]
    assert Vocabulary.build(docs, max_vocab=2).words == ["", "a", "b"]
    encoded = Vocabulary.build(docs, min_count=3).encode([["a", "d", "b", "zzz"]])
    assert encoded.ids.tolist() == [1, 2]
    with pytest.raises(SgnsError):
        Vocabulary.build(docs, min_count=10)
