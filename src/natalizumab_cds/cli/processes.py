"""Worker processes of the long-running commands (``ntz serve --workers``, ``ntz mllp``).

Each worker listens on a socket of its own bound to the shared port with
``SO_REUSEPORT`` (``shared_port_socket``), so the kernel spreads new
connections over the workers by a hash of the caller's address and port. With
one listening socket shared by all, whichever worker wakes first accepts a
whole burst of connections and keeps them.

``run_workers`` starts them and waits: SIGINT or SIGTERM stops all of them
(each gets SIGTERM and shuts down gracefully); a worker that stops on its own
stops the others too and the command exits with status 1, for the service
manager to restart the service.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def shared_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` that other processes may bind too (not listening).

    Port 0 takes a free port; bind the workers' sockets to the one it got
    (``getsockname``) and keep this one open meanwhile, so that no other
    program takes the port between the two.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )[0]
    bound = socket.socket(family, kind, proto)  # proto TCP: asyncio sets TCP_NODELAY
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    bound.bind(address)
    return bound


def run_workers(
    processes: Sequence[BaseProcess],
    started: Callable[[threading.Event], None] | None = None,
) -> None:
    """Start ``processes`` and wait until a stop signal or until one of them stops.

    ``started(stop)`` runs once they are started (e.g. to wait until they are
    ready); ``stop`` is set when a stop signal arrives. Raises ``SystemExit(1)``
    when a worker stopped on its own.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        for process in processes:
            process.start()
        if started is not None:
            started(stop)
        while not stop.wait(0.5):
            if any(not process.is_alive() for process in processes):
                break
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # each worker shuts down gracefully on SIGTERM
        for process in processes:
            process.join(timeout=30)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not stop.is_set():
        raise SystemExit(1)
