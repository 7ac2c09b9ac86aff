"""Growing a model: --from (a finished run continued on new text, new words added) and
--init-vectors (pretrained vectors as the start)."""

import json
import shutil

import numpy as np
import pytest
from gensim.models import KeyedVectors

from sgns.cli import main
from sgns.config import TrainConfig
from sgns.encoding.tables import row_width
from sgns.encoding.vocab import Vocabulary
from sgns.engines.native.driver import starting_tables
from sgns.errors import SgnsError
from sgns.training.checkpoint import load_checkpoint
from sgns.training.grow import Parent, grown_start, merged_vocabulary
from sgns.training.train import train
from support import Stop, stop_after
from support import topic_corpus as make_topic_corpus

# Half A knows the fruit and engine topics, half B the engine and music ones: B brings new
# words, and A's fruit words never occur in B.
FRUIT = {"apple", "banana", "cherry", "grape", "melon", "peach"}
MUSIC = {"violin", "cello", "flute", "oboe", "trumpet", "harp"}


def _halves():
    docs = make_topic_corpus(600, seed=3)
    a = [d for d in docs if not MUSIC & set(d)]
    b = [d for d in docs if not FRUIT & set(d)]
    return a[:150], b[:150]


A, B = _halves()
SMALL = dict(epochs=2, dim=16, window=3, seed=4)


def _count(docs, word):
    return sum(d.count(word) for d in docs)


def test_merged_vocabulary_keeps_old_words_adds_new_ones_and_sums_counts():
    parent = Vocabulary(["the", "cat", "sat"], [10, 4, 2])
    counted = Vocabulary(["dog", "the", "ran", "mat"], [6, 5, 3, 1])
    merged = merged_vocabulary(parent, counted, min_count=2)
    # Ranked by summed counts; "sat" (not in the new text) stays; "mat" (1 < min_count) not.
    assert merged.words[1:] == ["the", "dog", "cat", "ran", "sat"]
    assert merged.counts[1:].tolist() == [15, 6, 4, 3, 2]
    # Ties keep the parent's words first; max_vocab caps only what is added.
    tie = merged_vocabulary(Vocabulary(["old"], [3]), Vocabulary(["new", "more"], [3, 2]),
                            max_vocab=2)
    assert tie.words[1:] == ["old", "new"]
    assert merged_vocabulary(parent, counted, max_vocab=2).words[1:] == ["the", "cat", "sat"]


def test_grown_tables_carry_each_old_words_rows_to_its_new_place():
    a = train(A, TrainConfig(engine="native", **SMALL), verbose=False)
    parent = Parent.of(a)
    counted = Vocabulary.build(B)
    vocab = merged_vocabulary(parent.vocab, counted)
    config = a.config
    start = grown_start(parent, vocab, config)
    input_table, output_table = starting_tables(vocab.size, config, row_width(config.dim), vocab.size, start)
    for word in vocab.words[1:]:
        row = vocab.index[word]
        if word in a.vocab:
            old = a.vocab.index[word]
            np.testing.assert_array_equal(input_table[row, :16], a.input_table[old])
            np.testing.assert_array_equal(output_table[row, :16], a.output_table[old])
            assert vocab.counts[row] == a.vocab.counts[old] + _count(B, word)
        else:  # word2vec's start: small uniform input rows, zero output rows
            assert 0 < np.abs(input_table[row, :16]).max() <= 0.5 / 16
            assert not output_table[row].any()
    assert not input_table[:, 16:].any() and not output_table[:, 16:].any()  # the padding columns


@pytest.mark.parametrize("engine,changes", [
    ("native", dict(workers=1)),
    ("native", dict(workers=1, model="cbow")),
    ("keras", dict(batch_size=256, shared_negatives=4, shared_group=64)),
])
def test_continued_run_knows_both_halves_and_leaves_unseen_words_input_rows(engine, changes):
    a = train(A, TrainConfig(engine=engine, **SMALL, **changes), verbose=False)
    b = train(B, a.config.replace(lr=None), parent=a, verbose=False)
    assert set(b.vocab.words) == set(a.vocab.words) | {w for d in B for w in d}
    assert b.info["parent"]["vocab_size"] == a.vocab.size
    assert b.info["epochs"][0]["tokens"] == sum(map(len, B))  # the schedule is B's alone
    # Words that B never shows are never an input there: their rows are A's, exactly. Words
    # of B moved.
    for word in FRUIT:
        np.testing.assert_array_equal(b.input_table[b.vocab.index[word]],
                                      a.input_table[a.vocab.index[word]])
    moved = [np.abs(b.input_table[b.vocab.index[w]] - a.input_table[a.vocab.index[w]]).max()
             for w in ("engine", "brake")]
    assert min(moved) > 1e-3


def test_continuing_keeps_the_subword_buckets_and_the_words_own_rows(tmp_path):
    config = TrainConfig(engine="native", subwords=True, buckets=5000, workers=1, **SMALL)
    a = train(A, config, verbose=False)
    a.save(tmp_path / "a")
    b = train(B, None, parent=tmp_path / "a", verbose=False)
    assert b.config.subwords and b.config.buckets == 5000 and b.config.dim == 16
    for word in FRUIT:
        np.testing.assert_array_equal(b.word_rows[b.vocab.index[word]],
                                      a.word_rows[a.vocab.index[word]])
    assert np.abs(b.bucket_rows - a.bucket_rows).max() > 1e-3  # B's n-grams trained on
    assert b.keyed_vectors().most_similar("violinn", topn=1)  # any word has a vector


def test_from_at_the_cli_on_both_engines_records_the_parent(tmp_path, capsys):
    for name, docs in (("a.txt", A), ("b.txt", B)):
        (tmp_path / name).write_text("\n".join(" ".join(d) for d in docs) + "\n")
    common = ["--quiet", "--no-plots", "--epochs", "2", "--window", "3"]
    assert main(["train", "--corpus", str(tmp_path / "a.txt"), "--out", str(tmp_path / "ra"),
                 "--dim", "12", "--engine", "keras", *common]) == 0
    with np.load(tmp_path / "ra" / "vectors.npz") as data:  # the output table is kept
        assert data["context"].shape == data["vectors"].shape == (len(Vocabulary.build(A)), 12)
    assert main(["train", "--corpus", str(tmp_path / "b.txt"), "--out", str(tmp_path / "rb"),
                 "--from", str(tmp_path / "ra"), "--engine", "native", "--stream",
                 *common]) == 0
    record = json.loads((tmp_path / "rb" / "run.json").read_text())
    assert record["parent"]["path"] == str((tmp_path / "ra").resolve())
    assert record["parent"]["engine"] == "keras" and record["engine"] == "native"
    assert record["params"]["dim"] == 12  # from the parent
    assert record["tokens_in_vocabulary"] == sum(map(len, B))
    vocab = Vocabulary.load(tmp_path / "rb" / "vocab.txt")
    assert set(vocab.words[1:]) == {w for d in A + B for w in d}
    assert vocab.counts[vocab.index["engine"]] == _count(A + B, "engine")
    # A run continued from a continued run records the chain.
    assert main(["train", "--corpus", str(tmp_path / "a.txt"), "--out", str(tmp_path / "rc"),
                 "--from", str(tmp_path / "rb"), *common]) == 0
    chain = json.loads((tmp_path / "rc" / "run.json").read_text())["parent"]
    assert chain["parent"]["path"] == str((tmp_path / "ra").resolve())


def test_resuming_a_continued_run_equals_the_uninterrupted_one(tmp_path):
    a = train(A, TrainConfig(engine="native", workers=1, **SMALL), verbose=False)
    config = a.config.replace(lr=None, epochs=3)
    whole = train(B, config, parent=a, verbose=False)
    with pytest.raises(Stop):
        train(B, config, parent=a, verbose=False, checkpoint_dir=tmp_path / "cut",
              on_epoch_end=stop_after(1))
    resumed = train(B, verbose=False, resume=load_checkpoint(tmp_path / "cut"))
    np.testing.assert_array_equal(resumed.input_table, whole.input_table)
    np.testing.assert_array_equal(resumed.output_table, whole.output_table)
    assert resumed.info["parent"] == whole.info["parent"]


def _pretrained_files(tmp_path, kv):
    """The same vectors in every format --init-vectors reads."""
    files = {"txt": tmp_path / "v.txt", "vec": tmp_path / "v.vec", "bin": tmp_path / "v.bin",
             "binary without .bin": tmp_path / "v.w2v", "npz": tmp_path / "v.npz"}
    kv.save_word2vec_format(str(files["txt"]))
    shutil.copy(files["txt"], files["vec"])
    kv.save_word2vec_format(str(files["bin"]), binary=True)
    shutil.copy(files["bin"], files["binary without .bin"])
    np.savez(files["npz"], words=np.array(kv.index_to_key), vectors=kv.vectors)
    return files


def _kv(words, dim, seed=0):
    kv = KeyedVectors(dim)
    kv.add_vectors(words, np.random.default_rng(seed).normal(size=(len(words), dim))
                   .astype(np.float32))
    return kv


@pytest.mark.parametrize("kind", ["txt", "vec", "bin", "binary without .bin", "npz"])
def test_init_vectors_from_each_format_start_the_words_it_holds(tmp_path, kind):
    kv = _kv(["engine", "brake", "violin", "unrelated"], 8)
    path = _pretrained_files(tmp_path, kv)[kind]
    # A learning rate of almost nothing: the result is the start.
    config = TrainConfig(engine="native", epochs=1, dim=8, lr=1e-12, min_lr=0, workers=1)
    result = train(B, config, init_vectors=path, verbose=False)
    for word in ("engine", "brake", "violin"):
        np.testing.assert_allclose(result.input_table[result.vocab.index[word]], kv[word], atol=1e-6)
    assert "unrelated" not in result.vocab
    cello = result.input_table[result.vocab.index["cello"]]
    assert np.abs(cello).max() <= 0.5 / 8  # not in the file: word2vec's start
    assert result.info["init_vectors"]["found"] == 3


def test_init_vocab_adds_the_files_words_and_keeps_their_vectors(tmp_path):
    kv = _kv(["engine", "zeppelin", "quasar"], 8)
    config = TrainConfig(engine="native", epochs=2, dim=8)
    result = train(B, config, init_vectors=kv, init_vocab=True, verbose=False)
    assert result.vocab.words[-2:] == ["zeppelin", "quasar"]
    assert result.vocab.counts[-2:].tolist() == [0, 0]
    for word in ("zeppelin", "quasar"):  # never in the corpus: never trained
        np.testing.assert_array_equal(result.input_table[result.vocab.index[word]], kv[word])
    assert not np.allclose(result.input_table[result.vocab.index["engine"]], kv["engine"])


def test_init_vectors_on_the_keras_engine_and_with_subwords(tmp_path):
    kv = _kv(["engine", "brake"], 8)
    tiny = dict(epochs=1, dim=8, lr=1e-12, min_lr=0)
    keras_run = train(B, TrainConfig(engine="keras", batch_size=256, **tiny), init_vectors=kv,
                      verbose=False)
    np.testing.assert_allclose(keras_run.input_table[keras_run.vocab.index["brake"]], kv["brake"],
                               atol=1e-6)
    subword_run = train(B, TrainConfig(engine="native", subwords=True, buckets=1000, **tiny),
                        init_vectors=kv, verbose=False)
    np.testing.assert_allclose(subword_run.word_rows[subword_run.vocab.index["brake"]],
                               kv["brake"], atol=1e-6)  # the word's own row


def _fails(argv, capsys, expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert expected in err, err


def test_growing_errors_are_one_line(tmp_path, capsys):
    corpus = tmp_path / "b.txt"
    corpus.write_text("\n".join(" ".join(d) for d in B) + "\n")
    run = ["train", "--corpus", str(corpus), "--quiet", "--no-plots", "--epochs", "1"]
    assert main([*run, "--out", str(tmp_path / "ra"), "--dim", "8"]) == 0
    capsys.readouterr()
    parent = ["--from", str(tmp_path / "ra")]
    out = ["--out", str(tmp_path / "new")]
    _fails([*run, *out, *parent, "--dim", "9"], capsys, "dim 9 differs from the parent run's 8")
    _fails([*run, *out, *parent, "--model", "cbow"], capsys, "differs from the parent run's")
    _fails([*run, *out, *parent, "--subwords"], capsys, "differs from the parent run's")
    _fails([*run, *parent, "--out", str(tmp_path / "ra"), "--overwrite"], capsys,
           "--out is the run that --from continues")
    _fails([*run, *out, "--from", str(tmp_path)], capsys, "is not a run folder")
    _fails([*run, *out, *parent, "--init-vectors", str(tmp_path / "ra")], capsys,
           "give one of them")
    _fails([*run, *out, "--init-vocab"], capsys, "give --init-vectors")
    _fails(["train", "--resume", str(tmp_path / "ra"), *parent], capsys,
           "--resume continues a run")
    _fails([*run, *out, "--init-vectors", str(tmp_path / "nothing.txt")], capsys,
           "pretrained vectors not found")
    _fails([*run, *out, "--init-vectors", str(corpus)], capsys, "is not word2vec text")
    _fails([*run, *out, "--init-vectors", str(tmp_path / "ra"), "--dim", "9"], capsys,
           "have 8 dimensions but the run has dim 9")
    _kv(["zeppelin"], 8).save_word2vec_format(str(tmp_path / "other.txt"))
    _fails([*run, *out, "--init-vectors", str(tmp_path / "other.txt")], capsys,
           "none of the 1 words")
    bad = _kv(["engine"], 8)
    bad.vectors[0, 0] = np.inf
    bad.save_word2vec_format(str(tmp_path / "inf.txt"))
    _fails([*run, *out, "--init-vectors", str(tmp_path / "inf.txt")], capsys, "not finite")
    # A run folder without its output table cannot be continued.
    with np.load(tmp_path / "ra" / "vectors.npz") as data:
        np.savez(tmp_path / "ra" / "vectors.npz", words=data["words"], vectors=data["vectors"])
    _fails([*run, *out, *parent], capsys, "has no output table")
    # Nor can an unfinished one.
    record = json.loads((tmp_path / "ra" / "run.json").read_text())
    (tmp_path / "ra" / "run.json").write_text(json.dumps({**record, "status": "running: 1"}))
    _fails([*run, *out, *parent], capsys, "unfinished run")
    assert not (tmp_path / "new").exists()  # no error left a run folder behind


def test_the_api_refuses_a_parent_and_pretrained_vectors_together():
    a = train(A, TrainConfig(engine="native", **SMALL), verbose=False)
    with pytest.raises(SgnsError, match="not both"):
        train(B, parent=a, init_vectors=a.keyed_vectors(), verbose=False)
    with pytest.raises(SgnsError, match="dim 32 differs"):
        train(B, TrainConfig(dim=32), parent=a, verbose=False)
