"""Pure mapping from action payloads to 1Flow request bodies, the way the 1Flow SDKs send them."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
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


def object_id(message_id: str) -> str:
    """A 24-hex ``_id`` derived from Segment's messageId, so a retry carries the same id."""
    return hashlib.sha1(message_id.encode("utf-8")).hexdigest()[:24]


def platform(event: dict[str, Any]) -> str:
    """``i`` iOS, ``a`` Android, ``w`` anything else (our choice for web; not public)."""
    os_name = str(((event.get("context") or {}).get("os") or {}).get("name") or "").lower()
    if os_name in ("ios", "ipados"):
        return "i"
    if os_name == "android":
        return "a"
    return "w"


def epoch_seconds(timestamp: Any) -> int:
    if isinstance(timestamp, str) and timestamp:
        try:
            return max(0, int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()))
        except ValueError:
            pass
    return int(datetime.now(timezone.utc).timestamp())


def _fits(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int to Python, not a number to JSON Schema
        return bool in kinds
    if isinstance(value, (int, float)):
        return any(kind in (int, float) for kind in kinds) and value >= 0
    return isinstance(value, kinds)


def device_context(event: dict[str, Any]) -> dict[str, Any]:
    """The SDK's device context from Segment's ``context``; fields of the wrong type are left out."""
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


def message_id(event: dict[str, Any]) -> str:
    mid = event.get("messageId")
    return mid if isinstance(mid, str) and mid else hashlib.sha1(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()


def track_event(payload: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """A trackEvent payload -> one entry of ``/v3/track``'s ``events``."""
    return {
        "name": payload["event_name"],
        "time": epoch_seconds(event.get("timestamp") or event.get("originalTimestamp")),
        "parameters": payload.get("properties") or {},
        "plt": platform(event),
        "_id": object_id(message_id(event)),
    }
