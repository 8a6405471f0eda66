"""FQL triggers, mirroring Segment's own examples:
segmentio/action-destinations packages/destination-subscriptions/src/__tests__/fql.test.ts (the
ASTs parseFql builds) and __tests__/validate.test.ts (evaluation), evaluated with the newest
src/validate.ts (``actual === String(expected)``, ``typeof actual === 'number'``); lexing after
segmentio/fql-ts src/lexer.ts and lexer.test.ts."""

from __future__ import annotations

import pytest

from mock_1flow.destination.mapping import MappingError, compile_trigger, parse_fql
from mock_1flow.destination.mapping.fql import validate


def group(operator, *children):
    return {"type": "group", "operator": operator, "children": list(children)}


def cond(kind, operator, value=None, name=None):
    node = {"type": kind, "operator": operator}
    if name is not None:
        node["name"] = name
    if value is not None:
        node["value"] = value
    return node


ADDED = cond("event", "=", "Product Added")

# fql.test.ts: testFql(fql, ast)
ASTS = [
    ('type = "track"', group("and", cond("event-type", "=", "track"))),
    ('type = "track" or type = "identify"', group("or", cond("event-type", "=", "track"), cond("event-type", "=", "identify"))),
    ('event = "Product Added"', group("and", ADDED)),
    ("userId != null", group("and", cond("userId", "exists"))),
    ('name = "Home"', group("and", cond("name", "=", "Home"))),
    ('event = "Product Added" or event = "Order Completed"', group("or", ADDED, cond("event", "=", "Order Completed"))),
    ('type = "track" and event = "Product Added"', group("and", cond("event-type", "=", "track"), ADDED)),
    ('type = "track" and (event = "Product Added" or event = "Order Completed")',
     group("and", cond("event-type", "=", "track"), group("or", ADDED, cond("event", "=", "Order Completed")))),
    ('event = "Product Added" and properties.price >= 100', group("and", ADDED, cond("event-property", ">=", 100, "price"))),
    ('event = "identify" and traits.logins >= 10',
     group("and", cond("event", "=", "identify"), cond("event-trait", ">=", 10, "logins"))),
    ('event = "Product Added" and properties.price >= 100 and properties.premium = "true"',
     group("and", ADDED, cond("event-property", ">=", 100, "price"), cond("event-property", "=", "true", "premium"))),
    ('event = "identify" and traits.logins >= 10 and traits.plan = "premium"',
     group("and", cond("event", "=", "identify"), cond("event-trait", ">=", 10, "logins"), cond("event-trait", "=", "premium", "plan"))),
    ('(event = "Product Added" and properties.price >= 100) or (event = "Order Completed" and properties.total >= 500)',
     group("or", group("and", ADDED, cond("event-property", ">=", 100, "price")),
           group("and", cond("event", "=", "Order Completed"), cond("event-property", ">=", 500, "total")))),
    ('contains(event, "Nike")', group("and", cond("event", "contains", "Nike"))),
    ('event = "Product Added" and contains(properties.name, "Nike")', group("and", ADDED, cond("event-property", "contains", "Nike", "name"))),
    ('event = "Product Added" and contains(traits.name, "Nike")', group("and", ADDED, cond("event-trait", "contains", "Nike", "name"))),
    ('!contains(event, "Nike")', group("and", cond("event", "not_contains", "Nike"))),
    ('event = "Product Added" and !contains(properties.name, "Nike")', group("and", ADDED, cond("event-property", "not_contains", "Nike", "name"))),
    ('match(event, "X*")', group("and", cond("event", "starts_with", "X"))),
    ('event = "Product Added" and match(properties.name, "X*")', group("and", ADDED, cond("event-property", "starts_with", "X", "name"))),
    ('!match(event, "X*")', group("and", cond("event", "not_starts_with", "X"))),
    ('match(event, "*X")', group("and", cond("event", "ends_with", "X"))),
    ('event = "Product Added" and !match(traits.name, "*X")', group("and", ADDED, cond("event-trait", "not_ends_with", "X", "name"))),
    ('event = "Product Added" and properties.name != null', group("and", ADDED, cond("event-property", "exists", name="name"))),
    ('event = "Product Added" and traits.name = null', group("and", ADDED, cond("event-trait", "not_exists", name="name"))),
    # parse-fql.ts: "= true"/"= false" become is_true/is_false, except for type, event and name
    ("properties.premium = true", group("and", cond("event-property", "is_true", name="premium"))),
    ("userId = false", group("and", cond("userId", "is_false"))),
    ("event = true", group("and", cond("event", "=", "true"))),
    ("event != null", group("and", cond("event", "!=", "null"))),
    ("properties.x != true", group("and", cond("event-property", "!=", True, "x"))),
    # nested dotted names, and an escaped space in a name (lexer.ts lexIdent escapes)
    ('context.library.name = "analytics.js"', group("and", cond("event-context", "=", "analytics.js", "library.name"))),
    ('properties.first\\ name = "Ada"', group("and", cond("event-property", "=", "Ada", "first name"))),
    # one operator per level: the last and/or written wins (parse-fql.ts keeps a single `operator`)
    ('type = "track" and event = "A" or event = "B"',
     group("or", cond("event-type", "=", "track"), cond("event", "=", "A"), cond("event", "=", "B"))),
    # numbers as Number(token): +5 is 5, 1.50 is 1.5
    ("properties.n > +5", group("and", cond("event-property", ">", 5, "n"))),
    ("properties.n < -1.50", group("and", cond("event-property", "<", -1.5, "n"))),
]


@pytest.mark.parametrize("text, ast", ASTS)
def test_parse_builds_segments_ast(text, ast):
    assert parse_fql(text) == ast


def matches(text, event):
    return compile_trigger(text)(event)


@pytest.mark.parametrize(
    "text, event, expected",
    [
        # validate.test.ts "operators - equals (strings)" / "not equals (strings)"
        ('properties.value = "x"', {"properties": {"value": "x"}}, True),
        ('properties.value = "x"', {"properties": {"value": "y"}}, False),
        ('properties.value != "x"', {"properties": {"value": "x"}}, False),
        ('properties.value != "x"', {"properties": {"value": "y"}}, True),
        # newest validate.ts: `actual === String(expected)` -- only a string property equals
        ("properties.value = 123", {"properties": {"value": "123"}}, False),
        ('properties.value = "123"', {"properties": {"value": "123"}}, True),
        ("properties.value = 123", {"properties": {"value": 123}}, True),
        # since action-destinations #2030: "= <number>" / "!= <number>" are number_equals /
        # number_not_equals on properties/traits/context: a number on the event side
        ("properties.value != 123", {"properties": {"value": 123}}, False),
        ("properties.value != 123", {"properties": {"value": "123"}}, False),
        ("properties.value != 123", {"properties": {"value": 124}}, True),
        ("properties.value = 1.50", {"properties": {"value": "1.5"}}, False),
        ("properties.value = 1.50", {"properties": {"value": 1.5}}, True),
        ('properties.premium = "true"', {"properties": {"premium": True}}, False),
        ("properties.premium = true", {"properties": {"premium": True}}, True),
        ("properties.premium = true", {"properties": {"premium": "true"}}, False),
        ("properties.premium = false", {"properties": {"premium": False}}, True),
        # "operators - less than" etc.: the event side must be a number
        ("properties.value < 10", {"properties": {"value": 5}}, True),
        ('properties.value < "10"', {"properties": {"value": 5}}, True),
        ("properties.value < 10", {"properties": {"value": "5"}}, False),
        ("properties.value < 10", {"properties": {"value": 10}}, False),
        ("properties.value <= 10", {"properties": {"value": 10}}, True),
        ("properties.value <= 10", {"properties": {"value": 11}}, False),
        ("properties.value > 10", {"properties": {"value": 11}}, True),
        ("properties.value > 10", {"properties": {"value": 10.0}}, False),
        ("properties.value >= 10", {"properties": {"value": 10}}, True),
        ("properties.value >= 10", {"properties": {"value": True}}, False),
        # contains / match
        ('contains(properties.value, "b")', {"properties": {"value": "abc"}}, True),
        ('contains(properties.value, "b")', {"properties": {"value": "xyz"}}, False),
        ('!contains(properties.value, "b")', {"properties": {"value": "xyz"}}, True),
        ('!contains(properties.value, "b")', {"properties": {"value": 5}}, False),  # not a string: false either way
        ('match(properties.value, "x*")', {"properties": {"value": "xabc"}}, True),
        ('match(properties.value, "x*")', {"properties": {"value": "abc"}}, False),
        ('!match(properties.value, "x*")', {"properties": {"value": "abc"}}, True),
        ('match(properties.value, "*x")', {"properties": {"value": "abcx"}}, True),
        ('!match(properties.value, "*x")', {"properties": {"value": "abcx"}}, False),
        # exists / not exists
        ("properties.value != null", {"properties": {"value": "abcx"}}, True),
        ("properties.value != null", {"properties": {}}, False),
        ("properties.value != null", {"properties": {"value": None}}, False),
        ("properties.value = null", {"properties": {"value": None}}, True),
        ("properties.value = null", {}, True),
        ("userId != null", {"userId": "u-1"}, True),
        ("userId = null", {"anonymousId": "a"}, True),
        # for type/event, null is the string "null": "event != null" holds without an event;
        # name has exists / not_exists like userId
        ("event != null", {"type": "identify"}, True),
        ("name = null", {"type": "page"}, True),
        ("name != null", {"type": "page", "name": "Home"}, True),
        # event type, event name, groups
        ('type = "track"', {"type": "track"}, True),
        ('type = "track"', {"type": "identify"}, False),
        ('type = "track" or type = "identify"', {"type": "identify"}, True),
        ('type = "track" or type = "identify"', {"type": "group"}, False),
        ('type != "group"', {"type": "track"}, True),
        ('event = "Page Viewed" and type = "track"', {"event": "Page Viewed"}, False),
        ('event = "Page Viewed" and type = "track"', {"event": "Page Viewed", "type": "track"}, True),
        ('event = "Page Viewed" and (properties.name = "Catalog" or properties.name = "Home")',
         {"event": "Page Viewed", "properties": {"name": "Home"}}, True),
        ('event = "Page Viewed" and (context.ip = "1.1.1.1" or properties.ip = "2.2.2.2")',
         {"event": "Page Viewed", "context": {"ip": "2.2.2.2"}}, False),
        ('type = "track" and (event = "Page Viewed" or event = "Order Completed")', {"type": "track", "event": "Page Viewed"}, True),
        ('name = "Home"', {"type": "screen", "name": "Home"}, True),
        # newest validate.ts reads properties.* from properties even for identify (traits.* for traits)
        ('properties.name = "Jane"', {"type": "identify", "traits": {"name": "Jane"}}, False),
        ('traits.name = "Jane"', {"type": "identify", "traits": {"name": "Jane"}}, True),
        ('context.library.name = "analytics.js"', {"context": {"library": {"name": "analytics.js"}}}, True),
        # get.ts: a falsy intermediate is returned as is, so false "exists"
        ("properties.a.b != null", {"properties": {"a": False}}, True),
        # validate.test.ts "should handle empty event"
        ('properties.value = "x"', {}, False),
    ],
)
def test_evaluation_follows_validate_ts(text, event, expected):
    assert matches(text, event) is expected


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "at the end: expected a condition"),  # fql.test.ts: "should handle empty payload"
        ("typo", "at position 0: unknown field 'typo'"),  # "should handle invalid payloads"
        ("type", "at the end: expected one of = != < <= > >= after 'type'"),  # "incomplete payloads"
        ('type * "32456"', 'at position 5: invalid character "*" (Segment cannot parse it'),  # "invalid operators"
        ("type = ", "at the end: expected a value"),  # Segment would compare type with "eos"
        ('type == "x"', "at position 6: expected a value"),
        ('(type = "x"', "at the end: missing ')'"),
        ('type = "x")', "at position 10: unmatched ')'"),
        ('type = "x" andd type = "y"', "at position 11: expected 'and' or 'or' before 'andd'"),
        ('type = "track" event = "x"', "at position 15: expected 'and' or 'or' before 'event'"),
        ('type = "track" and', "at the end: expected a condition"),
        ('((type = "a"))', "parentheses cannot nest"),
        ('(type = "a" or (event = "b"))', "parentheses cannot nest"),
        ("()", "at position 1: expected a condition, got ')'"),
        ('!(type = "a")', "'!' negates only contains() and match()"),
        ("contains(event)", "at position 14: expected ',' between the arguments of contains()"),
        ('contains(type, "x")', 'contains() does not take type (Segment ignores it): use type = "..."'),
        ('match(event, "abc")', 'match() takes "X*" (starts with) or "*X" (ends with)'),
        ('match(event, "*abc*")', 'use contains() for "*X*"'),
        ('= "x"', "at position 0: expected a condition, got '='"),
        ("type = 'track'", "at position 7: use double quotes"),
        ('type = "track', "at position 7: unterminated string"),
        ('properties = "x"', "properties needs a name"),
        ('event.name = "x"', "event has no sub-fields"),
        ("properties.value > null", "> compares numbers, null is not one"),
        ('properties.value > "ten"', '> compares numbers, "ten" is not one'),
        ('userId!="x"', "expected '=' after '!'"),  # fql-ts needs a terminator after "!="
        ("properties.n > 5.", "unexpected terminator after decimal point"),
        ("properties.n > 5.0.1", "multiple decimal points in one number"),
        ('properties.café = "x"', "expected termination character after identifier, got é"),
        ('properties.items[0].sku = "A"', "expected termination character after identifier, got ["),  # no brackets
        ('properties.\\[ = "x"', "'[' names no key (Segment fails on every event)"),
        # Segment reads these differently from what they say: refused, with what to write instead
        ('type = "track" OR event = "x"', """Segment reads it as 'type = "track" and event = "x"', not as written; """
                                          """write 'type = "track" or event = "x"'"""),
        ('type = "track" or(event = "x")', """Segment reads it as 'type = "track" and event = "x"', not as written"""),
        ('type = "track" and event = "A" or event = "B"',
         """Segment reads it as 'type = "track" or event = "A" or event = "B"', not as written; """
         """write '(type = "track" and event = "A") or event = "B"'"""),
        ('type = "track" and (contains(properties.a, "x") or event = "c")',
         "a group ends at the first ')', even one closing contains() or match(); put a contains()/match() last"),
    ],
)
def test_unusable_triggers_are_refused_with_a_position_and_what_to_write(text, words):
    with pytest.raises(MappingError) as error:
        compile_trigger(text)
    assert str(error.value).startswith((f"cannot parse trigger {text!r}: ", f"cannot use trigger {text!r}: "))
    assert words in str(error.value)


@pytest.mark.parametrize(
    "text, event, expected",
    [
        # forms Segment evaluates as written are accepted (FIDELITY-FINDINGS, issue 9)
        ('type="track"', {"type": "track"}, True),  # stray spacing
        ('type  =  "track"\nand\tevent = "A"', {"type": "track", "event": "A"}, True),
        ('type = "track" AND event = "A"', {"type": "track", "event": "B"}, False),  # AND: Segment's default and
        ('type = "track" and(event = "A")', {"type": "track", "event": "A"}, True),  # "and(" is a word to fql-ts
        ('properties.\\$revenue > 10', {"properties": {"$revenue": 11}}, True),  # generateFql's escapes
        ('properties.first\\ name = "Ada"', {"properties": {"first name": "Ada"}}, True),
        ("properties.total = 10", {"properties": {"total": 10}}, True),  # number_equals
        ("traits.age != 30", {"traits": {"age": 31}}, True),
        ("name = null", {"type": "page"}, True),  # exists semantics for name
        ("name != null", {"type": "page", "name": ""}, True),
        ('(contains(properties.a, "x") or event = "c")', {"event": "c"}, True),  # contains() in parentheses
        ('(event = "c" or match(event, "Order*")) and type = "track"', {"type": "identify", "event": "c"}, False),
        ('(event = "c" or match(event, "Order*")) and type = "track"', {"type": "track", "event": "Order 1"}, True),
        ('contains(properties.flag, true)', {"properties": {"flag": "is true"}}, True),
    ],
)
def test_forms_segment_reads_as_written_are_accepted(text, event, expected):
    assert compile_trigger(text)(event) is expected


def test_segment_semantics_of_a_level_with_mixed_operators():
    # parse-fql.ts keeps one operator per level (the last written); the loader refuses such a
    # trigger, and parse_fql/validate still answer as Segment does
    ast = parse_fql('type = "track" and event = "A" or event = "B"')
    assert ast["operator"] == "or"
    assert validate(ast, {"type": "identify", "event": "B"}) and validate(ast, {"type": "track", "event": "C"})


def test_lexer_keywords_need_a_terminator():
    # fql-ts lexer.test.ts: "andeverything", "orange", "nullify" are identifiers, not keywords
    assert parse_fql('properties.orange = "x" or properties.nullify = null') == group(
        "or", cond("event-property", "=", "x", "orange"), cond("event-property", "not_exists", name="nullify"))
    assert parse_fql('properties.android-version >= 10') == group("and", cond("event-property", ">=", 10, "android-version"))


def test_compiled_trigger_keeps_segments_ast():
    trigger = compile_trigger('type = "track"')
    assert trigger.ast == group("and", cond("event-type", "=", "track"))
    assert trigger({"type": "track"}) and not trigger("not an event")
