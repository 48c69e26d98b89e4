"""MLLP listener: HL7 v2 messages over TCP, framed ``0x0B message 0x1C 0x0D``.

Each connection is an asyncio protocol that cuts its bytes into frames
(``FrameReader``). Frames from all connections wait in one line; a single
worker thread takes whatever has gathered there (up to ``max_batch`` frames)
and hands it to the handler, which applies the messages in one transaction
(group commit, see ``LabFeed.receive_many``). Each ACK is written only when the
handler returns, that is after the commit. Under a light load a batch is one
message and is handled at once; under a heavy one the batches grow, and so does
the throughput, without any message waiting for a timer. A connection's ACKs
go out in the order of its messages. A sender normally waits for each ACK
before sending the next message (MLLP's original mode); one that sends ahead
is read until ``max_batch`` of its messages wait, then no further until they
are answered.

The per-message work on the event loop is a ``bytes.find`` for the end block
and one ``write``: no task, future or timer per message (the listener's own
cost is measured beside the full path in ``benchmarks/interop_hl7.py``).

Protection against a misbehaving peer:

- A frame larger than ``max_message_bytes`` is answered ``AR`` (the bytes read
  so far are kept as a dead letter) and the connection is closed, because the
  rest of that frame cannot be told apart from the next one.
- A started frame must be complete within ``read_timeout`` seconds; a half
  frame followed by silence closes that connection (nothing was acknowledged,
  so the sender will send again) while every other connection carries on.
- A connection with no frame for ``idle_timeout`` seconds is closed; a lab
  system reconnects when it has something to send.
- A peer that does not read its ACKs is closed once ACKs have waited
  ``write_timeout`` seconds for it; meanwhile nothing more is read from it.
- Bytes before a start block are skipped (some senders put a newline between
  frames), up to ``max_message_bytes`` of them; a start block inside a frame
  means the sender gave up on the previous frame, so only the last one is
  handled.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"


class MessageHandler(Protocol):
    """What the listener calls, in its worker thread, for the frames received."""

    def handle_many(self, raws: Sequence[bytes]) -> list[bytes]:
        """The ER7 ACK of each message, in order (sent only after their commit)."""
        ...

    def oversized(self, prefix: bytes, limit: int) -> bytes:
        """The ER7 AR for a frame larger than ``limit`` bytes, of which ``prefix`` was read."""
        ...


@dataclass(frozen=True, slots=True)
class MllpLimits:
    max_message_bytes: int = 1_048_576
    read_timeout: float = 30.0
    idle_timeout: float | None = 900.0
    write_timeout: float = 30.0


def frame(message: bytes) -> bytes:
    """A message wrapped in MLLP start and end blocks."""
    return START_BLOCK + message + END_BLOCK


class OutsideFrames(ConnectionError):
    """More than the size limit of bytes arrived outside any frame."""


@dataclass(frozen=True, slots=True)
class Oversized:
    """A frame over the size limit, of which ``prefix`` (at most the limit) was read."""

    prefix: bytes


class FrameReader:
    """Bytes as they arrive → the messages of complete frames (no I/O; see ``feed``)."""

    __slots__ = ("_buffer", "_in_frame", "_limit", "_scanned", "_skipped")

    def __init__(self, max_message_bytes: int) -> None:
        self._limit = max_message_bytes
        self._buffer = bytearray()
        self._in_frame = False
        self._scanned = 0  # how far the current frame was searched for its end block
        self._skipped = 0  # bytes skipped outside frames since the last frame

    @property
    def in_frame(self) -> bool:
        """A frame has started and not yet ended."""
        return self._in_frame

    def feed(self, data: bytes) -> list[bytes | Oversized]:
        """The messages completed by ``data``, in order; an ``Oversized`` ends the list.

        Raises ``OutsideFrames`` when more than the limit was skipped between frames.
        After an ``Oversized`` the reader must not be fed again (the connection closes).
        """
        buffer = self._buffer
        buffer += data
        found: list[bytes | Oversized] = []
        while True:
            if not self._in_frame:
                start = buffer.find(START_BLOCK)
                if start < 0:
                    self._skip(len(buffer))
                    buffer.clear()
                    return found
                self._skip(start)
                del buffer[: start + 1]
                self._in_frame, self._scanned, self._skipped = True, 0, 0
            end = buffer.find(END_BLOCK, max(0, self._scanned - 1))
            if end < 0:
                if len(buffer) > self._limit + 1:  # the end block can no longer fit
                    found.append(Oversized(bytes(buffer[: self._limit])))
                    return found
                self._scanned = len(buffer)
                return found
            if end > self._limit:
                found.append(Oversized(bytes(buffer[: self._limit])))
                return found
            body = bytes(buffer[:end])
            del buffer[: end + len(END_BLOCK)]
            self._in_frame = False
            restart = body.rfind(START_BLOCK)
            found.append(body[restart + 1 :] if restart >= 0 else body)

    def _skip(self, count: int) -> None:
        self._skipped += count
        if self._skipped > self._limit:
            raise OutsideFrames(f"more than {self._limit} bytes outside a frame")


_Item = tuple["_Connection", bytes | Oversized]


class _Connection(asyncio.Protocol):
    """One lab system's connection: frames in, ACKs out in the same order."""

    def __init__(self, server: MllpServer) -> None:
        self._server = server
        self._limits = server.limits
        self._reader = FrameReader(server.limits.max_message_bytes)
        self._transport: asyncio.Transport | None = None
        self._peer: object = None
        self._waiting = 0  # messages handed over and not yet answered
        self._reading = True
        self._writing = True
        self._last_answer = 0.0  # loop time of the last ACK (or of connecting)
        self._frame_started = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._ended = False  # the peer sent EOF, or a frame was oversized: read no more
        self.closing = False

    # -- asyncio.Protocol --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._peer = transport.get_extra_info("peername")
        self._last_answer = self._server.loop.time()
        self._server.connections.add(self)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._server.connections.discard(self)
        for timer in (self._timer, self._write_timer):
            if timer is not None:
                timer.cancel()
        if exc is not None:
            log.info("MLLP %s: connection ended (%s)", self._peer, type(exc).__name__)

    def data_received(self, data: bytes) -> None:
        if self.closing or self._ended:
            return
        was_in_frame = self._reader.in_frame
        try:
            found = self._reader.feed(data)
        except OutsideFrames:
            log.warning("MLLP %s: too many bytes outside a frame; closed", self._peer)
            self.close()
            return
        for item in found:
            if isinstance(item, Oversized):
                log.warning(
                    "MLLP %s: frame over %s bytes", self._peer, self._limits.max_message_bytes
                )
                self._hand_over(item)
                self._ended = True  # nothing after it can be told apart from it
                self._pause_reading()
                return
            self._hand_over(item)
        if self._reader.in_frame and (found or not was_in_frame):
            self._frame_started = self._server.loop.time()
            self._arm()
        if self._waiting >= self._server.max_batch:
            self._pause_reading()

    def eof_received(self) -> bool | None:
        self._ended = True
        if self._waiting:  # answer what was sent before the peer stopped sending
            return True
        return None

    def pause_writing(self) -> None:
        self._writing = False
        self._pause_reading()
        self._write_timer = self._server.loop.call_later(
            self._limits.write_timeout, self._write_timed_out
        )

    def resume_writing(self) -> None:
        self._writing = True
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        self._resume_reading()

    # -- the listener's side --

    def answer(self, ack: bytes, last: bool = False) -> None:
        """Send the ACK of this connection's oldest waiting message."""
        self._waiting -= 1
        if self.closing or self._transport is None:
            return
        self._transport.write(START_BLOCK + ack + END_BLOCK)
        self._last_answer = self._server.loop.time()
        if last or (self._ended and not self._waiting):
            self.close()
            return
        if self._waiting < self._server.max_batch:
            self._resume_reading()
        if not self._waiting:
            self._arm()  # the idle clock runs again

    def fail(self) -> None:
        """The handler failed on a message of this connection: nothing is acknowledged."""
        self._waiting -= 1
        self.close()

    def close(self) -> None:
        self.closing = True
        if self._transport is not None:
            self._transport.close()

    def _hand_over(self, item: bytes | Oversized) -> None:
        self._waiting += 1
        self._server.enqueue(self, item)

    def _pause_reading(self) -> None:
        if self._reading and self._transport is not None and not self.closing:
            self._reading = False
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading or not self._writing or self._ended or self.closing:
            return
        if self._transport is not None:
            self._reading = True
            self._transport.resume_reading()

    def _write_timed_out(self) -> None:
        seconds = self._limits.write_timeout
        log.warning("MLLP %s: ACKs not read for %ss; closed", self._peer, seconds)
        if self._transport is not None:
            self._transport.abort()

    # One timer per connection. It is moved only when a deadline comes nearer than
    # the time it is set for (a frame left half read); otherwise it fires, finds the
    # deadline moved on and sets itself again. So no timer is made per message.

    def _deadline(self) -> float | None:
        if self._reader.in_frame:
            return self._frame_started + self._limits.read_timeout
        if self._waiting or self._limits.idle_timeout is None:
            return None  # a message is being handled: the sender waits for us
        return self._last_answer + self._limits.idle_timeout

    def _arm(self) -> None:
        if self.closing:
            return
        deadline = self._deadline()
        if deadline is None:
            return
        if self._timer is not None:
            if self._timer.when() <= deadline:
                return
            self._timer.cancel()
        self._timer = self._server.loop.call_at(deadline, self._check_time)

    def _check_time(self) -> None:
        self._timer = None
        if self.closing:
            return
        deadline = self._deadline()
        if deadline is not None and deadline <= self._server.loop.time():
            what = "half frame" if self._reader.in_frame else "idle"
            log.warning("MLLP %s: timed out (%s); closed", self._peer, what)
            self.close()
            return
        self._arm()


class MllpServer:
    """The listener; ``start`` binds it, ``close`` stops it."""

    def __init__(
        self, handler: MessageHandler, limits: MllpLimits | None = None, max_batch: int = 64
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.handler = handler
        self.limits = limits or MllpLimits()
        self.max_batch = max_batch
        self.connections: set[_Connection] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._line: deque[_Item] = deque()
        self._busy = False
        self._scheduled = False
        self._stopping = False
        self._idle: asyncio.Event | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the MLLP listener is not started")
        return self._loop

    async def start(
        self, host: str, port: int, *, sock: socket.socket | None = None
    ) -> asyncio.Server:
        """Listen on host:port (port 0 picks a free one; see ``port``), or on ``sock``."""
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="mllp")
        self._idle = asyncio.Event()
        self._idle.set()
        if sock is not None:
            self._server = await self._loop.create_server(self.protocol, sock=sock)
        else:
            self._server = await self._loop.create_server(self.protocol, host, port)
        return self._server

    def protocol(self) -> asyncio.Protocol:
        """A new connection's protocol (asyncio calls this for each peer)."""
        return _Connection(self)

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the MLLP listener is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end open connections.

        A batch already in the worker thread still commits; its ACKs are not sent,
        so the senders send again and are answered AA with no second effect.
        """
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.close()
        self._line.clear()
        if self._idle is not None:
            await self._idle.wait()
        if self._server is not None:
            await self._server.wait_closed()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def serve_forever(self, host: str, port: int) -> None:
        server = await self.start(host, port)
        log.info("MLLP listener on %s:%s", host, self.port)
        try:
            await server.serve_forever()
        finally:
            await self.close()

    def enqueue(self, connection: _Connection, item: bytes | Oversized) -> None:
        if self._stopping:
            return
        self._line.append((connection, item))
        if not self._busy and not self._scheduled:
            self._scheduled = True  # after this round of reads, so that frames gather
            self.loop.call_soon(self._next_batch)

    def _next_batch(self) -> None:
        self._scheduled = False
        line = self._line
        if self._busy or not line or self._stopping:
            return
        assert self._executor is not None
        assert self._idle is not None
        batch = [line.popleft()]
        if not isinstance(batch[0][1], Oversized):
            while line and len(batch) < self.max_batch and not isinstance(line[0][1], Oversized):
                batch.append(line.popleft())
        work = self.loop.run_in_executor(self._executor, self._handle, [i for _, i in batch])
        self._busy = True
        self._idle.clear()
        work.add_done_callback(lambda done: self._answered(batch, done))

    def _handle(self, items: list[bytes | Oversized]) -> list[bytes]:
        """In the worker thread: an oversized frame alone, or a batch of messages."""
        first = items[0]
        if isinstance(first, Oversized):
            return [self.handler.oversized(first.prefix, self.limits.max_message_bytes)]
        return self.handler.handle_many([item for item in items if isinstance(item, bytes)])

    def _answered(self, batch: list[_Item], done: asyncio.Future[list[bytes]]) -> None:
        self._busy = False
        assert self._idle is not None
        self._idle.set()
        try:
            acks = done.result()
            if len(acks) != len(batch):
                raise RuntimeError(f"{len(acks)} ACKs for {len(batch)} messages")
        except Exception:  # a bug: those connections close, nothing is ACKed
            log.exception("MLLP: a batch of %d messages failed", len(batch))
            for connection, _ in batch:
                connection.fail()
        else:
            for (connection, item), ack in zip(batch, acks, strict=True):
                connection.answer(ack, last=isinstance(item, Oversized))
        self._next_batch()


def send(host: str, port: int, message: bytes, timeout: float = 30.0) -> bytes:
    """Send one message over MLLP and return the ACK's message (a small client for tests
    of a connection, ``ntz hl7 send`` and the benchmark)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(frame(message))
        received = b""
        while END_BLOCK not in received:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("the listener closed the connection without an ACK")
            received += chunk
    start = received.find(START_BLOCK)
    return received[start + 1 : received.index(END_BLOCK)]
