"""The memory check made before a subword run allocates its tables."""

from __future__ import annotations

from ..config import TrainConfig
from ..encoding.tables import row_width
from ..errors import SgnsError


def check_memory(config: TrainConfig, vocab_size: int) -> None:
    """Fail at once, not by the kernel's out-of-memory killer, when the subword tables cannot
    fit: the input table (words and buckets), a copy of it for each epoch's checkpoint, and the
    output table."""
    width = row_width(config.dim)
    needed = 4 * width * (2 * (vocab_size + config.buckets) + 2 * vocab_size)
    available = available_memory()
    if available is not None and needed > available:
        raise SgnsError(
            f"--buckets {config.buckets:,} needs about {needed / 2**30:.1f} GiB for the n-gram "
            f"table and its checkpoint copy ({config.buckets:,} x {config.dim} floats, twice), "
            f"and {available / 2**30:.1f} GiB is available: lower --buckets (or --dim)")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, from /proc/meminfo (None elsewhere)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
