"""The command line: end to end on a small corpus, and one-line errors with exit status 2."""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from gensim.models import KeyedVectors

from sgns.cli import build_parser, main
from sgns.config import CBOW_SHARE

SMALL = ["the quick brown foxes jumped over lazy dogs again and again"] * 3 + [
    "engines wheels brakes pistons clutch gearbox engines wheels brakes",
    "violin cello flute oboe trumpet harp violin cello flute",
] * 20


@pytest.fixture()
def corpus_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(SMALL) + "\n", encoding="utf-8")
    return path


def _train(corpus, out, *extra):
    return main(["train", "--corpus", str(corpus), "--out", str(out), "--epochs", "2",
                 "--dim", "16", "--window", "3", "--quiet", *extra])


@pytest.mark.parametrize("engine", ["native", "keras"])
@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_train_writes_the_run_folder(corpus_file, tmp_path, engine, model, capsys):
    out = tmp_path / f"run-{engine}"
    assert _train(corpus_file, out, "--engine", engine, "--model", model) == 0
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "training.png", "vectors.npz",
                                                     "vectors.txt", "vocab.txt", "words.png"]
    info = json.loads((out / "run.json").read_text())
    assert info["engine"] == engine and info["params"]["model"] == model
    assert info["params"]["lr"] == {"skipgram": 0.025, "cbow": 0.05 if engine == "native"
                                    else 0.1}[model]
    keras_backend = os.environ.get("KERAS_BACKEND", "jax")  # test_backends.py runs the others
    assert info["backend"] == ("numba" if engine == "native" else keras_backend)
    assert info["documents"] == {"loaded": 43, "nonempty": 43, "kept": 43}
    vocab_lines = (out / "vocab.txt").read_text().splitlines()
    assert info["vocab_size"] == len(vocab_lines) + 1
    assert info["tokens"] == sum(int(line.split("\t")[1]) for line in vocab_lines)
    assert [e["epoch"] for e in info["epochs"]] == [1, 2]
    assert all(set(e) >= {"epoch", "loss", "seconds", "pairs"} for e in info["epochs"])
    assert info["params"]["dim"] == 16 and info["params"]["window"] == 3
    assert info["train_seconds"] > 0
    kv = KeyedVectors.load_word2vec_format(str(out / "vectors.txt"))
    assert kv.vector_size == 16 and len(kv) == len(vocab_lines)
    assert kv.index_to_key == [line.split("\t")[0] for line in vocab_lines]
    with np.load(out / "vectors.npz") as npz:  # the same vectors, quick to load
        assert npz["words"].tolist() == kv.index_to_key
        np.testing.assert_array_equal(npz["vectors"], kv.vectors)
    assert "wrote" in capsys.readouterr().out


def test_run_folder_has_the_permissions_of_the_umask(corpus_file, tmp_path):
    import os
    import stat

    previous = os.umask(0o022)
    try:
        out = tmp_path / "run"
        assert _train(corpus_file, out) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o755
        assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o644}
        os.umask(0o077)
        private = tmp_path / "private"
        assert _train(corpus_file, private) == 0
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        assert {stat.S_IMODE(p.stat().st_mode) for p in private.iterdir()} == {0o600}
    finally:
        os.umask(previous)


def test_neighbors_prints_most_similar(corpus_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(corpus_file, out) == 0
    capsys.readouterr()
    assert main(["neighbors", str(out), "violin", "engines", "--topn", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "violin" and lines[4] == "engines" and len(lines) == 8
    kv = KeyedVectors.load_word2vec_format(str(out / "vectors.txt"))
    expected = kv.most_similar("violin", topn=3)
    for line, (word, score) in zip(lines[1:4], expected, strict=True):
        assert line.split() == [f"{score:.4f}", word]
    assert main(["neighbors", str(out / "vectors.txt"), "violin", "cello",
                 "--negative", "engines", "--topn", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "violin + cello - engines"


def test_notebook_preset(corpus_file, tmp_path):
    out = tmp_path / "run"
    assert _train(corpus_file, out, "--preset", "notebook", "--engine", "keras") == 0
    params = json.loads((out / "run.json").read_text())["params"]
    assert params["optimizer"] == "adam" and params["lr"] == 0.001
    assert params["noise"] == "uniform" and params["negative"] == 1.0 and params["sample"] == 0
    assert params["shrink_window"] is False and params["window"] == 3  # --window overrides


def _fails(argv, capsys, expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0], err
    assert expected in errors[0]
    return err


@pytest.mark.parametrize("option,value,expected", [
    ("--window", "0", "window must be >= 1"),
    ("--dim", "0", "dim must be >= 1"),
    ("--negative", "-1", "negative must be >= 0"),
    ("--epochs", "0", "epochs must be >= 1"),
    ("--lr", "0", "learning rate) must be > 0"),
    ("--lr", "-0.5", "learning rate) must be > 0"),
    ("--min-count", "0", "min_count must be >= 1"),
    ("--max-vocab", "0", "max_vocab must be >= 1"),
    ("--count-limit", "-3", "count_limit must be >= 1"),
    ("--update", "sideways", "invalid choice: 'sideways'"),
    ("--model", "glove", "invalid choice: 'glove'"),
    ("--workers", "0", "workers must be >= 1"),
    ("--epochs", "two", "invalid int value"),
])
def test_bad_hyperparameters(corpus_file, tmp_path, capsys, option, value, expected):
    out = tmp_path / "run"
    _fails(["train", "--corpus", str(corpus_file), "--out", str(out), option, value],
           capsys, expected)
    assert not out.exists()


def test_settings_that_do_not_apply_to_cbow(corpus_file, tmp_path, capsys):
    out = tmp_path / "run"
    _fails(["train", "--corpus", str(corpus_file), "--out", str(out), "--model", "cbow",
            "--update", "pair"], capsys, "update='pair' is the skip-gram window's order")
    assert not out.exists()


def test_cbow_run_from_the_command_line(corpus_file, tmp_path, capsys):
    """--cbow-run: recorded in run.json when it trains; a one-line error (exit 2, no run
    folder) for skip-gram and for runs that the negatives cannot take."""
    out = tmp_path / "run"
    _fails(["train", "--corpus", str(corpus_file), "--out", str(out), "--cbow-run", "8"],
           capsys, "cbow_run is for CBOW without subwords")
    _fails(["train", "--corpus", str(corpus_file), "--out", str(out), "--model", "cbow",
            "--engine", "keras", "--cbow-run", "64", "--shared-negatives", "0"], capsys,
           "cbow_run 64: runs of windows train with shared negatives")
    assert not out.exists()
    assert _train(corpus_file, out, "--model", "cbow", "--engine", "keras", "--cbow-run", "1",
                  "--epochs", "1") == 0
    assert json.loads((out / "run.json").read_text())["params"]["cbow_run"] == 1


def test_cbow_share_from_the_command_line(corpus_file, tmp_path, capsys):
    """--cbow-share: the native CBOW's default filled in and recorded in run.json, a value
    given recorded as given; a one-line error (exit 2, no run folder) for skip-gram and for 0."""
    out = tmp_path / "run"
    _fails(["train", "--corpus", str(corpus_file), "--out", str(out), "--cbow-share", "2"],
           capsys, "cbow_share is for CBOW (--model cbow)")
    _fails(["train", "--corpus", str(corpus_file), "--out", str(out), "--model", "cbow",
            "--cbow-share", "0"], capsys, "cbow_share must be >= 1")
    assert not out.exists()
    assert _train(corpus_file, out, "--model", "cbow", "--engine", "native") == 0
    assert json.loads((out / "run.json").read_text())["params"]["cbow_share"] == CBOW_SHARE
    assert _train(corpus_file, tmp_path / "one", "--model", "cbow", "--engine", "native",
                  "--cbow-share", "1") == 0
    assert json.loads((tmp_path / "one" / "run.json").read_text())["params"]["cbow_share"] == 1


def test_missing_empty_and_emptied_corpora(tmp_path, capsys):
    out = tmp_path / "run"
    _fails(["train", "--corpus", str(tmp_path / "nope.txt"), "--out", str(out)], capsys,
           "corpus not found")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    _fails(["train", "--corpus", str(empty), "--out", str(out)], capsys, "the corpus is empty")
    stop_words_only = tmp_path / "stop.txt"
    stop_words_only.write_text("the a an 12345 !!!\nthem were have\n")
    _fails(["train", "--corpus", str(stop_words_only), "--out", str(out)], capsys,
           "empty after cleaning")
    empty_folder = tmp_path / "folder"
    empty_folder.mkdir()
    _fails(["train", "--corpus", str(empty_folder), "--out", str(out)], capsys, "no .txt files")
    assert not out.exists()


def test_existing_output_folder_needs_overwrite(corpus_file, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    _fails(["train", "--corpus", str(corpus_file), "--out", str(out)], capsys, "--overwrite")
    assert (out / "keep.txt").read_text() == "mine"
    assert _train(corpus_file, out, "--overwrite") == 0
    assert not (out / "keep.txt").exists()


def test_neighbors_errors(corpus_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(corpus_file, out) == 0
    _fails(["neighbors", str(out), "violin", "zzzunknown"], capsys, "not in the vocabulary")
    _fails(["neighbors", str(tmp_path / "none.txt"), "violin"], capsys, "not found")
    junk = tmp_path / "junk.txt"
    junk.write_text("this is not\na vectors file\n")
    _fails(["neighbors", str(junk), "violin"], capsys, "not a valid word2vec file")
    _fails(["neighbors", str(out), "violin", "--topn", "0"], capsys, "--topn must be >= 1")


def test_a_real_process_exits_2_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sgns", "train", "--corpus",
                           str(tmp_path / "missing"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"sgns train: error: corpus not found: {tmp_path / 'missing'}"]


def test_help_explains_every_option(capsys):
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ["--corpus", "--engine", "--model", "--epochs", "--dim", "--window", "--negative",
                   "--sample", "--min-count", "--batch-size", "--lr", "--seed", "--workers",
                   "--preset", "--out", "--overwrite", "--stream", "--count-limit", "--update"]:
        assert option in text
    # Every option of every command has its own help, and every option that takes a value
    # states its default (the formatter adds it where the help does not).
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    formatter = parser._get_formatter()
    for name, command in commands.choices.items():
        for action in command._actions:
            if not action.option_strings or action.dest in ("help", "resume"):
                continue
            assert action.help, (name, action.option_strings)
            if action.nargs != 0 and not action.required:
                assert "default" in formatter._get_help_string(action), (name, action.dest)


def test_gzip_and_folder_corpora(tmp_path):
    import gzip

    from sgns.text.corpus import load_corpus

    gz = tmp_path / "c.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write("first line\nsecond line\n")
    assert list(load_corpus(gz)) == ["first line", "second line"]
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("bee", encoding="utf-8")
    (folder / "sub" / "a.txt").write_bytes(b"caf\xe9")  # latin-1 byte, read with replacement
    assert list(load_corpus(folder)) == ["bee", "caf\ufffd"]
    assert list(load_corpus(folder, encoding="latin-1"))[1] == "café"
    np.testing.assert_equal(len(list(load_corpus(folder))), 2)


def test_user_corpora_keep_every_script_by_default(tmp_path):
    corpus = tmp_path / "multi.txt"
    lines = ["서울은 한국의 수도이다 서울은 크다", "Café naïve Zürich café Ελληνικά γράμματα",
             "東京 大阪 東京 京都"]
    corpus.write_text("\n".join(lines * 5) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert _train(corpus, out) == 0
    words = {line.split("\t")[0] for line in (out / "vocab.txt").read_text("utf-8").splitlines()}
    assert {"서울은", "한국의", "café", "naïve", "zürich", "ελληνικά", "東京"} <= words
    info = json.loads((out / "run.json").read_text())
    assert info["corpus"]["cleaning"] == "any-script"
    # The notebook's a-z steps leave one word ("rich", from "Zürich") per line at most.
    assert _train(corpus, tmp_path / "run-notebook", "--cleaning", "notebook") == 2


def test_neighbors_of_a_run_folder_answer_as_gensim_without_importing_it(corpus_file,
                                                                         tmp_path):
    from sgns.embeddings.neighbors import NearestWords
    from sgns.embeddings.vectors import read_npz

    out = tmp_path / "run"
    assert _train(corpus_file, out) == 0
    kv = KeyedVectors.load_word2vec_format(str(out / "vectors.txt"))
    ours = NearestWords(*read_npz(out / "vectors.npz"))
    for positive, negative in [(["violin"], []), (["engines"], []),
                               (["violin", "cello"], ["engines"]), (["quick"], ["lazy"])]:
        want = kv.most_similar(positive=positive, negative=negative, topn=5)
        got = ours.most_similar(positive, negative, topn=5)
        assert [w for w, _ in got] == [w for w, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
    # The command answers from vectors.npz without importing gensim (most of a second).
    script = ("import sys; from sgns.cli import main; "
              f"code = main(['neighbors', {str(out)!r}, 'violin', '--topn', '2']); "
              "print(code, 'gensim' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "0 False", done.stdout + done.stderr


@pytest.mark.parametrize("engine", ["native", "keras"])
def test_cbow_streams_and_evaluates_each_epoch(corpus_file, tmp_path, engine):
    out = tmp_path / "run"
    extra = ["--lr", "0.05"] if engine == "keras" else []  # a 30-word vocabulary: see limits
    assert _train(corpus_file, out, "--model", "cbow", "--engine", engine, "--stream",
                  "--evaluate", *extra) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["corpus"]["stream"] and info["params"]["model"] == "cbow"
    assert all({"wordsim353", "simlex999"} <= set(e["evaluation"]) for e in info["epochs"])
    assert info["tokens"] == sum(int(line.split("\t")[1])
                                 for line in (out / "vocab.txt").read_text().splitlines())


def test_a_closed_pipe_ends_quietly(corpus_file, tmp_path):
    out = tmp_path / "run"
    assert _train(corpus_file, out) == 0
    # Far more than a pipe's buffer, read by a reader that stops after one line.
    words = " ".join(["violin"] * 3000)
    done = subprocess.run(f"{sys.executable} -m sgns neighbors {out} {words} | head -1",
                          shell=True, capture_output=True, text=True)
    assert done.stdout.strip() == "violin" and done.stderr == "", done.stderr[-500:]


def test_the_probe_neighbours_of_a_subword_run_are_trained_words(tmp_path, topic_corpus,
                                                                  capsys):
    corpus = tmp_path / "topics.txt"
    corpus.write_text("\n".join(" ".join(d) for d in topic_corpus) + "\n")
    assert main(["train", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--epochs",
                 "1", "--dim", "8", "--subwords", "--buckets", "1000", "--no-plots"]) == 0
    printed = capsys.readouterr().out
    # "engine" is in the corpus; "doctor" would only be built from n-grams.
    assert "  engine: " in printed and "doctor" not in printed


def test_sgns_train_stays_the_function_after_its_module_is_imported():
    script = ("import sgns.training.train; from sgns.training.train import train; import sgns; "
              "print(sgns.train is train, sgns.TrainResult.__module__)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["True", "sgns.training.result"], done.stderr


def test_hierarchical_softmax_from_the_command_line(corpus_file, tmp_path, capsys):
    """``--loss hs``: recorded in run.json, continued by --from, refused by the Keras engine;
    a child run keeps its parent's loss."""
    assert _train(corpus_file, tmp_path / "hs", "--loss", "hs") == 0
    info = json.loads((tmp_path / "hs" / "run.json").read_text())
    assert info["params"]["loss"] == "hs" and info["engine"] == "native"
    assert _train(corpus_file, tmp_path / "child", "--from", str(tmp_path / "hs")) == 0
    child = json.loads((tmp_path / "child" / "run.json").read_text())
    assert child["params"]["loss"] == "hs"
    _fails(["train", "--corpus", str(corpus_file), "--out", str(tmp_path / "k"), "--loss", "hs",
            "--engine", "keras"], capsys, "use --engine native")
    _fails(["train", "--corpus", str(corpus_file), "--out", str(tmp_path / "ns"), "--from",
            str(tmp_path / "hs"), "--loss", "ns"], capsys, "loss 'ns' differs from the parent")
    assert not (tmp_path / "k").exists() and not (tmp_path / "ns").exists()
