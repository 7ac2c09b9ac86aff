"""Which Keras backend the engine runs on, what devices it sees, and its threads: the only
place that imports Keras for the engine's choice (Keras picks its backend once, from
$KERAS_BACKEND, when it is first imported)."""

from __future__ import annotations

import os

from ...config import TrainConfig
from ...errors import SgnsError

KERAS_BACKENDS = ("jax", "tensorflow", "torch")  # those the Keras engine's sparse step runs on


def import_keras():
    """Keras, on a backend the Keras engine runs on, or a one-line error that says which
    backend cannot start (Keras picks it from $KERAS_BACKEND when it is first imported)."""
    backend = keras_backend_name()
    try:
        import keras
    except (ImportError, ValueError) as exc:
        raise SgnsError(f"Keras cannot start its {backend} backend (KERAS_BACKEND={backend}): "
                        f"{exc}; install it, or choose another") from None
    return keras


def tensorflow_threads(config: TrainConfig) -> None:
    """When the pair stream draws the negatives (``shared_negatives=0``, the notebook preset),
    TensorFlow's operations on a CPU get one thread fewer than the cores (at least one): the
    stream's thread is then busy, and TensorFlow's pool, one thread a core, waits on it. On 2
    cores, 10 alternating runs each of the notebook preset's epoch (1,200 documents): median
    5.0 s with one thread, 10.2 s with two. With the stream making positives only (the
    defaults) one thread measured about 10% slower, so there TensorFlow keeps its own choice,
    as it does where $TF_NUM_INTRAOP_THREADS says, where it sees a GPU, and once it has started
    (its threads are then fixed). Called before the backend's first operation."""
    if keras_backend_name() != "tensorflow" or config.shared_negatives:
        return
    import_keras()  # a one-line error where TensorFlow cannot start
    import tensorflow as tf

    if os.environ.get("TF_NUM_INTRAOP_THREADS") or tf.config.list_physical_devices("GPU"):
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(max(1, cores() - 1))
    except RuntimeError:  # TensorFlow already runs: its threads cannot change
        pass


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def keras_backend_name() -> str:
    """$KERAS_BACKEND (default jax), or a one-line error when the Keras engine cannot run on
    it; Keras is not imported."""
    backend = os.environ.get("KERAS_BACKEND", "jax")
    if backend not in KERAS_BACKENDS:
        raise SgnsError(f"KERAS_BACKEND={backend!r}: the Keras engine runs on "
                        f"{', '.join(KERAS_BACKENDS)}")
    return backend


def keras_accelerated() -> bool:
    """Whether Keras sees a GPU or TPU."""
    return any(not d.startswith("cpu") for d in keras_devices())


def keras_devices() -> list[str]:
    """The devices the Keras backend computes on, as ``"cpu:0"``, ``"gpu:0"``, ...
    (``keras.distribution`` lists them on JAX and TensorFlow; on PyTorch, torch does)."""
    keras = import_keras()
    if keras.backend.backend() == "torch":
        import torch

        gpus = [f"gpu:{k}" for k in range(torch.cuda.device_count())]
        return gpus or ["cpu:0"]
    return [d.lower() for d in keras.distribution.list_devices()]
