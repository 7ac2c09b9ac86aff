"""Several real processes training one model (``--coordinator``): the result equals one process
with as many simulated devices, process 0 alone writes, and a missing or mismatched peer ends
with a one-line error, not a hang."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from gensim.models import KeyedVectors

from support import topic_corpus as make_topic_corpus

SETTINGS = ["--engine", "keras", "--epochs", "2", "--dim", "16", "--batch-size", "512",
            "--sample", "0", "--seed", "3", "--lr", "0.01", "--quiet", "--no-plots"]
PROBES = ["violin", "engine", "apple"]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cluster") / "topics.txt"
    path.write_text("\n".join(" ".join(doc) for doc in make_topic_corpus(600)) + "\n")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, devices: int = 1) -> subprocess.Popen:
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONWARNINGS": "ignore"}
    env.pop("XLA_FLAGS", None)
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return subprocess.Popen([sys.executable, "-m", "sgns", "train", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def _members(corpus, outs, ids, counts, extra=None, timeout=60):
    """Processes of one cluster: process ``ids[k]`` of ``counts[k]``, writing to ``outs[k]``,
    with ``extra[k]`` options; their exit statuses and stderr."""
    port = _free_port()
    extra = extra or [()] * len(ids)
    processes = [
        _start(["--corpus", corpus, "--out", out, *SETTINGS, "--coordinator", f"127.0.0.1:{port}",
                "--num-processes", n, "--process-id", i, "--join-timeout", timeout, *more])
        for out, i, n, more in zip(outs, ids, counts, extra, strict=True)]
    return [_finish(p) for p in processes]


def _cluster(corpus, outs, extra=None):
    return _members(corpus, outs, (0, 1), (2, 2), extra)


def _run(out):
    info = json.loads((out / "run.json").read_text())
    kv = KeyedVectors.load_word2vec_format(str(out / "vectors.txt"))
    return [e["loss"] for e in info["epochs"]], kv, info


def _trained_alike(losses, kv, other_losses, other_kv) -> None:
    """Losses within 1%, and at least 7 of each probe word's 10 neighbours the same."""
    for a, b in zip(losses, other_losses, strict=True):
        assert abs(a - b) <= 0.01 * abs(b)
    for word in PROBES:
        mine = {w for w, _ in kv.most_similar(word, topn=10)}
        theirs = {w for w, _ in other_kv.most_similar(word, topn=10)}
        assert len(mine & theirs) >= 7, (word, mine, theirs)


def test_two_processes_train_like_one_process_with_two_devices(corpus_file, tmp_path):
    outs = [tmp_path / "p0", tmp_path / "p1"]
    results = _cluster(corpus_file, outs)
    for rc, err in results:
        assert rc == 0, err[-3000:]
    assert outs[0].is_dir() and not outs[1].exists()  # process 0 alone writes
    assert "process 0 writes" in results[1][1]
    reference = _start(["--corpus", corpus_file, "--out", tmp_path / "ref", *SETTINGS,
                        "--data-parallel"], devices=2)
    rc, err = _finish(reference)
    assert rc == 0, err[-3000:]
    losses, kv, info = _run(outs[0])
    ref_losses, ref_kv, ref_info = _run(tmp_path / "ref")
    assert info["distribution"] == {"devices": 2, "processes": 2, "shard_tables": False}
    assert ref_info["distribution"] == {"devices": 2, "processes": 1, "shard_tables": False}
    assert len(losses) == 2 and losses[1] < losses[0]
    _trained_alike(losses, kv, ref_losses, ref_kv)
    topic = {"cello", "flute", "oboe", "trumpet", "harp"}
    assert len({w for w, _ in kv.most_similar("violin", topn=5)} & topic) >= 4


def test_two_processes_with_sharded_tables_train_like_one_device(corpus_file, tmp_path):
    outs = [tmp_path / "p0", tmp_path / "p1"]
    results = _cluster(corpus_file, outs, extra=[("--shard-tables",)] * 2)
    for rc, err in results:
        assert rc == 0, err[-3000:]
    rc, err = _finish(_start(["--corpus", corpus_file, "--out", tmp_path / "one", *SETTINGS]))
    assert rc == 0, err[-3000:]
    losses, kv, info = _run(outs[0])
    one_losses, one_kv, _ = _run(tmp_path / "one")
    assert info["distribution"] == {"devices": 2, "processes": 2, "shard_tables": True}
    _trained_alike(losses, kv, one_losses, one_kv)


def _one_line_error(err: str, text: str) -> None:
    assert "Traceback" not in err, err[-3000:]
    assert text in err.strip().splitlines()[-1], err[-3000:]
    assert err.strip().splitlines()[-1].startswith("sgns train: error: ")


def test_a_coordinator_that_never_answers_is_a_one_line_error(corpus_file, tmp_path):
    began = time.monotonic()
    process = _start(["--corpus", corpus_file, "--out", tmp_path / "o", *SETTINGS,
                      "--coordinator", f"127.0.0.1:{_free_port()}", "--num-processes", 2,
                      "--process-id", 1, "--join-timeout", 3])
    rc, err = _finish(process, timeout=120)
    assert rc == 2
    _one_line_error(err, "did not answer within 3 s (--join-timeout)")
    assert time.monotonic() - began < 60
    assert not (tmp_path / "o").exists()


def test_process_zero_whose_peers_never_come_is_a_one_line_error(corpus_file, tmp_path):
    process = _start(["--corpus", corpus_file, "--out", tmp_path / "o", *SETTINGS,
                      "--coordinator", f"127.0.0.1:{_free_port()}", "--num-processes", 3,
                      "--process-id", 0, "--join-timeout", 3])
    rc, err = _finish(process, timeout=120)
    assert rc == 2
    _one_line_error(err, "process(es) 1, 2 did not join the coordinator")
    assert not (tmp_path / "o").exists()


def test_a_process_that_came_hears_who_did_not(corpus_file, tmp_path):
    outs = [tmp_path / "o0", tmp_path / "o1"]
    for rc, err in _members(corpus_file, outs, (0, 1), (3, 3), timeout=8):
        assert rc == 2
        _one_line_error(err, "process(es) 2 did not join the coordinator")


def test_processes_with_other_settings_stop_with_a_one_line_error(corpus_file, tmp_path):
    results = _cluster(corpus_file, [tmp_path / "a", tmp_path / "b"],
                       extra=[(), ("--window", 3)])
    for rc, err in results:
        assert rc == 2
        _one_line_error(err, "other settings or another corpus than process 0")
    assert not (tmp_path / "a" / "run.json").exists()


def test_processes_disagreeing_on_their_number_or_ids(corpus_file, tmp_path):
    outs = [tmp_path / "o0", tmp_path / "o1"]
    for rc, err in _members(corpus_file, outs, (0, 1), (2, 3), timeout=30):
        assert rc == 2
        _one_line_error(err, "process 1 was started with --num-processes 3, process 0 with 2")


def test_cluster_options_are_checked_before_any_work(corpus_file, tmp_path):
    cases = [
        (["--coordinator", "127.0.0.1:1"], "go together"),
        (["--coordinator", "nohostport", "--num-processes", 2, "--process-id", 0], "HOST:PORT"),
        (["--coordinator", "127.0.0.1:5", "--num-processes", 2, "--process-id", 2],
         "--process-id must be in 0..1"),
    ]
    for args, text in cases:
        rc, err = _finish(_start(["--corpus", corpus_file, "--out", tmp_path / "o", *SETTINGS,
                                  *args]))
        assert rc == 2
        _one_line_error(err, text)
    native = [a if a != "keras" else "native" for a in SETTINGS]
    rc, err = _finish(_start(["--corpus", corpus_file, "--out", tmp_path / "o", *native,
                              "--coordinator", "127.0.0.1:5", "--num-processes", 2,
                              "--process-id", 0]))
    assert rc == 2
    _one_line_error(err, "add --engine keras")


def test_two_processes_with_the_same_id_stop_with_a_one_line_error(corpus_file, tmp_path):
    outs = [tmp_path / f"o{k}" for k in range(3)]
    for rc, err in _members(corpus_file, outs, (0, 1, 1), (3, 3, 3), timeout=30):
        assert rc == 2
        _one_line_error(err, "two processes have --process-id 1")


def test_a_batch_the_devices_cannot_split_is_refused(corpus_file, tmp_path):
    args = [a if a != "512" else "511" for a in SETTINGS]
    rc, err = _finish(_start(["--corpus", corpus_file, "--out", tmp_path / "o", *args,
                              "--data-parallel"], devices=2))
    assert rc == 2
    _one_line_error(err, "batch_size 511 does not split evenly across 2 devices")
    assert not (tmp_path / "o" / "run.json").exists()


def _with_epochs(epochs: int) -> list[str]:
    at = SETTINGS.index("--epochs") + 1
    return [*SETTINGS[:at], str(epochs), *SETTINGS[at + 1:]]


def _wait_for_checkpoint(out, processes, timeout=240):
    from sgns.training.checkpoint import checkpoint_epochs

    deadline = time.monotonic() + timeout
    while checkpoint_epochs(out) < 1:
        assert time.monotonic() < deadline, "no checkpoint"
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        time.sleep(0.1)


@pytest.mark.parametrize("victim", [1, 0])
def test_a_killed_process_ends_the_others_with_one_line_and_resume_finishes_the_run(
        tmp_path, victim):
    """Process ``victim`` is killed in epoch 2 of 4: the survivor exits with status 2 and one
    line naming it within seconds, the epoch-1 checkpoint is whole, and both processes
    resumed finish the run as an uninterrupted one does."""
    import numpy as np

    from sgns.training.checkpoint import load_checkpoint

    corpus = tmp_path / "big.txt"
    corpus.write_text("\n".join(" ".join(doc) for doc in make_topic_corpus(3000)) + "\n")
    settings = _with_epochs(4)

    def members(outs, resume=False):
        port = _free_port()
        # The default for several processes is a checkpoint after every epoch.
        first = ["--resume", outs[0]] if resume else ["--corpus", corpus, "--out", None, *settings]
        return [_start([*(a if a is not None else out for a in first), "--coordinator",
                        f"127.0.0.1:{port}", "--num-processes", 2, "--process-id", pid,
                        "--join-timeout", 60, *(["--quiet"] if resume else [])])
                for pid, out in enumerate(outs)]

    outs = [tmp_path / "p0", tmp_path / "p1"]
    processes = members(outs)
    _wait_for_checkpoint(outs[0], processes)
    processes[victim].kill()
    killed = time.monotonic()
    rc, err = _finish(processes[1 - victim], timeout=60)
    assert rc == 2 and time.monotonic() - killed < 15, err[-3000:]
    who = "process 0 (the coordinator) of 2" if victim == 0 else "process 1 of 2"
    _one_line_error(err, f"{who} is lost")
    assert "Abort" not in err and "F1" not in err  # no fatal log from JAX's runtime
    processes[victim].communicate()
    done = load_checkpoint(outs[0]).epochs_done  # whole, and readable
    assert 1 <= done < 4

    for rc, err in [_finish(p) for p in members(outs, resume=True)]:
        assert rc == 0, err[-3000:]
    whole = [tmp_path / "w0", tmp_path / "w1"]
    for rc, err in [_finish(p) for p in members(whole)]:
        assert rc == 0, err[-3000:]
    resumed = np.load(outs[0] / "vectors.npz")["vectors"]
    np.testing.assert_allclose(resumed, np.load(whole[0] / "vectors.npz")["vectors"],
                               rtol=1e-4, atol=1e-5)
