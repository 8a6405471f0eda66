"""mapping-kit directives, mirroring Segment's own examples:
segmentio/action-destinations packages/core/src/mapping-kit/__tests__/index.test.ts (IT)
and packages/core/src/mapping-kit/schema-fixtures/directives/@*.json (FX)."""

from __future__ import annotations

import pytest

from mock_1flow.destination.mapping import UNDEFINED, MappingError, resolve, validate_mapping
from mock_1flow.destination.mapping.directives import render, transform
from mock_1flow.destination.mapping.jsvalues import js_json_stringify, js_number_to_string

IF_DATA = {"a": 1, "b": True, "c": False, "d": None, "e": ""}
CASE_DATA = {"a": 1, "b": "MAKE ME LOWER CASE", "c": "make me upper case", "d": None, "e": "", "f": False,
             "g": "mIXeD StRinG CasING W/ NuMBErs 190wdB", "h": {"key1": "with values", "key2": ["hi", True, None]}}
PRODUCTS = {"products": [{"productId": "123", "price": 0.5}, {"productId": "456", "price": 0.99}]}
SHAPE = {"product_id": {"@path": "$.productId"}, "monies": {"@path": "$.price"}}


def replace(**opts):
    return {"@replace": {**opts, "value": {"@path": "$.a"}}}


CASES = [
    # IT "no-op", "@literal"
    ({}, {"cool": False}, {}),
    ({"cool": True}, {}, {"cool": True}),
    ({"simple": {"@literal": False}}, {}, {"simple": False}),
    ({"nested": {"@literal": {"a": {"@path": "$.a"}, "b": {"@path": "$.b"}}}}, {"a": "some value"},
     {"nested": {"a": "some value"}}),  # Segment's @literal resolves directives inside it
    # IT/FX "@if" exists and blank (blank: the condition holds when the value is NOT blank)
    ({"@if": {"exists": {"@path": "$.a"}, "then": 1, "else": 2}}, IF_DATA, 1),
    ({"@if": {"exists": {"@path": "$.d"}, "then": 1, "else": 2}}, IF_DATA, 2),
    ({"@if": {"exists": {"@path": "$.x"}, "then": 1, "else": 2}}, IF_DATA, 2),
    ({"@if": {"exists": {"@path": "$.e"}, "then": 1, "else": 2}}, IF_DATA, 1),
    ({"@if": {"blank": {"@path": "$.a"}, "then": 1, "else": 2}}, IF_DATA, 1),
    ({"@if": {"blank": {"@path": "$.d"}, "then": 1, "else": 2}}, IF_DATA, 2),
    ({"@if": {"blank": {"@path": "$.x"}, "then": 1, "else": 2}}, IF_DATA, 2),
    ({"@if": {"blank": {"@path": "$.e"}, "then": 1, "else": 2}}, IF_DATA, 2),
    # mapping-kit README: a missing branch leaves the field out
    ({"foo-exists": {"@if": {"exists": {"@path": "$.foo"}, "then": True}}}, {"a": "cool"}, {}),
    ({"a": {"@if": {"exists": {"@path": "$.oops"}, "then": {"@path": "$.a"}}}}, {"a": "cool"}, {}),
    # index.ts quirk: a falsy raw "else" (0, "", false, null) is ignored
    ({"x": {"@if": {"exists": {"@path": "$.nope"}, "then": 1, "else": 0}}}, {}, {}),
    # IT/FX "@case"
    ({"@case": {"operator": "lower", "value": {"@path": "$.b"}}}, CASE_DATA, "make me lower case"),
    ({"@case": {"operator": "upper", "value": {"@path": "$.c"}}}, CASE_DATA, "MAKE ME UPPER CASE"),
    ({"@case": {"operator": "lower", "value": {"@path": "$.e"}}}, CASE_DATA, ""),
    ({"@case": {"operator": "lower", "value": {"@path": "$.g"}}}, CASE_DATA, "mixed string casing w/ numbers 190wdb"),
    ({"@case": {"operator": "upper", "value": {"@path": "$.g"}}}, CASE_DATA, "MIXED STRING CASING W/ NUMBERS 190WDB"),
    ({"@case": {"operator": "lower", "value": {"@path": "$.a"}}}, CASE_DATA, 1),
    ({"@case": {"operator": "lower", "value": {"@path": "$.d"}}}, CASE_DATA, None),
    ({"@case": {"operator": "lower", "value": {"@path": "$.f"}}}, CASE_DATA, False),
    ({"@case": {"operator": "lower", "value": {"@path": "$.h"}}}, CASE_DATA, CASE_DATA["h"]),
    ({"neat": {"@case": {"operator": "lower", "value": {"@path": "$.dont_exist"}}}}, CASE_DATA, {}),
    # IT "@arrayPath"
    ({"neat": {"@arrayPath": ["$.products"]}}, PRODUCTS, {"neat": PRODUCTS["products"]}),
    ({"neat": {"@arrayPath": ["$.products", SHAPE]}}, PRODUCTS,
     {"neat": [{"product_id": "123", "monies": 0.5}, {"product_id": "456", "monies": 0.99}]}),
    ({"neat": {"@arrayPath": [{"@if": {"exists": {"@path": "$.products"}, "then": {"@path": "$.products"}, "else": []}},
                              SHAPE]}}, PRODUCTS,
     {"neat": [{"product_id": "123", "monies": 0.5}, {"product_id": "456", "monies": 0.99}]}),
    ({"neat": {"@arrayPath": ["$.products", SHAPE]}}, {"products": {"notAnArray": True}}, {"neat": [{}]}),
    ({"neat": {"@arrayPath": ["$.properties", SHAPE]}}, {"properties": {"productId": "123", "price": 0.5}},
     {"neat": [{"product_id": "123", "monies": 0.5}]}),
    # IT/FX "@json"
    ({"neat": {"@json": {"mode": "encode", "value": {"@path": "$.foo"}}}}, {"foo": "bar"}, {"neat": '"bar"'}),
    ({"neat": {"@json": {"mode": "encode", "value": {"@path": "$.foo"}}}}, {"foo": {"bar": "baz"}}, {"neat": '{"bar":"baz"}'}),
    ({"neat": {"@json": {"mode": "encode", "value": {"@path": "$.foo"}}}}, {"foo": ["bar", "baz"]}, {"neat": '["bar","baz"]'}),
    ({"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}}, {"foo": '"bar"'}, {"neat": "bar"}),
    ({"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}}, {"foo": '{"bar":"baz"}'}, {"neat": {"bar": "baz"}}),
    ({"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}}, {"foo": '["bar","baz"]'}, {"neat": ["bar", "baz"]}),
    ({"neat": {"@json": {"mode": "encode", "value": {"@path": "$.bad"}}}}, {"foo": {"bar": "baz"}}, {}),
    ({"neat": {"@json": {"mode": "decode", "value": {"@path": "$.foo"}}}}, {"foo": 123}, {"neat": 123}),
    # IT/FX "@flatten"
    ({"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": "."}}}, {"foo": {"bar": "baz", "aces": {"a": 1, "b": 2}}},
     {"neat": {"bar": "baz", "aces.a": 1, "aces.b": 2}}),
    ({"result": {"@flatten": {"value": {"@path": "$.foo"}, "separator": "."}}}, {"foo": [{"fazz": "bar", "fizz": "baz"}]},
     {"result": {"0.fazz": "bar", "0.fizz": "baz"}}),
    ({"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": ".", "omitArrays": True}}},
     {"foo": {"bar": "baz", "aces": [1, 2]}}, {"neat": {"bar": "baz", "aces": [1, 2]}}),
    ({"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": "/"}}}, {"foo": {"a": {"b": {"c": 1}, "d": 2}}},
     {"neat": {"a/b/c": 1, "a/d": 2}}),
    ({"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": "."}}}, {"foo": {"a": [{"b": 1}, {"c": 2}]}},
     {"neat": {"a.0.b": 1, "a.1.c": 2}}),
    ({"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": ","}}}, {"bar": {}}, {"neat": {}}),
    # IT/FX "@path"
    ({"neat": {"@path": "$.foo"}}, {"foo": "bar"}, {"neat": "bar"}),
    ({"@path": ""}, {"foo": "bar"}, {"foo": "bar"}),
    ({"@path": "$."}, {"foo": "bar"}, {"foo": "bar"}),
    ({"neat": {"@path": "$.foo.bar"}}, {"foo": {"bar": "baz"}}, {"neat": "baz"}),
    ({"@path": {"@path": "$.foo"}}, {"foo": "bar", "bar": "baz"}, "baz"),
    ({"neat": {"@path": "$.oops"}}, {"foo": "bar"}, {}),
    ({"neat": {"@path": "$.integrations.Actions Amplitude.session_id"}},
     {"integrations": {"Actions Amplitude": {"session_id": "bar"}}}, {"neat": "bar"}),
    ({"neat": {"@path": "$.foo.bar.baz"}}, {"foo": "bar"}, {}),
    ({"@path": "$.foo.baz[0].num"}, {"foo": {"bar": 42, "baz": [{"num": 1}, {"num": 2}]}}, 1),  # README
    # get.ts quirk: a falsy intermediate value is returned as is
    ({"x": {"@path": "$.a.b"}}, {"a": None}, {"x": None}),
    ({"x": {"@path": "$.a.b.c"}}, {"a": 0}, {"x": 0}),
    ({"x": {"@path": "$.a.b"}}, {"a": ""}, {"x": ""}),
    ({"x": {"@path": "$.a.length"}}, {"a": "héllo"}, {"x": 5}),
    # IT "@template"
    ({"@template": "Hello, {{who}}!"}, {"who": "World"}, "Hello, World!"),
    ({"@template": "Hello, {{who.name}}!"}, {"who": {"name": "World"}}, "Hello, World!"),
    ({"@template": "<blink>{{a}} {{{a}}}</blink>"}, {"a": "<b>Hi</b>"}, "<blink><b>Hi</b> <b>Hi</b></blink>"),
    ({"@template": "{{oops.yo}}"}, {}, ""),
    ({"@template": "n={{n}} b={{b}} o={{o}} l={{l}}"}, {"n": 2.0, "b": True, "o": {"k": 1}, "l": [1, None, "x"]},
     "n=2 b=true o=[object Object] l=1,,x"),
    # IT/FX "@replace"
    (replace(pattern="_", replacement="rrrrr"), {"a": ""}, ""),
    (replace(pattern="_", replacement="rrrrr"), {"a": None}, ""),
    (replace(pattern="WW", replacement="oo", ignorecase=False), {"a": "cWWl-story-ww"}, "cool-story-ww"),
    (replace(pattern="AaB", replacement="nice", ignorecase=True), {"a": "aab-----AaB---aab"}, "nice-----nice---nice"),
    (replace(pattern="_", replacement="", ignorecase=False), {"a": "nomore_underscore"}, "nomoreunderscore"),
    (replace(pattern="_", replacement="weird"), {"a": "nomore_underscore"}, "nomoreweirdunderscore"),
    (replace(pattern="LOL", replacement="YAY"), {"a": "Well Hello there LOL"}, "Well Hello there YAY"),
    (replace(pattern="+", replacement="_", **{"global": True}), {"a": "many+different+things"}, "many_different_things"),
    (replace(pattern="+", replacement="_", **{"global": False}), {"a": "many+different+things"}, "many_different+things"),
    (replace(pattern="aaabbbcccd", replacement=""), {"a": "aaabbbcccd"}, ""),
    (replace(pattern="many+"), {"a": "many+different+things"}, "different+things"),
    (replace(pattern="true", replacement="granted"), {"a": True}, "granted"),
    (replace(pattern="1", replacement="granted"), {"a": 1}, "granted"),
    (replace(pattern="-", replacement=" ", pattern2="great", replacement2="awesome"), {"a": "something-great!"},
     "something awesome!"),
    (replace(pattern="true", replacement="granted", pattern2="false", replacement2="denied"), {"a": False}, "denied"),
    (replace(pattern="_", replacement="rrrrr"), {"a": "abcdefgh"}, "abcdefgh"),
    (replace(pattern="_", replacement="+", pattern2="", replacement2=""), {"a": "abc_defgh"}, "abc+defgh"),
    ({"neat": replace(pattern="_", replacement="+", pattern2="+", replacement2="r")}, {"b": "abc_defgh"}, {"neat": ""}),
    (replace(**{"global": True}, ignorecase=False, pattern='"', pattern2="\\", replacement="", replacement2=""),
     {"a": 'abc"def\\gh'}, "abcdefgh"),
    (replace(pattern=".", replacement="[$&]"), {"a": "a.b"}, "a[.]b"),  # JavaScript's replacement patterns
    # IT "remove undefined values in objects"
    ({"x": None}, {}, {"x": None}),
    ({"x": {}}, {}, {"x": {}}),
    ({"x": {"y": {"@path": "$.nope"}, "z": 1}, "foo": 1}, {}, {"x": {"z": 1}, "foo": 1}),
    ({"x": {"y": {"z": {"@path": "$.nope"}}}, "foo": 1}, {}, {"x": {"y": {}}, "foo": 1}),
    # IT/FX "@merge"
    ({"@merge": {"direction": "left", "objects": []}}, {}, {}),
    ({"@merge": {"direction": "right", "objects": [{"cool": True}]}}, {}, {"cool": True}),
    ({"@merge": {"direction": "right", "objects": [{"cool": True}, {"cool": "you bet"}]}}, {}, {"cool": "you bet"}),
    ({"@merge": {"direction": "right", "objects": [{"cool": True}, {"@path": "foo"}]}}, {"foo": {"bar": "baz"}},
     {"cool": True, "bar": "baz"}),
    ({"@merge": {"direction": "right", "objects": [{"cool": True, "hey": "there"}, {"@path": "foo"}]}},
     {"foo": {"bar": "baz", "hey": "you"}}, {"cool": True, "bar": "baz", "hey": "you"}),
    ({"@merge": {"direction": "left", "objects": [{"cool": True}, {"cool": "you bet"}]}}, {}, {"cool": True}),
    ({"@merge": {"direction": "left", "objects": [{"cool": True, "hey": "there"}, {"@path": "foo"}]}},
     {"foo": {"bar": "baz", "hey": "you"}}, {"cool": True, "bar": "baz", "hey": "there"}),
    ({"@merge": {"direction": "right", "objects": [{"@path": "$.hello"}, {"@path": "foo"}]}},
     {"foo": {"bar": "baz", "hey": "you"}}, {"bar": "baz", "hey": "you"}),
    # Object.assign: an undefined member of a later object overwrites, then disappears
    ({"@merge": {"direction": "right", "objects": [{"a": 1}, {"a": {"@path": "$.nope"}}]}}, {}, {}),
    # IT "@transform"
    ({"@transform": {"apply": {"foo": {"@path": "$.a"}}, "mapping": {"cool": {"@path": "$.foo"}}}}, {"a": 1, "b": 2},
     {"cool": 1}),
    ({"@transform": {"apply": {"properties": {"@flatten": {"value": {"@path": "$.properties"}, "separator": "_"}}},
                     "mapping": {"properties": {"@path": "$.properties"}, "topLevel": {"@path": "$.properties.nested_a"}}}},
     {"properties": {"test": "value", "nested": {"a": "special", "b": 2}}},
     {"properties": {"test": "value", "nested_a": "special", "nested_b": 2}, "topLevel": "special"}),
    # IT "@excludeWhenNull"
    ({"someFieldToExclude": {"@excludeWhenNull": {"@path": "$.foo.bar"}}}, {"foo": {"bar": None}}, {}),
    ({"someFieldToExclude": {"@excludeWhenNull": {"@path": "$.foo.bar"}}, "anotherField": {"@path": "$.foo.aces.a"}},
     {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}}, {"anotherField": 1}),
    ({"neat": {"@excludeWhenNull": {"@path": "$.foo"}}}, {"foo": {"bar": None, "aces": {"a": 1}}},
     {"neat": {"aces": {"a": 1}}}),  # actions-core 3.170.0 cleanNulls: nested nulls go too (golden corpus)
    ({"neat": {"@excludeWhenNull": {"@path": "$.foo.bar"}}}, {"foo": {"aces": {"a": 1}}}, {}),
]


@pytest.mark.parametrize("mapping, payload, expected", CASES)
def test_segment_examples(mapping, payload, expected):
    assert transform(mapping, payload) == expected


def test_exclude_when_null_composed_with_other_directives():
    # IT "@excludeWhenNull" / "composed with other directives", expected output included
    data = {"foo": {"bar": None, "aces": {"a": 1, "b": 2}}}
    mapping = {"massive": {
        "pathNull": {"@excludeWhenNull": {"@path": "$.foo.bar"}},
        "templateEmpty": {"@excludeWhenNull": {"@template": "{{foo.bar}}"}},
        "literalNull": {"@excludeWhenNull": {"@literal": None}},
        "ifNull": {"@excludeWhenNull": {"@if": {"exists": {"@path": "$.foo.foobar"}, "then": 1, "else": None}}},
        "caseNull": {"@excludeWhenNull": {"@case": {"operator": "upper", "value": {"@path": "$.foo.bar"}}}},
        "replaceNull": {"@excludeWhenNull": {"@replace": {"pattern": "-", "replacement": "nice", "value": {"@path": "$.foo.bar"}}}},
        "jsonNull": {"@excludeWhenNull": {"@json": {"mode": "decode", "value": {"@path": "$.foo.bar"}}}},
        "jsonNullEncode": {"@excludeWhenNull": {"@json": {"mode": "encode", "value": {"@path": "$.foo.bar"}}}},
        "transformValue": {"@excludeWhenNull": {"@transform": {"apply": {"properties": {"@path": "$.foo.bar"}},
                                                               "mapping": {"properties": {"@path": "$.properties"}}}}},
    }}
    assert transform(mapping, data) == {"massive": {"templateEmpty": "", "jsonNullEncode": "null", "replaceNull": "",
                                                    "transformValue": {}}}  # cleanNulls (3.170.0)


def test_undefined_results_and_null():
    # DESIGN: an undefined result drops the key; null is kept; a top-level undefined stays undefined
    assert resolve({"a": {"@path": "$.missing"}, "b": {"@path": "$.n"}}, {"n": None}) == {"b": None}
    assert resolve({"@path": "$.missing"}, {}) is UNDEFINED
    assert resolve([{"@path": "$.missing"}, 1], {}) == [None, 1]  # undefined array items serialise as null


@pytest.mark.parametrize(
    "mapping, words",
    [
        # IT "validations" / "invalid", and validate.ts messages
        ({"a": 1, "@field": "$.foo.bar"}, ["/ should only have one @-prefixed key but it has 2 keys", "put other fields beside it"]),
        ({"oops": {"@merge": [{}, 123]}}, ["/oops/@merge should be an object but it is an array."]),
        ({"@template": False}, ["/@template should be a string or a mapping directive but it is a boolean."]),
        ({"x": {"@path": "$.a", "@template": "b"}}, ["/x should only have one @-prefixed key but it has 2 keys"]),
        ({"x": {"@nope": 1}}, ["/x has an invalid directive: @nope"]),
        ({"neat": {"@path": {}}}, ["/neat/@path should be a string or a mapping directive but it is an object."]),
        ({"@case": "not an object"}, ["/@case should be an object but it is a string."]),
        ({"@case": {"wrongKey": "lower", "value": {"@path": "$.b"}}}, ['requires a "operator" key']),
        ({"@replace": {"pattern": "waaaaayyytoooooloooong", "replacement": "granted", "value": "x"}},
         ["should be a string of length 10 or less"]),
        ({"@replace": {"replacement": "granted", "value": "x"}}, ['should have field "pattern" but it doesn\'t']),
        ({"@replace": {"pattern": "waaayyy", "replacement": "granted"}}, ['should have field "value" but it doesn\'t']),
        ({"@replace": {"pattern": "w", "replacement": "waaaayyyytooolong", "value": "x"}},
         ["replacement should be a string of length 10 or less"]),
        ({"@replace": {"pattern": "+", "value": "x", "global": "abc"}}, ["global should be a boolean but it is a string"]),
        ({"@replace": {"pattern": "+", "value": "x", "ignorecase": "abc"}}, ["ignorecase should be a boolean but it is a string"]),
        ({"@replace": {"pattern": "_", "pattern2": "rrrrrrrrrrrrrrrrrrrr", "value": "x"}}, ['/@replace: @replace requires a "pattern" less than 10 characters']),
        ({"@replace": "abc"}, ["@replace should be an object"]),
        ({"neat": {"@json": {"mode": "oops", "value": {"@path": "$.foo"}}}}, ["@json/mode should be one of encode, decode"]),
        ({"neat": {"@json": {"mode": "encode"}}}, ['@json should have field "value" but it doesn\'t']),
        ({"neat": {"@json": {"value": {"@path": "$.foo"}}}}, ['@json should have field "mode" but it doesn\'t']),
        ({"neat": {"@json": "not an object"}}, ["@json should be an object but it is a string"]),
        ({"neat": {"@flatten": "abcdefgh"}}, ["@flatten should be an object but it is a string"]),
        ({"neat": {"@flatten": {"value": {"@path": "$.foo"}}}}, ['/neat/@flatten: @flatten requires a "separator" key']),
        ({"neat": {"@flatten": {"value": {"@path": "$.foo"}, "separator": {"@path": "$.x"}}}},
         ["@flatten/separator should be a string but it is a directive"]),
        ({"neat": {"@flatten": {"separator": ","}}}, ['@flatten should have field "value" but it doesn\'t']),
        ({"@merge": {"direction": "left", "objects": {"oops": True}}}, ["@merge/objects should be an array but it is an object"]),
        ({"@merge": {"direction": "left", "objects": [{}, 1]}}, ["/ should be a object or a mapping directive but it is a number."]),
        ({"@merge": {"direction": "up", "objects": [{"oh": "yeah"}, {}]}}, ['@merge/direction should be one of left, right but it is "up"']),
        ({"@merge": {"direction": "left"}}, ['@merge should have field "objects" but it doesn\'t']),
        ({"@transform": {"@path": {}}}, ["/@transform should be an object but it is a directive."]),
        ({"@if": {"then": 1}}, ['/@if: @if requires an "exists" key or a "blank" key', "Segment accepts this mapping, then fails"]),
        ({"@arrayPath": "$.products"}, ["/@arrayPath should be an array but it is a string."]),
        ({"list": [1, {"@nope": 2}]}, ["/list/1/@nope: @nope is not a valid directive"]),  # inside arrays too (fails at send)
    ],
)
def test_invalid_mappings_are_refused_at_load(mapping, words):
    with pytest.raises(MappingError) as error:
        validate_mapping(mapping, "mapping 3 ('Orders')")
    message = str(error.value)
    assert message.startswith("mapping 3 ('Orders'): ")
    for word in words:
        assert word in message


def test_every_problem_is_reported_at_once():
    with pytest.raises(MappingError) as error:
        validate_mapping({"a": {"@nope": 1}, "b": {"@template": 3}}, "m")
    assert "/a has an invalid directive: @nope." in str(error.value)
    assert "(directives: @if, @case," in str(error.value)
    assert "/b/@template should be a string or a mapping directive but it is a number." in str(error.value)


@pytest.mark.parametrize(
    "mapping",
    [
        # IT "validations" / "valid"; transform() of non-object mappings is a no-op, never an error
        ["cool"], 123, "neat", {"foo": "bar"}, {"@path": "$.foo.bar"}, {"a": 1, "b": {"@path": "$.foo.bar"}},
        {"@literal": "123"}, {"@literal": False}, {"@path": "$.a", "_metadata": {"label": "x"}},
        {"@replace": {"pattern": "a", "value": "b", "pattern2": "", "replacement2": ""}},
        {"@json": {"mode": "ENCODE", "value": 1}},  # validate.ts lower-cases the mode before checking it
    ],
)
def test_valid_mappings(mapping):
    validate_mapping(mapping, "m")


@pytest.mark.parametrize(
    "mapping, payload, message",
    [
        # index.ts errors that depend on the payload, raised while resolving
        ({"@path": {"@path": "$.obj"}}, {"obj": {"a": 1}}, "@path: expected string, got object"),
        ({"@case": {"operator": "title", "value": "x"}}, {}, 'operator key should have a value of "lower" or "upper"'),
    ],
)
def test_errors_at_resolve_time(mapping, payload, message):
    with pytest.raises(MappingError, match=message):
        resolve(mapping, payload)


def test_json_decode_of_text_that_is_not_json_gives_the_text():
    # index.ts: JSON.parse fails -> the value itself (golden corpus, 3.170.0)
    assert resolve({"@json": {"mode": "decode", "value": {"@path": "$.s"}}}, {"s": "{nope"}) == "{nope"


def test_json_mode_quirk_and_javascript_values():
    # validate.ts accepts "ENCODE", index.ts only acts on "encode": the field disappears
    assert resolve({"x": {"@json": {"mode": "ENCODE", "value": 1}}}, {}) == {}
    assert js_json_stringify({"a": 1.0, "b": [UNDEFINED], "c": UNDEFINED, "é": "ü"}) == '{"a":1,"b":[null],"é":"ü"}'
    assert [js_number_to_string(n) for n in (1.0, 0.1 + 0.2, 1e21, 1e-7, -0.0)] == ["1", "0.30000000000000004", "1e+21", "1e-7", "0"]
    assert render("{{$.a}}|{{ a }}|{{{a}}}", {"a": "x"}) == "|x|x"  # no "$." in placeholders


def test_flatten_and_merge_quirks():
    assert resolve({"@flatten": {"value": {"@path": "$.n"}, "separator": "."}}, {"n": None}) == {"": None}
    assert resolve({"@merge": {"direction": "right", "objects": [{"@path": "$.s"}, {"@path": "$.l"}]}},
                   {"s": "ab", "l": ["x"]}) == {"0": "x", "1": "b"}  # Object.assign spreads strings and arrays


def test_directives_added_for_parity():
    # @liquid (liquid-directive.ts on python-liquid), @flatten omitArrays truthiness,
    # @replace replacement2: null (validate.ts does not check it; index.ts reads it as "")
    event = {"properties": {"plan": "pro", "price": "12.50", "tags": ["a", "b"], "n": 2.0}}
    assert resolve({"x": {"@liquid": "{{ properties.plan | upcase }}-{{ properties.n }}-{{ properties.tags }}"}},
                   event) == {"x": "PRO-2-ab"}
    assert resolve({"@liquid": "{% if properties.price > 10 %}big{% endif %}"}, event) == "big"  # JS comparison
    assert resolve({"@liquid": ""}, event) == ""
    with pytest.raises(MappingError, match='tag "for" is disabled'):
        resolve({"@liquid": "{% for t in properties.tags %}{{ t }}{% endfor %}"}, event)
    with pytest.raises(MappingError, match='filter "sort" is disabled'):
        resolve({"@liquid": "{{ properties.tags | sort }}"}, event)
    with pytest.raises(MappingError, match="limited to 1000 characters"):
        resolve({"@liquid": "x" * 1001}, event)
    flat = {"@flatten": {"value": {"@path": "$.properties"}, "separator": ".", "omitArrays": 1}}
    assert resolve(flat, event)["tags"] == ["a", "b"]
    replace2 = {"@replace": {"pattern": "p", "replacement": "P", "pattern2": "r", "replacement2": None,
                             "value": {"@path": "$.properties.plan"}}}
    validate_mapping(replace2, "m")
    assert resolve(replace2, event) == "Po"
