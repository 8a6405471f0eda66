"""The two 1Flow actions and Segment's payload validation. Fields after
segmentio/action-destinations packages/browser-destinations/destinations/1flow/src/{trackEvent,
identifyUser}/index.ts; the checks after packages/core (remove-empty-values.ts, schema-validation.ts:
Ajv with coerceTypes 'array' and removeAdditional) and the wording of @segment/ajv-human-errors
(its tests: "The root value is missing the required field 'foo'.", "The value at /b must be a
string but it was a number.")."""

from __future__ import annotations

import pytest

from mock_1flow.destination.actions import ACTIONS, IDENTIFY, TRACK, validate_payload
from mock_1flow.destination.errors import PayloadValidationError


def test_the_real_field_keys():
    track, identify = ACTIONS[TRACK], ACTIONS[IDENTIFY]
    assert list(track.fields) == ["event_name", "userId", "anonymousId", "properties"]
    assert list(identify.fields) == ["userId", "traits"]
    assert (track.title, track.default_subscription) == ("Track Event", 'type = "track"')
    assert (identify.title, identify.default_subscription) == ("Identify User", 'type = "identify"')
    event_name = track.fields["event_name"]
    assert (event_name.label, event_name.type, event_name.required, event_name.default) == (
        "Event Name", "string", True, {"@path": "$.event"})
    assert [f.required for f in track.fields.values()] == [True, False, False, False]
    assert track.fields["properties"].type == identify.fields["traits"].type == "object"
    assert identify.fields["traits"].default_object_ui == "keyvalue"
    assert track.defaults() == {"event_name": {"@path": "$.event"}, "userId": {"@path": "$.userId"},
                                "anonymousId": {"@path": "$.anonymousId"}, "properties": {"@path": "$.properties"}}
    assert identify.defaults() == {"userId": {"@path": "$.userId"}, "traits": {"@path": "$.traits"}}


def test_a_valid_payload_passes_unchanged():
    payload = {"event_name": "Order Completed", "userId": "u", "anonymousId": "a", "properties": {"x": None}}
    assert validate_payload(TRACK, payload) == payload


@pytest.mark.parametrize("value", [None, "", "MISSING"])
def test_required_field_missing_null_or_empty(value):
    payload = {"userId": "u"} if value == "MISSING" else {"event_name": value, "userId": "u"}
    with pytest.raises(PayloadValidationError) as error:
        validate_payload(TRACK, payload)
    assert str(error.value) == "The root value is missing the required field 'event_name'."
    assert error.value.retryable is False


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"event_name": {"a": 1}}, "The value at /event_name must be a string but it was an object."),
        ({"event_name": ["a", "b"]}, "The value at /event_name must be a string but it was an array."),
        ({"event_name": "x", "properties": "oops"}, "The value at /properties must be an object but it was a string."),
        ({"event_name": "x", "properties": [1]}, "The value at /properties must be an object but it was an array."),
        ({"event_name": "x", "properties": 5}, "The value at /properties must be an object but it was a number."),
        ({"properties": True}, ("The root value is missing the required field 'event_name'. "
                                "The value at /properties must be an object but it was a boolean.")),
    ],
)
def test_wrong_types_in_segments_wording(payload, message):
    with pytest.raises(PayloadValidationError) as error:
        validate_payload(TRACK, payload)
    assert str(error.value) == message


def test_identify_traits_must_be_an_object():
    with pytest.raises(PayloadValidationError, match=r"^The value at /traits must be an object but it was a string\.$"):
        validate_payload(IDENTIFY, {"userId": "u", "traits": "x"})


def test_coercion_empty_values_and_unknown_keys():
    # Ajv coerceTypes 'array': scalars become strings, a one-item array stands for its item;
    # removeEmptyValues drops "" and null at the root; removeAdditional drops unknown keys.
    assert validate_payload(TRACK, {"event_name": 42, "userId": True, "anonymousId": ["a"], "properties": None,
                                    "extra": 1}) == {"event_name": "42", "userId": "true", "anonymousId": "a"}
    assert validate_payload(TRACK, {"event_name": 1.0, "userId": "", "anonymousId": None}) == {"event_name": "1"}
    assert validate_payload(IDENTIFY, {"userId": 7, "traits": {"plan": ""}}) == {"userId": "7", "traits": {"plan": ""}}
    assert validate_payload(IDENTIFY, {}) == {}
