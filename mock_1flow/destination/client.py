"""The HTTP client that talks to 1Flow's SDK API (header ``one_flow_key``, JSON).

Retry policy, a server-side forwarder's (not the SDKs': they resend their queue on a
timer and never read ``Retry-After``; FIDELITY.md, A11): transport errors (refused or
dropped connections, timeouts), 429 (waiting what ``Retry-After`` says, capped) and 5xx are
retried with capped exponential backoff plus a little jitter; another 4xx is never retried,
and its 1Flow ``error`` code reaches the caller unchanged in :class:`DeliveryError`. The
policy is urllib3's :class:`~urllib3.util.Retry` (counting, ``Retry-After`` seconds and
HTTP dates, caps), driven here rather than inside urllib3's pool so that it applies to any
transport (urllib3's pool by default, or a ``requests`` session such as the ingest's
in-process one), reports the attempt count, and waits through an injectable ``sleep``.

Two seams: :meth:`OneFlowClient.add_user` / ``identify`` / ``track`` are the one place that
turns the destination's calls (a device, a login, a batch) into API requests; the
``transport`` is the one place that sends a request.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

import orjson
import pycurl
import requests
import urllib3
from urllib3 import HTTPResponse
from urllib3.exceptions import InvalidHeader, MaxRetryError, ProtocolError
from urllib3.util import Retry

from . import wire
from .errors import DeliveryError
from .settings import Settings

RETRYABLE_TRANSPORT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                       urllib3.exceptions.NewConnectionError, urllib3.exceptions.ProtocolError,
                       urllib3.exceptions.TimeoutError)
PERMANENT_TRANSPORT = (requests.exceptions.SSLError, urllib3.exceptions.SSLError)  # retrying cannot help
TRANSPORT_ERROR, INVALID_RESPONSE, DEADLINE = "transport_error", "invalid_response", "deadline"


class RetryPolicy(Retry):
    """urllib3's Retry with the client's waits: ``backoff * 2**(n-1)`` from the first retry
    (urllib3 waits 0 before it) plus up to 10% jitter from a seeded ``rng``, never above
    ``backoff_max``; a ``Retry-After`` (seconds or HTTP date, capped at ``retry_after_max``)
    wins over the backoff, an unreadable one is ignored."""

    rng: random.Random = random.Random(0)

    def new(self, **kw: Any) -> RetryPolicy:
        retry = super().new(**kw)
        retry.rng = self.rng
        return retry

    def get_backoff_time(self) -> float:
        exponential = self.backoff_factor * 2 ** (max(len(self.history), 1) - 1)
        return min(exponential * (1 + self.rng.random() / 10), self.backoff_max)

    def delay(self, response: HTTPResponse | None) -> float:
        """Seconds to wait before the next attempt."""
        try:
            after = self.get_retry_after(response) if response is not None else None
        except InvalidHeader:
            after = None
        return self.get_backoff_time() if after is None else float(after)


class Reply(NamedTuple):
    """What a transport returns: status, headers, raw body, reason phrase."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    reason: str


class PoolTransport:
    """The default transport: urllib3's keep-alive connection pool for the API's host,
    ``pool_size`` connections (one per request in flight at once), no retries of its own
    (the client's policy decides). A pool rather than a ``requests`` session: a quarter of
    the client CPU per request."""

    def __init__(self, base: str, pool_size: int = 10) -> None:
        parts = urlsplit(base)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.pool = urllib3.connection_from_url(self.origin, maxsize=pool_size, retries=False)

    def __call__(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
                 params: dict[str, str] | None, timeout: float) -> Reply:
        target = url[len(self.origin):] if url.startswith(self.origin) else url
        if params:
            target += "?" + urlencode(params)
        response = self.pool.urlopen(method, target, body=data, headers=headers, timeout=timeout, redirect=False)
        return Reply(response.status, response.headers, response.data, response.reason or "")


class TransportError(Exception):
    """A request that got no HTTP answer; ``retryable`` says whether another attempt can help."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


# libcurl's codes for a connection that failed, dropped or timed out (retried); any other
# (a malformed URL, an option libcurl refuses) would fail the same way again.
CURL_RETRYABLE = frozenset({
    pycurl.E_COULDNT_RESOLVE_HOST, pycurl.E_COULDNT_CONNECT, 8,  # CURLE_WEIRD_SERVER_REPLY
    16, pycurl.E_PARTIAL_FILE, pycurl.E_OPERATION_TIMEDOUT, pycurl.E_GOT_NOTHING,  # 16: CURLE_HTTP2
    pycurl.E_SEND_ERROR, pycurl.E_RECV_ERROR, 92,  # 92: CURLE_HTTP2_STREAM
})


class CurlTransport:
    """The default transport for ``http://`` bases: libcurl (pycurl), one easy handle and so
    one keep-alive connection per sending thread. libcurl builds the request, parses the
    answer and waits with the GIL released, so a request costs the client about a quarter of
    the CPU urllib3's pool takes (benchmarks/bench_send.py), and lanes in other threads keep
    running meanwhile. No redirects, no proxy from the environment, no retries of its own
    (the client's policy decides), as with :class:`PoolTransport`."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._handles: list[pycurl.Curl] = []
        self._lock = threading.Lock()

    def _handle(self) -> pycurl.Curl:
        handle = getattr(self._local, "handle", None)
        if handle is None:
            handle = self._local.handle = pycurl.Curl()
            handle.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: safe in threads
            handle.setopt(pycurl.PROXY, "")  # like urllib3's pool: no proxy from the environment
            handle.setopt(pycurl.TCP_NODELAY, 1)
            with self._lock:
                self._handles.append(handle)
        return handle

    def __call__(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
                 params: dict[str, str] | None, timeout: float) -> Reply:
        handle = self._handle()
        body: list[bytes] = []
        head: list[bytes] = []
        handle.setopt(pycurl.URL, url + "?" + urlencode(params) if params else url)
        # "Expect:" off: libcurl would otherwise wait for a 100 Continue before a large body.
        handle.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in headers.items()] + ["Expect:"])
        if method == "POST":
            handle.setopt(pycurl.POSTFIELDS, data or b"")
        elif method == "GET" and data is None:
            handle.setopt(pycurl.HTTPGET, 1)
        else:
            handle.setopt(pycurl.CUSTOMREQUEST, method)
            handle.setopt(pycurl.POSTFIELDS, data or b"")
        handle.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
        handle.setopt(pycurl.WRITEFUNCTION, body.append)
        handle.setopt(pycurl.HEADERFUNCTION, head.append)
        try:
            handle.perform()
        except pycurl.error as exc:
            code, message = exc.args[0], exc.args[1] if len(exc.args) > 1 else ""
            raise TransportError(f"{message or 'libcurl error'} (curl {code})", code in CURL_RETRYABLE) from None
        finally:
            if method not in ("POST", "GET"):
                handle.setopt(pycurl.CUSTOMREQUEST, None)
        status = handle.getinfo(pycurl.RESPONSE_CODE)
        reason, fields = _parse_head(head)
        return Reply(status, fields, b"".join(body), reason)

    def close(self) -> None:
        with self._lock:
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.close()


def _parse_head(lines: list[bytes]) -> tuple[str, urllib3.HTTPHeaderDict]:
    """The reason phrase and headers of the last response head libcurl passed on (an interim
    ``100 Continue`` comes first when a server sends one)."""
    reason, fields = "", urllib3.HTTPHeaderDict()
    for raw in lines:
        line = raw.decode("latin-1").rstrip("\r\n")
        if line.startswith("HTTP/"):
            reason, fields = (line.split(" ", 2) + [""])[2], urllib3.HTTPHeaderDict()
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.add(name.strip(), value.strip())
    return reason, fields


class SessionTransport:
    """A ``requests`` session as the transport (a custom adapter: the ingest's in-process one, a test's stub)."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session

    def __call__(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
                 params: dict[str, str] | None, timeout: float) -> Reply:
        response = self.session.request(method, url, data=data, params=params, headers=headers, timeout=timeout)
        return Reply(response.status_code, response.headers, response.content, response.reason or "")


def default_transport(base: str, pool_size: int = 10) -> CurlTransport | PoolTransport:
    """libcurl for plain HTTP (the local mock: where speed counts); urllib3's pool for HTTPS,
    whose certificate checks use the system's CA store as they always have."""
    return CurlTransport() if urlsplit(base).scheme == "http" else PoolTransport(base, pool_size)


class OneFlowClient:
    """One 1Flow project's API, with the retry policy above.

    ``max_retries`` counts retries (so at most ``max_retries + 1`` attempts); waits are
    ``backoff * 2**(n-1)`` plus up to 10% jitter from ``rng`` (seeded: reproducible runs),
    never above ``max_backoff``; a 429's ``Retry-After`` is used as is, up to ``max_retry_after``.
    Thread-safe: the destination's lanes share one client (and its connection pool).
    """

    key_header = "one_flow_key"  # 1Flow's HTTP API client (.http_api) sends api_key

    def __init__(
        self,
        settings: Settings,
        session: requests.Session | None = None,
        max_retries: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        timeout: float = 10.0,
        sleep: Callable[[float], Any] | None = None,
        rng: random.Random | None = None,
        max_retry_after: float = 60.0,
        pool_size: int = 10,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.settings = settings
        self.transport = default_transport(settings.api_base, pool_size) if session is None else SessionTransport(session)
        self.timeout = timeout
        self.retry = RetryPolicy(total=max_retries, connect=None, read=None, status=None, other=0, redirect=0,
                                 allowed_methods=None, backoff_factor=backoff, backoff_max=max_backoff,
                                 retry_after_max=max_retry_after, respect_retry_after_header=True)
        self.retry.rng = rng or random.Random(0)
        self._stop = threading.Event()
        self._stop_reason: str | None = None
        self.sleep = sleep or self._stop.wait  # a stop ends a wait at once
        self.deadline: float | None = None  # time.monotonic() after which no attempt starts
        self.base = settings.api_base

    def cancel(self, reason: str) -> None:
        """No more attempts from now on: requests fail with ``reason`` as their error."""
        self._stop_reason = reason
        self._stop.set()

    def _left(self, path: str, attempts: int) -> float | None:
        """Seconds left before the deadline (None: no deadline); raises when stopped or past it."""
        if self._stop_reason is not None:
            raise DeliveryError(None, self._stop_reason, f"{path}: not sent ({self._stop_reason})", attempts)
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeliveryError(None, DEADLINE, f"{path}: the deadline passed", attempts)
        return left

    def post(self, path: str, body: dict[str, Any], expect: str | None = None) -> Any:
        """POST ``body`` to ``path``; returns the envelope's ``result``."""
        return self.request("POST", path, body=body, expect=expect)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                params: dict[str, str] | None = None, expect: str | None = None) -> Any:
        """Send with the retry policy; returns the envelope's ``result`` or raises :class:`DeliveryError`.

        ``expect`` names a string the result must hold (a 2xx without it is ``invalid_response``).
        """
        headers = {self.key_header: self.settings.project_api_key}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = wire.encode(body)
        url, retry = self.base + path, self.retry
        while True:
            attempts = len(retry.history) + 1
            left = self._left(path, attempts - 1)
            timeout = self.timeout if left is None else min(self.timeout, left)
            view: HTTPResponse | None = None
            try:
                response = self.transport(method, url, data, headers, params, timeout)
            except TransportError as exc:
                if not exc.retryable:
                    raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempts) from None
                error = exc
            except PERMANENT_TRANSPORT as exc:
                raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempts) from None
            except RETRYABLE_TRANSPORT as exc:
                error: Exception | None = exc
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:  # a bad URL: retrying cannot help
                raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempts) from None
            else:
                if response.status < 300:
                    return _result(path, response, attempts, expect)
                if response.status != 429 and response.status < 500:
                    raise _delivery_error(path, response, attempts)
                error = None
                view = HTTPResponse(body=b"", headers=dict(response.headers), status=response.status,
                                    preload_content=False)
            try:
                retry = retry.increment(method, url, response=view,
                                        error=None if error is None else ProtocolError(str(error)))
            except MaxRetryError:
                if error is not None:
                    raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {error}", attempts) from None
                raise _delivery_error(path, response, attempts) from None
            wait = retry.delay(view)
            left = self._left(path, attempts)
            self.sleep(wait if left is None else min(wait, left))

    def add_user(self, device_id: str, context: dict[str, Any]) -> str:
        """Register a device (``/v3/user``); returns its analytic user id."""
        result = self.post("/v3/user", wire.user_body(device_id, context), expect="analytic_user_id")
        return result["analytic_user_id"]

    def identify(self, analytic_id: str, user_id: str, traits: dict[str, Any]) -> str:
        """Log the device's user in (``/v3/identify``); returns the id that replaces ``analytic_id``."""
        result = self.post("/v3/identify", wire.identify_body(analytic_id, user_id, traits), expect="analytic_user_id")
        return result["analytic_user_id"]

    def track(self, analytic_id: str, events: list[dict[str, Any]]) -> None:
        """Send one user's batch of events (``/v3/track``)."""
        self.post("/v3/track", wire.track_body(analytic_id, events))

    def surveys(self, analytic_id: str, platform: str = "web") -> list[dict[str, Any]]:
        """The surveys the SDK would show this user (``GET /v3/survey``)."""
        return self.request("GET", "/v3/survey", params={"platform": platform, "user_id": analytic_id})

    def submit_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A user's answers to a survey (``POST /v3/response``)."""
        return self.post("/v3/response", response)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _result(path: str, response: Reply, attempts: int, expect: str | None) -> Any:
    """The envelope's ``result``; a 2xx that is not 1Flow's envelope is an error, not retried
    (a proxy's HTML page, say: the same request would get the same page)."""
    body = _json(response.body)
    if not isinstance(body, dict):
        raise DeliveryError(response.status, INVALID_RESPONSE,
                            f"{path}: HTTP {response.status} without 1Flow's JSON envelope", attempts)
    result = body.get("result")
    if expect is not None and not (isinstance(result, dict) and isinstance(result.get(expect), str) and result[expect]):
        raise DeliveryError(response.status, INVALID_RESPONSE, f"{path}: the result has no {expect}", attempts)
    return result


def _delivery_error(path: str, response: Reply, attempts: int) -> DeliveryError:
    body = _json(response.body)
    if isinstance(body, dict):
        error, message = body.get("error"), body.get("message") or response.reason
    else:
        error, message = None, response.body[:200].decode("utf-8", "replace")
    error = error if isinstance(error, str) else None
    return DeliveryError(response.status, error, f"{path}: HTTP {response.status} {message}", attempts)
