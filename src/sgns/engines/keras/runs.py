"""CBOW's runs of consecutive windows (see :class:`sgns.engines.keras.models.CBOW`): each run's
stretch of text gathered once, every window's mean a product with a band of shares, and each
row's gradient summed over the windows it is in."""

from __future__ import annotations

import functools

import keras
import numpy as np
from keras import ops


def run_offsets(width: int) -> list[int]:
    """Where each slot of a CBOW window lies from its center: -1, 1, -2, 2, ..."""
    return [o for d in range(1, width + 1) for o in (-d, d)]


def run_sums(shares, rows, bands=None):
    """Each window's weighted sum of the rows of its run's stretch: ``(runs, run, dim)`` from
    ``shares`` ``(runs, run, 2 * width)`` and ``rows`` ``(runs, run + 2 * width, dim)``.
    Without ``bands``, one shifted slice of the rows a slot, which XLA fuses into one loop (JAX:
    0.9 ms both ways for a step of 4,096 windows on this CPU, against 2.1 as a product); with
    the ``bands`` of :func:`bands`, one batched matrix product (PyTorch 1.5 and TensorFlow
    2.7 ms, against 4.7 and 12.6 as slices, each an operation of its own there)."""
    run, slots = ops.shape(shares)[1], ops.shape(shares)[2]
    width = slots // 2
    if bands is None:
        return sum(shares[:, :, k, None] * rows[:, width + o: width + o + run]
                   for k, o in enumerate(run_offsets(width)))
    return ops.einsum("rsp,rpd->rsd", bands, rows)


def run_spread(shares, grads, bands=None):
    """The transpose of :func:`run_sums`: each row of the stretch gets the sum of the windows'
    ``grads`` times its shares in them, ``(runs, run + 2 * width, dim)``."""
    run, slots = ops.shape(shares)[1], ops.shape(shares)[2]
    width = slots // 2
    if bands is None:
        # Window i reaches row p = width + i + offset: row p gets window p - width - offset's.
        padded_grads = ops.pad(grads, ((0, 0), (2 * width, 2 * width), (0, 0)))
        padded_shares = ops.pad(shares, ((0, 0), (2 * width, 2 * width), (0, 0)))
        length = run + 2 * width
        return sum(padded_shares[:, width - o: width - o + length, k, None]
                   * padded_grads[:, width - o: width - o + length]
                   for k, o in enumerate(run_offsets(width)))
    return ops.einsum("rsp,rsd->rpd", bands, grads)


def bands(shares):
    """``bands[r, i, p]``: the share of row ``p`` of run ``r``'s stretch in window ``i``'s mean
    (the shares put in place: a gather of static indices)."""
    runs, run, slots = ops.shape(shares)[0], ops.shape(shares)[1], ops.shape(shares)[2]
    place = run_layout(run, slots // 2)[0]
    flat = ops.concatenate([ops.reshape(shares, (runs, run * slots)),
                            ops.zeros((runs, 1), shares.dtype)], axis=1)
    return ops.reshape(ops.take(flat, place, axis=1), (runs, run, -1))


@functools.lru_cache(maxsize=16)
def run_layout(run: int, width: int):
    """Static indices for runs of ``run`` windows of ``width`` words a side, into a run's
    flattened ``(run, 2 * width)`` slots followed by one zero: ``place[i * length + p]``, the
    slot of window ``i`` that is position ``p`` of the run's stretch (of ``length`` positions;
    the zero where none is), and ``column[p, k]``, the slot ``k`` of the window that would hold
    position ``p`` there (the zero where no window of the run does)."""
    offsets = np.array(run_offsets(width))
    length, slots = run + 2 * width, 2 * width
    place = np.full((run, length), run * slots, np.int32)
    windows = np.arange(run)[:, None]
    place[windows, width + windows + offsets[None]] = windows * slots + np.arange(slots)[None]
    owner = np.arange(length)[:, None] - width - offsets[None]  # (length, 2 * width)
    inside = (owner >= 0) & (owner < run)
    column = np.where(inside, owner * slots + np.arange(slots)[None], run * slots)
    layout = place.reshape(-1), column.astype(np.int32)
    if keras.backend.backend() == "torch":
        # Made into tensors once, not copied from numpy to the device at every use (on the
        # GPU lent here, the epochs took as long either way).
        return tuple(ops.convert_to_tensor(a) for a in layout)
    return layout  # compiled into the step as constants
