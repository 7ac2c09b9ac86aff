"""Each worker's own copy of the top of hierarchical softmax's tree.

Every path starts at the root, half of them pass each of its children, and so on down: with
several workers, the rows near the root are written by every core for nearly every example,
and each write takes the row's cache line from the core that wrote it last (true sharing).
``bench_contention.py --model cbow --loss hs`` measured one epoch's slices at 0.62 s on the
shared tables and 0.38 s with an output table per worker, on 2 cores.

So each worker trains its own copy of the rows within ``TOP_LEVELS`` (12) of the root, at
most 4,095 rows (1.8 MB at dimension 100, in cache), and between
slices (at least 20 an epoch) the copies are averaged into the output table and handed out again:
periodic model averaging (Zinkevich et al. 2010, "Parallelized Stochastic Gradient Descent";
Stich 2019, "Local SGD Converges Fast and Communicates Little") for the few rows that every
example writes, Hogwild for the rest. Averaged, not summed: those rows settle within a slice,
and the sum of two workers' steps towards the same place would overshoot it. With one worker
the copy holds the rows themselves, bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ...encoding.huffman import Paths, split_top
from ...encoding.tables import aligned_zeros
from .windows import TOP_LEVELS


class TreeTop:
    """The workers' copies (``copies[w]``, rows of the top's nodes in the order of
    ``nodes``), and the paths renumbered to match (:func:`sgns.encoding.huffman.split_top`).
    ``shared=False`` (negative sampling, or a path whose kernels do not take the copy) keeps
    the paths as they are and no rows."""

    def __init__(self, paths: Paths, output_table: np.ndarray, workers: int,
                 shared: bool) -> None:
        self.shared = shared
        if shared:
            self.paths, self.nodes = split_top(paths, TOP_LEVELS)
        else:
            self.paths, self.nodes = paths, np.zeros(0, np.int64)
        self.copies = aligned_zeros((workers, self.nodes.size, output_table.shape[1]))
        self.copies[:] = output_table[self.nodes]

    def merge(self, output_table: np.ndarray) -> None:
        """The copies' mean into the output table, and back into every copy."""
        if self.nodes.size:
            _average_into(self.copies, self.nodes, output_table)


@njit(cache=True, nogil=True)
def _average_into(copies, nodes, output_table):
    """Each row's mean over the copies (summed in worker order, divided by their number, as
    ``copies.mean(axis=0, dtype=np.float32)``, the same floats) into ``output_table`` and
    every copy, in one pass: a CBOW ``--loss hs`` run on 20 Newsgroups merges 100 times (2
    workers), 0.10 s in numpy (mean, scatter, copy back), 0.05 s here."""
    workers = np.float32(copies.shape[0])
    for j in range(nodes.size):
        row = output_table[nodes[j]]
        row[:] = copies[0, j]
        for w in range(1, copies.shape[0]):
            row += copies[w, j]
        row /= workers
        for w in range(copies.shape[0]):
            copies[w, j] = row
