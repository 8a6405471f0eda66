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
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any, NamedTuple, Protocol
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


class Transport(Protocol):
    """What sends one request for the client: an HTTP transport here, or the ingest's
    function calls into the mock (``ingest.inprocess.HotPathTransport``)."""

    def __call__(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
                 params: dict[str, str] | None, timeout: float) -> Any: ...


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


class Attempt(NamedTuple):
    """One request for a transport to send, as the retry loop asks for it."""

    method: str
    url: str
    data: bytes | None
    headers: dict[str, str]
    params: dict[str, str] | None
    timeout: float


class Pause(NamedTuple):
    """A wait before the next attempt (the backoff, or what ``Retry-After`` says)."""

    seconds: float


# What a client call is inside: a generator that yields an Attempt (and is sent the Reply,
# or has the transport's exception thrown in) or a Pause, and returns the call's result.
# OneFlowClient.run drives one synchronously; .multi.MultiSender drives many at once.
Steps = Generator[Attempt | Pause, Reply | None, Any]


def curl_handle() -> pycurl.Curl:
    """A libcurl easy handle set up as every request here wants it."""
    handle = pycurl.Curl()
    handle.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: safe in threads
    handle.setopt(pycurl.PROXY, "")  # like urllib3's pool: no proxy from the environment
    handle.setopt(pycurl.TCP_NODELAY, 1)
    # The head comes with the body through one write callback: one Python call (and one
    # taking of the GIL) per response instead of one per header line.
    handle.setopt(pycurl.HEADER, 1)
    return handle


def curl_prepare(handle: pycurl.Curl, attempt: Attempt) -> list[bytes]:
    """Set ``handle`` up for ``attempt``; returns the list the response's bytes go to."""
    received: list[bytes] = []
    method, url, data, headers, params, timeout = attempt
    handle.setopt(pycurl.URL, url + "?" + urlencode(params) if params else url)
    # "Expect:" off: libcurl would otherwise wait for a 100 Continue before a large body.
    handle.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in headers.items()] + ["Expect:"])
    if method == "GET" and data is None:
        handle.setopt(pycurl.HTTPGET, 1)
    else:
        handle.setopt(pycurl.POSTFIELDS, data or b"")
    handle.setopt(pycurl.CUSTOMREQUEST, None if method in ("GET", "POST") else method)
    handle.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
    handle.setopt(pycurl.WRITEFUNCTION, received.append)
    return received


def curl_reply(handle: pycurl.Curl, received: list[bytes]) -> Reply:
    """The reply ``handle`` got (its head and body came together)."""
    status, size = handle.getinfo(pycurl.RESPONSE_CODE), handle.getinfo(pycurl.HEADER_SIZE)
    data = received[0] if len(received) == 1 else b"".join(received)
    fields = CurlHeaders(data[:size])
    return Reply(status, fields, data[size:], fields.reason)


def curl_failure(code: int, message: str) -> TransportError:
    return TransportError(f"{message or 'libcurl error'} (curl {code})", code in CURL_RETRYABLE)


class CurlTransport:
    """The default transport for ``http://`` bases: libcurl (pycurl), one easy handle and so
    one keep-alive connection per sending thread. libcurl builds the request, parses the
    answer and waits with the GIL released, so a request costs the client about a quarter of
    the CPU urllib3's pool takes (benchmarks/bench_send.py). No redirects, no proxy from the
    environment, no retries of its own (the client's policy decides), as with
    :class:`PoolTransport`. The destination sends its lanes through libcurl's multi
    interface instead (:mod:`.multi`), with the same request setup."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._handles: list[pycurl.Curl] = []
        self._lock = threading.Lock()

    def _handle(self) -> pycurl.Curl:
        handle = getattr(self._local, "handle", None)
        if handle is None:
            handle = self._local.handle = curl_handle()
            with self._lock:
                self._handles.append(handle)
        return handle

    def __call__(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
                 params: dict[str, str] | None, timeout: float) -> Reply:
        handle = self._handle()
        received = curl_prepare(handle, Attempt(method, url, data, headers, params, timeout))
        try:
            handle.perform()
        except pycurl.error as exc:
            raise curl_failure(exc.args[0], exc.args[1] if len(exc.args) > 1 else "") from None
        return curl_reply(handle, received)

    def close(self) -> None:
        with self._lock:
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.close()


class CurlHeaders(Mapping[str, str]):
    """The headers of the last response head libcurl passed on (an interim ``100 Continue``
    comes first when a server sends one), case-insensitive, parsed on first use: a 2xx's
    are rarely read, so most requests never pay for it."""

    def __init__(self, head: bytes) -> None:
        self._head = head
        self._parsed: urllib3.HTTPHeaderDict | None = None

    def _parse(self) -> urllib3.HTTPHeaderDict:
        if self._parsed is None:
            fields = urllib3.HTTPHeaderDict()
            for line in self._head.decode("latin-1").split("\r\n"):
                if line.startswith("HTTP/"):
                    fields = urllib3.HTTPHeaderDict()
                elif ":" in line:
                    name, _, value = line.partition(":")
                    fields.add(name.strip(), value.strip())
            self._parsed = fields
        return self._parsed

    @property
    def reason(self) -> str:
        """The last status line's reason phrase (without parsing the headers)."""
        start = self._head.rfind(b"\r\n\r\nHTTP/", 0, len(self._head) - 4) + 4  # an interim head's end, or 3 + 4
        start = start if start > 3 else 0
        status = self._head[start:self._head.find(b"\r\n", start)]
        return (status.decode("latin-1").split(" ", 2) + ["", ""])[2]

    def __getitem__(self, name: str) -> str:
        return self._parse()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parse())

    def __len__(self) -> int:
        return len(self._parse())


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
        self.transport: Transport = default_transport(settings.api_base, pool_size) if session is None else SessionTransport(session)
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

    @property
    def waits_itself(self) -> bool:
        """True when waits are the client's own (a stop ends them at once), so a driver of
        many calls may keep a waiting call aside instead of calling :attr:`sleep`."""
        return self.sleep == self._stop.wait

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def halted(self) -> bool:
        """Stopped, or past the deadline: a request in flight or waiting for a connection
        is abandoned (a driver of many calls ends them at once rather than at their timeout)."""
        return self._stop.is_set() or (self.deadline is not None and time.monotonic() >= self.deadline)

    def run(self, steps: Steps) -> Any:
        """Drive one call's steps through the transport, sleeping through its pauses."""
        value: Reply | None = None
        failure: Exception | None = None
        while True:
            try:
                step = steps.send(value) if failure is None else steps.throw(failure)
            except StopIteration as done:
                return done.value
            value = failure = None
            if type(step) is Pause:
                self.sleep(step.seconds)
                continue
            try:
                value = self.transport(*step)
            except Exception as exc:  # the steps decide what a transport's error means
                failure = exc

    def post(self, path: str, body: dict[str, Any], expect: str | None = None) -> Any:
        """POST ``body`` to ``path``; returns the envelope's ``result``."""
        return self.run(self.request_steps("POST", path, body=body, expect=expect))

    def post_steps(self, path: str, body: dict[str, Any], expect: str | None = None) -> Steps:
        return self.request_steps("POST", path, body=body, expect=expect)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                params: dict[str, str] | None = None, expect: str | None = None) -> Any:
        """Send with the retry policy; returns the envelope's ``result`` or raises :class:`DeliveryError`.

        ``expect`` names a string the result must hold (a 2xx without it is ``invalid_response``).
        """
        return self.run(self.request_steps(method, path, body, params, expect))

    def request_steps(self, method: str, path: str, body: dict[str, Any] | None = None,
                      params: dict[str, str] | None = None, expect: str | None = None) -> Steps:
        """:meth:`request` as steps (see :data:`Steps`)."""
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
                response = yield Attempt(method, url, data, headers, params, timeout)
            except TransportError as exc:
                if not exc.retryable:
                    raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempts) from None
                error: Exception | None = exc
            except PERMANENT_TRANSPORT as exc:
                raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempts) from None
            except RETRYABLE_TRANSPORT as exc:
                error = exc
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
            if error is not None:
                self._left(path, attempts)  # a request cut short by a stop or the deadline fails for that reason
            try:
                retry = retry.increment(method, url, response=view,
                                        error=None if error is None else ProtocolError(str(error)))
            except MaxRetryError:
                if error is not None:
                    raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {error}", attempts) from None
                raise _delivery_error(path, response, attempts) from None
            wait = retry.delay(view)
            left = self._left(path, attempts)
            yield Pause(wait if left is None else min(wait, left))

    def add_user(self, device_id: str, context: dict[str, Any]) -> str:
        """Register a device (``/v3/user``); returns its analytic user id."""
        return self.run(self.add_user_steps(device_id, context))

    def identify(self, analytic_id: str, user_id: str, traits: dict[str, Any]) -> str:
        """Log the device's user in (``/v3/identify``); returns the id that replaces ``analytic_id``."""
        return self.run(self.identify_steps(analytic_id, user_id, traits))

    def track(self, analytic_id: str, events: list[dict[str, Any]]) -> None:
        """Send one user's batch of events (``/v3/track``)."""
        return self.run(self.track_steps(analytic_id, events))

    def add_user_steps(self, device_id: str, context: dict[str, Any]) -> Steps:
        result = yield from self.post_steps("/v3/user", wire.user_body(device_id, context), expect="analytic_user_id")
        return result["analytic_user_id"]

    def identify_steps(self, analytic_id: str, user_id: str, traits: dict[str, Any]) -> Steps:
        result = yield from self.post_steps("/v3/identify", wire.identify_body(analytic_id, user_id, traits),
                                            expect="analytic_user_id")
        return result["analytic_user_id"]

    def track_steps(self, analytic_id: str, events: list[dict[str, Any]]) -> Steps:
        yield from self.post_steps("/v3/track", wire.track_body(analytic_id, events))

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
