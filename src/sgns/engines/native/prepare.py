"""Compiling the model path that a run trains: here and now (:func:`compile_kernels`), or
ahead, in a process of its own, while the caller reads its corpus (:func:`compile_ahead`).

A first run compiles its path for about 12 s on 2 cores (docs/benchmarks.md, "The first run"),
and it used to start only once the corpus was read. :func:`compile_ahead` starts it at once in
a separate process, which writes numba's on-disk cache: a thread would not help, since numba
compiles one function at a time under a global lock and most of its work holds the GIL. The
corpus is read and cleaned here meanwhile, on the other core; when the engine starts,
:func:`compile_kernels` waits for what is left, then loads the path from the cache. A process
that fails changes nothing: the path is then compiled here, as it would have been.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import time

import numba
import numpy as np

from ...config import TrainConfig
from ...encoding.bags import identity_bags
from ...encoding.huffman import huffman_paths, no_paths
from ...encoding.tables import aligned_zeros, uniform_rows
from .compiler import no_interleaving
from .loops import (
    UPDATE_BAGS,
    UPDATE_PAIR,
    UPDATE_WINDOW,
    LoopSettings,
    compiled_path,
    model_path,
    shares_tree_top,
    train_slice,
)
from .sampling import alias_table
from .tree_top import TreeTop

# The processes compiling a path ahead, by model path.
_AHEAD: dict[str, subprocess.Popen] = {}


def loop_settings(config: TrainConfig) -> LoopSettings:
    """What the compiled loop takes of ``config``."""
    update = (UPDATE_BAGS if config.subwords
              else UPDATE_PAIR if config.update == "pair" else UPDATE_WINDOW)
    hs = config.loss == "hs"
    return LoopSettings(config.window, config.shrink_window,
                        0 if hs else int(round(config.negative)), config.cbow_share or 1,
                        config.model == "cbow", update, hs)


def compile_kernels(settings: LoopSettings | None = None) -> float:
    """Compile (or load from numba's cache) the model path of ``settings`` (skip-gram by
    default), on a toy problem, once a process compiling it ahead is done; return the seconds
    it took. A run compiles only its own path."""
    if settings is None:
        settings = LoopSettings(2, True, 1, 1, False, UPDATE_WINDOW, False)
    start = time.perf_counter()
    ahead = _AHEAD.pop(model_path(settings), None)
    if ahead is not None:
        ahead.wait()
    with no_interleaving():
        input_table, output_table = uniform_rows(4, 2, 2, 0), aligned_zeros((4, 2))
        top = TreeTop(huffman_paths(np.array([0, 2, 1, 1])) if settings.hs else no_paths(4),
                      output_table, 1, shares_tree_top(settings))
        train_slice(
            input_table, output_table, np.array([1, 2, 3, 1], dtype=np.int32),
            np.array([0, 4], dtype=np.int64), np.array([[0, 1]], dtype=np.int64),
            np.ones(4, np.float32), alias_table(np.array([0.0, 0.5, 0.25, 0.25])),
            top.paths, top.copies, settings._replace(window=2, negative=1),
            *identity_bags(4), 0.025, 0.025,
            np.zeros((1, 1), np.uint64), np.zeros((1, 4)),
        )
        top.merge(output_table)  # compiled too, where the path has a tree top
    return time.perf_counter() - start


def is_compiled(settings: LoopSettings) -> bool:
    """Whether numba's cache holds the model path of ``settings``, compiled from these very
    sources (numba's own check of its index; False when it cannot tell)."""
    try:
        return bool(compiled_path(settings)[1]._cache._cache_file._load_index())
    except Exception:  # numba's cache internals: a version without them compiles as before
        return False


def compile_ahead(config: TrainConfig) -> bool:
    """Start compiling the model path that ``config`` trains in a process of its own, unless
    numba's cache holds it already; :func:`compile_kernels` waits for it. Returns whether a
    process was started. The process is stopped if this one ends first."""
    settings = loop_settings(config)
    path = model_path(settings)
    if numba.config.DISABLE_JIT or path in _AHEAD or is_compiled(settings):
        return False
    process = subprocess.Popen(
        [sys.executable, "-c", f"from {__name__} import compile_kernels, LoopSettings; "
         f"compile_kernels(LoopSettings(*{tuple(settings)!r}))"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _AHEAD[path] = process
    atexit.register(_stop, process)
    return True


def _stop(process: subprocess.Popen) -> None:
    # numba writes each cache file beside its name and renames it: a kill leaves none half done.
    if process.poll() is None:
        process.kill()

