"""Progress bars: one tqdm bar per epoch, showing throughput and the running loss, and one
for reading a corpus, in bytes with their rate."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


class EpochBar:
    def __init__(self, epoch: int, epochs: int, total: int, unit: str, enabled: bool = True):
        self.bar = tqdm(
            total=total, desc=f"epoch {epoch + 1}/{epochs}", unit=unit, unit_scale=True,
            disable=not enabled, file=sys.stderr, dynamic_ncols=True, leave=True,
        )

    def advance(self, n: int, loss: float | None = None) -> None:
        if loss is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        self.bar.update(min(n, self.bar.total - self.bar.n))

    def __enter__(self) -> EpochBar:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()  # also when interrupted, so what follows starts on a new line

    def finish(self, loss: float) -> None:
        self.advance(self.bar.total - self.bar.n, loss)


def byte_bar(total: int | None, desc: str, enabled: bool = True) -> tqdm:
    """A bar over the bytes of a corpus being read (``total`` None: size unknown, a count)."""
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                disable=not enabled, file=sys.stderr, dynamic_ncols=True, leave=False)
