"""Segment's presets for the 1Flow (Actions) destination, and the payload checks Segment's
cloud runtime applies to them.

Track Event (``type = "track"``) and Identify User (``type = "identify"``); screens and
pages become track events named ``screen_<name>`` / ``page_<name>`` (``screen_view`` /
``page_view`` when nameless), as the 1Flow mobile plugin and the classic destination do.
"""

from __future__ import annotations

from typing import Any

from .errors import PayloadValidationError

TRACK, IDENTIFY = "trackEvent", "identifyUser"
JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}


def _json_type(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def action_for(event: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The preset action and its payload for ``event``; None when no preset subscribes."""
    kind = event.get("type")
    ids = {k: event[k] for k in ("userId", "anonymousId") if event.get(k) is not None}
    if kind == "track":
        payload = {"event_name": event.get("event"), **ids}
        if "properties" in event:
            payload["properties"] = event["properties"]
        return TRACK, {k: v for k, v in payload.items() if v is not None}
    if kind in ("screen", "page"):
        name = event.get("name")
        payload = {"event_name": f"{kind}_{name}" if name else f"{kind}_view", **ids}
        if "properties" in event:
            payload["properties"] = event["properties"]
        return TRACK, payload
    if kind == "identify":
        payload = dict(ids)
        if "traits" in event:
            payload["traits"] = event["traits"]
        return IDENTIFY, payload
    return None


def validate(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Segment's required-field and type checks, with Segment's wording."""
    if action == TRACK:
        name = payload.get("event_name")
        if name is None or name == "":
            raise PayloadValidationError("The root value is missing the required field 'event_name'.")
        if not isinstance(name, str):
            raise PayloadValidationError(f"The value at /event_name must be string but it was {_json_type(name)}.")
    for field, expected in (("properties", dict), ("traits", dict), ("userId", str), ("anonymousId", str)):
        if field in payload and not isinstance(payload[field], expected):
            raise PayloadValidationError(
                f"The value at /{field} must be {JSON_TYPES[expected]} but it was {_json_type(payload[field])}."
            )
    return payload
