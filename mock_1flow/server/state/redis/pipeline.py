"""SDK operations' scripts sent from the event loop without blocking it (the RSGI hot path).

Why: a synchronous round trip on the loop thread serialised the worker (one request, one
wait, the next request) and put the loop thread to sleep once a request; under wrk -c64
its loop thread spent 234 µs of CPU a request against 107 in memory (1.7 voluntary context
switches a request against 0.06), and the worker stayed at 1,300-2,300 req/s (with this
module 4,200-4,600 req/s; benchmarks/bench_scale.py). Here each SDK request's hot path runs
in a greenlet (:class:`Bridge`); when its operation's script is to run
(:meth:`~mock_1flow.server.state.redis.Shared.fresh`) the greenlet hands the packed command
to the loop and is resumed with the reply. The loop writes every command queued within one
loop iteration in one write on one connection (pipelining across concurrent requests) and
hiredis parses the replies in order as they arrive. Redis still runs each script atomically;
only the waiting changed. Other calls (admin API, journal batches, reloads) stay synchronous
in their own threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any, Callable

import hiredis
from greenlet import GreenletExit, greenlet

from . import SOCKET_TIMEOUT


class HotRequest(greenlet):
    """A greenlet that runs SDK requests' hot paths on the loop thread, one after another
    (starting and ending a greenlet costs about ten times a switch, so they are reused);
    it also holds the current request's state (journal id, may-restart, confirmed:
    :attr:`Shared.local`), which a thread-local cannot, since many requests interleave on
    the one loop thread."""

    def __init__(self) -> None:
        super().__init__(self._serve)

    def _serve(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        while True:
            try:
                done = _Done(True, fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request, raised there
                done = _Done(False, exc)
            assert self.parent is not None
            fn, args = self.parent.switch(done)


class _Done:
    """What a :class:`HotRequest` hands back when its request is answered (not a command)."""

    __slots__ = ("ok", "value")

    def __init__(self, ok: bool, value: Any) -> None:
        self.ok, self.value = ok, value


class _Connection(asyncio.Protocol):
    """One Redis connection: commands go out in the order their futures wait here, replies
    resolve them in that order (Redis answers a connection's commands in order)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, errors: Any) -> None:
        self.loop = loop
        self.errors = errors
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.buffer: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.failure: Exception | None = None
        self.queued = self.sent = self.answered = 0
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        future = self.loop.create_future()
        self.waiting.append(future)
        self.buffer.append(packed)
        self.queued += 1
        if len(self.buffer) == 1:
            self.loop.call_soon(self._flush)  # the other requests of this loop iteration join the write
        return future

    def _flush(self) -> None:
        if self.closed or not self.buffer:
            self.buffer.clear()
            return
        data = b"".join(self.buffer)
        self.buffer.clear()
        self.sent = self.queued
        assert self.transport is not None
        self.transport.write(data)
        if self.timer is None:
            self.timer = self.loop.call_later(SOCKET_TIMEOUT, self._watch, self.sent)

    def _watch(self, mark: int) -> None:
        """One timer per connection, not one per request: Redis must have answered what was
        sent :data:`SOCKET_TIMEOUT` ago, else the connection is given up (a 503 each)."""
        self.timer = None
        if self.closed:
            return
        if self.answered < mark:
            self.failure = self.errors.TimeoutError(f"Redis did not answer within {SOCKET_TIMEOUT:g} s")
            assert self.transport is not None
            self.transport.abort()
        elif self.answered < self.sent:
            self.timer = self.loop.call_later(SOCKET_TIMEOUT, self._watch, self.sent)

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        waiting = self.waiting
        try:
            while (reply := reader.gets()) is not False:
                self.answered += 1
                future = waiting.popleft()
                if not future.done():
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as exc:  # not Redis, or a reply nobody asked for
            self.failure = self.errors.ConnectionError(f"Redis sent what the mock cannot read ({exc})")
            assert self.transport is not None
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
        failure = self.failure or self.errors.ConnectionError(f"Connection to Redis lost ({exc or 'closed by the server'})")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(failure)


class Pipeline:
    """The loop's one connection to Redis, opened on first use and again after a loss."""

    def __init__(self, kwargs: dict[str, Any], errors: Any, pack: Callable[[tuple[Any, ...]], bytes]) -> None:
        self.host, self.port, self.path = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("path")
        self.hello = []  # what a new connection sends first (AUTH, SELECT), as the sync client does
        if kwargs.get("password"):
            user = kwargs.get("username")
            self.hello.append(pack(("AUTH", user, kwargs["password"]) if user else ("AUTH", kwargs["password"])))
        if kwargs.get("db"):
            self.hello.append(pack(("SELECT", kwargs["db"])))
        self.errors = errors
        self.connection: _Connection | None = None
        self.lock: asyncio.Lock | None = None
        self.lock_loop: asyncio.AbstractEventLoop | None = None

    async def call(self, packed: bytes) -> Any:
        """Send one packed command; its reply (a ``hiredis.ReplyError`` for an error reply)."""
        connection = self.connection
        if connection is None or connection.closed or connection.loop is not asyncio.get_running_loop():
            connection = await self._connect()
        return await connection.send(packed)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self.lock is None or self.lock_loop is not loop:
            self.lock, self.lock_loop = asyncio.Lock(), loop
        async with self.lock:  # the requests that find no connection open one together
            connection = self.connection
            if connection is not None and not connection.closed and connection.loop is loop:
                return connection
            where = self.path or f"{self.host}:{self.port}"
            try:
                if self.path:
                    opening = loop.create_unix_connection(lambda: _Connection(loop, self.errors), self.path)
                else:
                    opening = loop.create_connection(lambda: _Connection(loop, self.errors), self.host, self.port)
                _, opened = await asyncio.wait_for(opening, SOCKET_TIMEOUT)
            except (OSError, asyncio.TimeoutError) as exc:
                raise self.errors.ConnectionError(f"Error connecting to {where}: {exc or 'timed out'}") from None
            for packed in self.hello:
                reply = await opened.send(packed)
                if isinstance(reply, hiredis.ReplyError):
                    assert opened.transport is not None
                    opened.transport.close()
                    raise self.errors.ConnectionError(f"Redis at {where} refused the connection: {reply}")
            self.connection = opened
            return opened


class Bridge:
    """Runs the hot path's ``respond`` in a :class:`HotRequest` and serves its Redis commands
    from the loop (:class:`Pipeline`) while other requests proceed."""

    IDLE_MAX = 256  # greenlets kept for reuse (one per request in work at once)

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._idle = threading.local()  # a greenlet runs only on the thread that made it

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        idle: list[HotRequest] | None = getattr(self._idle, "workers", None)
        if idle is None:
            idle = self._idle.workers = []
        worker = idle.pop() if idle else HotRequest()
        worker.__dict__.clear()  # the request state starts empty
        value = worker.switch(fn, args)
        while type(value) is bytes:  # it handed over a packed command
            try:
                reply = await self.pipeline.call(value)
            except asyncio.CancelledError:
                # unwind the request (its finally blocks run) before giving up; a worker that
                # asked for Redis again while unwinding is left to the collector, not reused
                if type(worker.throw(GreenletExit)) is _Done and len(idle) < self.IDLE_MAX:
                    idle.append(worker)
                raise
            except Exception as exc:  # noqa: BLE001 - Redis lost: raised where the command was, mapped to 503 there
                value = worker.throw(exc)
            else:
                value = worker.switch(reply)
        if len(idle) < self.IDLE_MAX:
            idle.append(worker)
        if not value.ok:
            raise value.value
        return value.value


def hand_over(packed: bytes) -> Any:
    """From inside a :class:`HotRequest`: the reply to ``packed``, the loop waiting for it."""
    current = greenlet.getcurrent()
    assert current.parent is not None
    return current.parent.switch(packed)
