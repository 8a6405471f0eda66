"""Serving the mock on granian's RSGI interface: the SDK API on the event loop, Flask in pools.

granian keeps ``one_flow_key`` (nginx and gunicorn >= 22 drop headers with underscores by
default) and hands header names over as sent, so ``one-flow-key`` is not mistaken for it.

Why RSGI rather than WSGI: a WSGI server gives each request a thread for its whole life,
so clients that stall mid-body, or SDK requests sleeping in a latency fault, use up the
threads and the admin API hangs behind them. Here the SDK API's hot path
(:class:`~mock_1flow.server.hotpath.HotPath`) runs on the event loop: bodies are read
there with a deadline, latency faults are ``asyncio.sleep``. Every other route runs the
Flask app in a thread pool, the admin API in a pool of its own, so neither waits for the
other. The configuration reaches the worker process through one environment variable
(JSON), so the worker builds the same app the CLI validated.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import importlib.util
import json
import os
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, NoReturn

from flask import Flask
from werkzeug.datastructures import EnvironHeaders

from .admin.snapshot import StateFileError, spooled_body_cap
from .app import create_app
from .server.config import MockConfig
from .server import wsgi
from .server.core import PICKED_FAULT, STARTED, pick_fault
from .server.hotpath import HotPath, Match, Reply, Request, read_cap

CONFIG_ENV = "MOCK_1FLOW_CONFIG"
THREADS_ENV = "MOCK_1FLOW_THREADS"
FAILED_ENV = "MOCK_1FLOW_FAILED"  # a file the worker makes when it gives up, so serve exits 2
DEFAULT_THREADS = 1  # benchmarks/bench_threads.py: 1.06-1.45x the req/s of 2 on /v1/track, never slower
ADMIN_THREADS = 2
# An SDK request whose body is larger than this is answered in a thread of its own pool, not
# on the event loop: parsing and checking 8 MB takes up to a second, the loop must keep
# answering the admin API and the other SDK calls meanwhile. A track call of a few events is
# a few KB; the pool's one thread keeps at most one large body in work at a time.
INLINE_BODY_BYTES = 64 * 1024
PR_SET_PDEATHSIG = 1
GC_THRESHOLDS = (700, 10, 1000)  # young generations as CPython's defaults, full collections rare: see app_from_env


def config_to_env(config: MockConfig) -> str:
    data = asdict(config)
    data["projects_file"] = str(config.projects_file) if config.projects_file else None
    for name in ("admin_allow", "journal_redact"):
        data[name] = list(getattr(config, name))
    return json.dumps(data)


def config_from_env() -> MockConfig:
    data: dict[str, Any] = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    if data.get("projects_file"):
        data["projects_file"] = Path(data["projects_file"])
    for name in ("admin_allow", "journal_redact"):
        if name in data:
            data[name] = tuple(data[name])
    return MockConfig(**data)


class RSGIApp:
    """granian's RSGI target: the hot path inline, the Flask app in thread pools."""

    def __init__(self, app: Flask, threads: int = DEFAULT_THREADS) -> None:
        hot = app.wsgi_app
        if not isinstance(hot, HotPath):
            raise TypeError("the app must come from mock_1flow.create_app")
        self.hot = hot
        self.flask = hot.fallback
        self.body_timeout = hot.runtime.config.body_timeout
        # Flask refuses a body over MAX_CONTENT_LENGTH unread: reading more of one is wasted
        self.flask_cap = min(app.config.get("MAX_CONTENT_LENGTH") or read_cap(hot.runtime), read_cap(hot.runtime))
        self.deadlines = Deadlines(self.body_timeout)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="mock-1flow")
        self.admin_pool = ThreadPoolExecutor(ADMIN_THREADS, thread_name_prefix="mock-1flow-admin")
        self.bulk_pool = ThreadPoolExecutor(1, thread_name_prefix="mock-1flow-bulk")
        # the state in Redis: the hot path awaits Redis on the loop instead of blocking it (state/redis/pipeline.py)
        self.bridge = getattr(hot.runtime.store, "bridge", None)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        method, path = scope.method, scope.path
        authority = scope.authority  # None on HTTP/1.1 with an origin-form target: Host names the host
        host = authority or scope.headers.get("host") or scope.server
        match = self.hot.route(method, path, host)
        if match is None:
            await self._flask(scope, protocol)
            return
        started = time.perf_counter()
        headers = tuple(scope.headers.items()) if authority is None else _raw_headers(scope)
        length = scope.headers.get("content-length")
        request = Request(
            method=method,
            path=path,
            query_string=scope.query_string,
            headers=headers,
            key=scope.headers.get(match.api.key_header) or None,
            host=host,
            content_type=scope.headers.get("content-type") or "",
            content_length=int(length) if length and length.isdigit() else None,
            raw_names=True,
        )  # no ``via``: a request from the network is the client's own, whatever headers it sends
        if match.surface is not None:
            await self._surface(protocol, request, match, started)
            return
        fired = self.hot.pick_fault(request, match)
        if fired is not None and fired[1]:
            await asyncio.sleep(fired[1])
        request.body, request.body_timed_out = await self._body(protocol, request.content_length)
        reply = await self._answer(self.hot.respond, request, match, fired, started, bridged=True)
        await _send(protocol, reply)

    async def _answer(self, respond: Callable[..., Reply], request: Request, match: Match,
                      fired: tuple[Any, float] | None, started: float, *, may_wait: bool = False,
                      bridged: bool = False) -> Reply:
        """Where ``respond`` runs: in a pool thread when it may wait (the proxy waits on its
        upstream; a surface says when it may), in the bulk thread for a large body, else on
        the loop (``bridged``: the hot path with the state in Redis, awaiting Redis there)."""
        answerer = self.hot.runtime.answerer
        if (answerer is not None and answerer.blocking) or may_wait:
            return await asyncio.get_running_loop().run_in_executor(self.pool, respond, request, match, fired, started)
        if request.body is not None and len(request.body) > INLINE_BODY_BYTES:
            return await asyncio.get_running_loop().run_in_executor(self.bulk_pool, respond, request, match, fired, started)
        if bridged and self.bridge is not None:
            reply: Reply = await self.bridge.run(respond, request, match, fired, started)
            return reply
        return respond(request, match, fired, started)

    async def _surface(self, protocol: Any, request: Request, match: Match, started: float) -> None:
        """A surface's request (the Segment ingest), in the order the Flask routes had: the
        body first (a timeout is answered 408 as there, unjournaled), then the fault (its
        latency awaited on the loop). The answer runs on the loop unless it may wait (the
        surface says when: a sync delivery's inner call may sleep on a latency fault or wait
        for its source's lock) or the body is large; then in a pool thread, so the loop keeps
        answering everything else meanwhile."""
        surface = match.surface
        assert surface is not None
        request.body, timed_out = await self._body(protocol, request.content_length, surface.read_cap)
        if timed_out:
            protocol.response_bytes(408, [("content-type", "application/json")], _timeout_body(self.body_timeout))
            return
        fired = self.hot.pick_fault(request, match)
        if fired is not None and fired[1]:
            await asyncio.sleep(fired[1])
        reply = await self._answer(surface.respond, request, match, fired, started, may_wait=surface.blocking(request))
        await _send(protocol, reply)

    async def _body(self, protocol: Any, length: int | None, cap: int | None = None) -> tuple[bytes | None, bool]:
        """The body within the deadline, at most ``cap`` bytes (:func:`read_cap` by default): a
        larger Content-Length body stays unread, a chunked one is read until it passes the cap
        (then a little over ``cap`` bytes are returned, so the route refuses it as too large)."""
        if cap is None:
            cap = read_cap(self.hot.runtime)
        if length is not None and (length == 0 or length > cap):
            return None, False
        deadlines = self.deadlines
        task = deadlines.start()
        try:
            if length is not None:
                return await protocol(), False
            chunks, size = [], 0
            async for chunk in protocol:
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    break
            return b"".join(chunks) or None, False
        except asyncio.CancelledError:
            if not deadlines.expired(task):
                raise
            return None, True
        finally:
            deadlines.stop(task)

    async def _flask(self, scope: Any, protocol: Any) -> None:
        started = time.perf_counter()
        length = scope.headers.get("content-length")
        spool_cap = spooled_body_cap(self.hot.runtime, scope.method, scope.path)
        if spool_cap is None:
            body, timed_out = await self._body(protocol, int(length) if length and length.isdigit() else None, self.flask_cap)
        else:
            spool, timed_out = await self._spool(protocol, spool_cap)
            body = None
        if timed_out:
            protocol.response_bytes(408, [("content-type", "application/json")], _timeout_body(self.body_timeout))
            return
        environ = _environ(scope, body)
        if spool_cap is not None:
            environ["CONTENT_LENGTH"] = str(spool.tell())
            spool.seek(0)
            environ["wsgi.input"] = spool
            environ["wsgi.input_terminated"] = True  # read to the end even when it came chunked
        environ[STARTED] = started
        if self.hot.runtime.faults.faults:
            # picked here so that a latency fault sleeps on the loop, holding no pool thread
            fired = pick_fault(self.hot.runtime, scope.method, scope.path, environ.get("HTTP_HOST") or environ["SERVER_NAME"],
                               EnvironHeaders(environ))
            environ[PICKED_FAULT] = fired
            if fired is not None and fired[1]:
                await asyncio.sleep(fired[1])
        pool = self.admin_pool if scope.path.startswith("/__admin") else self.pool
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(pool, wsgi.run, self.flask, environ, True)
        if outcome.rest is not None:
            await self._stream(loop, pool, protocol, outcome)
            return
        await _send(protocol, outcome)


    async def _spool(self, protocol: Any, cap: int) -> tuple[Any, bool]:
        """A body that may be large (``PUT /__admin/state``), read into a file that stays in
        memory up to 1 MiB and goes to disk past it; at most ``cap`` + 1 bytes are kept (the
        route answers 413 past ``cap``)."""
        spool = tempfile.SpooledTemporaryFile(1024 * 1024)
        deadlines = self.deadlines
        task = deadlines.start()
        try:
            async for chunk in protocol:
                spool.write(chunk[: cap + 1 - spool.tell()])
                if spool.tell() > cap:
                    break
            return spool, False
        except asyncio.CancelledError:
            if not deadlines.expired(task):
                raise
            return spool, True
        finally:
            deadlines.stop(task)

    async def _stream(self, loop: asyncio.AbstractEventLoop, pool: ThreadPoolExecutor, protocol: Any,
                      outcome: wsgi.Outcome) -> None:
        """A streamed response: each chunk is made in the pool and sent from the loop, one at
        a time, so a large body (the state document) never sits whole in memory."""
        rest = outcome.rest
        assert rest is not None
        try:
            transport = protocol.response_stream(outcome.status, outcome.headers)
            await transport.send_bytes(outcome.body)
            while (chunk := await loop.run_in_executor(pool, next, rest, None)) is not None:
                await transport.send_bytes(chunk)
        finally:
            await loop.run_in_executor(pool, rest.close)  # type: ignore[attr-defined]


async def _send(protocol: Any, reply: Reply | wsgi.Outcome) -> None:
    """Write an answer; one a fault breaks off (``dropped``) sends its headers and first
    bytes, then fails, so granian drops the connection."""
    if reply.dropped:
        transport = protocol.response_stream(reply.status, reply.headers)
        await transport.send_bytes(reply.body)
        raise ConnectionAbortedError("mock-1flow fault: connection dropped on purpose")
    protocol.response_bytes(reply.status, reply.headers, reply.body)


class Deadlines:
    """Body-read deadlines for many requests with one timer: a watchdog task wakes every
    quarter second and cancels the reads that are overdue. (``asyncio.timeout`` per request
    costs a timer handle each, a noticeable share of a hot-path request.)"""

    TICK = 0.25

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.pending: dict[asyncio.Task[Any], float] = {}
        self.expired_tasks: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[Any] | None:
        """Watch the current task's body read; returns the task (None outside a task).

        The running loop is fetched once (C) and handed to ``current_task``, which then skips
        its own lookup; the watchdog is checked only when the loop changed or it ended."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:
            return None
        watchdog = self._watchdog
        if watchdog is None or watchdog.done() or watchdog.get_loop() is not loop:
            self._watchdog = loop.create_task(self._run(loop))
        self.pending[task] = loop.time() + self.seconds
        return task

    def stop(self, task: asyncio.Task[Any] | None) -> None:
        if task is None:
            return
        self.pending.pop(task, None)
        if self.expired_tasks and task in self.expired_tasks:
            self.expired_tasks.discard(task)
            task.uncancel()

    def expired(self, task: asyncio.Task[Any] | None) -> bool:
        return task is not None and task in self.expired_tasks

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            await asyncio.sleep(self.TICK)
            now = loop.time()
            for task, deadline in list(self.pending.items()):
                if deadline <= now and task not in self.expired_tasks:
                    self.expired_tasks.add(task)
                    task.cancel()


def _timeout_body(seconds: float) -> bytes:
    message = f"The request body did not arrive within {seconds:g} s; send the whole body with its Content-Length."
    return json.dumps({"success": 408, "message": message, "error": "body_timeout", "result": None}).encode()


def _raw_headers(scope: Any) -> tuple[tuple[str, str], ...]:
    """The request's headers, names as sent; under HTTP/2 ``:authority`` first, since it takes
    the place of ``Host`` there (RFC 9113 §8.3.1) and says which host the client called."""
    headers = tuple(scope.headers.items())
    if scope.http_version == "2" and scope.authority:
        return ((":authority", scope.authority), *headers)
    return headers


def _environ(scope: Any, body: bytes | None) -> dict[str, Any]:
    """A WSGI environ for the Flask app from an RSGI scope, with the header names as sent and
    the host the client addressed (``:authority`` under HTTP/2) as ``HTTP_HOST``."""
    server_host, _, server_port = scope.server.rpartition(":")
    return wsgi.environ(
        scope.method, scope.path, scope.query_string, _raw_headers(scope), body,
        server=(server_host.strip("[]"), server_port),
        client=scope.client.rpartition(":")[0].strip("[]"),
        scheme=scope.scheme,
        protocol=f"HTTP/{scope.http_version}",
        authority=scope.authority,
    )


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the process that started it dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        if os.getppid() == 1:  # the parent died before the call above
            os._exit(1)


def app_from_env() -> RSGIApp:
    """The granian target: builds the app from :data:`CONFIG_ENV`.

    The journal keeps each request as a tuple of strings and bytes (the collector untracks
    it at its first young collection) and the store keeps each track call as strings, a
    float and bytes in deques (nothing to track), so the heap the collector scans stays
    small however much is stored. Start-up objects are frozen; young collections keep
    CPython's default size (short ones); full collections, which walk the dedup set and the
    deques entry by entry, are made a hundred times rarer, since what the mock stores has no
    cycles to find. Measured under wrk -c32: no collection over 5 ms in 70,000 track
    requests, where 100,000-object young generations paused 100-450 ms and default full
    collections 25-110 ms.
    """
    _die_with_parent()
    try:
        app = create_app(config_from_env())
    except StateFileError as exc:
        _give_up(f"mock-1flow: cannot load the state file: {exc}")
    rsgi = RSGIApp(app, int(os.environ.get(THREADS_ENV, DEFAULT_THREADS)))
    if getattr(rsgi.hot.runtime.store, "shared", None) is not None:
        # serve --store: this worker delivers async batches any instance accepted, from the start
        from .ingest.pipeline import ingest_state

        background = ingest_state(rsgi.hot.runtime, app).background
        assert background is not None
        background.start()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return rsgi


def _give_up(message: str) -> NoReturn:
    """A worker that cannot build the app would fail the same way each time granian starts it
    again (and a replay past granian's 5.5 s crash-loop window would never stop): it says why
    on stderr, stops the server (SIGTERM to granian's main process) and exits with status 2."""
    print(message, file=sys.stderr, flush=True)
    if os.environ.get(FAILED_ENV):
        Path(os.environ[FAILED_ENV]).touch()
    os.kill(os.getppid(), signal.SIGTERM)
    os._exit(2)


def event_loop() -> str:
    """uvloop where it is installed (a dependency everywhere but Windows), else asyncio's own.

    Named explicitly: granian's ``auto`` would prefer rloop, a beta, whenever it happens
    to be installed."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def serve(config: MockConfig, host: str = "127.0.0.1", port: int = 8080, threads: int = DEFAULT_THREADS,
          workers: int = 1) -> None:
    """Run until Ctrl-C / SIGTERM (granian handles both and stops cleanly).

    A worker that dies is started again by granian; ``threads`` sizes the pool that runs
    the Flask routes (the SDK API does not use it). A worker that cannot build the app
    (a state file it cannot replay) stops the server, which exits with status 2.
    """
    os.environ[CONFIG_ENV] = config_to_env(config)
    os.environ[THREADS_ENV] = str(threads)
    with tempfile.TemporaryDirectory(prefix="mock-1flow-") as folder:
        failed = Path(folder) / "failed"
        os.environ[FAILED_ENV] = str(failed)
        try:
            _granian(config, host, port, workers)
        finally:
            if failed.exists():  # the worker gave up (see _give_up): not a clean stop
                sys.exit(2)


def _granian(config: MockConfig, host: str, port: int, workers: int = 1) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops, SSLProtocols
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        "mock_1flow.serving:app_from_env",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        loop=Loops(event_loop()),
        workers=workers,  # > 1 only with the state in Redis (serve --store): granian forks them on one port
        factory=True,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        log_level=LogLevels.warning,
        # with TLS, ALPN offers h2 and http/1.1 (RFC 7301): curl, URLSession and OkHttp pick h2
        http=HTTPModes.auto,
        # TLS 1.2 too: OkHttp on Android 9 and older (API < 29) has no TLS 1.3
        ssl_protocol_min=SSLProtocols.tls12,
        ssl_cert=Path(config.tls_cert) if config.tls_cert else None,
        ssl_key=Path(config.tls_key) if config.tls_key else None,
    ).serve()
