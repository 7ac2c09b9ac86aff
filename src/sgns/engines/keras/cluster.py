"""Several processes training one model (Keras engine on JAX): each process runs the same
command with its own ``process_id``; together they form one ``keras.distribution`` mesh over
all their devices (JAX's distributed runtime, CPU collectives over gloo).

Before JAX starts, the processes meet at the coordinator (process 0's ``HOST:PORT``) in a small
handshake of our own: JAX's runtime ends the whole process with a fatal log when a peer never
comes, so the handshake is what turns "nobody answered" into a one-line error within
``timeout`` seconds. Process 0 then hands the port to JAX's coordination service.

Each process makes the whole pair stream (the same seed) and feeds its slice of every batch
(:func:`local_slice`), so that the processes together train exactly what one process with as
many devices would. Process 0 alone writes files.
"""

from __future__ import annotations

import hashlib
import json
import math
import socket
import time
from dataclasses import dataclass

import numpy as np

from ...errors import SgnsError

DEFAULT_TIMEOUT = 60.0  # seconds to wait for the coordinator or the other processes


@dataclass(frozen=True)
class Cluster:
    """One process's place in a run of several: ``coordinator`` is ``HOST:PORT`` of process 0
    (the same on every process), ``num_processes`` how many take part, ``process_id`` this
    one's number (0 writes the run folder), ``timeout`` how long to wait for the others."""

    coordinator: str
    num_processes: int
    process_id: int
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        host, _, port = self.coordinator.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SgnsError(f"--coordinator must be HOST:PORT, got {self.coordinator!r}")
        if self.num_processes < 1:
            raise SgnsError(f"--num-processes must be >= 1, got {self.num_processes}")
        if not 0 <= self.process_id < self.num_processes:
            raise SgnsError(f"--process-id must be in 0..{self.num_processes - 1}, "
                            f"got {self.process_id}")
        if not self.timeout > 0:
            raise SgnsError(f"--join-timeout must be > 0, got {self.timeout}")

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.coordinator.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def writes(self) -> bool:
        """Whether this process writes the run folder, checkpoints and plots."""
        return self.process_id == 0


def join(cluster: Cluster) -> None:
    """Meet the other processes, then start JAX's distributed runtime. Call it before
    anything runs on JAX (Keras may be imported, not used)."""
    from .backend import import_keras

    if import_keras().backend.backend() != "jax":
        raise SgnsError("several processes (--coordinator) need the JAX backend "
                        "(KERAS_BACKEND=jax)")
    import jax

    if jax.distributed.is_initialized():
        raise SgnsError("this process has joined a cluster already")
    _handshake(cluster)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=cluster.coordinator, num_processes=cluster.num_processes,
        process_id=cluster.process_id, initialization_timeout=math.ceil(cluster.timeout))


def process() -> tuple[int, int]:
    """``(index, count)`` of this process among those training together; ``(0, 1)`` alone."""
    from .backend import import_keras

    if import_keras().backend.backend() != "jax":
        return 0, 1
    import jax

    return jax.process_index(), jax.process_count()


def local_slice(batch, index: int, count: int):
    """The slice of a batch that process ``index`` of ``count`` feeds: every array cut along
    its first axis (which ``count`` divides) into ``count`` equal parts."""
    import keras

    return keras.tree.map_structure(
        lambda a: a[index * len(a) // count: (index + 1) * len(a) // count], batch)


def agree(fingerprint: dict) -> None:
    """A one-line error on every process when the processes' ``fingerprint`` s (settings,
    corpus size) differ: they would otherwise train different models, or hang."""
    from jax.experimental import multihost_utils

    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).digest()
    mine = np.frombuffer(digest[:8], dtype=np.int32)
    every = np.asarray(multihost_utils.process_allgather(mine)).reshape(-1, 2)
    differ = [i for i, d in enumerate(every) if not np.array_equal(d, every[0])]
    if differ:
        raise SgnsError(f"process(es) {', '.join(map(str, differ))} run with other settings or "
                        f"another corpus than process 0: every process must run the same "
                        f"command on the same corpus (this one: {fingerprint})")


def to_host(value) -> np.ndarray:
    """A (possibly multi-process, possibly sharded) array as numpy, on every process. With
    several processes every process must call it, in the same order (it may gather)."""
    from .backend import import_keras

    keras = import_keras()
    if keras.backend.backend() != "jax":
        return keras.ops.convert_to_numpy(value)
    import jax

    if not isinstance(value, jax.Array) or value.is_fully_addressable:
        return np.asarray(value)
    if value.is_fully_replicated:
        return np.asarray(value.addressable_data(0))
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(value, tiled=True))


# -- the handshake ----------------------------------------------------------------------------
_HELLO = "sgns-join"
_GRACE = 5.0  # seconds a joined process waits for process 0's word past its own timeout


def _handshake(cluster: Cluster) -> None:
    if cluster.num_processes == 1:
        return
    deadline = time.monotonic() + cluster.timeout
    if cluster.process_id == 0:
        _gather_peers(cluster, deadline)
    else:
        _meet_coordinator(cluster, deadline)


def _gather_peers(cluster: Cluster, deadline: float) -> None:
    """Process 0: wait for every other process to say hello, then tell them all to go on."""
    joined: set[int] = set()
    conns: list[socket.socket] = []  # every hello'd process, told the outcome
    problem = None
    try:
        try:
            server = socket.create_server(cluster.address)
        except OSError as exc:
            raise SgnsError(f"cannot listen on --coordinator {cluster.coordinator}: "
                            f"{exc.strerror or exc}") from None
        with server:
            while len(joined) < cluster.num_processes - 1 and problem is None:
                server.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    conn, _ = server.accept()
                except TimeoutError:  # the processes that came are told, too
                    missing = sorted(set(range(1, cluster.num_processes)) - joined)
                    problem = (f"process(es) {', '.join(map(str, missing))} did not join the "
                               f"coordinator {cluster.coordinator} within {cluster.timeout:g} s "
                               f"(--join-timeout)")
                    break
                conn.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    hello = conn.recv(256).decode(errors="replace").split()
                except OSError:
                    hello = []
                if len(hello) != 3 or hello[0] != _HELLO:
                    conn.close()  # not one of ours
                    continue
                conns.append(conn)
                count, pid = int(hello[1]), int(hello[2])
                if count != cluster.num_processes:
                    problem = (f"process {pid} was started with --num-processes {count}, "
                               f"process 0 with {cluster.num_processes}")
                elif pid in joined or pid == 0:
                    problem = f"two processes have --process-id {pid}"
                joined.add(pid)
        for conn in conns:
            conn.sendall(f"error {problem}\n".encode() if problem else b"go\n")
        if problem:
            raise SgnsError(problem)
    finally:
        for conn in conns:
            # The other side closes first, so that no closed connection holds the port that
            # JAX's coordination service binds next.
            try:
                conn.settimeout(2.0)
                conn.recv(1)
            except OSError:
                pass
            conn.close()


def _meet_coordinator(cluster: Cluster, deadline: float) -> None:
    """Any other process: say hello to process 0 until it answers, then wait for its word."""
    while True:
        try:
            conn = socket.create_connection(
                cluster.address, timeout=max(0.01, min(2.0, deadline - time.monotonic())))
            break
        except OSError:
            if time.monotonic() >= deadline:
                raise SgnsError(f"the coordinator {cluster.coordinator} (process 0) did not "
                                f"answer within {cluster.timeout:g} s (--join-timeout)") from None
            time.sleep(0.2)
    with conn:
        conn.sendall(f"{_HELLO} {cluster.num_processes} {cluster.process_id}\n".encode())
        # Process 0's deadline decides: its word may come a little after ours.
        conn.settimeout(max(0.01, deadline - time.monotonic()) + _GRACE)
        try:
            word = conn.recv(1024).decode(errors="replace").strip()
        except OSError:
            word = ""
    if word == "go":
        return
    if word.startswith("error "):
        raise SgnsError(word[len("error "):])
    raise SgnsError(f"the coordinator {cluster.coordinator} did not let process "
                    f"{cluster.process_id} join within {cluster.timeout:g} s (--join-timeout)")
