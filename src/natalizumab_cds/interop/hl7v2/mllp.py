"""MLLP listener: HL7 v2 messages over TCP, framed ``0x0B message 0x1C 0x0D``.

One asyncio task per connection, so many lab connections are served at once.
Frames from all connections go into one queue; a single worker thread takes
whatever has gathered there (up to ``max_batch`` frames) and hands it to the
handler, which applies the messages in one transaction (group commit, see
``LabFeed.receive_many``). Each ACK is written only when the handler returns,
that is after the commit. Under a light load a batch is one message and is
handled at once; under a heavy one the batches grow, and so does the
throughput, without any message waiting for a timer. Per connection the sender
waits for each ACK before sending the next message (MLLP's original mode), so
order is kept.

Protection against a misbehaving peer:

- A frame larger than ``max_message_bytes`` is answered ``AR`` (the bytes read
  so far are kept as a dead letter) and the connection is closed, because the
  rest of that frame cannot be told apart from the next one.
- A started frame must be complete within ``read_timeout`` seconds; a half
  frame followed by silence closes that connection (nothing was acknowledged,
  so the sender will send again) while every other connection carries on.
- A connection with no frame for ``idle_timeout`` seconds is closed; a lab
  system reconnects when it has something to send.
- Bytes before a start block are skipped (some senders put a newline between
  frames); a start block inside a frame means the sender gave up on the
  previous frame, so only the last one is handled.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
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


class _Oversized(Exception):
    def __init__(self, prefix: bytes) -> None:
        super().__init__(len(prefix))
        self.prefix = prefix


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
        self._executor: ThreadPoolExecutor | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._queue: asyncio.Queue[tuple[bytes, asyncio.Future[bytes]]] | None = None
        self._dispatcher: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> asyncio.Server:
        """Listen on host:port (port 0 picks a free one; see ``port``)."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="mllp")
        self._queue = asyncio.Queue()
        self._dispatcher = asyncio.create_task(self._dispatch(self._queue))
        self._server = await asyncio.start_server(
            self._connection, host, port, limit=self.limits.max_message_bytes + len(END_BLOCK)
        )
        return self._server

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the MLLP listener is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end open connections.

        A message already in a worker thread still commits; its ACK is not sent, so
        the sender sends it again and is answered AA with no second effect.
        """
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
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

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)
        try:
            while True:
                try:
                    message = await self._next_message(reader)
                except _Oversized as too_big:
                    log.warning("MLLP %s: frame over %s bytes", peer, self.limits.max_message_bytes)
                    ack = await self._oversized(too_big.prefix)
                    await self._send(writer, ack)
                    return
                if message is None:
                    return
                await self._send(writer, await self._handle(message))
        except TimeoutError:
            log.warning("MLLP %s: timed out (half frame, idle or slow reader); closed", peer)
        except (ConnectionError, asyncio.IncompleteReadError) as problem:
            log.info("MLLP %s: connection ended (%s)", peer, type(problem).__name__)
        except Exception:  # a bug must cost one connection, never the listener
            log.exception("MLLP %s: closed after an unexpected error", peer)
        except asyncio.CancelledError:
            # The listener is stopping. Ending normally, not as cancelled: asyncio's
            # stream callback would otherwise log the cancellation as an error.
            log.info("MLLP %s: closed as the listener stops", peer)
        finally:
            writer.close()
            with suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _next_message(self, reader: asyncio.StreamReader) -> bytes | None:
        """The next frame's message; None when the peer closed between frames."""
        try:
            async with asyncio.timeout(self.limits.idle_timeout):
                await reader.readuntil(START_BLOCK)
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError:
            raise ConnectionError("too many bytes outside a frame") from None
        try:
            async with asyncio.timeout(self.limits.read_timeout):
                body = await reader.readuntil(END_BLOCK)
        except asyncio.LimitOverrunError:
            raise _Oversized(await reader.read(self.limits.max_message_bytes)) from None
        body = body[: -len(END_BLOCK)]
        restart = body.rfind(START_BLOCK)
        return body[restart + 1 :] if restart >= 0 else body

    async def _handle(self, message: bytes) -> bytes:
        if self._queue is None:
            raise RuntimeError("the MLLP listener is not started")
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((message, answer))
        return await answer

    async def _dispatch(self, queue: asyncio.Queue[tuple[bytes, asyncio.Future[bytes]]]) -> None:
        """Hand whatever frames have gathered to the handler, one batch at a time."""
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            raws = [raw for raw, _ in batch]
            try:
                acks = await loop.run_in_executor(self._executor, self.handler.handle_many, raws)
                if len(acks) != len(batch):
                    raise RuntimeError(f"{len(acks)} ACKs for {len(batch)} messages")
            except asyncio.CancelledError:
                for _, answer in batch:
                    answer.cancel()
                raise
            except Exception as problem:  # a bug: those connections close, nothing is ACKed
                log.exception("MLLP: a batch of %d messages failed", len(batch))
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(problem)
                continue
            for (_, answer), ack in zip(batch, acks, strict=True):
                if not answer.done():  # its connection may have gone meanwhile
                    answer.set_result(ack)

    async def _oversized(self, prefix: bytes) -> bytes:
        limit = self.limits.max_message_bytes
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.handler.oversized, prefix, limit)

    async def _send(self, writer: asyncio.StreamWriter, ack: bytes) -> None:
        writer.write(frame(ack))
        async with asyncio.timeout(self.limits.write_timeout):
            await writer.drain()


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
