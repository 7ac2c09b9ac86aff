"""Keras training split across two simulated CPU devices (``keras.distribution``): data-parallel
and sharded tables match one device, for every model; and the compiled steps exchange O(batch),
never a whole table."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

TESTS = str(Path(__file__).resolve().parents[2])

SCRIPT = """
import json, os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, {tests!r})
import keras
from support import topic_corpus as make_topic_corpus
import sgns
base = dict(engine="keras", epochs=2, dim=16, sample=0, seed=3)
recipes = {{
    "skipgram": dict(shared_negatives=8, shared_group=256, lr=0.002, batch_size=1024),
    "cbow": dict(model="cbow", lr=0.01, batch_size=1024),
    "adam": dict(optimizer="adam", shared_negatives=0, lr=0.002, batch_size=1024),
    "subwords": dict(subwords=True, buckets=1000, lr=0.01, batch_size=1056),
}}
runs = {{}}
for name, recipe in recipes.items():
    ways = [("one", {{}}), ("parallel", {{"data_parallel": True}})]
    if name in ("skipgram", "adam"):
        ways.append(("sharded", {{"data_parallel": True, "shard_tables": True}}))
    for way, split in ways:
        result = sgns.train(make_topic_corpus(600), sgns.TrainConfig(**base, **recipe),
                            verbose=False, **split)
        kv = result.keyed_vectors()
        runs[f"{{name}}/{{way}}"] = {{
            "losses": [e["loss"] for e in result.info["epochs"]],
            "violin": [w for w, _ in kv.most_similar("violin", topn=5)],
            "vectors": kv.vectors.tolist(),
            "distribution": result.info.get("distribution"),
        }}
print(json.dumps({{"devices": keras.distribution.list_devices(), "runs": runs}}))
"""


def _run(script: str, env: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_devices_train_like_one_for_every_model_and_with_sharded_tables():
    report = _run(SCRIPT.format(tests=TESTS))
    assert report["devices"] == ["cpu:0", "cpu:1"]
    runs = report["runs"]
    assert runs["skipgram/parallel"]["distribution"] == {
        "devices": 2, "processes": 1, "shard_tables": False}
    assert runs["skipgram/sharded"]["distribution"]["shard_tables"] is True
    assert runs["skipgram/one"]["distribution"] is None
    topic = {"cello", "flute", "oboe", "trumpet", "harp"}
    for key, split in runs.items():
        name, way = key.split("/")
        if way == "one":
            continue
        single = runs[f"{name}/one"]
        assert split["losses"][-1] < split["losses"][0], key
        for a, b in zip(single["losses"], split["losses"], strict=True):
            assert abs(a - b) < 1e-4 * abs(a), key
        assert set(split["violin"]) == set(single["violin"]), key
        assert len(set(split["violin"]) & topic) >= 4, key
        worst = np.abs(np.array(single["vectors"]) - np.array(split["vectors"])).max()
        assert worst < 1e-3, key


HLO_SCRIPT = """
import os, sys, random
os.environ["KERAS_BACKEND"] = "jax"
import sgns
rng = random.Random(0)
words = [f"w{{k}}" for k in range({vocab})]
docs = [[rng.choice(words) for _ in range(50)] for _ in range(400)]
config = sgns.TrainConfig(engine="keras", epochs=1, dim={dim}, batch_size=512, min_count=1,
                          sample=0, seed=1, lr=0.001)
for shard in (False, True):
    result = sgns.train(docs, config, verbose=False, data_parallel=True, shard_tables=shard)
print('{{"rows": %d}}' % result.vocab.size)
"""

COLLECTIVE = re.compile(r"= (.*?) (all-reduce|all-gather|all-to-all|collective-permute|"
                        r"reduce-scatter)(-start)?\(")


def collectives(hlo: str) -> list[tuple[str, int]]:
    """Each collective of an HLO module, with the elements it moves."""
    found = []
    for shapes, op, _ in COLLECTIVE.findall(hlo):
        elements = sum(int(np.prod([int(d) for d in dims.split(",") if d] or [1]))
                       for dims in re.findall(r"\w+\[([\d,]*)\]", shapes))
        found.append((op, elements))
    return found


def test_split_steps_exchange_the_batch_never_a_table(tmp_path):
    vocab, dim = 20_000, 32
    dump = tmp_path / "hlo"
    flags = (f"--xla_force_host_platform_device_count=2 --xla_dump_to={dump} "
             f"--xla_dump_hlo_as_text --xla_dump_hlo_module_re=.*train_step.*")
    report = _run(HLO_SCRIPT.format(vocab=vocab, dim=dim), env={"XLA_FLAGS": flags})
    table = report["rows"] * dim
    modules = sorted(dump.glob("*train_step*after_optimizations.txt"))
    assert len(modules) == 2  # the data-parallel step and the sharded one
    for module in modules:
        found = collectives(module.read_text())
        assert any(op == "all-gather" for op, _ in found), module.name  # the row updates
        # The largest moves the step's touched rows: 512 pairs, their negatives, (1 + dim)
        # floats each, from both devices; a table would be 20,000 x 32.
        assert max(n for _, n in found) <= 4 * 512 * (dim + 1), (module.name, found)
        assert max(n for _, n in found) < table / 10


def test_collectives_are_read_from_hlo():
    hlo = """
  %all-gather.1 = f32[2,1056,17]{2,1,0} all-gather(%x), channel_id=1
  %all-reduce.4 = (f32[], f32[4096,100]{1,0}) all-reduce(%a, %b), channel_id=2
  %add = f32[8]{0} add(%p, %q)
"""
    assert collectives(hlo) == [("all-gather", 2 * 1056 * 17), ("all-reduce", 1 + 4096 * 100)]
