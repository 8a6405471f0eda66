"""The 1Flow destination's two actions as data, mirroring Segment's definition in
segmentio/action-destinations ``packages/browser-destinations/destinations/1flow/src``
(``trackEvent/index.ts``, ``identifyUser/index.ts``), and the payload check Segment's
runtime applies before an action runs (core ``destination-kit/action.ts``:
``removeEmptyValues`` then ``validateSchema`` with Ajv, worded by ``@segment/ajv-human-errors``).

An invalid payload raises :class:`PayloadValidationError`; such events are never retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Any

from .errors import PayloadValidationError
from .mapping.jsvalues import UNDEFINED, is_number, js_string

TRACK, IDENTIFY = "trackEvent", "identifyUser"


@dataclass(frozen=True)
class Field:
    """An action field (Segment's ``InputField``); ``default`` is a mapping-kit directive."""

    label: str
    description: str
    type: str  # Segment's FieldTypeName: string, text, password, number, integer, boolean, object, datetime
    required: bool = False
    default: Any = UNDEFINED
    allow_null: bool = False
    multiple: bool = False
    default_object_ui: str | None = None

    def json_types(self) -> list[str]:
        """fields-to-jsonschema.ts ``toJsonSchemaType`` (plus ``null`` when allowNull)."""
        types = {"text": ["string"], "password": ["string"], "datetime": ["string", "number"]}.get(self.type, [self.type])
        return types + ["null"] if self.allow_null else types


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    description: str
    default_subscription: str
    fields: dict[str, Field] = dataclass_field(default_factory=dict)
    platform: str = "web"

    def defaults(self) -> dict[str, Any]:
        """``defaultValues(fields)``: the mapping Segment's presets use for this action."""
        return {key: f.default for key, f in self.fields.items() if f.default is not UNDEFINED}


USER_ID = Field("User ID", "A unique identifier for the user.", "string", default={"@path": "$.userId"})

ACTIONS: dict[str, Action] = {
    TRACK: Action(TRACK, "Track Event", "Submit an event to 1Flow.", 'type = "track"', {
        "event_name": Field("Event Name", "The name of the event.", "string", required=True, default={"@path": "$.event"}),
        "userId": USER_ID,
        "anonymousId": Field("Anonymous ID", "An anonymous identifier for the user.", "string",
                             default={"@path": "$.anonymousId"}),
        "properties": Field("Event Properties", "Information associated with the event", "object",
                            default={"@path": "$.properties"}),
    }),
    IDENTIFY: Action(IDENTIFY, "Identify User", "Create or update a user in 1Flow.", 'type = "identify"', {
        "userId": USER_ID,
        "traits": Field("Custom Attributes", "The user's custom attributes.", "object",
                        default={"@path": "$.traits"}, default_object_ui="keyvalue"),
    }),
}


# --- Segment's payload validation ----------------------------------------------------------


def _with_article(name: str) -> str:
    return name if name == "null" else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _expected(types: list[str]) -> str:
    """ajv-human-errors: "a string", "an object", "a number or string"."""
    words = [_with_article(types[0])] + types[1:]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f"{',' if len(words) > 2 else ''} or {words[-1]}"


def _matches(value: Any, json_type: str) -> bool:
    if json_type == "integer":
        return is_number(value) and float(value).is_integer()
    return _json_type(value) == json_type


def _coerce(value: Any, types: list[str]) -> Any:
    """Ajv's ``coerceTypes: 'array'``: a one-item array stands for its item, and scalars
    convert to the wanted scalar type (5 -> "5", "5" -> 5, "true" -> true); UNDEFINED if not."""
    if any(_matches(value, t) for t in types):
        return value
    if isinstance(value, list) and len(value) == 1 and any(t not in ("object", "array") for t in types):
        value = value[0]
        if any(_matches(value, t) for t in types):
            return value
    for target in types:
        if target == "string" and (is_number(value) or isinstance(value, bool) or value is None):
            return "" if value is None else js_string(value)
        if target in ("number", "integer"):
            if isinstance(value, bool) or value is None:
                return int(bool(value))
            if isinstance(value, str) and value:
                try:
                    number = float(value)
                except ValueError:
                    continue
                if target == "number" or number.is_integer():
                    return int(number) if number.is_integer() else number
        if target == "boolean" and value in ("true", 1, "false", 0, None):
            return value in ("true", 1)
        if target == "array" and not isinstance(value, (dict, list)):
            return [value]
    return UNDEFINED


def _remove_empty_values(payload: dict[str, Any], fields: dict[str, Field]) -> dict[str, Any]:
    """remove-empty-values.ts at the root: ``""`` goes, and ``null`` where the field does not
    allow it. So a required field mapped to ``""`` or ``null`` counts as missing."""
    cleaned = {}
    for key, value in payload.items():
        field = fields.get(key)
        if value == "" and isinstance(value, str):
            continue
        if value is None and field is not None and "null" not in field.json_types():
            continue
        if value is UNDEFINED:
            continue
        cleaned[key] = value
    return cleaned


def validate_payload(action_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as Segment's runtime hands it to the action: empty values removed, scalars
    coerced, unknown keys dropped (``removeAdditional``). Raises :class:`PayloadValidationError`
    with every problem in Ajv's order: missing required fields first, then wrong types."""
    if action_name not in ACTIONS:
        raise KeyError(f"unknown action {action_name!r} (known: {', '.join(ACTIONS)})")
    fields = ACTIONS[action_name].fields
    cleaned = _remove_empty_values(payload, fields)
    errors = [f"The root value is missing the required field '{key}'."
              for key, f in fields.items() if f.required and key not in cleaned]
    result: dict[str, Any] = {}
    for key, f in fields.items():
        if key not in cleaned:
            continue
        value = cleaned[key]
        types = ["array"] if f.multiple else f.json_types()
        coerced = _coerce(value, types)
        if coerced is UNDEFINED:
            errors.append(f"The value at /{key} must be {_expected(types)} but it was {_with_article(_json_type(value))}.")
        else:
            result[key] = coerced
    if errors:
        raise PayloadValidationError(" ".join(errors))
    return result
