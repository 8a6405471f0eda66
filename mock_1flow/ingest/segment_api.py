"""Segment's HTTP Tracking API: ``POST /v1/batch`` and ``/v1/{identify,track,page,screen,group,alias}``.

The write key comes from the body (``writeKey``), Basic auth (key as user name) or a
Bearer token; bodies may be gzip-compressed. Limits as Segment documents them: 32 KB per
event, 500 KB per batch. Errors are Segment-shaped, ``{"code": ..., "message": ...}``;
success is exactly 200 with ``{"success": true}``.

The write key is checked before the body (as the SDK API checks its key first): a key in
a header is checked before the body is even parsed, a key in the body before the body is
validated. When delivery failed for a reason a retry can cure, the answer is 503
``delivery_failed`` or 429 ``rate_limited`` (with ``Retry-After``), so Segment's client
retries; events already delivered are skipped on the retry (see :mod:`.pipeline`).

Served on the hot path (:class:`~mock_1flow.server.hotpath.HotPath`), not by Flask: Flask's
request handling cost as much as the ingest's own work. :class:`SegmentApi` is the hot
path's *surface* for ``/v1/<name>`` on a host that is not 1Flow's HTTP API's; it does what
the Flask blueprint and the core's hooks did, in the same order, with the same answers and
journal entries: the proxy's or replay's answer first, then the fault picked by the server
in front (status or dropped connection), then stubs (scoped to the write key's source),
then the route (``OPTIONS``: ``Allow``; a method other than POST: the core's 405).
"""

from __future__ import annotations

import base64
import gzip
import io
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask

from ..server import cors
from ..server.answers import Exchange, journal_violations
from ..server.errors import ApiError
from ..server.faults import Fault
from ..server.hotpath import MAX_REQUEST_BYTES, HotPath, Match, Reply, Request, error_code, fault_error, key_warning
from ..server.projects import Source
from ..server.routes.sdk import SDK_API  # its key header, one_flow_key, is what faults and the journal read here too
from ..server.routes.common import dumps
from ..server.runtime import Runtime
from ..server.stubs import DROPPED_FRAGMENT, Stub
from ..server.validation import MalformedJson, operation_validators, parse_json
from .background import QueueFull
from .pipeline import ASYNC, SYNC, IngestState, UnknownSource, deliver, delivery_mode, enqueue, ingest_state, source_project

log = logging.getLogger("mock_1flow")

EVENT_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")
PREFIX = "/v1/"
ALLOWED = ("OPTIONS", "POST")  # what werkzeug's router listed for the blueprint's two rules
KEY_HEADER = "one_flow_key"  # what faults, the access log and the journal's warning read, as on every non-SDK path
TOO_LARGE = f"The request is over {BATCH_LIMIT // 1024} KB; send smaller batches."


class SegmentError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


@dataclass(frozen=True, slots=True)
class Operation:
    """A Segment route: ``segmentBatch`` or ``segmentEvent`` (``event_type`` from the path)."""

    operation_id: str
    event_type: str | None = None


@dataclass(slots=True)
class _Exchange:
    """What one request's journal entry needs, filled in as the request goes (Flask's ``g`` before)."""

    project: str | None = None
    region: str | None = None
    fault: str | None = None
    stub: str | None = None
    off_spec: Any = None
    delivery: Any = None
    violations: Any = None
    note: str | None = None
    response: bytes | None = None  # the answer's body as journaled (None: none)
    error: str | None = None  # the journal's ``error``
    dropped: bool = False
    journal_headers: tuple[tuple[str, str], ...] | None = None  # when they differ from the reply's


BATCH = Operation("segmentBatch")


class SegmentApi:
    """Segment's routes as a hot-path surface (see the module docstring)."""

    key_header = KEY_HEADER
    read_cap = MAX_REQUEST_BYTES  # a larger body is refused unread (400 batch_too_large)

    def __init__(self, app: Flask, hot: HotPath) -> None:
        self.app = app
        self.hot = hot
        self.runtime = hot.runtime
        self._validators = operation_validators()
        self._operations = {name: Operation("segmentEvent", name) for name in EVENT_TYPES}

    def state(self) -> IngestState:
        return ingest_state(self.runtime, self.app)

    # -- routing --------------------------------------------------------------------------

    def route(self, method: str, path: str) -> Match | None:
        """``/v1/batch`` and ``/v1/<name>`` (one path segment, as the blueprint's rules were);
        None for any other path (``/v1/``, ``/v1/a/b``: Flask's 404)."""
        if not path.startswith(PREFIX):
            return None
        name = path[len(PREFIX):]
        if not name or "/" in name:
            return None
        if name == "batch":
            return Match(None, path[1:], BATCH, None, {}, ALLOWED, SDK_API, self)  # type: ignore[arg-type]
        operation = self._operations.get(name) or Operation("segmentEvent", name)
        return Match(None, path[1:], operation, None, {"type": name}, ALLOWED, SDK_API, self)  # type: ignore[arg-type]

    def blocking(self, request: Request) -> bool:
        """Whether answering may wait (then the RSGI server runs it in a pool thread, else on
        the event loop). Only a sync delivery waits: on a latency fault of one of its inner
        1Flow calls (they sleep in the calling thread), or on its source's delivery lock while
        the background worker holds it. So: a source may deliver sync, and a fault is set or
        the background worker has work. (A fault or job added while a request is already on
        the loop can delay it once, by at most one inner call's work.)"""
        runtime = self.runtime
        config = runtime.config
        sources = runtime.store.sources
        if not any((source.delivery or config.ingest_delivery) == SYNC for source in sources.values()):
            return False
        if runtime.faults.faults:
            return True
        background = self.state().background
        return background is not None and background.busy()

    # -- answering ------------------------------------------------------------------------

    def respond(self, request: Request, match: Match, fired: tuple[Fault, float] | None, started: float) -> Reply:
        """Answer and journal one request (any fault's latency already awaited)."""
        runtime = self.runtime
        shared = getattr(runtime.store, "shared", None)
        if shared is not None:  # see admin writes made through other instances (serve --store)
            shared.before_request()
        ex = _Exchange()
        try:
            reply = self._answer(request, match, fired, ex)
        except Exception as error:  # a bug: answer the mock's 500 in Segment's shape, never a traceback
            log.exception("mock-1flow: unexpected error in Segment ingest")
            message = f"The mock failed unexpectedly ({type(error).__name__}); this is a bug in mock-1flow."
            reply = _segment_reply(ex, SegmentError(500, "internal_error", message))
        self._journal(request, reply, ex, started)
        if request.method == "HEAD":
            reply.body = b""
        return reply

    def _answer(self, request: Request, match: Match, fired: tuple[Fault, float] | None, ex: _Exchange) -> Reply:
        runtime = self.runtime
        segment = request.method in ALLOWED  # the blueprint's rules matched (else a 405)
        if runtime.answerer is not None:  # mock-1flow proxy, serve --replay: answers instead of the mock
            raw = request.body if (request.content_length or 0) <= MAX_REQUEST_BYTES else b""
            answer = runtime.answerer(Exchange(request.method, request.path, request.query_string, request.headers,
                                               raw or b"", request.host))
            if answer is not None:
                ex.response, ex.violations, ex.note = answer.body, journal_violations(answer), answer.note
                ex.error = error_code(answer.status, answer.body)
                return Reply(answer.status, list(answer.headers), answer.body)
        try:
            if fired is not None:
                fault = fired[0]
                ex.fault = fault.id
                if fault.drop_connection:
                    ex.dropped = True
                    return Reply(200, [("Content-Length", "1024"), ("Content-Type", "application/json")],
                                 b'{"success":', True)
                if fault.status is not None:
                    raise fault_error(fault)
            stubs = runtime.stubs
            if (stubs.before or stubs.after) and not cors.is_preflight(request.method, request.headers):
                stubbed = self._stub(request, match, ex, segment)
                if stubbed is not None:
                    return stubbed
            if request.method == "OPTIONS":
                reply = Reply(200, [("Allow", ", ".join(ALLOWED)), ("Content-Type", "text/html; charset=utf-8"),
                                    ("Content-Length", "0")], b"")
                ex.journal_headers = tuple(reply.headers[:2])  # Flask journaled it before werkzeug added the length
                return reply
            if not segment:
                raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}.",
                               headers={"Allow": ", ".join(ALLOWED)})
            return self._route(request, match.operation, ex)  # type: ignore[arg-type]
        except ApiError as error:
            if segment:  # an injected fault on a Segment route: its status and headers, Segment's shape
                return _segment_reply(ex, SegmentError(error.status, error.error, error.message, error.headers))
            body = error.body()
            ex.error = body.get("error")
            return _reply(ex, error.status, body, error.headers)
        except SegmentError as error:
            return _segment_reply(ex, error)

    def _route(self, request: Request, operation: Operation, ex: _Exchange) -> Reply:
        if operation.operation_id == "segmentBatch":
            body, source = self._request_source(request, ex)
            self._check("segmentBatch", request, body, {})
            context = {k: body[k] for k in ("context", "integrations") if k in body}
            # the batch's own context under each event's (the body is this request's own: no copy without one)
            events = [{**context, **event} for event in body["batch"]] if context else list(body["batch"])
            return self._accept(events, source, ex)
        event_type = operation.event_type
        if event_type not in EVENT_TYPES:
            raise SegmentError(404, "unknown_endpoint",
                               f"Segment's API has no /v1/{event_type}; use /v1/batch or /v1/{{{','.join(EVENT_TYPES)}}}.")
        body, source = self._request_source(request, ex)
        self._check("segmentEvent", request, body, {"type": event_type})
        event = {k: v for k, v in body.items() if k != "writeKey"}
        event["type"] = event_type
        return self._accept([event], source, ex)

    def _request_source(self, request: Request, ex: _Exchange) -> tuple[Any, Source]:
        """The body and its source, the write key checked before the body's contents."""
        header_key = header_write_key(request.headers)
        if header_key is not None:
            self._source(header_key, ex)
        body = request_body(request)
        return body, self._source(write_key(body, request.headers, header_key), ex)

    def _source(self, key: str | None, ex: _Exchange) -> Source:
        """The source of ``key``: 401 when there is none or it is unknown, 404 when its project is gone."""
        runtime = self.runtime
        if not key:
            raise SegmentError(401, "missing_write_key", "No write key: put it in 'writeKey', Basic auth (user name) or a Bearer token.")
        source = runtime.store.sources.get(key)
        if source is None:
            raise SegmentError(401, "invalid_write_key", f"Unknown write key '{key}'. Add it under 'sources' in the projects file.")
        try:
            project = source_project(runtime, source)
        except UnknownSource:
            raise SegmentError(
                404, "unknown_source",
                f"The source of write key '{key}' sends to project '{source.project}', which no longer exists "
                "(deleted?). Create the project again (POST /__admin/projects) or reset the mock.",
            ) from None
        ex.project = project.key
        ex.region = source.region or project.region
        return source

    def _check(self, operation_id: str, request: Request, body: Any, params: dict[str, str]) -> None:
        validator = self._validators[operation_id]
        if validator.parameters or request.query_string:
            try:
                validator.validate_parameters(_query(request.query_string), params)
            except ApiError as error:
                raise SegmentError(400, "invalid_request", error.message) from None
        body_validator = validator.body_validator
        assert body_validator is not None  # every Segment operation has a body
        if not body_validator.is_valid(body):
            problem = next(iter(body_validator.iter_errors(body)))
            pointer = "".join(f"/{part}" for part in problem.instance_path)
            event = problem.instance
            if isinstance(event, dict) and not event.get("userId") and not event.get("anonymousId"):
                index = problem.instance_path[-1] if problem.instance_path else 0
                raise SegmentError(400, "invalid_request", f"Event {index} has neither userId nor anonymousId; send at least one.")
            raise SegmentError(400, "invalid_request", f"Invalid request at {pointer or '(root)'}: {problem.message}.")

    def _accept(self, events: list[dict[str, Any]], source: Source, ex: _Exchange) -> Reply:
        size = _check_events(events)
        runtime = self.runtime
        state = self.state()
        if delivery_mode(runtime, source) == ASYNC:
            try:
                ex.delivery = enqueue(runtime, state, source, events, size).summary
            except QueueFull as full:
                raise SegmentError(429, "rate_limited",
                                   f"The ingest's delivery queue is full ({runtime.config.ingest_queue_bytes} bytes of events "
                                   f"not yet delivered); retry after {full.retry_after} s. Nothing of this batch was accepted.",
                                   {"Retry-After": str(full.retry_after)}) from None
            return _reply(ex, 200, {"success": True})
        delivery = deliver(runtime, state, source, events)
        ex.delivery = delivery.summary
        if delivery.retry_status == 429:
            raise SegmentError(429, "rate_limited",
                               f"1Flow rate-limited the delivery ({', '.join(delivery.reasons)}); retry after "
                               f"{delivery.retry_after} s. Events already delivered are not sent again.",
                               {"Retry-After": str(delivery.retry_after)})
        if delivery.retry_status is not None:
            raise SegmentError(503, "delivery_failed",
                               f"Delivery to 1Flow failed ({', '.join(delivery.reasons)}); retry the request. "
                               "Events already delivered are not sent again (deduplicated by messageId).")
        return _reply(ex, 200, {"success": True})

    # -- stubs ----------------------------------------------------------------------------

    def _stub(self, request: Request, match: Match, ex: _Exchange, segment: bool) -> Reply | None:
        """The answer of the stub that answers, or None. A Segment request is scoped to its
        write key's source (project, region; the gate: the source's project exists); a 405
        request as any other path (the ``one_flow_key`` header's project)."""
        runtime = self.runtime
        stubs = runtime.stubs
        raw = request.body if (request.content_length or 0) <= MAX_REQUEST_BYTES else None
        operation_id: str | None = None
        gate: Callable[[], bool] = _never
        if segment:
            operation_id = match.operation.operation_id  # type: ignore[union-attr]
            key = header_write_key(request.headers)
            if key is None:
                try:
                    key = write_key(request_body(request), request.headers)
                except SegmentError:
                    key = None
            source = runtime.store.sources.get(key) if key else None
            if source is None:
                project = region = None
            else:
                found = runtime.store.projects.get(source.project)
                project, region = source.project, source.region or (found.region if found else None)
                gate = (lambda: True) if found is not None else _never
        else:
            project, region = request.key, None
        stub: Stub | None = stubs.pick(False, request.method, request.path, request.path, project, region,
                                       request.headers, request.query_string, raw)
        if stub is None and stubs.after and gate():
            stub = stubs.pick(True, request.method, request.path, request.path, project, region,
                              request.headers, request.query_string, raw)
        if stub is None:
            return None
        ex.stub, ex.region, ex.project = stub.id, region, project
        ex.off_spec = stub.off_spec(operation_id, request.method, request.path)
        if stub.drop:
            ex.dropped = True
            return Reply(200, [("Content-Length", "1024"), ("Content-Type", "application/json")], DROPPED_FRAGMENT, True)
        ex.response = stub.body
        ex.error = error_code(stub.status, stub.body)
        return Reply(stub.status, list(stub.headers), stub.body)

    # -- the journal ----------------------------------------------------------------------

    def _journal(self, request: Request, reply: Reply, ex: _Exchange, started: float) -> None:
        runtime = self.runtime
        raw = request.body if (request.content_length or 0) <= MAX_REQUEST_BYTES else None
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        status = 0 if ex.dropped else reply.status
        runtime.journal.record(
            started=time.time() - (time.perf_counter() - started),
            duration_ms=duration_ms,
            method=request.method,
            path=request.path,
            query=request.query_string,
            region=ex.region,
            project=ex.project,
            status=status,
            error="connection_dropped" if ex.dropped else ex.error,
            body=raw or None,
            response=None if ex.dropped else ex.response,
            request_headers=request.headers,
            response_headers=ex.journal_headers if ex.journal_headers is not None else tuple(reply.headers),
            fault=ex.fault,
            via=request.via,
            delivery=ex.delivery,
            warning=ex.note or (None if request.key else key_warning(request.headers, request.raw_names)),
            stub=ex.stub,
            off_spec=ex.off_spec,
            violations=ex.violations,
        )
        if runtime.on_request:
            target = f"{request.path}?{request.query_string}" if request.query_string else request.path
            for hook in runtime.on_request:
                hook(request.method, target, status, ex.project or request.key, ex.region, duration_ms, ex.fault,
                     request.via, ex.stub, ex.off_spec, ex.violations)


def _never() -> bool:
    return False


def _reply(ex: _Exchange, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer, its headers in the order Flask's ``Response`` gave them."""
    data = dumps(body)
    out = list(headers.items()) if headers else []
    out += [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    ex.response = data
    return Reply(status, out, data)


def _segment_reply(ex: _Exchange, error: SegmentError) -> Reply:
    ex.error = None  # a Segment-shaped body has no ``error`` field
    return _reply(ex, error.status, {"code": error.code, "message": error.message}, error.headers)


def _query(query_string: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    out: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        out.setdefault(name, value)
    return out


def request_body(request: Request) -> Any:
    """The request's JSON body: gunzipped when sent so, at most :data:`BATCH_LIMIT` bytes."""
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        raise SegmentError(400, "batch_too_large", TOO_LARGE)  # refused unread
    raw = request.body or b""
    if len(raw) > MAX_REQUEST_BYTES:
        raise SegmentError(400, "batch_too_large", TOO_LARGE)
    if _header(request.headers, "content-encoding").lower() == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(BATCH_LIMIT + 1)
        except (OSError, EOFError, zlib.error):
            raise SegmentError(400, "invalid_gzip", "Content-Encoding is gzip but the body is not valid gzip.") from None
    if len(raw) > BATCH_LIMIT:
        raise SegmentError(400, "batch_too_large", TOO_LARGE)
    try:
        return parse_json(raw)
    except MalformedJson as exc:
        raise SegmentError(400, "invalid_json", f"The body is not JSON the mock can keep exactly ({exc}).") from None


def _header(headers: Any, name: str) -> str:
    """A header's value, names compared as werkzeug's ``request.headers.get`` does (case and
    dashes/underscores folded); '' when absent."""
    for key, value in headers:
        if key.lower().replace("_", "-") == name:
            return value
    return ""


def header_write_key(headers: Any) -> str | None:
    """The write key in ``Authorization`` (Basic: the user name; Bearer: the token), or None."""
    scheme, _, credentials = _header(headers, "authorization").partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            return base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[0] or None
        except (ValueError, UnicodeDecodeError):
            return None
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip() or None
    return None


def write_key(body: Any, headers: Any, header_key: str | None = None) -> str | None:
    """The body's ``writeKey``, else the header's (``header_key``: :func:`header_write_key`
    of ``headers`` when the caller has it already)."""
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str) and body["writeKey"]:
        return body["writeKey"]
    return header_key if header_key is not None else header_write_key(headers)


def _check_events(events: list[dict[str, Any]]) -> int:
    """Each event's size and ids checked; returns their JSON bytes in all."""
    total = 0
    for index, event in enumerate(events):
        size = len(dumps(event))
        total += size
        if size > EVENT_LIMIT:
            raise SegmentError(
                400, "event_too_large", f"Event {index} is {size} bytes; Segment accepts at most {EVENT_LIMIT} bytes per event."
            )
        if not event.get("userId") and not event.get("anonymousId"):
            raise SegmentError(400, "invalid_request", f"Event {index} has neither userId nor anonymousId; send at least one.")
    return total


def init_app(app: Flask) -> None:
    hot = app.wsgi_app
    assert isinstance(hot, HotPath)  # the core is mounted first (mock_1flow.app)
    hot.add_surface(SegmentApi(app, hot))
