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
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ...errors import SgnsError
from .liveness import Liveness, accept, connect

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


def join(cluster: Cluster, on_lost: Callable[[int, str], None] | None = None
         ) -> Liveness | None:
    """Meet the other processes, then start JAX's distributed runtime. Call it before
    anything runs on JAX (Keras may be imported, not used). With several processes, returns
    the links that watch the others while they train (:mod:`.liveness`): ``on_lost(process,
    why)`` is called when one dies or stops answering."""
    from .backend import import_keras

    if import_keras().backend.backend() != "jax":
        raise SgnsError("several processes (--coordinator) need the JAX backend "
                        "(KERAS_BACKEND=jax)")
    import jax

    if jax.distributed.is_initialized():
        raise SgnsError("this process has joined a cluster already")
    links = _handshake(cluster)
    liveness = Liveness(links, cluster.timeout, on_lost or (lambda pid, why: None)) \
        if links else None
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    heartbeat = max(100, math.ceil(3 * cluster.timeout))  # JAX's comes after ours
    with _service_apart(cluster, heartbeat):
        jax.distributed.initialize(
            coordinator_address=cluster.coordinator, num_processes=cluster.num_processes,
            process_id=cluster.process_id, initialization_timeout=math.ceil(cluster.timeout),
            heartbeat_timeout_seconds=heartbeat)
    return liveness


# JAX's coordination service, in a process of its own that process 0 starts and that outlives
# it by _SERVICE_GRACE seconds. Inside process 0, its death would end every other process
# with a fatal log (their clients poll the service for errors, and a closed service is one)
# before their liveness link could say which process was lost.
_SERVICE = """
import sys, time
from jax._src.lib import _jax
service = _jax.get_distributed_runtime_service(
    sys.argv[1], int(sys.argv[2]), heartbeat_timeout=int(sys.argv[3]))
sys.stdout.write("ready\\n")
sys.stdout.flush()
sys.stdin.read()  # until process 0 ends, whichever way
time.sleep(float(sys.argv[4]))
"""
_SERVICE_GRACE = 10.0
_services: list[subprocess.Popen] = []  # kept for the process' life


class _ServiceElsewhere:
    """What process 0's ``jax.distributed`` holds instead of the service it would start."""

    def shutdown(self) -> None:
        pass


@contextmanager
def _service_apart(cluster: Cluster, heartbeat: int):
    """For process 0 of several: JAX's coordination service started in a helper process, and
    ``jax.distributed.initialize`` kept from starting its own (it has no option for that, so
    its private factory is replaced while it runs; if that factory is not there, the service
    stays in process 0)."""
    from jax._src import distributed

    factory = getattr(distributed._jax, "get_distributed_runtime_service", None)
    if cluster.process_id != 0 or cluster.num_processes == 1 or factory is None:
        yield
        return
    helper = subprocess.Popen(
        [sys.executable, "-c", _SERVICE, f"[::]:{cluster.address[1]}",
         str(cluster.num_processes), str(heartbeat), str(_SERVICE_GRACE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if helper.stdout.readline().strip() != b"ready":
        helper.kill()
        raise SgnsError(f"cannot start JAX's coordination service on {cluster.coordinator}")
    _services.append(helper)
    distributed._jax.get_distributed_runtime_service = lambda *a, **k: _ServiceElsewhere()
    try:
        yield
    finally:
        distributed._jax.get_distributed_runtime_service = factory


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


def _handshake(cluster: Cluster) -> list[tuple[int, socket.socket]]:
    """Meet the others; then the liveness links: process 0 listens on a port of its own
    (named in its word to go) and every other process connects to it."""
    if cluster.num_processes == 1:
        return []
    deadline = time.monotonic() + cluster.timeout
    if cluster.process_id == 0:
        with socket.create_server((cluster.address[0], 0)) as server:
            _gather_peers(cluster, deadline, server.getsockname()[1])
            try:
                return accept(server, cluster.num_processes - 1, deadline)
            except (OSError, ValueError):
                raise SgnsError("the other processes did not link to process 0 within "
                                f"{cluster.timeout:g} s (--join-timeout)") from None
    port = _meet_coordinator(cluster, deadline)
    try:
        return [(0, connect(cluster.address[0], port, cluster.process_id,
                            max(0.01, deadline - time.monotonic()) + _GRACE))]
    except OSError:
        raise SgnsError(f"process {cluster.process_id} could not link to process 0 at "
                        f"{cluster.address[0]}:{port}") from None


def _gather_peers(cluster: Cluster, deadline: float, link_port: int) -> None:
    """Process 0: wait for every other process to say hello, then tell them all to go on,
    and where to link to it."""
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
            conn.sendall(f"error {problem}\n".encode() if problem else f"go {link_port}\n".encode())
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


def _meet_coordinator(cluster: Cluster, deadline: float) -> int:
    """Any other process: say hello to process 0 until it answers, then wait for its word;
    returns the port of process 0's liveness links."""
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
    if word.startswith("go ") and word[3:].isdigit():
        return int(word[3:])
    if word.startswith("error "):
        raise SgnsError(word[len("error "):])
    raise SgnsError(f"the coordinator {cluster.coordinator} did not let process "
                    f"{cluster.process_id} join within {cluster.timeout:g} s (--join-timeout)")
