"""fastText's subwords: n-grams and hashes as gensim (and fastText) compute them, the native
engine's subword training, vectors for unseen words, and the errors."""

import json

import numpy as np
import pytest
from gensim.models.fasttext import compute_ngrams_bytes, ft_ngram_hashes

from sgns.checkpoint import load_checkpoint
from sgns.cli import main
from sgns.config import TrainConfig
from sgns.errors import SgnsError
from sgns.subwords import SubwordSpec, char_ngrams, ngram_buckets
from sgns.train import train
from sgns.vectors import load_vectors

WORDS = ["physician", "a", "ab", "café", "naïve", "zürich", "ελληνικά", "학교에", "학교는", "東京",
         "東京都庁", "x" * 40, "über-große", "ñ"]


@pytest.mark.parametrize("min_n,max_n", [(3, 6), (1, 3), (2, 2), (4, 8)])
def test_ngrams_and_hashes_are_gensims(min_n, max_n):
    for word in WORDS:
        want = [g.decode("utf-8") for g in compute_ngrams_bytes(word, min_n, max_n)]
        assert char_ngrams(word, min_n, max_n) == want, word
        for buckets in (2_000_000, 97, 1):
            assert ngram_buckets(word, min_n, max_n, buckets) == \
                list(ft_ngram_hashes(word, min_n, max_n, buckets)), (word, buckets)


def test_bags_are_the_word_then_its_buckets():
    spec = SubwordSpec(3, 5, 1000)
    words = ["", "apple", "학교"]
    starts, ids = spec.bags(words)
    assert starts[1] - starts[0] == 0  # padding has no rows
    assert ids[starts[1]:starts[2]].tolist() == [1] + [3 + b for b in
                                                      ngram_buckets("apple", 3, 5, 1000)]
    assert ids[starts[2]:starts[3]].tolist() == [2] + [3 + b for b in
                                                      ngram_buckets("학교", 3, 5, 1000)]


def _config(**changes):
    settings = dict(engine="native", subwords=True, buckets=4000, dim=16, epochs=3, window=4,
                    sample=0, workers=1, seed=2)
    return TrainConfig(**{**settings, **changes})


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_subword_training_groups_topics_and_builds_unseen_words(topic_corpus, model):
    result = train(topic_corpus, _config(model=model, epochs=4), verbose=False)
    losses = [e["loss"] for e in result.info["epochs"]]
    assert losses[-1] < losses[0]
    kv = result.keyed_vectors()
    fruit, cars = ["apple", "banana", "cherry", "grape"], ["engine", "wheel", "brake", "piston"]
    within = np.mean([kv.similarity(a, b) for a in fruit for b in fruit if a != b])
    across = np.mean([kv.similarity(a, b) for a in fruit for b in cars])
    assert within > across + 0.3
    # A word's vector is the mean of its own row and its n-grams' rows, as fastText's.
    spec = _config().subword_spec()
    row = result.vocab.index["banana"]
    buckets = ngram_buckets("banana", spec.min_n, spec.max_n, spec.buckets)
    want = (result.word_rows[row] + result.bucket_rows[buckets].sum(0)) / (1 + len(buckets))
    np.testing.assert_allclose(result.center[row], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kv["banana"], want, rtol=1e-5, atol=1e-6)
    # Misspelt words are built from their n-grams and land among their topic's words.
    topics = {"fruit": {"apple", "banana", "cherry", "grape", "melon", "peach"},
              "cars": {"engine", "wheel", "brake", "clutch", "piston", "gearbox"},
              "music": {"violin", "cello", "flute", "oboe", "trumpet", "harp"}}
    for typo, topic in [("bananna", "fruit"), ("violinz", "music"), ("pistons", "cars")]:
        assert not kv.has_index_for(typo)
        nearest = [w for w, _ in kv.most_similar(typo, topn=3)]
        assert len(set(nearest) & topics[topic]) >= 2, (typo, nearest)


def test_subwords_are_reproducible_and_resume_bit_for_bit(topic_corpus, tmp_path):
    a = train(topic_corpus, _config(), verbose=False)
    b = train(topic_corpus, _config(), verbose=False, checkpoint_dir=tmp_path / "whole")
    np.testing.assert_array_equal(a.center, b.center)
    np.testing.assert_array_equal(a.bucket_rows, b.bucket_rows)

    class Stop(Exception):
        pass

    def stop(end):
        if end.epoch == 0:
            raise Stop

    with pytest.raises(Stop):
        train(topic_corpus, _config(), verbose=False, checkpoint_dir=tmp_path / "cut",
              on_epoch_end=stop)
    resumed = train(topic_corpus, verbose=False, resume=load_checkpoint(tmp_path / "cut"))
    np.testing.assert_array_equal(resumed.center, a.center)
    np.testing.assert_array_equal(resumed.bucket_rows, a.bucket_rows)
    np.testing.assert_array_equal(resumed.context, a.context)


def _corpus_file(tmp_path, topic_corpus):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(d) for d in topic_corpus) + "\n", encoding="utf-8")
    return path


def test_unseen_words_at_the_cli(tmp_path, topic_corpus, capsys):
    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--subwords",
                 "--buckets", "5000", "--dim", "16", "--epochs", "3", "--window", "4",
                 "--quiet", "--no-plots"]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["params"]["subwords"] and info["params"]["buckets"] == 5000
    assert (out / "subwords.npz").is_file()
    capsys.readouterr()
    assert main(["neighbors", str(out), "violinz", "cello", "--topn", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "violinz (not in the vocabulary: built from its n-grams)"
    assert "violin" in " ".join(lines[1:4]) and lines[4] == "cello"
    kv = load_vectors(out)
    assert kv.has_index_for("violin") and not kv.has_index_for("violinz")
    with np.load(out / "vectors.npz") as npz:  # the words' full vectors, as exports take them
        assert npz["words"].tolist() == kv.index_to_key
        np.testing.assert_allclose(npz["vectors"], kv.vectors, rtol=1e-5, atol=1e-6)
    assert main(["plot", str(out), "--words", "violinz", "cello", "--out",
                 str(tmp_path / "map.png")]) == 0
    assert (tmp_path / "map.png").stat().st_size > 1000
    capsys.readouterr()
    # evaluate scores every pair: unseen words get their n-grams' vector.
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("violin cello 9\nviolinz flute 8\napple banana 9\napple piston 1\n"
                     "violinn brake 2\n")
    assert main(["evaluate", str(out), "--pairs", str(pairs), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["pairs"]
    assert result["oov_ratio"] == pytest.approx(2 / 5) and result["pairs"] == 5
    assert result["spearman"] > 0.5


def test_subword_errors(tmp_path, topic_corpus, capsys):
    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "run"
    base = ["train", "--corpus", str(corpus), "--out", str(out), "--quiet"]
    cases = [
        (["--subwords", "--min-n", "5", "--max-n", "3"], "max_n (3) must be >= min_n (5)"),
        (["--subwords", "--buckets", "0"], "buckets must be >= 1"),
        (["--subwords", "--min-n", "0"], "min_n must be >= 1"),
        (["--min-n", "2"], "--min-n set(s) the subword model: add --subwords"),
        (["--buckets", "10", "--max-n", "4"], "--max-n, --buckets set(s) the subword model"),
        (["--subwords", "--engine", "keras"], "native engine only"),
        (["--subwords", "--update", "pair"], "update='pair'"),
        (["--subwords", "--buckets", "900000000000"], "lower --buckets"),
    ]
    for extra, expected in cases:
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err and "Traceback" not in err, err
        assert not out.exists()


def test_memory_check_fails_before_allocating():
    from sgns.train import check_memory

    with pytest.raises(SgnsError, match=r"needs about .* GiB .* lower --buckets"):
        check_memory(TrainConfig(subwords=True, buckets=10**12), 1000)
    check_memory(TrainConfig(subwords=True, buckets=1000), 1000)  # small: fine


def test_fasttext_export_round_trips_through_fasttext_and_gensim(tmp_path, topic_corpus,
                                                                 capsys):
    import fasttext
    from gensim.models.fasttext import load_facebook_model

    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--subwords", "--model",
                 "cbow", "--buckets", "3000", "--dim", "12", "--epochs", "2", "--quiet",
                 "--no-plots"]) == 0
    binary = tmp_path / "model.bin"
    assert main(["export", str(out), "--format", "fasttext", str(binary)]) == 0
    ours = load_vectors(out)
    theirs = fasttext.load_model(str(binary))
    gensim_model = load_facebook_model(str(binary))
    assert theirs.get_dimension() == 12 and gensim_model.wv.bucket == 3000
    assert set(theirs.words) == set(ours.index_to_key)
    for word in ["violin", "banana", "violinz", "bananna", "학교에", "qqq"]:
        np.testing.assert_allclose(theirs.get_word_vector(word), ours[word], atol=1e-4)
        np.testing.assert_allclose(gensim_model.wv[word], ours[word], atol=1e-4)


def test_subword_exports_need_a_subword_run(tmp_path, topic_corpus, capsys):
    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "plain"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--dim", "8",
                 "--epochs", "1", "--quiet", "--no-plots"]) == 0
    capsys.readouterr()
    for source in (out, out / "vectors.txt"):
        assert main(["export", str(source), "--format", "fasttext", str(tmp_path / "m.bin")]) == 2
        err = capsys.readouterr().err
        assert "--subwords" in err and err.count("\n") == 1
    assert not (tmp_path / "m.bin").exists()
