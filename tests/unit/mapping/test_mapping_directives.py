"""mapping-kit directives, after the examples of Segment's mapping-kit README and tests
(segmentio/action-destinations packages/core/src/mapping-kit)."""

from __future__ import annotations

import pytest

from mock_1flow.destination.mapping import MappingError, resolve, validate_mapping

PAYLOAD = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u-1",
    "a": None,
    "zero": 0,
    "properties": {"total": 10.5, "products": [{"id": 1, "sku": "A"}, {"id": 2, "sku": "B"}], "title": "Hello World"},
    "traits": {"name": "Ada", "nested": {"x": {"y": 1}}},
    "context": {"page": {"url": "https://example.com/a?b=c"}},
}


@pytest.mark.parametrize(
    "mapping, expected",
    [
        ({"@path": "$.event"}, "Order Completed"),
        ({"@path": "$.properties.products[1].sku"}, "B"),
        ({"@path": "$.traits.nested"}, {"x": {"y": 1}}),
        ({"@template": "Hello {{traits.name}}"}, "Hello Ada"),
        ({"@template": "[{{traits.missing}}]"}, "[]"),
        ({"@literal": {"@path": "$.event"}}, {"@path": "$.event"}),
        ({"@if": {"exists": {"@path": "$.userId"}, "then": "yes", "else": "no"}}, "yes"),
        ({"@if": {"exists": {"@path": "$.nope"}, "then": "yes", "else": "no"}}, "no"),
        ({"@if": {"blank": {"@path": "$.a"}, "then": "blank", "else": "set"}}, "blank"),
        ({"@case": {"operator": "upper", "value": {"@path": "$.traits.name"}}}, "ADA"),
        ({"@case": {"operator": "lower", "value": {"@path": "$.properties.total"}}}, 10.5),
        ({"@replace": {"pattern": " ", "replacement": "_", "value": {"@path": "$.properties.title"}}}, "Hello_World"),
        ({"@replace": {"pattern": "o", "replacement": "0", "global": False, "value": "foo"}}, "f0o"),
        ({"@replace": {"pattern": "HELLO", "replacement": "Bye", "ignorecase": True, "value": "hello you"}}, "Bye you"),
        ({"@replace": {"pattern": "a", "replacement": "b", "pattern2": "b", "replacement2": "c", "value": "ab"}}, "cc"),
        ({"@arrayPath": ["$.properties.products", {"productId": {"@path": "$.id"}}]}, [{"productId": 1}, {"productId": 2}]),
        ({"@arrayPath": ["$.traits", {"n": {"@path": "$.name"}}]}, [{"n": "Ada"}]),
        ({"@json": {"mode": "encode", "value": {"@path": "$.traits.nested"}}}, '{"x":{"y":1}}'),
        ({"@json": {"mode": "decode", "value": '{"a": [1]}'}}, {"a": [1]}),
        ({"@flatten": {"value": {"@path": "$.traits"}, "separator": "."}}, {"name": "Ada", "nested.x.y": 1}),
        ({"@merge": {"objects": [{"a": 1, "b": 1}, {"b": 2}], "direction": "right"}}, {"a": 1, "b": 2}),
        ({"@merge": {"objects": [{"a": 1, "b": 1}, {"b": 2}], "direction": "left"}}, {"a": 1, "b": 1}),
    ],
)
def test_directives(mapping, expected):
    validate_mapping(mapping, "m")
    assert resolve(mapping, PAYLOAD) == expected


def test_a_falsy_intermediate_is_returned_as_is():
    assert resolve({"v": {"@path": "$.a.b"}}, PAYLOAD) == {"v": None}
    assert resolve({"v": {"@path": "$.zero.b"}}, PAYLOAD) == {"v": 0}


def test_undefined_drops_the_key_and_null_is_kept():
    mapping = {"missing": {"@path": "$.nope"}, "null": {"@path": "$.a"}, "literal": 1}
    assert resolve(mapping, PAYLOAD) == {"null": None, "literal": 1}


def test_exclude_when_null():
    mapping = {"gone": {"@excludeWhenNull": {"@path": "$.a"}}, "kept": {"@excludeWhenNull": {"@path": "$.userId"}}}
    assert resolve(mapping, PAYLOAD) == {"kept": "u-1"}


def test_nested_objects_resolve_member_by_member():
    mapping = {"user": {"id": {"@path": "$.userId"}, "name": {"@template": "{{traits.name}}!"}}}
    assert resolve(mapping, PAYLOAD) == {"user": {"id": "u-1", "name": "Ada!"}}


@pytest.mark.parametrize(
    "mapping, words",
    [
        ({"@nope": "$.a"}, ["unknown directive @nope"]),
        ({"@path": "$.a", "other": 1}, ["mixed with other keys"]),
        ({"@path": 5}, ["@path takes a string"]),
        ({"@case": {"operator": "title", "value": "x"}}, ["@case"]),
        ({"@if": {"then": 1}}, ["exactly one of 'exists' or 'blank'"]),
        ({"x": {"y": {"@json": {"mode": "zip"}}}}, ["m.x.y", "@json"]),
    ],
)
def test_bad_directives_are_refused_at_load(mapping, words):
    with pytest.raises(MappingError) as error:
        validate_mapping(mapping, "m")
    for word in words:
        assert word in str(error.value)
