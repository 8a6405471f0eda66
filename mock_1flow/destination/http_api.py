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
  sends one call to ``/v1/track`` when it fits 32 KB, else a device's queue as ``/v1/batch``
  requests cut at 500 KB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import wire
from .client import OneFlowClient, Steps, default_transport
from .errors import DeliveryError
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


def batches(user_id: str, events: list[dict[str, Any]], limit: int = BATCH_LIMIT) -> list[list[dict[str, Any]]]:
    """The events as track items, cut into as few ``/v1/batch`` bodies as fit ``limit`` bytes each
    (exact encoded sizes; an item too big alone still gets a batch of its own, which 1Flow refuses)."""
    envelope = len(wire.encode({"batch": []}))
    chunks: list[list[dict[str, Any]]] = []
    size = 0
    for event in events:
        item = {"type": "track", **track_body(user_id, event)}
        grown = len(wire.encode(item)) + 1  # its comma, or the one byte of slack the first item leaves
        if not chunks or size + grown > limit:
            chunks.append([])
            size = envelope - 1
        chunks[-1].append(item)
        size += grown
    return chunks


class HttpApiClient(OneFlowClient):
    """A 1Flow project's public HTTP API, with :class:`OneFlowClient`'s retry policy."""

    key_header = KEY_HEADER

    def __init__(self, settings: Settings, session: Any = None, pool_size: int = 10, **options: Any) -> None:
        super().__init__(settings, session=session, pool_size=pool_size, **options)
        self.base = http_api_base(settings)
        if session is None:  # the pool is per host, and this API's host may not be the SDK API's
            self.transport = default_transport(self.base, pool_size)

    def add_user_steps(self, device_id: str, context: dict[str, Any]) -> Steps:
        """No request: users are known by their own id here."""
        return device_id
        yield  # a generator that sends nothing

    def identify_steps(self, analytic_id: str, user_id: str, traits: dict[str, Any]) -> Steps:
        """``/v1/identify``; returns ``user_id``, the id the device's later events go to."""
        yield from self.post_steps("/identify", identify_body(user_id, traits))
        return user_id

    def track_steps(self, analytic_id: str, events: list[dict[str, Any]]) -> Steps:
        """One ``/v1/track`` when a single event fits 32 KB, else ``/v1/batch`` requests of at most
        500 KB each, in order. When a later batch fails, the error says how many events the earlier
        ones delivered (the destination reports the whole queue failed; a resend of those is a
        duplicate by ``message_id``, not a second event)."""
        if len(events) == 1:
            single = track_body(analytic_id, events[0])
            if len(wire.encode(single)) <= STANDARD_LIMIT:
                yield from self.post_steps("/track", single)
                return
        delivered = 0
        for chunk in batches(analytic_id, events):
            try:
                yield from self.post_steps("/batch", {"batch": chunk})
            except DeliveryError as error:
                if delivered:
                    error.message += (f" ({delivered} of {len(events)} events were delivered by earlier batches; "
                                      "resending them is deduplicated by message_id)")
                raise
            delivered += len(chunk)


def client_for(settings: Settings, **options: Any) -> OneFlowClient:
    """The client of the API ``settings.api`` names: the SDK API's, or this one's."""
    return (HttpApiClient if settings.api == "http" else OneFlowClient)(settings, **options)


def delivery_base(settings: Settings) -> str:
    """The base URL the destination sends to, for either API (what ``send`` probes)."""
    return http_api_base(settings) if settings.api == "http" else settings.api_base
