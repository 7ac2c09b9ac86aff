"""Phrases against gensim's ``Phrases`` as the oracle: the same phrases and scores, the same
joined text, connector words included, in memory and spilled; a saved model joins new text."""

import random
from collections import Counter

import numpy as np
import pytest
from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases
from hypothesis import given, settings
from hypothesis import strategies as st

from sgns.encoding.ingest import scan_corpus
from sgns.encoding.phrases import (
    ENGLISH_CONNECTORS,
    PhraseModel,
    PhraseSettings,
    apply_phrases,
    find_phrases,
    learn_phrases,
)
from sgns.encoding.token_lists import scanned_documents
from sgns.errors import SgnsError
from sgns.text.cleaning import CleanCorpus, Cleaner


def _documents(corpus):
    vocab = corpus.vocabulary()
    encoded = corpus.encode(vocab)
    if hasattr(encoded, "chunks"):
        encoded = list(encoded.chunks())
    return [[vocab.words[i] for i in chunk.document(k)] for chunk in encoded
            for k in range(chunk.n_documents)]


def _ours(documents, stream=False):
    corpus = CleanCorpus(documents, len(documents), len(documents), len(documents))
    return scanned_documents(corpus, stream=stream)


def test_english_connectors_are_gensims():
    assert ENGLISH_CONNECTORS == ENGLISH_CONNECTOR_WORDS


@pytest.mark.parametrize("scoring,threshold", [("default", 10.0), ("npmi", 0.5)])
def test_20_newsgroups_gives_gensims_phrases_and_text(newsgroups_docs, newsgroups_clean,
                                                      scoring, threshold):
    theirs = Phrases(newsgroups_clean.documents, min_count=5, threshold=threshold,
                     scoring=scoring)
    corpus = scan_corpus(newsgroups_docs, Cleaner.mode("notebook"))
    found = find_phrases(corpus, PhraseSettings(threshold=threshold, scoring=scoring))
    ours = {"_".join(words): score for words, score in found.items()}
    expected = theirs.export_phrases()
    assert len(expected) > 3000 and set(ours) == set(expected)
    assert all(ours[p] == pytest.approx(expected[p], rel=1e-12) for p in expected)
    _, joined = learn_phrases(corpus, PhraseSettings(threshold=threshold, scoring=scoring))
    frozen = theirs.freeze()
    assert _documents(joined) == [frozen[d] for d in newsgroups_clean.documents]


WORDS = ["new", "york", "san", "francisco", "hard", "drive", "bank", "america", "red", "blue"]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.booleans(), st.sampled_from(["default", "npmi"]))
def test_connector_words_as_gensim_handles_them(seed, stream, scoring):
    rng = random.Random(seed)
    pool = WORDS + sorted(ENGLISH_CONNECTORS)[:6]
    documents = [[rng.choice(pool) for _ in range(rng.randint(1, 12))] for _ in range(60)]
    threshold = 0.1 if scoring == "npmi" else 1.0
    theirs = Phrases(documents, min_count=2, threshold=threshold, scoring=scoring,
                     connector_words=ENGLISH_CONNECTORS)
    chosen = PhraseSettings(min_count=2, threshold=threshold, scoring=scoring,
                            connector_words=ENGLISH_CONNECTORS)
    corpus = _ours(documents, stream)
    found = find_phrases(corpus, chosen)
    assert {"_".join(w): s for w, s in found.items()} == pytest.approx(theirs.export_phrases())
    _, joined = learn_phrases(corpus, chosen)
    frozen = theirs.freeze()
    assert _documents(joined) == [frozen[d] for d in documents]


def test_two_passes_find_longer_phrases_as_gensim_stacked(newsgroups_clean):
    """A second pass on the first's output, as gensim's stacked models run. gensim keys a
    candidate by its joined string, so that (new_york, times) and (new, york_times) share one
    count, and its export lists the first pass's phrases again; here a candidate is its tokens.
    The joined text agrees all but everywhere."""
    documents = newsgroups_clean.documents
    first = Phrases(documents).freeze()
    second = Phrases([first[d] for d in documents])
    model, joined = learn_phrases(_ours(documents), passes=2)
    assert len(model.layers[0]) == len(first.phrasegrams)
    exported = second.export_phrases()
    ours = ["_".join(words) for words in model.layers[1]]
    assert sum(p in exported for p in ours) >= 0.8 * len(ours)
    frozen = second.freeze()
    theirs = [frozen[first[d]] for d in documents]
    ours_text = _documents(joined)
    same = sum(a == b for a, b in zip(ours_text, theirs, strict=True))
    assert same >= 0.9 * len(documents)
    mine, their_tokens = Counter(w for d in ours_text for w in d), Counter(w for d in theirs
                                                                           for w in d)
    assert sum((mine & their_tokens).values()) >= 0.99 * sum(their_tokens.values())
    assert any(w.count("_") >= 2 for words in model.layers[1] for w in ["_".join(words)])


def test_a_saved_model_joins_new_text(tmp_path):
    documents = [["new", "york", f"w{k}"] for k in range(10)]
    model, joined = learn_phrases(_ours(documents), PhraseSettings(min_count=1, threshold=1))
    assert model.phrases() == ["new_york"]
    model.save(tmp_path / "phrases.json")
    loaded = PhraseModel.load(tmp_path / "phrases.json")
    assert loaded.layers == model.layers and loaded.settings == model.settings
    fresh = _ours([["i", "saw", "new", "york", "today"], ["york", "new"]])
    assert _documents(apply_phrases(fresh, loaded)) == [["i", "saw", "new_york", "today"],
                                                        ["york", "new"]]


@pytest.mark.parametrize("text", ["", "{", '{"sgns_phrases": 1}', '{"sgns_phrases": 9}',
                                  '{"sgns_phrases": 1, "settings": {"min_count": 5}, '
                                  '"layers": [[["solo", 3.0]]]}'])
def test_a_damaged_model_is_one_clear_error(tmp_path, text):
    path = tmp_path / "phrases.json"
    path.write_text(text)
    with pytest.raises(SgnsError, match="phrases.json") as caught:
        PhraseModel.load(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("changes,message", [
    (dict(min_count=0), "min_count must be >= 1"), (dict(scoring="pmi"), "scoring must be"),
    (dict(scoring="npmi", threshold=10), "between -1 and 1"),
])
def test_settings_are_checked_up_front(changes, message):
    with pytest.raises(SgnsError, match=message):
        PhraseSettings(**changes)


def test_the_joined_counts_are_the_texts():
    documents = [["new", "york", "new", "york", "new"]] * 8
    _, joined = learn_phrases(_ours(documents), PhraseSettings(min_count=1, threshold=0.1))
    vocab = joined.vocabulary()
    counts = dict(zip(vocab.words[1:], vocab.counts[1:].tolist(), strict=True))
    assert counts == {"new_york": 16, "new": 8} and joined.tokens == 24
    assert np.array_equal(joined.word_counts[joined.word_counts > 0], [8, 16])
