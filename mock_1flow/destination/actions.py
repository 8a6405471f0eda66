"""The 1Flow destination's two actions as data (fields, types, required), and the payload
checks Segment's cloud runtime applies, with its wording. Invalid payloads are never retried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import PayloadValidationError

TRACK, IDENTIFY = "trackEvent", "identifyUser"
JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}


@dataclass(frozen=True)
class Field:
    type: str
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    fields: dict[str, Field]

    def defaults(self) -> dict[str, Any]:
        """The mapping Segment pre-fills for this action (its fields' default directives)."""
        return {key: field.default for key, field in self.fields.items() if field.default is not None}


ACTIONS = {
    TRACK: Action(TRACK, "Track Event", {
        "event_name": Field("string", required=True, default={"@path": "$.event"}),
        "userId": Field("string", default={"@path": "$.userId"}),
        "anonymousId": Field("string", default={"@path": "$.anonymousId"}),
        "properties": Field("object", default={"@path": "$.properties"}),
    }),
    IDENTIFY: Action(IDENTIFY, "Identify User", {
        "userId": Field("string", default={"@path": "$.userId"}),
        "anonymousId": Field("string", default={"@path": "$.anonymousId"}),
        "traits": Field("object", default={"@path": "$.traits"}),
    }),
}


def json_type(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def validate_payload(action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Required fields present (an empty string counts as missing) and types right."""
    action = ACTIONS[action_name]
    for key, field in action.fields.items():
        value = payload.get(key)
        if field.required and (value is None or value == ""):
            raise PayloadValidationError(f"The root value is missing the required field '{key}'.")
        if key in payload and value is not None and json_type(value) != field.type:
            raise PayloadValidationError(f"The value at /{key} must be {field.type} but it was {json_type(value)}.")
    return payload
