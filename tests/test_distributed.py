"""Data-parallel Keras training on two simulated CPU devices matches single-device training."""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, {tests!r})
import keras
from conftest import _topic_corpus
import sgns
config = sgns.TrainConfig(engine="keras", epochs=3, dim=16, batch_size=1024, shared_negatives=8,
                          shared_group=256, lr=0.002, sample=0, seed=3)
runs = {{}}
for parallel in (False, True):
    result = sgns.train(_topic_corpus(1000), config, verbose=False, data_parallel=parallel)
    kv = result.keyed_vectors()
    runs[str(parallel)] = {{
        "losses": [e["loss"] for e in result.info["epochs"]],
        "violin": [w for w, _ in kv.most_similar("violin", topn=5)],
        "vectors": kv.vectors.tolist(),
    }}
print(json.dumps({{"devices": keras.distribution.list_devices(), "runs": runs}}))
"""


def test_two_devices_train_like_one():
    tests = str(Path(__file__).parent)
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=tests)],
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["devices"] == ["cpu:0", "cpu:1"]
    single, parallel = report["runs"]["False"], report["runs"]["True"]
    assert parallel["losses"][-1] < parallel["losses"][0]
    for a, b in zip(single["losses"], parallel["losses"], strict=True):
        assert abs(a - b) < 1e-4 * abs(a)
    assert set(parallel["violin"]) <= {"cello", "flute", "oboe", "trumpet", "harp"}
    assert set(single["violin"]) == set(parallel["violin"])
    worst = max(abs(x - y) for ra, rb in zip(single["vectors"], parallel["vectors"], strict=True)
                for x, y in zip(ra, rb, strict=True))
    assert worst < 1e-3
