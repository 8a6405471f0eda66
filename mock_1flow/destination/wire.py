"""Pure mapping from action payloads to 1Flow request bodies, the way the 1Flow SDKs send them.

No I/O here, so every body the destination can build is testable (and checkable against
``openapi.yaml``) without a server.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from datetime import UTC, datetime
from typing import Any

import orjson

# What /v3/user accepts of a device context, by the JSON type the spec gives each field.
CONTEXT_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "app": {"version": (str,), "build": (str,)},
    "device": {"manufacturer": (str,), "model": (str,)},
    "library": {"version": (str,), "name": (str,)},
    "network": {"carrier": (str,), "wifi": (bool,)},
    "os": {"name": (str,), "version": (str,)},
    "screen": {"width": (int, float), "height": (int, float), "type": (str,)},
}
IOS_NAMES = ("ios", "ipados")


def encode(body: Any) -> bytes:
    """A request body as sent: compact UTF-8 JSON (the mock's choice: Android's Gson writes
    compact JSON, the iOS SDK pretty-prints; 1Flow parses both). What orjson refuses
    (integers beyond 64 bits, lone surrogates) goes through the stdlib encoder."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def object_id(message_id: str) -> str:
    """A 24-hex ``_id`` derived from Segment's messageId, so a retry or a replay carries the
    same id and 1Flow (and the mock) can deduplicate it."""
    return hashlib.sha1(message_id.encode("utf-8")).hexdigest()[:24]


def message_id(event: dict[str, Any]) -> str:
    """Segment's messageId; for an event without one, a hash of the event, so it is still stable."""
    mid = event.get("messageId")
    if isinstance(mid, str) and mid:
        return mid
    try:
        encoded = orjson.dumps(event, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # integers beyond 64 bits, nesting beyond orjson's limit
        encoded = repr(event).encode("utf-8", "surrogatepass")
    return hashlib.sha1(encoded).hexdigest()


def platform(event: dict[str, Any]) -> str:
    """``i`` iOS, ``a`` Android, ``w`` anything else (our choice for web; 1Flow's is not public)."""
    context = event.get("context")
    os_info = context.get("os") if isinstance(context, dict) else None
    if not isinstance(os_info, dict):
        return "w"
    os_name = str(os_info.get("name") or "").lower()
    if os_name in IOS_NAMES:
        return "i"
    if os_name == "android":
        return "a"
    return "w"


def epoch_seconds(timestamp: Any, now: datetime | None = None) -> int:
    """Epoch seconds of Segment's ISO-8601 timestamp (a zone-less one is UTC, as Segment
    reads it); a missing or unreadable one is ``now``, as Segment stamps events on receipt."""
    if isinstance(timestamp, str) and timestamp:
        seconds = _timestamp_seconds(timestamp)
        if seconds is not None:
            return seconds
    if now is None:
        return max(0, int(time.time()))  # what datetime.now(UTC).timestamp() gives, at a tenth of the cost
    return _seconds(now)


@functools.lru_cache(maxsize=4096)
def _timestamp_seconds(timestamp: str) -> int | None:
    """:func:`epoch_seconds` of a timestamp string, None when unreadable; remembered, since a
    batch's events (and a retried batch) often share their timestamps."""
    try:
        moment = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return None
    return _seconds(moment)


def _seconds(moment: datetime) -> int:
    """Whole epoch seconds of ``moment`` (zone-less: UTC), 0 for one out of range."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return max(0, int(moment.timestamp()))
    except (OverflowError, OSError, ValueError):
        return 0


def _fits(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int to Python, not a number to JSON Schema
        return bool in kinds
    if isinstance(value, (int, float)):
        return float in kinds and value >= 0 and not math.isnan(value)
    return isinstance(value, kinds)


def device_context(event: dict[str, Any]) -> dict[str, Any]:
    """The SDK's device context from Segment's ``context``: only the keys 1Flow takes, and a
    field of the wrong type (an ``os.version`` sent as a number, say) is left out rather
    than rejected, since the event itself is fine."""
    context = event.get("context") if isinstance(event.get("context"), dict) else {}
    result: dict[str, Any] = {}
    for section, fields in CONTEXT_FIELDS.items():
        source = context.get(section)
        if not isinstance(source, dict):
            continue
        picked = {name: source[name] for name, kinds in fields.items() if _fits(source.get(name), kinds)}
        if picked:
            result[section] = picked
    return result


def user_body(device_id: str, context: dict[str, Any]) -> dict[str, Any]:
    """``POST /v3/user``: register a device. ``context`` is left out when empty: the mock's
    choice (both SDKs always send it, FIDELITY-FINDINGS A16; the committed Pact contract
    for addUser has no context, so changing it is the contracts' decision)."""
    body: dict[str, Any] = {"user_id": device_id}
    if context:
        body["context"] = context
    return body


def identify_body(analytic_id: str, user_id: str, traits: dict[str, Any]) -> dict[str, Any]:
    """``POST /v3/identify`` (the SDKs' ``logUser``): traits become 1Flow's ``parameters``."""
    return {"anonymous_user_id": analytic_id, "user_id": user_id, "log_user": True, "parameters": traits}


def track_event(name: str, parameters: dict[str, Any], event: dict[str, Any], action_key: str | None = None,
                plt: str | None = None, mid: str | None = None) -> dict[str, Any]:
    """One entry of ``/v3/track``'s ``events``: the SDK call's name and parameters; time,
    platform and ``_id`` from the Segment event (``plt`` if the profile fixes it). ``action_key``
    tells apart a second track action on the same event (its own, still stable, ``_id``);
    ``mid``: the event's :func:`message_id` when the caller has it already."""
    if mid is None:
        mid = message_id(event)
    return {
        "name": name,
        "time": epoch_seconds(event.get("timestamp") or event.get("originalTimestamp")),
        "parameters": parameters,
        "plt": plt or platform(event),
        "_id": object_id(mid if action_key is None else f"{mid}\x00{action_key}"),
    }


def track_body(analytic_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """``POST /v3/track``: a batch of one user's events."""
    return {"user_id": analytic_id, "events": events}
