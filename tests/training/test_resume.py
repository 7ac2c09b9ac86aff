"""Checkpoints, resume, divergence, interruption, and files that are never torn."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from gensim.models import KeyedVectors

from sgns.cli import main
from sgns.config import TrainConfig
from sgns.errors import SgnsError
from sgns.training.checkpoint import CHECKPOINT_FILE, load_checkpoint
from sgns.training.train import train
from support import Stop, stop_after


def test_a_later_epochs_checkpoint_holds_that_epochs_state(tmp_path, topic_corpus):
    """From the second epoch on, the native state is copied into the arrays of the checkpoint
    written before (once it is on disk): the third epoch's checkpoint must hold the third
    epoch's tables, not the second's, nor a mix."""
    config = TrainConfig(engine="native", epochs=4, dim=16, window=3, seed=5, workers=1)
    states = {}

    def hook(end):
        states[end.epoch] = end.state()  # fresh arrays, for the caller to keep
        if end.epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path, on_epoch_end=hook,
              checkpoint_interval=0)
    checkpoint = load_checkpoint(tmp_path)
    assert checkpoint.epochs_done == 3 and set(checkpoint.state) == set(states[2])
    for name, value in states[2].items():
        np.testing.assert_array_equal(checkpoint.state[name], value)
    assert not np.array_equal(states[1]["input_table"], states[2]["input_table"])
    assert not np.shares_memory(states[1]["input_table"], states[2]["input_table"])


@pytest.mark.parametrize("engine,changes", [
    ("native", dict(workers=1)),
    ("native", dict(workers=1, model="cbow")),
    ("native", dict(workers=1, loss="hs")),
    ("keras", dict(batch_size=256, shared_negatives=4, shared_group=64)),
    ("keras", dict(batch_size=256, shared_negatives=4, shared_group=64, model="cbow", lr=0.05)),
    ("keras", dict(optimizer="adam", lr=0.01, schedule="constant", shared_negatives=0,
                   negative=1, batch_size=256)),
])
def test_resume_after_an_epoch_equals_the_uninterrupted_run(tmp_path, topic_corpus, engine,
                                                            changes):
    config = TrainConfig(engine=engine, epochs=3, dim=16, window=3, seed=5, **changes)
    whole = train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path / "whole")
    with pytest.raises(Stop):
        train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path / "cut",
              on_epoch_end=stop_after(1))
    checkpoint = load_checkpoint(tmp_path / "cut")
    assert checkpoint.epochs_done == 1 and checkpoint.engine == engine
    assert len(checkpoint.info["epochs"]) == 1
    resumed = train(topic_corpus, verbose=False, resume=checkpoint,
                    checkpoint_dir=tmp_path / "cut")
    np.testing.assert_array_equal(resumed.input_table, whole.input_table)
    np.testing.assert_array_equal(resumed.output_table, whole.output_table)
    assert [e["loss"] for e in resumed.info["epochs"]] == [e["loss"] for e in whole.info["epochs"]]
    assert resumed.info["resumed_after_epoch"] == 1


def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(
        tmp_path, topic_corpus):
    def poison(end):  # the tables go bad after the first epoch
        if end.epoch == 0:
            end.word_vectors()[:] = np.nan

    config = TrainConfig(engine="native", epochs=3, dim=8, workers=1)
    with pytest.raises(SgnsError, match=r"diverged in epoch 2 .*lower the learning rate"):
        train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path, on_epoch_end=poison)
    checkpoint = load_checkpoint(tmp_path)
    assert checkpoint.epochs_done == 1
    assert np.isfinite(checkpoint.state["input_table"]).all()


def test_huge_learning_rate_fails_at_the_cli(tmp_path, topic_corpus, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(doc) for doc in topic_corpus))
    assert main(["train", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--lr",
                 "1e6", "--min-lr", "1e6", "--schedule", "constant", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "lower the learning rate (--lr, now 1e+06)" in err and "Traceback" not in err


def _stderr_when(process: subprocess.Popen, text: str, timeout: float = 120) -> str:
    """What ``process`` has written to stderr by the time ``text`` appears in it."""
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline and process.poll() is None, seen[-3000:]
        seen += process.stderr.read(1)
    return seen


@pytest.mark.parametrize("reading", [[], ["--stream"]])
def test_sigterm_stops_cleanly_and_resume_finishes_like_an_uninterrupted_run(tmp_path, reading):
    rng = np.random.default_rng(0)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    vocabulary = ["".join(rng.choice(letters, 6)) for _ in range(300)]
    lines = [" ".join(rng.choice(vocabulary, 40)) for _ in range(6000)]
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines))
    out = tmp_path / "run"
    settings = ["--epochs", "8", "--workers", "1", "--dim", "32", "--no-plots",
                "--checkpoint-interval", "3600", *reading]
    process = subprocess.Popen([sys.executable, "-m", "sgns", "train", "--corpus", str(corpus),
                                "--out", str(out), *settings],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = _stderr_when(process, "epoch 3/8")  # two epochs done, none written yet
    assert not (out / CHECKPOINT_FILE).exists()
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=120)[1]
    err += rest
    assert process.returncode == 130, err
    assert load_checkpoint(out).epochs_done >= 2  # written on the way out
    assert f"sgns train --resume {out}" in err.strip().splitlines()[-1]
    assert not (out / "vectors.txt").exists()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert not (out / CHECKPOINT_FILE).exists()
    info = json.loads((out / "run.json").read_text())
    assert [e["epoch"] for e in info["epochs"]] == list(range(1, 9))
    whole = tmp_path / "whole"
    assert main(["train", "--corpus", str(corpus), "--out", str(whole), *settings,
                 "--quiet"]) == 0
    resumed = KeyedVectors.load_word2vec_format(str(out / "vectors.txt"))
    uninterrupted = KeyedVectors.load_word2vec_format(str(whole / "vectors.txt"))
    np.testing.assert_array_equal(resumed.vectors, uninterrupted.vectors)


def test_resume_refuses_new_settings_and_missing_checkpoints(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), "--epochs", "9"]) == 2
    assert "settings it was started with" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "no checkpoint" in capsys.readouterr().err


WRITER = """
import sys, numpy as np
from sgns.embeddings.vectors import save_word2vec_text
words = [f"w{k}" for k in range(3000)]
versions = [np.full((3000, 50), v, dtype=np.float32) for v in (1.0, 2.0)]
k = 0
while True:
    save_word2vec_text(sys.argv[1], words, versions[k % 2])
    k += 1
    print(k, flush=True)
"""


def test_killing_a_writer_at_any_moment_leaves_a_whole_file(tmp_path):
    path = tmp_path / "v.txt"
    rng = np.random.default_rng(0)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for trial in range(6):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                                  stdout=subprocess.PIPE, text=True, env=env)
        if trial == 0 or not path.exists():
            writer.stdout.readline()  # at least one complete write
        time.sleep(rng.uniform(0.0, 0.6))
        writer.kill()
        writer.wait()
        kv = KeyedVectors.load_word2vec_format(str(path))
        assert len(kv) == 3000
        assert np.unique(kv.vectors).tolist() in ([1.0], [2.0])


@pytest.mark.parametrize("engine", ["native", "keras"])
def test_streaming_from_disk_trains_like_memory(tmp_path, topic_corpus, engine, monkeypatch):
    """A corpus read from disk chunk by chunk: the same vocabulary, counts and token totals as
    in memory, every chunk trained, and the same kind of embeddings."""
    from sgns.encoding.vocab import ChunkedCorpus
    from sgns.text.cleaning import Cleaner, StreamingCorpus, clean

    # Many small chunks.
    monkeypatch.setattr(ChunkedCorpus.__init__, "__defaults__", (700, None, None))
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(doc) for doc in topic_corpus) + "\n\n\x00\x01 junk\n")
    cleaner = Cleaner.mode("any-script")
    streamed = StreamingCorpus(path, cleaner)
    in_memory = clean(path.read_text().splitlines(), cleaner)
    changes = dict(workers=1) if engine == "native" else dict(batch_size=256,
                                                               shared_negatives=4,
                                                               shared_group=64)
    config = TrainConfig(engine=engine, epochs=3, dim=16, window=3, seed=2, **changes)
    result = train(streamed, config, verbose=False)
    reference = train(in_memory, config, verbose=False)
    assert result.vocab.words == reference.vocab.words
    assert result.info["documents"] == reference.info["documents"]
    assert result.info["tokens"] == reference.info["tokens"] == sum(map(len, topic_corpus))
    assert [e["tokens"] for e in result.info["epochs"]] == [result.info["tokens"]] * 3
    losses = [e["loss"] for e in result.info["epochs"]]
    assert losses[-1] < losses[0]
    kv = result.keyed_vectors()
    assert kv.most_similar("violin", topn=1)[0][0] in {"cello", "flute", "oboe", "trumpet",
                                                       "harp"}
    assert abs(losses[-1] - reference.info["epochs"][-1]["loss"]) < 0.1


def test_stream_at_the_cli_and_resume(tmp_path, topic_corpus, capsys):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(doc) for doc in topic_corpus))
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(path), "--stream", "--out", str(out), "--epochs",
                 "2", "--quiet", "--no-plots"]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["corpus"]["stream"] is True and info["documents"]["kept"] == 400
    assert main(["train", "--stream", "--out", str(tmp_path / "x")]) == 2
    assert "--stream reads a corpus from disk" in capsys.readouterr().err


def test_the_command_lines_last_epoch_is_not_checkpointed(tmp_path, topic_corpus):
    """The finished run is saved at once, so the last epoch's checkpoint would be thrown away;
    every earlier epoch is still checkpointed (with an interval of 0)."""
    from sgns.training.checkpoint import checkpoint_epochs

    config = TrainConfig(engine="native", epochs=3, dim=8, workers=1)
    train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path, checkpoint_final=False,
          checkpoint_interval=0)
    assert checkpoint_epochs(tmp_path) == 2
    train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path / "all",
          checkpoint_interval=0)
    assert checkpoint_epochs(tmp_path / "all") == 3
