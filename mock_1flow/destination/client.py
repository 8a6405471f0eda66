"""The HTTP client that talks to 1Flow the way its SDKs do (header ``one_flow_key``, JSON).

Retry rules, the SDKs' and Segment's: transport errors (refused or dropped connections,
timeouts), 429 (waiting what ``Retry-After`` says, capped) and 5xx are retried with
capped exponential backoff plus a little jitter; another 4xx is never retried, and its
1Flow ``error`` code reaches the caller unchanged in :class:`DeliveryError`. A small
explicit loop rather than urllib3's ``Retry``: the caller needs the attempt count, and
tests need to see every wait (``sleep`` is injectable).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from . import wire
from .errors import DeliveryError
from .settings import Settings

RETRYABLE_TRANSPORT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
PERMANENT_TRANSPORT = (requests.exceptions.SSLError,)  # a ConnectionError, but retrying cannot help
TRANSPORT_ERROR, INVALID_RESPONSE = "transport_error", "invalid_response"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110); None if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


class OneFlowClient:
    """One 1Flow project's API, with the retry rules above.

    ``max_retries`` counts retries (so at most ``max_retries + 1`` attempts); waits are
    ``backoff * 2**(n-1)`` plus up to 10% jitter from ``rng`` (seeded: reproducible runs),
    never above ``max_backoff``; a 429's ``Retry-After`` is used as is, up to ``max_retry_after``.
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
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_retry_after: float = 60.0,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.settings = settings
        self.session = session or requests.Session()
        self.max_retries, self.backoff, self.max_backoff, self.timeout = max_retries, backoff, max_backoff, timeout
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.rng = rng or random.Random(0)
        self.base = settings.api_base

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after is not None:
                return min(retry_after, self.max_retry_after)
        exponential = self.backoff * 2 ** (attempt - 1)
        return min(exponential * (1 + self.rng.random() / 10), self.max_backoff)

    def post(self, path: str, body: dict[str, Any], expect: str | None = None) -> Any:
        """POST ``body`` to ``path``; returns the envelope's ``result``."""
        return self.request("POST", path, body=body, expect=expect)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                params: dict[str, str] | None = None, expect: str | None = None) -> Any:
        """Send with the retry rules; returns the envelope's ``result`` or raises :class:`DeliveryError`.

        ``expect`` names a string the result must hold (a 2xx without it is ``invalid_response``).
        """
        headers = {self.key_header: self.settings.project_api_key}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = wire.encode(body)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(method, self.base + path, data=data, params=params, headers=headers,
                                                timeout=self.timeout)
            except PERMANENT_TRANSPORT as exc:
                raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempt) from None
            except RETRYABLE_TRANSPORT as exc:
                if attempt > self.max_retries:
                    raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempt) from None
                self.sleep(self._delay(attempt, None))
                continue
            except requests.RequestException as exc:  # a bad URL, too many redirects: retrying cannot help
                raise DeliveryError(None, TRANSPORT_ERROR, f"{path}: {exc}", attempt) from None
            if response.status_code < 300:
                return _result(path, response, attempt, expect)
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable or attempt > self.max_retries:
                raise _delivery_error(path, response, attempt)
            self.sleep(self._delay(attempt, response))

    def batch_fits(self, analytic_id: str, event_sizes: list[int]) -> bool:
        """Whether events of these encoded sizes fit one ``/v3/track`` request (32 KB)."""
        return wire.track_body_size(analytic_id, event_sizes) <= wire.MAX_REQUEST_BYTES

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


def _result(path: str, response: requests.Response, attempts: int, expect: str | None) -> Any:
    """The envelope's ``result``; a 2xx that is not 1Flow's envelope is an error, not retried
    (a proxy's HTML page, say: the same request would get the same page)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DeliveryError(response.status_code, INVALID_RESPONSE,
                            f"{path}: HTTP {response.status_code} without 1Flow's JSON envelope", attempts)
    result = body.get("result")
    if expect is not None and not (isinstance(result, dict) and isinstance(result.get(expect), str) and result[expect]):
        raise DeliveryError(response.status_code, INVALID_RESPONSE, f"{path}: the result has no {expect}", attempts)
    return result


def _delivery_error(path: str, response: requests.Response, attempts: int) -> DeliveryError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error, message = body.get("error"), body.get("message") or response.reason
    else:
        error, message = None, response.text[:200]
    error = error if isinstance(error, str) else None
    return DeliveryError(response.status_code, error, f"{path}: HTTP {response.status_code} {message}", attempts)
