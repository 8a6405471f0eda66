"""Segment's subscription language (FQL) for triggers, ported from segmentio/fql-ts
(``src/lexer.ts``, ``src/strings.ts``) and segmentio/action-destinations
``packages/destination-subscriptions/src`` (``parse-fql.ts``, ``validate.ts``, ``get.ts``).

Parsing produces Segment's own AST (``{"type": "group", "operator": "and", "children": [...]}``)
and evaluation follows the newest ``validate.ts``, quirks included:

* ``=`` is ``actual === String(expected)``: only a *string* property equals ``"12"`` or ``12``.
* ``< <= > >=`` need a number on the event side (``typeof actual === 'number'``).
* ``x = true`` / ``x = false`` on ``userId``/``properties``/``traits``/``context`` need a boolean;
  on ``type``/``event``/``name`` they compare with the string ``"true"``.
* ``!= null`` / ``= null`` test existence for ``userId``, ``properties.x``, ``traits.x``,
  ``context.x``; for ``type``/``event``/``name`` they compare with the string ``"null"``.
* One level of a trigger has one operator, the last ``and``/``or`` written at that level:
  ``a and b or c`` means ``a or b or c``. Parentheses group, but cannot nest.
* ``match(f, "X*")`` is "starts with X", ``match(f, "*X")`` "ends with X"; ``!`` negates
  ``contains``/``match`` only.

Where Segment's parser silently produces a condition that cannot mean what was written (an
unknown field, a stray token, a single-quoted string, ``!(...)``), this port refuses the
trigger at load time instead, with the position of the problem.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from .directives import UNDEFINED, get, is_number, js_string
from .errors import MappingError

Predicate = Callable[[dict[str, Any]], bool]

CONDITION_TYPES = {  # parse-fql.ts tokenToConditionType
    "type": "event-type",
    "event": "event",
    "name": "name",
    "userId": "userId",
    "context": "event-context",
    "properties": "event-property",
    "traits": "event-trait",
}
CONTAINERS = {"properties": "event-property", "traits": "event-trait", "context": "event-context"}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
FUNCTIONS = ("contains", "match")


# --- lexer (fql-ts src/lexer.ts) -----------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # ident string number operator conditional null dot brackleft brackright comma parenleft parenright eos
    value: str
    pos: int


def _is_alpha(char: str) -> bool:
    return len(char) == 1 and char.isascii() and char.isalpha()


def _is_ident(char: str) -> bool:
    # strings.ts: letters, digits, "_" and "-"; "\" escapes the next character (lexIdent).
    return _is_alpha(char) or char.isdigit() and char.isascii() or char in ("_", "-", "\\")


def _is_terminator(char: str) -> bool:
    return char in ("", " ", "\t", "\n", ",", "]", ")")


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, message: str, pos: int | None = None) -> MappingError:
        where = self.pos if pos is None else pos
        return MappingError(f"cannot parse trigger {self.text!r} at position {where}: {message}")

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def accept(self, word: str) -> bool:
        """The next characters are ``word`` followed by a terminator (as ``accept`` does)."""
        end = self.pos + len(word)
        if self.text.startswith(word, self.pos) and _is_terminator(self.text[end:end + 1]):
            self.pos = end
            return True
        return False

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        while True:
            start, char = self.pos, self.peek()
            if char == "":
                out.append(Token("eos", "eos", start))
                return out
            self.pos += 1
            if char in (" ", "\t", "\n"):
                continue
            if char == "!" and (_is_alpha(self.peek()) or self.peek() == "("):
                out.append(Token("operator", "!", start))
            elif _is_alpha(char) or char in "!=<>_":
                out.append(self.operator_or_word(char, start))
            elif char.isascii() and char.isdigit() or char in "-+":
                out.append(self.number(char, start))
            elif char in "\"'":
                out.append(self.string(char, start))
            else:
                simple = {".": "dot", "[": "brackleft", "]": "brackright", ",": "comma", "(": "parenleft", ")": "parenright"}
                if char not in simple:
                    raise self.fail(f'invalid character "{char}"', start)
                out.append(Token(simple[char], char, start))

    def string(self, quote: str, start: int) -> Token:
        # No escapes: a string ends at the next quote of the same kind.
        end = self.text.find(quote, self.pos)
        if end < 0:
            raise self.fail("unterminated string", start)
        self.pos = end + 1
        return Token("string", self.text[start:end + 1], start)

    def number(self, first: str, start: int) -> Token:
        seen_point = False
        while self.peek().isascii() and self.peek().isdigit() or self.peek() == ".":
            if self.peek() == ".":
                if _is_terminator(self.peek(1)):
                    raise self.fail("unexpected terminator after decimal point")
                if seen_point:
                    raise self.fail("multiple decimal points in one number")
                seen_point = True
            self.pos += 1
        return Token("number", self.text[start:self.pos], start)

    def operator_or_word(self, first: str, start: int) -> Token:
        if first == "=":
            return Token("operator", "=", start)
        if first == "!":
            if self.accept("="):
                return Token("operator", "!=", start)
            raise self.fail(f"expected '=' after '!', got '{self.peek()}'")
        if first in "<>":
            return Token("operator", first + "=" if self.accept("=") else first, start)
        for head, rest, kind in (("a", "nd", "conditional"), ("o", "r", "conditional"), ("n", "ull", "null")):
            if first == head and self.accept(rest):
                return Token(kind, head + rest, start)
        return self.ident(first, start)

    def ident(self, first: str, start: int) -> Token:
        chars = [first]
        while _is_ident(self.peek()):
            char = self.peek()
            self.pos += 1
            if char == "\\":
                if self.peek() == "":
                    raise self.fail("expected character after escape character, got EOS")
                char = self.peek()
                self.pos += 1
            chars.append(char)
        if not (_is_terminator(self.peek()) or self.peek() in (".", "(", "=", "!")):
            raise self.fail(f"expected termination character after identifier, got {self.peek()}")
        return Token("ident", "".join(chars), start)


def _normalize(tokens: list[Token]) -> list[Token]:
    """parse-fql.ts ``normalize``: ``ident . ident`` becomes one dotted ident."""
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        current = tokens[index]
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        if out and out[-1].kind == "ident" and current.kind == "dot" and nxt is not None and nxt.kind == "ident":
            previous = out.pop()
            out.append(Token("ident", f"{previous.value}.{nxt.value}", previous.pos))
            index += 2
        else:
            out.append(current)
            index += 1
    return out


# --- parser (parse-fql.ts, made strict) ---------------------------------------------------


def js_to_number(value: Any) -> float:
    """``Number(value)`` for the values a trigger compares."""
    if is_number(value):
        return float(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if value is None:
        return 0.0
    if not isinstance(value, str):
        return math.nan
    text = value.strip(" \t\n\r\v\f\u00a0\ufeff\u2028\u2029")
    if text == "":
        return 0.0
    if text in ("Infinity", "+Infinity", "-Infinity"):
        return -math.inf if text[0] == "-" else math.inf
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if text.lower().startswith(prefix):
            try:
                return float(int(text[2:], base))
            except ValueError:
                return math.nan
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return float(text)
    return math.nan


def _token_value(token: Token) -> Any:
    """parse-fql.ts ``getTokenValue``: only double quotes are stripped."""
    if token.kind == "string":
        return re.sub(r'"$', "", re.sub(r'^"', "", token.value))
    if token.kind == "number":
        number = js_to_number(token.value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if token.kind == "ident" and token.value in ("true", "false"):
        return token.value == "true"
    return token.value


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _normalize(_Lexer(text).tokens())
        self.index = 0

    def fail(self, token: Token, message: str) -> MappingError:
        where = "the end" if token.kind == "eos" else f"position {token.pos}"
        return MappingError(f"cannot parse trigger {self.text!r} at {where}: {message}")

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eos":
            self.index += 1
        return token

    def expect(self, kind: str, what: str) -> Token:
        token = self.take()
        if token.kind != kind:
            raise self.fail(token, f"expected {what}, got {token.value!r}")
        return token

    def parse(self) -> dict[str, Any]:
        node = self.level(nested=False)
        if self.peek().kind != "eos":
            raise self.fail(self.peek(), f"unexpected {self.peek().value!r}")
        # parseFql: a single condition is wrapped in an "and" group.
        return node if node["type"] == "group" else {"type": "group", "operator": "and", "children": [node]}

    def level(self, nested: bool) -> dict[str, Any]:
        """Conditions joined by and/or; Segment gives the whole level the last operator seen."""
        nodes, operator = [self.term(nested)], "and"
        while True:
            token = self.peek()
            if token.kind == "eos":
                if nested:
                    raise self.fail(token, "missing ')'")
                break
            if token.kind == "parenright":
                if nested:
                    break
                raise self.fail(token, "unmatched ')'")
            if token.kind != "conditional":
                raise self.fail(token, f"expected 'and' or 'or', got {token.value!r}")
            operator = self.take().value
            nodes.append(self.term(nested))
        return nodes[0] if len(nodes) == 1 else {"type": "group", "operator": operator, "children": nodes}

    def term(self, nested: bool) -> dict[str, Any]:
        token = self.take()
        if token.kind == "parenleft":
            if nested:
                raise self.fail(token, "parentheses cannot nest (Segment's parser stops at the first ')')")
            node = self.level(nested=True)
            self.expect("parenright", "')'")
            return node
        if token.kind == "operator" and token.value == "!":
            function = self.take()
            if function.kind == "ident" and function.value in FUNCTIONS:
                return self.function(function, negate=True)
            raise self.fail(token, "'!' can only negate contains() or match() (Segment ignores it elsewhere)")
        if token.kind == "ident" and token.value in FUNCTIONS and self.peek().kind == "parenleft":
            return self.function(token, negate=False)
        if token.kind == "ident":
            return self.condition(token)
        raise self.fail(token, "expected a condition" + ("" if token.kind == "eos" else f", got {token.value!r}"))

    def field(self, token: Token) -> tuple[str, str | None]:
        """The condition type and, for properties/traits/context, the name under it."""
        head, _, rest = token.value.partition(".")
        if head not in CONDITION_TYPES:
            raise self.fail(token, f"unknown field {token.value!r} (fields: type, event, name, userId, "
                                   "properties.<name>, traits.<name>, context.<name>)")
        if head in CONTAINERS:
            if not rest:
                raise self.fail(token, f"{head} needs a name, e.g. {head}.plan")
            return CONTAINERS[head], rest
        if rest:
            raise self.fail(token, f"{head} has no sub-fields")
        return CONDITION_TYPES[head], None

    def literal(self, token: Token) -> None:
        if token.kind == "string" and token.value.startswith("'"):
            raise self.fail(token, "use double quotes (Segment keeps single quotes as part of the value)")
        if token.kind == "number" and not re.fullmatch(r"[+-]?(\d+(\.\d+)?|\.\d+)", token.value):
            raise self.fail(token, f"{token.value!r} is not a number")
        if not (token.kind in ("string", "number", "null") or token.kind == "ident" and token.value in ("true", "false")):
            raise self.fail(token, f"expected a value (a \"string\", a number, true, false or null), got {token.value!r}")

    def condition(self, token: Token) -> dict[str, Any]:
        kind, name = self.field(token)
        operator = self.take()
        if operator.kind != "operator" or operator.value not in COMPARISONS:
            raise self.fail(operator, f"expected one of {' '.join(COMPARISONS)} after {token.value!r}, got {operator.value!r}")
        value = self.take()
        self.literal(value)
        op = operator.value
        if op not in ("=", "!=") and (value.kind == "null" or math.isnan(js_to_number(_token_value(value)))):
            raise self.fail(value, f"{op} compares numbers, {value.value} is not one")
        node: dict[str, Any] = {"type": kind}
        if name is not None:
            node["name"] = name
        special = {("!=", "null"): "exists", ("=", "null"): "not_exists", ("=", "true"): "is_true", ("=", "false"): "is_false"}
        flag = special.get((op, value.value)) if value.kind in ("null", "ident") else None
        if flag and kind not in ("event-type", "event", "name"):
            node["operator"] = flag
        elif kind in ("event-type", "event", "name", "userId"):
            node.update(operator=op, value=js_string(_token_value(value)))
        else:
            node.update(operator=op, value=_token_value(value))
        return node

    def function(self, token: Token, negate: bool) -> dict[str, Any]:
        self.expect("parenleft", f"'(' after {token.value}")
        target = self.expect("ident", f"a field as the 1st argument of {token.value}()")
        self.expect("comma", f"',' between the arguments of {token.value}()")
        value = self.take()
        if value.kind not in ("string", "number"):
            raise self.fail(value, f"expected a \"string\" as the 2nd argument of {token.value}(), got {value.value!r}")
        self.literal(value)
        self.expect("parenright", f"')' to close {token.value}()")
        kind, name = self.field(target)
        if kind == "event-type":
            raise self.fail(target, f"{token.value}() does not take type (Segment ignores it)")
        node: dict[str, Any] = {"type": kind}
        if name is not None:
            node["name"] = name
        text = js_string(_token_value(value))
        if token.value == "contains":
            node.update(operator="not_contains" if negate else "contains", value=text)
            return node
        if value.kind != "string" or text.count("*") != 1 or not (text.startswith("*") or text.endswith("*")):
            raise self.fail(value, 'match() takes "X*" (starts with) or "*X" (ends with); use contains() for "*X*"')
        if text.endswith("*"):  # Segment tests the raw token: value.endsWith('*"')
            node.update(operator="not_starts_with" if negate else "starts_with", value=text[:-1])
        else:
            node.update(operator="not_ends_with" if negate else "ends_with", value=text[1:])
        return node


def parse_fql(text: str) -> dict[str, Any]:
    """The AST Segment's ``parseFql`` builds; :class:`MappingError` (with a position) where
    Segment fails or would build a condition that cannot mean what was written."""
    if not isinstance(text, str):
        raise MappingError(f"the trigger must be a string, not {type(text).__name__}")
    return _Parser(text).parse()


# --- evaluation (validate.ts) -------------------------------------------------------------


def _actual(condition: dict[str, Any], event: Any) -> Any:
    def member(key: str) -> Any:
        return event.get(key, UNDEFINED) if isinstance(event, dict) else UNDEFINED

    kind = condition["type"]
    if kind in ("event-property", "event-trait", "event-context"):
        container = member({"event-property": "properties", "event-trait": "traits", "event-context": "context"}[kind])
        value = get(container, condition["name"])
        return UNDEFINED if value is UNDEFINED else value
    return member({"event-type": "type", "event": "event", "name": "name", "userId": "userId"}[kind])


def validate_value(actual: Any, operator: str, expected: Any = UNDEFINED) -> bool:
    """validate.ts ``validateValue``, operator by operator."""
    if operator in ("=", "!="):
        equal = isinstance(actual, str) and actual == js_string(expected)
        return equal if operator == "=" else not equal
    if operator in ("<", "<=", ">", ">="):
        if not is_number(actual):
            return False
        left, right = float(actual), js_to_number(expected)
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[operator]
    if operator in ("contains", "not_contains", "starts_with", "not_starts_with", "ends_with", "not_ends_with"):
        if not isinstance(actual, str):
            return False
        needle = js_string(expected)
        test = {"contains": needle in actual, "starts_with": actual.startswith(needle), "ends_with": actual.endswith(needle)}
        return not test[operator[4:]] if operator.startswith("not_") else test[operator]
    if operator in ("exists", "not_exists"):
        exists = actual is not UNDEFINED and actual is not None
        return exists if operator == "exists" else not exists
    if operator in ("is_true", "is_false"):
        return actual is (operator == "is_true")
    return False


def validate(condition: dict[str, Any], event: Any) -> bool:
    """Does ``event`` satisfy the AST ``condition``?"""
    if condition["type"] == "group":
        results = (validate(child, event) for child in condition["children"])
        return {"and": all, "or": any}.get(condition["operator"], lambda _: False)(results)
    return validate_value(_actual(condition, event), condition["operator"], condition.get("value", UNDEFINED))


class Trigger:
    """A compiled trigger: call it with an event. ``ast`` is Segment's parse of the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ast = parse_fql(text)

    def __call__(self, event: dict[str, Any]) -> bool:
        return validate(self.ast, event)

    def __repr__(self) -> str:
        return f"Trigger({self.text!r})"


def compile_trigger(text: str) -> Predicate:
    """Parse ``text`` once; the returned predicate tells whether an event is subscribed."""
    return Trigger(text)
