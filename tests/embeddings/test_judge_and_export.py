"""Evaluation equals gensim's; every export format round-trips; plots are real pictures."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

from sgns.cli import main
from sgns.config import TrainConfig
from sgns.embeddings.evaluate import evaluate, evaluate_pairs, evaluation_callback
from sgns.embeddings.export import export
from sgns.embeddings.vectors import load_vectors, save_word2vec_text, to_keyed_vectors
from sgns.training.train import train

WORDS = ["doctor", "nurse", "hospital", "car", "engine", "café", "naïve", "서울", "Ωmega",
         "king", "queen", "man", "woman", "tiger", "cat"]


@pytest.fixture(scope="module")
def kv():
    rng = np.random.default_rng(0)
    return to_keyed_vectors(WORDS, rng.standard_normal((len(WORDS), 12)).astype(np.float32))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, newsgroups_clean):
    """A short real run on 20 Newsgroups, so that the evaluation sets mostly hit the vocabulary."""
    out = tmp_path_factory.mktemp("run") / "run"
    result = train(newsgroups_clean, TrainConfig(engine="native", epochs=1, dim=32),
                   verbose=False)
    result.save(out)
    return out, result.keyed_vectors()


def test_evaluation_equals_gensims_own(trained):
    _, kv = trained
    ours = evaluate(kv)
    for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        pearson, spearman, oov = kv.evaluate_word_pairs(datapath(file))
        assert ours[name]["spearman"] == pytest.approx(spearman[0], abs=1e-12)
        assert ours[name]["pearson"] == pytest.approx(pearson[0], abs=1e-12)
        assert ours[name]["oov_ratio"] == pytest.approx(oov / 100)
    accuracy, _ = kv.evaluate_word_analogies(datapath("questions-words.txt"))
    assert ours["google_analogies"]["accuracy"] == pytest.approx(accuracy)
    assert 0 < ours["google_analogies"]["oov_ratio"] < 1


@pytest.mark.parametrize("layout", ["tab", "comma", "space-header-comments"])
def test_user_pair_files_in_any_layout(trained, tmp_path, layout):
    _, kv = trained
    rows = [("doctor", "nurse", 7.5), ("car", "engine", 6.0), ("king", "cabbage", 0.5),
            ("police", "officer", 8.0), ("tiger", "animal", 7.0), ("zzzq", "car", 1.0)]
    if layout == "tab":
        text = "".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows)
    elif layout == "comma":
        text = "".join(f"{a},{b},{s}\n" for a, b, s in rows)
    else:
        text = "# a comment\nWord1 Word2 Score\n" + "".join(f"{a} {b} {s}  # why\n"
                                                           for a, b, s in rows)
    path = tmp_path / f"pairs-{layout}.txt"
    path.write_text(text)
    reference = tmp_path / "reference.tsv"
    reference.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows))
    ours = evaluate_pairs(kv, path)
    _, spearman, oov = kv.evaluate_word_pairs(str(reference))
    assert ours["spearman"] == pytest.approx(spearman[0])
    assert ours["oov_ratio"] == pytest.approx(oov / 100) and ours["oov_ratio"] > 0


def test_evaluate_command_table_and_json(trained, tmp_path, capsys):
    run, kv = trained
    assert main(["evaluate", str(run)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in table[1:]] == ["wordsim353", "simlex999",
                                                       "google_analogies"]
    analogies = tmp_path / "mine.txt"
    analogies.write_text(": capitals\nathens greece berlin germany\n")
    assert main(["evaluate", str(run / "vectors.txt"), "--analogies", str(analogies),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result) == ["mine"] and result["mine"]["questions"] == 1
    assert main(["evaluate", str(run), "--pairs", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read pairs file" in capsys.readouterr().err


def test_word2vec_binary_round_trip(kv, tmp_path):
    path = export(kv.index_to_key, kv.vectors, "word2vec-binary", tmp_path / "v.bin")
    back = KeyedVectors.load_word2vec_format(str(path), binary=True)
    assert back.index_to_key == WORDS
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    np.testing.assert_array_equal(load_vectors(path).vectors, kv.vectors)


def test_npz_round_trip_and_speed(kv, tmp_path):
    path = export(kv.index_to_key, kv.vectors, "npz", tmp_path / "v.npz")
    back = load_vectors(path)
    assert back.index_to_key == WORDS
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    with pytest.raises(Exception, match="must end in .npz"):
        export(kv.index_to_key, kv.vectors, "npz", tmp_path / "v.bin")


def test_projector_files(kv, tmp_path):
    folder = export(kv.index_to_key, kv.vectors, "projector", tmp_path / "projector")
    assert (folder / "metadata.tsv").read_text(encoding="utf-8").splitlines() == WORDS
    vectors = np.loadtxt(folder / "vectors.tsv", delimiter="\t", dtype=np.float32)
    np.testing.assert_array_equal(vectors, kv.vectors)


def test_text_format_round_trip_through_the_cli(kv, tmp_path, capsys):
    text = tmp_path / "v.txt"
    save_word2vec_text(text, kv.index_to_key, kv.vectors)
    assert main(["export", str(text), "--format", "npz", str(tmp_path / "v.npz")]) == 0
    assert main(["neighbors", str(tmp_path / "v.npz"), "café", "--topn", "2"]) == 0
    expected = kv.most_similar("café", topn=2)
    lines = capsys.readouterr().out.splitlines()[-2:]
    assert [line.split()[1] for line in lines] == [w for w, _ in expected]
    assert main(["export", str(text), "--format", "yaml", "x"]) == 2


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_keras_export_loads_in_a_fresh_process(kv, tmp_path, backend):
    """On TensorFlow the model takes strings; JAX has no strings, so there the lookup layer runs
    in the input pipeline and the rest of the model on its ids."""
    path = export(kv.index_to_key, kv.vectors, "keras", tmp_path / "emb.keras")
    np.save(tmp_path / "doctor.npy", kv["doctor"])
    call = ("model(tokens)" if backend == "tensorflow"
            else "model.get_layer('embedding')(model.get_layer('lookup')(tokens))")
    script = textwrap.dedent(f"""
        import os
        os.environ["KERAS_BACKEND"] = {backend!r}
        import keras, numpy as np
        model = keras.saving.load_model({str(path)!r})
        tokens = np.array([["doctor", "unknownword", "서울"]])
        out = keras.ops.convert_to_numpy({call})
        np.testing.assert_array_equal(out[0, 0], np.load({str(tmp_path / "doctor.npy")!r}))
        assert not out[0, 1].any()  # the out-of-vocabulary vector
        assert out.shape == (1, 3, 12) and out[0, 2].any()
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_keras_export_at_the_cli_prints_no_tensorflow_log(kv, tmp_path):
    vectors = tmp_path / "v.txt"
    kv.save_word2vec_format(str(vectors))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    done = subprocess.run([sys.executable, "-m", "sgns", "export", str(vectors), "--format",
                           "keras", str(tmp_path / "m.keras")], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0 and done.stdout.strip() == f"wrote {tmp_path / 'm.keras'}"
    assert done.stderr == ""


def test_plots_are_real_pictures(trained, tmp_path, capsys):
    import matplotlib.image

    run, _ = trained
    for name in ("training.png", "words.png"):  # what `sgns train` would draw
        assert not (run / name).exists()
    assert main(["plot", str(run), "--out", str(tmp_path / "map.png"), "--curves",
                 str(tmp_path / "curves.png"), "--words", "doctor", "engine"]) == 0
    for name in ("map.png", "curves.png"):
        image = matplotlib.image.imread(tmp_path / name)
        assert image.shape[0] > 300 and image.shape[1] > 300
        assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 50  # not blank
    assert main(["plot", str(run / "vectors.txt"), "--out", str(tmp_path / "map.svg"),
                 "--method", "tsne", "--words", "police"]) == 0
    assert (tmp_path / "map.svg").read_text().count("<text") + \
        (tmp_path / "map.svg").read_text().count("<path") > 20
    assert main(["plot", str(run), "--words", "zzzq", "--out", str(tmp_path / "x.png")]) == 2
    assert "none of the words" in capsys.readouterr().err


def test_train_draws_its_plots_and_records_epoch_evaluation(tmp_path, topic_corpus, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(doc) for doc in topic_corpus))
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--epochs", "2", "--dim",
                 "8", "--quiet", "--evaluate"]) == 0
    assert (out / "training.png").stat().st_size > 10_000
    assert (out / "words.png").stat().st_size > 10_000
    epochs = json.loads((out / "run.json").read_text())["epochs"]
    assert all(set(e["evaluation"]) == {"wordsim353", "simlex999", "google_analogies"}
               for e in epochs)


def test_diagram_explains_what_is_missing(tmp_path, topic_corpus, capsys, monkeypatch):
    import keras

    def no_pydot(*args, **kwargs):
        raise ImportError("You must install pydot")

    monkeypatch.setattr(keras.utils, "plot_model", no_pydot)
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(doc) for doc in topic_corpus[:50]))
    assert main(["train", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--epochs",
                 "1", "--quiet", "--no-plots", "--diagram"]) == 0
    assert "pip install pydot" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.png").exists()


def test_keras_evaluation_callback(topic_corpus):
    import keras

    from sgns.encoding.vocab import Vocabulary
    from sgns.engines.keras.models import SkipGram

    vocab = Vocabulary.build(topic_corpus)
    model = SkipGram(vocab.size, 8)
    model.compile()
    rng = np.random.default_rng(0)
    ids = rng.integers(1, vocab.size, (2, 256)).astype("int32")
    history = model.fit((ids[0], ids[1]), np.ones(256, "float32"), epochs=2, verbose=0,
                        callbacks=[evaluation_callback(vocab.words[1:])])
    assert set(history.history) >= {"loss", "wordsim353", "simlex999", "google_analogies"}
    assert isinstance(keras.callbacks.History(), keras.callbacks.Callback)
