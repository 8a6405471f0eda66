"""Delivery through 1Flow's public HTTP API (https://docs.1flow.ai/integrations/http-api), the
way a server-side forwarder sends: header ``api_key``, JSON, ``/v1/identify`` and ``/v1/track``
for single calls of at most 32 KB, ``/v1/batch`` for several events, at most 500 KB a request.

:class:`HttpApiClient` has the calls the destination makes of :class:`~.client.OneFlowClient`
(and its retry rules), so the destination runs unchanged over either API:

- ``add_user`` makes no request: this API knows users by their own id (Segment's userId, or
  the anonymousId before one is known), so the "analytic id" is that id;
- ``identify`` posts ``{user_id, traits}``; from then on the device's events go to the userId;
- ``track`` turns the SDK-shaped events into track calls (``timestamp`` ISO-8601 from the
  event's time, ``message_id`` = the event's stable ``_id``, so a resend is deduplicated) and
  sends one call to ``/v1/track`` when it fits 32 KB, else one ``/v1/batch``;
- ``batch_fits`` tells the destination when a user's queue would pass 500 KB as a batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import wire
from .client import OneFlowClient
from .settings import DEFAULT_URL as SDK_DEFAULT_URL
from .settings import Settings

DEFAULT_HTTP_API_URL = "https://api.1flow.app/v1"
KEY_HEADER = "api_key"
STANDARD_LIMIT = 32 * 1024  # "a maximum of 32KB per standard API request"
BATCH_LIMIT = 500 * 1024  # "The batch API endpoint accepts a maximum of 500KB per request"
PREFIX = "/v1"


def http_api_base(settings: Settings) -> str:
    """Where ``/identify``, ``/track``, ``/batch`` are appended. The rule of :class:`Settings`'
    ``url``: one ending in ``/v1`` is the API base (host form, e.g. ``https://api.1flow.app/v1``);
    any other is a server root and gets ``/{region}/v1`` (the mock's path form). The SDK API's
    default host stands for this API's real one."""
    url = settings.url.rstrip("/")
    if url == SDK_DEFAULT_URL:
        return DEFAULT_HTTP_API_URL
    return url if url.endswith(PREFIX) else f"{url}/{settings.region}{PREFIX}"


def iso_timestamp(epoch_seconds: int) -> str:
    """The page's ISO-8601 date string (UTC, ``Z``) for the SDK event's epoch seconds."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identify_body(user_id: str, traits: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/identify``: ``{user_id, traits}``; the timestamp defaults to the time of receipt."""
    return {"user_id": user_id, "traits": traits}


def track_body(user_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """One SDK-shaped event (:func:`.wire.track_event`) as a ``/v1/track`` call."""
    return {"user_id": user_id, "event": event["name"], "properties": event.get("parameters") or {},
            "timestamp": iso_timestamp(event["time"]), "message_id": event["_id"]}


def batch_body(user_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """``POST /v1/batch``: the events as track items."""
    return {"batch": [{"type": "track", **track_body(user_id, event)} for event in events]}


def item_growth(user_id: str) -> int:
    """The most a batch item of ``user_id`` can exceed the SDK event it came from, in encoded
    bytes (the SDK event's time is at least one digit; the ISO timestamp is always 20 characters)."""
    sample = {"name": "", "time": 0, "parameters": {}, "plt": "w", "_id": "0" * 24}
    return len(wire.encode({"type": "track", **track_body(user_id, sample)})) - len(wire.encode(sample))


class HttpApiClient(OneFlowClient):
    """A 1Flow project's public HTTP API, with :class:`OneFlowClient`'s retry rules."""

    key_header = KEY_HEADER

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(settings, **options)
        self.base = http_api_base(settings)
        self._growth: dict[str, int] = {}

    def add_user(self, device_id: str, context: dict[str, Any]) -> str:
        """No request: users are known by their own id here."""
        return device_id

    def identify(self, analytic_id: str, user_id: str, traits: dict[str, Any]) -> str:
        """``/v1/identify``; returns ``user_id``, the id the device's later events go to."""
        self.post("/identify", identify_body(user_id, traits))
        return user_id

    def track(self, analytic_id: str, events: list[dict[str, Any]]) -> None:
        """One ``/v1/track`` when a single event fits 32 KB, else one ``/v1/batch``."""
        if len(events) == 1:
            single = track_body(analytic_id, events[0])
            if len(wire.encode(single)) <= STANDARD_LIMIT:
                self.post("/track", single)
                return
        self.post("/batch", batch_body(analytic_id, events))

    def batch_fits(self, analytic_id: str, event_sizes: list[int]) -> bool:
        """Whether events of these encoded SDK sizes fit one ``/v1/batch`` (500 KB)."""
        growth = self._growth.get(analytic_id)
        if growth is None:
            growth = self._growth[analytic_id] = item_growth(analytic_id)
        envelope = len(wire.encode({"batch": []}))
        return envelope + sum(event_sizes) + growth * len(event_sizes) + max(len(event_sizes) - 1, 0) <= BATCH_LIMIT


def client_for(settings: Settings, **options: Any) -> OneFlowClient:
    """The client of the API ``settings.api`` names: the SDK API's, or this one's."""
    return (HttpApiClient if settings.api == "http" else OneFlowClient)(settings, **options)
