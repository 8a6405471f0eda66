"""The SDK API's hot path: only the mock's own work per request, no Flask machinery.

Flask's request context, routing and hooks cost several times what the mock itself does
(parse, validate, store, journal). This layer serves every path under the SDK API base
(``/{region}/api/2021-06-15/...`` and ``/api/2021-06-15/...``) straight from the
operation table of :mod:`.routes.sdk`, with the same fault injection, gate, compiled
validators, store and journal as before; other APIs plug in as *surfaces* that answer
themselves on the same path (:class:`Surface`: the Segment ingest); every other path goes to
the Flask app (admin API, spec, provider states, pages).

:class:`HotPath` is the shared core. It is a WSGI callable itself (``create_app`` installs
it as the Flask app's ``wsgi_app``, so ``app.test_client()`` and ``MockServer`` run it);
:mod:`mock_1flow.serving` drives the same core from granian's RSGI interface.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol
from urllib.parse import parse_qsl

from . import cors
from .answers import Exchange, journal_violations
from .errors import ApiError
from .faults import Fault
from .routes.common import _too_large, dumps
from .routes import http_api, sdk
from .routes.http_api import HTTP_API, HttpApi
from .routes.sdk import OPERATIONS, SDK_API, Operation, SdkApi
from .runtime import Runtime
from .spec import API_VERSION_PATH
from .store import StaleView
from .stubs import DROPPED_FRAGMENT, Stub
from .validation import OperationValidator, operation_validators
from .wsgi import KEY_NAMES, RAW_HEADERS, VIA

log = logging.getLogger("mock_1flow")

MAX_REQUEST_BYTES = 1024 * 1024  # the most any route reads; larger bodies are refused unread
KEY_HEADER = "one_flow_key"
NEAR_MISSES = {KEY_HEADER: "flowkey", "api_key": "apikey"}  # what a misspelt key header still contains
HOST_PREFIX = API_VERSION_PATH + "/"
ROUTE_CACHE = 4096
STALE_RETRIES = 2  # answers again on a reloaded view at most this often, then runs on the latest one
JSON_HEADERS = (("Content-Type", "application/json"),)
REASONS = {
    200: "OK", 400: "BAD REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT FOUND",
    405: "METHOD NOT ALLOWED", 408: "REQUEST TIMEOUT", 413: "REQUEST ENTITY TOO LARGE",
    429: "TOO MANY REQUESTS", 500: "INTERNAL SERVER ERROR", 502: "BAD GATEWAY",
    503: "SERVICE UNAVAILABLE", 504: "GATEWAY TIMEOUT",
}

Headers = tuple[tuple[str, str], ...]


class Surface(Protocol):
    """Another API the hot path serves with its own answering (the Segment ingest plugs in
    here, :func:`HotPath.add_surface`, so the core never imports it): the paths it claims
    (``route``, a :class:`Match` whose ``surface`` is it), the body it reads at most
    (``read_cap``), whether an answer may wait (``blocking``: then the RSGI server runs it in a
    pool thread), and the answer itself, journaled (``respond``)."""

    key_header: str
    read_cap: int

    def route(self, method: str, path: str) -> "Match | None": ...

    def blocking(self, request: "Request") -> bool: ...

    def respond(self, request: "Request", match: "Match", fired: tuple[Fault, float] | None, started: float) -> "Reply": ...


@dataclass(frozen=True, slots=True)
class Match:
    """Where a request goes: which API (the SDK API or 1Flow's HTTP API), the operation (None
    for a path 1Flow lacks) and its parameters."""

    region: str | None
    rest: str
    operation: Operation | http_api.Operation | None
    validator: OperationValidator | None
    params: dict[str, str]
    allowed: tuple[str, ...]
    api: SdkApi | HttpApi = SDK_API  # a surface's request: the API whose key header it reads (faults, journal)
    surface: Surface | None = None  # the surface that answers this request itself (None: the SDK or HTTP API)


@dataclass(slots=True)
class Request:
    """What the hot path needs of a request, whichever server interface delivered it."""

    method: str
    path: str
    query_string: str
    headers: Headers
    key: str | None  # the key header of the matched API (Match.api.key_header)
    host: str
    content_type: str
    content_length: int | None
    raw_names: bool  # True when header names arrived as sent (dashes and underscores distinct)
    via: str | None = None  # the mock's own provenance (wsgi.VIA), never a client's header
    body: bytes | None = None
    body_timed_out: bool = False


@dataclass(slots=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    dropped: bool = False


class HotPath:
    """The SDK API and 1Flow's HTTP API as a WSGI application in front of ``fallback`` (the Flask app)."""

    def __init__(self, runtime: Runtime, fallback: Callable[..., Iterable[bytes]]) -> None:
        self.runtime = runtime
        self.fallback = fallback
        validators = operation_validators()
        self._static: dict[str, dict[str, Operation]] = {}
        self._templated: list[tuple[re.Pattern[str], dict[str, Operation]]] = []
        for op in OPERATIONS:
            rest = op.suffix.lstrip("/")
            if "<" in rest:
                pattern = re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rest) + "$")
                table = next((t for p, t in self._templated if p.pattern == pattern.pattern), None)
                if table is None:
                    table = {}
                    self._templated.append((pattern, table))
                table[op.method] = op
            else:
                self._static.setdefault(rest, {})[op.method] = op
        self._validators = validators
        self._routes: dict[tuple[str, ...], Match | None] = {}
        self._surfaces: list[Surface] = []

    def add_surface(self, surface: Surface) -> None:
        """Serve the paths ``surface`` claims that neither the SDK API nor the HTTP API serves."""
        self._surfaces.append(surface)
        self._routes.clear()

    # -- routing ---------------------------------------------------------------------

    def route(self, method: str, path: str, host: str = "") -> Match | None:
        """The operation for ``path``, or None when the path is neither under the SDK API's
        base nor 1Flow's HTTP API's (``host`` decides whether ``/v1/...`` is the HTTP API's
        host form or Segment's).

        Answers are remembered (a :class:`Match` never changes), up to :data:`ROUTE_CACHE`
        distinct requests: an SDK sends the same few paths again and again."""
        key: tuple[str, ...] = (method, path)
        if path.startswith(http_api.PREFIX):  # the host form's region is the Host's
            key = (method, path, http_api.http_api_region(self.runtime, host) or "")
        routes = self._routes
        if key in routes:
            return routes[key]
        match = self._route(method, path, host)
        if len(routes) >= ROUTE_CACHE:
            routes.clear()
        routes[key] = match
        return match

    def _route(self, method: str, path: str, host: str) -> Match | None:
        if path.startswith(HOST_PREFIX):
            region, rest = None, path[len(HOST_PREFIX):]
        else:
            at = path.find(HOST_PREFIX, 1)
            if at < 2 or "/" in path[1:at]:
                return self._route_http_api(method, path, host)
            region, rest = path[1:at], path[at + len(HOST_PREFIX):]
        if not rest or rest[0] == "/":
            return None
        params: dict[str, str] = {}
        table = self._static.get(rest)
        if table is None:
            for pattern, candidate in self._templated:
                found = pattern.match(rest)
                if found:
                    table, params = candidate, found.groupdict()
                    break
        if table is None:
            return Match(region, rest, None, None, params, ())
        allowed = _allowed(table)
        op = table.get("GET" if method == "HEAD" else method)
        return Match(region, rest, op, self._validators[op.operation_id] if op else None, params, allowed)

    def _route_http_api(self, method: str, path: str, host: str) -> Match | None:
        found = http_api.route(self.runtime, path, host)
        if found is None:
            for surface in self._surfaces:
                match = surface.route(method, path)
                if match is not None:
                    return match
            return None
        region, rest = found
        op = HTTP_API.operation(rest)
        allowed = http_api.ALLOWED if op is not None else ()
        if op is not None and method != op.method:
            op = None
        return Match(region, rest, op, self._validators[op.operation_id] if op else None, {}, allowed, HTTP_API)

    def pick_fault(self, request: Request, match: Match) -> tuple[Fault, float] | None:
        faults = self.runtime.faults
        if not faults.faults or cors.is_preflight(request.method, request.headers):
            return None  # a preflight is answered before faults and stubs (server/cors.py)
        return faults.pick(request.method, "/" + match.rest, request.path, request.key, match.region)

    # -- the work --------------------------------------------------------------------

    def respond(self, request: Request, match: Match, fired: tuple[Fault, float] | None, started: float) -> Reply:
        """Answer one SDK request (after any fault latency) and journal it. With the state in
        Redis, an operation that finds this instance's copy of the admin state outdated
        (:class:`StaleView`) has changed nothing; the request is answered again on the
        reloaded copy (faults picked again; a new fault's latency is not slept). A surface's
        request is answered by the surface."""
        surface = match.surface
        if surface is not None:
            return surface.respond(request, match, fired, started)
        store = self.runtime.store
        for attempt in range(STALE_RETRIES + 1):
            store.begin(restart=attempt < STALE_RETRIES)
            try:
                return self._respond(request, match, fired, started)
            except StaleView:
                fired = self.pick_fault(request, match)
            finally:
                store.end()
        raise AssertionError("unreachable: the last attempt does not restart")

    def _respond(self, request: Request, match: Match, fired: tuple[Fault, float] | None, started: float) -> Reply:
        runtime = self.runtime
        api = match.api
        wall = time.time() - (time.perf_counter() - started)
        region, project = match.region, request.key
        fault = fired[0] if fired else None
        ignored: tuple[str, ...] = ()
        reply: Reply
        parsed = False  # the body passed the operation's JSON parse (journaled as known JSON)
        stub: Stub | None = None
        stubs = runtime.stubs
        answer = None
        if runtime.answerer is not None:  # mock-1flow proxy, serve --replay: answers instead of the mock
            answer = runtime.answerer(Exchange(request.method, request.path, request.query_string, request.headers,
                                               request.body or b"", request.host))
        preflight = request.method == "OPTIONS" and bool(match.allowed) and cors.is_preflight(request.method, request.headers)
        if answer is not None:
            pass
        elif stubs.before and not preflight and (fault is None or (fault.status is None and not fault.drop_connection)):
            if region is None:  # the host form: the stub may name the Host's region
                region = runtime.config.host_regions.get(sdk.host_name(request.host))
            stub = stubs.pick(False, request.method, "/" + match.rest, request.path, project, region,
                              request.headers, request.query_string, request.body)
        if answer is not None:
            reply = Reply(answer.status, list(answer.headers), answer.body)
        elif stub is not None:
            reply = _stub_reply(stub)
        elif fault is not None and fault.drop_connection:
            reply = Reply(200, [("Content-Type", "application/json"), ("Content-Length", "1024")], b'{"success":', True)
        else:
            try:
                if fault is not None and fault.status is not None:
                    raise fault_error(fault)
                if request.body_timed_out:
                    raise ApiError(
                        408,
                        "body_timeout",
                        f"The request body did not arrive within {runtime.config.body_timeout:g} s; "
                        "send the whole body with its Content-Length.",
                    )
                api.admit(runtime, request.method, region, match.rest)
                if preflight:
                    reply = Reply(cors.PREFLIGHT_STATUS, cors.preflight_headers(match.allowed, request.headers), b"")
                elif request.method == "OPTIONS" and match.allowed:
                    reply = Reply(200, [("Allow", ", ".join(match.allowed)), ("Content-Length", "0")], b"")
                elif match.operation is None and match.allowed:
                    raise api.not_allowed(request.method, request.path, match.rest, match.allowed)
                else:
                    region = api.enter(runtime, region, request.host)
                    if match.operation is None:
                        raise api.unknown(request.method, match.rest)
                    runtime.store.enter(match.operation.operation_id)
                    key = api.authorize(runtime, region, request.key)
                    if stubs.after and (fault is None or fault.status is None):
                        stub = stubs.pick(True, request.method, "/" + match.rest, request.path, project, region,
                                          request.headers, request.query_string, request.body)
                    if stub is not None:
                        reply = _stub_reply(stub)
                    else:
                        body, ignored = self._work(runtime, request, match, key)
                        reply = _json_reply(200, body)
                        parsed = match.validator is not None and match.validator.body_validator is not None
            except ApiError as error:
                if fault is None and error.status != 503 and runtime.store.stale():
                    raise StaleView from None  # e.g. a key added through another instance a moment ago
                reply = _json_reply(error.status, error.body(), error.headers)
            except StaleView:
                raise
            except Exception as error:  # a bug: answer the mock's 500, never a traceback
                log.exception("mock-1flow: unexpected error on %s %s", request.method, request.path)
                failure = ApiError(500, "internal_error", f"The mock failed unexpectedly ({type(error).__name__}); this is a bug in mock-1flow.")
                reply = _json_reply(500, failure.body())
        if stub is None or not cors.has_allow_origin(reply.headers):
            reply.headers.append(cors.ALLOW_ORIGIN)  # every answer, errors too, as 1Flow's (server/cors.py)
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        off_spec = stub.off_spec(match.operation.operation_id if match.operation else None, request.method, request.path) \
            if stub else None
        violations = journal_violations(answer)
        runtime.journal.record(
            started=wall,
            duration_ms=duration_ms,
            method=request.method,
            path=request.path,
            query=request.query_string,
            region=region,
            project=project,
            status=0 if reply.dropped else reply.status,
            error="connection_dropped" if reply.dropped else _error_code(reply),
            body=request.body or None,
            response=None if reply.dropped or not reply.body else reply.body,
            request_headers=request.headers,
            response_headers=tuple(reply.headers),
            fault=fault.id if fault else None,
            via=request.via,
            warning=answer.note if answer is not None and answer.note else
            None if request.key else key_warning(request.headers, request.raw_names, api.key_header),
            ignored_query=ignored,
            stub=stub.id if stub else None,
            off_spec=off_spec,
            violations=violations,
            body_json=parsed,
            response_json=stub is None and answer is None,  # the mock's own _json_reply (or no body)
        )
        if runtime.on_request:
            target = f"{request.path}?{request.query_string}" if request.query_string else request.path
            status = 0 if reply.dropped else reply.status
            for hook in runtime.on_request:
                hook(request.method, target, status, project, region, duration_ms, fault.id if fault else None, request.via,
                     stub.id if stub else None, off_spec, violations)
        if request.method == "HEAD":
            reply.body = b""
        return reply

    def _work(self, runtime: Runtime, request: Request, match: Match, key: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The operation's answer for a request that passed the gate (``key``: its project)."""
        validator = match.validator
        assert validator is not None and match.operation is not None
        query: dict[str, str] = {}
        ignored: tuple[str, ...] = ()
        if request.query_string:
            for name, value in parse_qsl(request.query_string, keep_blank_values=True):
                query.setdefault(name, value)
            ignored = tuple(name for name in query if name not in validator.query_names)
        if ignored and not (runtime.config.strict_query or match.api.strict_query):
            validator.validate_parameters({k: v for k, v in query.items() if k in validator.query_names}, match.params)
        elif validator.parameters or query:
            validator.validate_parameters(query, match.params)
        body = None
        if validator.body_validator is not None:
            limit = match.api.body_limit(runtime, match.operation)
            size = request.content_length if request.content_length is not None else len(request.body or b"")
            if size > limit:
                raise _too_large(size, limit)
            body = validator.validate_body(request.body or b"", _mimetype(request.content_type))
        store = runtime.store
        with store.lock:
            result = match.operation.handler(runtime, store.state(key), body, match.params, query)
        return result, ignored

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = _wsgi_path(environ.get("PATH_INFO") or "")
        match = self.route(method, path, environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
        if match is None:
            return self.fallback(environ, start_response)
        started = time.perf_counter()
        request = _wsgi_request(environ, method, path, match.api.key_header)
        fired = self.pick_fault(request, match)
        if fired is not None and fired[1]:
            time.sleep(fired[1])
        surface = match.surface
        request.body = _wsgi_body(environ, request.content_length, read_cap(self.runtime) if surface is None else surface.read_cap)
        reply = self.respond(request, match, fired, started)
        start_response(f"{reply.status} {REASONS.get(reply.status, '')}".rstrip(), reply.headers)
        if reply.dropped:
            return dropped_stream(reply.body)
        return [reply.body]


def _allowed(table: Mapping[str, Operation]) -> tuple[str, ...]:
    methods = list(table)
    if "GET" in methods:
        methods.append("HEAD")
    return tuple(sorted(methods)) + ("OPTIONS",)


def fault_error(fault: Fault) -> ApiError:
    """The answer of a fault with a status, the same on the hot path and Flask's routes."""
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    code = "rate_limited" if fault.status == 429 else "injected_fault"
    return ApiError(fault.status or 500, code, f"Injected fault {fault.id}: HTTP {fault.status}.", headers=headers)


def _stub_reply(stub: Stub) -> Reply:
    if stub.drop:
        return Reply(200, [("Content-Type", "application/json"), ("Content-Length", "1024")], DROPPED_FRAGMENT, True)
    return Reply(stub.status, list(stub.headers), stub.body)


def _json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
    data = dumps(body)
    out = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    if headers:
        out.extend(headers.items())
    return Reply(status, out, data)


def _error_code(reply: Reply) -> str | None:
    return error_code(reply.status, reply.body)


def error_code(status: int, body: bytes | None) -> str | None:
    """The ``error`` code in a 4xx/5xx JSON body, for the journal."""
    if status < 400 or not body:
        return None
    marker = body.find(b'"error":"')
    if marker < 0:
        return None
    start = marker + 9
    end = body.find(b'"', start)
    return body[start:end].decode("utf-8", "replace") if end > 0 else None


def _mimetype(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def key_warning(headers: Headers, raw_names: bool, key: str = KEY_HEADER) -> str | None:
    """A near-miss of the key header ``key`` (``one_flow_key``, or the HTTP API's ``api_key``:
    dashes, other spelling) sent without the real header."""
    needle = NEAR_MISSES[key]
    for name, _ in headers:
        folded = name.lower()
        if folded == key and not raw_names:
            continue
        squashed = folded.replace("-", "").replace("_", "")
        if needle in squashed and folded != key:
            return (
                f"The request has a '{name}' header but no '{key}': 1Flow reads the project key "
                f"only from the header named {key} (underscores, any case)."
            )
    return None


def _wsgi_path(raw: str) -> str:
    """Like werkzeug's ``request.path``: PATH_INFO's bytes as UTF-8, one leading slash."""
    if not raw.isascii():
        raw = raw.encode("latin-1").decode("utf-8", "replace")
    return "/" + raw.lstrip("/")


def _wsgi_request(environ: dict[str, Any], method: str, path: str, key_header: str = KEY_HEADER) -> Request:
    raw = environ.get(RAW_HEADERS)
    if raw is not None:
        headers = tuple(raw)
        key = next((value for name, value in headers if name.lower() == key_header), None)
    else:
        headers = _environ_headers(environ)
        key = environ.get("HTTP_" + key_header.upper())
    length = environ.get("CONTENT_LENGTH")
    return Request(
        method=method,
        path=path,
        query_string=environ.get("QUERY_STRING", ""),
        headers=headers,
        key=key or None,
        host=environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
        content_type=environ.get("CONTENT_TYPE", ""),
        content_length=int(length) if length and length.isdigit() else None,
        raw_names=raw is not None,
        via=environ.get(VIA),
    )


KEY_ENVIRON = {"HTTP_" + name.upper(): name for name in KEY_NAMES}  # the key headers, named as 1Flow reads them


def _environ_headers(environ: Mapping[str, Any]) -> Headers:
    out = []
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            shown = KEY_ENVIRON.get(name) or name[5:].lower().replace("_", "-")
            out.append((shown, value))
        elif name in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            out.append((name.lower().replace("_", "-"), value))
    return tuple(out)


def read_cap(runtime: Runtime) -> int:
    """The most a request body is read: 1 MB, or the SDK API's body limit when larger (an
    SDK sends its whole offline backlog in one /v3/track body)."""
    return max(MAX_REQUEST_BYTES, runtime.config.max_body_bytes)


def _wsgi_body(environ: dict[str, Any], length: int | None, cap: int = MAX_REQUEST_BYTES) -> bytes | None:
    stream = environ.get("wsgi.input")
    if stream is None:
        return None
    if length is None:
        if not environ.get("wsgi.input_terminated"):
            return None
        return stream.read(cap + 1) or None
    if length == 0 or length > cap:
        return None
    return stream.read(length)


def dropped_stream(fragment: bytes) -> Iterator[bytes]:
    """Send the headers and a fragment, then fail, so the server drops the connection."""
    yield fragment
    raise ConnectionAbortedError("mock-1flow fault: connection dropped on purpose")
