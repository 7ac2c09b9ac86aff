"""A first run's compile, ahead: the model path compiled in a process of its own while the
corpus is read, then loaded from numba's cache. (Outside tests/engines/native, whose tests run
again for other CPUs: this one is about the process, not the code it compiles.)"""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json
from sgns.config import TrainConfig
from sgns.engines.native import loops
from sgns.engines.native.prepare import compile_ahead, compile_kernels, is_compiled, loop_settings
config = TrainConfig(model="cbow")
settings = loop_settings(config)
before = is_compiled(settings)
started = compile_ahead(config)
compile_kernels(settings)
stats = loops.compiled_path(settings)[1].stats
print(json.dumps({"before": before, "started": started, "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()), "after": is_compiled(settings),
                  "again": compile_ahead(config)}))
"""


def test_a_path_compiled_ahead_is_loaded_from_the_cache(tmp_path):
    """With an empty cache, ``compile_ahead`` starts a process; ``compile_kernels`` waits for
    it and loads the path from the cache it wrote (a hit, no compile here). Once the path is
    cached, nothing more is started."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result == {"before": False, "started": True, "hits": 1, "misses": 0, "after": True,
                      "again": False}


@pytest.mark.parametrize("changes,path", [
    ({}, "skipgram"), (dict(negative=5), "skipgram"),
    (dict(update="pair"), "skipgram+general"), (dict(negative=6), "skipgram+general"),
    (dict(loss="hs"), "skipgram+hs"), (dict(loss="hs", update="pair"), "skipgram+hs"),
    (dict(model="cbow"), "cbow"), (dict(model="cbow", loss="hs"), "cbow+hs"),
    (dict(subwords=True), "bags"),
])
def test_each_setting_compiles_only_its_path(changes, path):
    """A run compiles one path: the default skip-gram's holds the 6-output window kernel
    alone; pair updates and more than 5 negatives take the general path."""
    from sgns.config import TrainConfig
    from sgns.engines.native.loops import model_path
    from sgns.engines.native.prepare import loop_settings

    assert model_path(loop_settings(TrainConfig(**changes))) == path
