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


def token_bar(total: int, desc: str, enabled: bool = True) -> tqdm:
    """A bar over the tokens of a pass over a corpus already read (phrases)."""
    return tqdm(total=total, desc=desc, unit="tok", unit_scale=True, disable=not enabled,
                file=sys.stderr, dynamic_ncols=True, leave=False)


def waiting_for(work, desc: str, enabled: bool = True, quiet_seconds: float = 0.5):
    """``work()`` run on a thread of its own; if it takes longer than ``quiet_seconds``, a
    line ``desc`` with the seconds so far, until it ends. Returns what ``work`` returns."""
    import threading
    import time

    result: list = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="sgns-waiting", daemon=True)
    thread.start()
    thread.join(quiet_seconds)
    if thread.is_alive() and enabled:
        start = time.perf_counter() - quiet_seconds
        with tqdm(total=None, desc=desc, bar_format="{desc}", file=sys.stderr, leave=False,
                  dynamic_ncols=True) as bar:
            while thread.is_alive():
                bar.set_description_str(f"{desc}: {time.perf_counter() - start:.0f} s")
                thread.join(0.5)
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
