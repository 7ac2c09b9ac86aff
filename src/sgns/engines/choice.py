"""``--engine auto``: the Keras engine where Keras sees an accelerator, else the native one."""

from __future__ import annotations

import glob
import sys


def resolve_engine(engine: str) -> str:
    """``auto`` means the Keras engine when Keras sees an accelerator, else the native one.
    Keras is asked only where the system shows an accelerator's device: importing it (and
    its backend) took 1.7 s here, a third of a native run of 20 Newsgroups."""
    if engine != "auto":
        return engine
    from .keras.backend import keras_accelerated, keras_backend_name

    keras_backend_name()  # a bad $KERAS_BACKEND is an error whichever engine runs
    if not accelerator_visible():
        return "native"
    return "keras" if keras_accelerated() else "native"


# Device nodes of NVIDIA GPUs, AMD GPUs (ROCm) and TPUs on Linux.
ACCELERATOR_NODES = ("/dev/nvidia[0-9]*", "/dev/kfd", "/dev/accel[0-9]*", "/dev/vfio/[0-9]*")


def accelerator_visible() -> bool:
    """Whether the system may have an accelerator for Keras: on Linux, whether one of
    :data:`ACCELERATOR_NODES` exists; elsewhere always (Keras is then asked)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(glob.glob(pattern) for pattern in ACCELERATOR_NODES)
