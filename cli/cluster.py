"""Multi-worker start-up: say which peers training waits for, and give up after a timeout.

``MultiWorkerMirroredStrategy`` blocks inside TensorFlow's C++ code, holding Python's
lock, until every worker of ``TF_CONFIG`` has joined: no message, no limit, and not
even ``SIGTERM`` gets through. So the CLI waits *before* it creates the strategy, in
Python, where a timeout and Ctrl-C work: :func:`wait_for_peers` probes each peer with
a TCP connection once a second until all of them answer, or fails after the timeout.

A peer's TensorFlow server only listens once that peer has created its strategy, and
that peer waits in turn. To break the circle, each worker listens on its own
``TF_CONFIG`` address while it waits (a plain socket that accepts and closes
connections), and closes it just before TensorFlow binds the same port.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

DEFAULT_STARTUP_TIMEOUT = 120.0
"""Seconds ``--strategy multi-worker`` waits for the other workers before it gives up."""


@dataclass(frozen=True)
class Cluster:
    """This process's address and its peers', from ``TF_CONFIG``."""

    own: str
    peers: tuple[str, ...]


def read_cluster(tf_config: str | None) -> Cluster | None:
    """The cluster ``TF_CONFIG`` describes; None if it is missing or malformed (the library says why).

    >>> read_cluster('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}')
    Cluster(own='a:1', peers=('b:2',))
    >>> read_cluster("not json") is None
    True
    """
    try:
        config = json.loads(tf_config or "")
        cluster, task = config["cluster"], config["task"]
        own = cluster[task["type"]][task["index"]]
        peers = tuple(address for addresses in cluster.values() for address in addresses if address != own)
        return Cluster(str(own), tuple(str(peer) for peer in peers))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def tcp_reachable(address: str, timeout: float = 1.0) -> bool:
    """Whether something accepts a TCP connection at ``host:port``."""
    try:
        with socket.create_connection(_host_port(address), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def placeholder_listener(address: str) -> Iterator[Callable[[], None]]:
    """Listen on ``address`` while waiting; yields a function that accepts (and closes) pending probes.

    If the port cannot be bound (in use, not ours), nothing listens: TensorFlow will say why.
    """
    try:
        server = socket.socket(socket.AF_INET6 if ":" in _host_port(address)[0] else socket.AF_INET)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("", _host_port(address)[1]))
        server.listen(64)
        server.setblocking(False)
    except (OSError, ValueError):
        yield lambda: None
        return

    def drain() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                connection.close()

    try:
        yield drain
    finally:
        server.close()


class PeersUnreachable(Exception):
    """Some peers did not answer within the start-up timeout; the message is one line."""


def wait_for_peers(
    cluster: Cluster,
    timeout: float,
    *,
    probe: Callable[[str], bool] = tcp_reachable,
    interval: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once every peer of ``cluster`` answers; raise :class:`PeersUnreachable` after ``timeout`` s."""
    deadline = clock() + timeout
    waiting = list(cluster.peers)
    with placeholder_listener(cluster.own) as drain:
        while True:
            drain()
            waiting = [peer for peer in waiting if not probe(peer)]
            if not waiting:
                return
            if clock() >= deadline:
                raise PeersUnreachable(
                    f"Worker{'s' if len(waiting) > 1 else ''} {', '.join(waiting)} of TF_CONFIG did not answer "
                    f"within {timeout:g} s. Start every worker listed in TF_CONFIG (each with its own task "
                    "index), or give a longer --startup-timeout."
                )
            sleep(interval)
