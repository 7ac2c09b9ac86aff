"""Whether the other processes of a run are still there: one TCP link between process 0 and
every other process, kept open while they train, with a heartbeat each way.

JAX's runtime notices a lost process late and ends the survivors with a fatal log (its
heartbeat timeout, 100 s by default) or a collective's error. These links notice sooner: a
process that dies closes its link at once (the kernel does it), and one that stops answering
sends no heartbeat for ``timeout`` seconds. Either way ``on_lost(process, why)`` is called, on
the link's thread, once. A process that ends normally says goodbye first, so its link then
closes quietly.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

BEAT = 1.0  # seconds between heartbeats
_ALIVE, _BYE = b".", b"!"


class Liveness:
    """The links of this process (process 0: one per other process; any other: one to
    process 0), each ``(process id, socket)``."""

    def __init__(self, links: list[tuple[int, socket.socket]], timeout: float,
                 on_lost: Callable[[int, str], None]) -> None:
        self.links, self.timeout, self.on_lost = links, timeout, on_lost
        self._done = threading.Event()
        self._lost = threading.Event()
        self._lock = threading.Lock()
        self._said_bye: set[int] = set()
        self._threads = [threading.Thread(target=self._beat, daemon=True, name="sgns-beat")]
        self._threads += [threading.Thread(target=self._listen, args=(pid, conn), daemon=True,
                                           name=f"sgns-listen-{pid}") for pid, conn in links]
        for thread in self._threads:
            thread.start()

    def finish(self) -> None:
        """This process is done with the others: goodbye on every link, then close them."""
        self._done.set()
        for _, conn in self.links:
            try:
                conn.sendall(_BYE)
            except OSError:
                pass

    def wait_for_loss(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a link to report a lost process (a collective that
        failed is often the first sign); whether one did."""
        return self._lost.wait(seconds)

    def _beat(self) -> None:
        while not self._done.wait(BEAT):
            for _, conn in self.links:
                try:
                    conn.sendall(_ALIVE)
                except OSError:
                    pass  # the listener sees the link go

    def _listen(self, pid: int, conn: socket.socket) -> None:
        conn.settimeout(self.timeout)
        why = None
        while why is None:
            try:
                data = conn.recv(64)
            except TimeoutError:
                why = f"sent nothing for {self.timeout:g} s (--join-timeout)"
                break
            except OSError as exc:
                why = f"its connection failed ({exc.strerror or exc})"
                break
            if not data:
                why = "its connection closed (the process ended)"
            elif _BYE in data:
                with self._lock:
                    self._said_bye.add(pid)
                return
        if self._done.is_set():
            return  # this process has finished: a late loss no longer matters
        with self._lock:
            if self._lost.is_set():
                return
            self._lost.set()
        self.on_lost(pid, why)


def connect(host: str, port: int, process_id: int, timeout: float) -> socket.socket:
    """A link from a process to process 0's liveness port, introduced by its id."""
    conn = socket.create_connection((host, port), timeout=timeout)
    conn.sendall(f"{process_id}\n".encode())
    return conn


def accept(server: socket.socket, expected: int, deadline: float
           ) -> list[tuple[int, socket.socket]]:
    """Process 0: the links of ``expected`` other processes, each introduced by its id."""
    links = []
    while len(links) < expected:
        server.settimeout(max(0.01, deadline - time.monotonic()))
        conn, _ = server.accept()
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        pid = int(conn.recv(32).decode().strip() or -1)
        links.append((pid, conn))
    return links
