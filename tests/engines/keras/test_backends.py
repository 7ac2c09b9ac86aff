"""Choosing and starting a Keras backend: the errors for one the engine cannot use or that is
not installed, what ``auto`` picks under each, and TensorFlow's threads. (The Keras engine's
tests themselves run again on every backend from ``tests/variants.sh``.)"""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("backend,expected", [
    ("theano", "the Keras engine runs on jax, tensorflow, torch"),
    ("numpy", "the Keras engine runs on jax, tensorflow, torch"),
])
def test_a_backend_the_engine_cannot_use_is_a_one_line_error(tmp_path, backend, expected):
    corpus = tmp_path / "c.txt"
    corpus.write_text("alpha beta gamma delta alpha beta\n" * 20)
    env = {**os.environ, "KERAS_BACKEND": backend}
    for engine in ("keras", "auto"):
        done = subprocess.run(
            [sys.executable, "-m", "sgns", "train", "--corpus", str(corpus), "--out",
             str(tmp_path / "run"), "--engine", engine, "--quiet"],
            env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.strip().splitlines() == [
            f"sgns train: error: KERAS_BACKEND={backend!r}: {expected}"]
        assert not (tmp_path / "run").exists()


def test_a_backend_that_is_not_installed_is_a_one_line_error(tmp_path, monkeypatch):
    from sgns.engines.keras.backend import import_keras
    from sgns.errors import SgnsError

    # Hide Keras (so that it is imported afresh) and make its torch backend's import fail.
    for name in [m for m in sys.modules if m == "keras" or m.startswith("keras.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    with pytest.raises(SgnsError, match="Keras cannot start its torch backend"):
        import_keras()


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_auto_picks_the_native_engine_on_a_cpu_under_every_backend(tmp_path, backend):
    import json

    corpus = tmp_path / "c.txt"
    corpus.write_text("alpha beta gamma delta alpha beta\n" * 20)
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "sgns", "train", "--corpus", str(corpus), "--out",
         str(tmp_path / "run"), "--quiet", "--no-plots", "--epochs", "1"],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["engine"] == "native"


def test_auto_asks_keras_only_where_the_system_shows_an_accelerator(tmp_path, monkeypatch):
    import importlib

    train = importlib.import_module("sgns.engines.choice")
    backend = importlib.import_module("sgns.engines.keras.backend")
    asked = []
    monkeypatch.setattr(backend, "keras_devices", lambda: asked.append(True) or ["gpu:0"])
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(train, "ACCELERATOR_NODES", (str(tmp_path / "nvidia[0-9]*"),))
    assert train.resolve_engine("auto") == "native" and not asked
    (tmp_path / "nvidia0").touch()
    assert train.resolve_engine("auto") == "keras" and asked
    asked.clear()
    monkeypatch.setattr(sys, "platform", "darwin")  # no device nodes to look at: Keras is asked
    (tmp_path / "nvidia0").unlink()
    assert train.resolve_engine("auto") == "keras" and asked
    assert train.resolve_engine("native") == "native"


def test_a_native_run_of_the_command_line_never_imports_keras(tmp_path):
    """This machine shows no accelerator: the default engine, auto, trains natively without
    importing Keras and its backend (1.7 s)."""
    from sgns.engines.choice import accelerator_visible

    assert not accelerator_visible()
    corpus = tmp_path / "c.txt"
    corpus.write_text("alpha beta gamma delta alpha beta\n" * 20)
    code = ("import runpy, sys\n"
            f"sys.argv = ['sgns', 'train', '--corpus', {str(corpus)!r}, '--out', "
            f"{str(tmp_path / 'run')!r}, '--quiet', '--no-plots', '--epochs', '1']\n"
            "try:\n    runpy.run_module('sgns', run_name='__main__')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "run" / "vectors.txt").is_file()


@pytest.mark.parametrize("recipe,env_threads,expected", [
    ("notebook", None, "cores - 1"),  # the stream draws the negatives: a core left to it
    ("defaults", None, "0"),  # positives only: TensorFlow's own choice (0)
    ("notebook", "2", "0"),  # $TF_NUM_INTRAOP_THREADS rules
])
def test_tensorflow_leaves_a_core_to_a_stream_that_draws_negatives(recipe, env_threads,
                                                                   expected):
    script = (
        "import os, sgns\n"
        "from sgns.engines.keras.backend import tensorflow_threads\n"
        "config = sgns.preset('notebook') if os.environ['RECIPE'] == 'notebook' "
        "else sgns.TrainConfig()\n"
        "tensorflow_threads(config)\n"
        "import tensorflow as tf\n"
        "print(tf.config.threading.get_intra_op_parallelism_threads(), "
        "len(os.sched_getaffinity(0)))\n"
        "tf.constant(1.0)\n"  # TensorFlow starts; a second call must not raise
        "tensorflow_threads(config)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2",
           "RECIPE": recipe}
    env.pop("TF_NUM_INTRAOP_THREADS", None)
    if env_threads:
        env["TF_NUM_INTRAOP_THREADS"] = env_threads
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    threads, cores = map(int, done.stdout.split())
    assert threads == (max(1, cores - 1) if expected == "cores - 1" else int(expected))


def test_tensorflow_threads_on_a_missing_tensorflow_is_a_one_line_error(monkeypatch):
    from sgns.config import preset
    from sgns.engines.keras.backend import tensorflow_threads
    from sgns.errors import SgnsError

    for name in [m for m in sys.modules if m == "keras" or m.startswith("keras.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with pytest.raises(SgnsError, match="Keras cannot start its tensorflow backend"):
        tensorflow_threads(preset("notebook"))
