"""The HTTP client that talks to 1Flow the way its SDKs do (header ``one_flow_key``).

Retries transport errors, 429 (honouring ``Retry-After``) and 5xx with capped
exponential backoff; never retries another 4xx, whose 1Flow ``error`` code reaches the
caller unchanged in :class:`DeliveryError`.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

import requests

from .errors import DeliveryError
from .settings import Settings

RETRYABLE_TRANSPORT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class OneFlowClient:
    def __init__(
        self,
        settings: Settings,
        session: requests.Session | None = None,
        *,
        max_retries: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.max_retries, self.backoff, self.max_backoff, self.timeout = max_retries, backoff, max_backoff, timeout
        self.sleep = sleep
        self.rng = rng or random.Random(0)
        self.base = settings.api_base

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_backoff)
            except ValueError:
                pass
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff) * (1 + self.rng.random() / 10)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` to ``path``; returns the envelope's ``result``."""
        return self.request("POST", path, body=body)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                params: dict[str, str] | None = None) -> Any:
        """Send with the retry rules; returns the envelope's ``result``."""
        headers = {"one_flow_key": self.settings.project_api_key}
        if body is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            attempt += 1
            response = None
            try:
                response = self.session.request(method, self.base + path, json=body, params=params, headers=headers,
                                                timeout=self.timeout)
            except RETRYABLE_TRANSPORT as exc:
                if attempt > self.max_retries:
                    raise DeliveryError(None, "transport_error", f"{path}: {exc}", attempt) from None
                self.sleep(self._delay(attempt, None))
                continue
            if response.status_code < 300:
                return response.json().get("result")
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable or attempt > self.max_retries:
                raise _delivery_error(path, response, attempt)
            self.sleep(self._delay(attempt, response))

    def add_user(self, device_id: str, context: dict[str, Any]) -> str:
        body: dict[str, Any] = {"user_id": device_id}
        if context:
            body["context"] = context
        return self.post("/v3/user", body)["analytic_user_id"]

    def identify(self, analytic_id: str, user_id: str, traits: dict[str, Any]) -> str:
        body = {"anonymous_user_id": analytic_id, "user_id": user_id, "log_user": True, "parameters": traits}
        return self.post("/v3/identify", body)["analytic_user_id"]

    def track(self, analytic_id: str, events: list[dict[str, Any]]) -> None:
        self.post("/v3/track", {"user_id": analytic_id, "events": events})

    def surveys(self, analytic_id: str, platform: str = "web") -> list[dict[str, Any]]:
        """The surveys the SDK would show this user (``GET /v3/survey``)."""
        return self.request("GET", "/v3/survey", params={"platform": platform, "user_id": analytic_id})

    def submit_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A user's answers to a survey (``POST /v3/response``)."""
        return self.post("/v3/response", response)


def _delivery_error(path: str, response: requests.Response, attempts: int) -> DeliveryError:
    try:
        body = response.json()
        error, message = body.get("error"), body.get("message") or response.reason
    except ValueError:
        error, message = None, response.text[:200]
    return DeliveryError(response.status_code, error, f"{path}: HTTP {response.status_code} {message}", attempts)
