"""Segment's subscription language (FQL) for triggers, e.g.
``type = "track" and (event = "Order Completed" or contains(event, "Checkout"))``.

Fields: ``type``, ``event``, ``name``, ``userId``, and dotted paths under ``properties``,
``traits``, ``context`` (any dotted path works). Operators ``= != < <= > >=``, ``and``,
``or`` (``and`` binds tighter), parentheses, ``contains(f, "x")``, ``match(f, "X*")``.
``= null`` / ``!= null`` test absence / existence. ``=`` compares as strings; ``< <= > >=``
need numbers on both sides. Text that does not parse raises :class:`MappingError`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Callable

from .errors import MappingError

Predicate = Callable[[dict[str, Any]], bool]
TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>)'
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_$][\w$]*(?:\.[\w$\-]+)*))"
)
MISSING = object()


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MappingError(f"cannot parse trigger at position {position}: {text[position:position + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def _field(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if expected is None:
        exists = actual is not MISSING and actual is not None
        return exists if op == "!=" else (not exists if op == "=" else False)
    if op in ("=", "!="):
        equal = actual is not MISSING and actual is not None and _as_string(actual) == _as_string(expected)
        return equal if op == "=" else not equal
    if isinstance(actual, bool) or not isinstance(actual, (int, float)) or not isinstance(expected, (int, float)):
        return False
    return {"<": actual < expected, "<=": actual <= expected, ">": actual > expected, ">=": actual >= expected}[op]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str, int]:
        token = self._peek()
        if token is None or (kind and token[0] != kind) or (value and token[1] != value):
            where = f"position {token[2]}" if token else "the end"
            wanted = value or kind or "a token"
            raise MappingError(f"cannot parse trigger {self.text!r}: expected {wanted} at {where}")
        self.index += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            raise MappingError("the trigger is empty")
        predicate = self._or()
        if self._peek() is not None:
            token = self._peek()
            raise MappingError(f"cannot parse trigger {self.text!r}: unexpected {token[1]!r} at position {token[2]}")
        return predicate

    def _chain(self, keyword: str, operand: Callable[[], Predicate], combine: Callable[[bool, bool], bool]) -> Predicate:
        """``operand (keyword operand)*``, left-associative."""
        left = operand()
        while (token := self._peek()) and token[:2] == ("word", keyword):
            self._take()
            right = operand()
            left = (lambda a, b: lambda e: combine(a(e), b(e)))(left, right)
        return left

    def _or(self) -> Predicate:
        return self._chain("or", self._and, lambda a, b: a or b)

    def _and(self) -> Predicate:
        return self._chain("and", self._term, lambda a, b: a and b)

    def _value(self) -> Any:
        token = self._peek()
        if token is None:
            raise MappingError(f"cannot parse trigger {self.text!r}: expected a value at the end")
        kind, text, _ = self._take()
        if kind == "string":
            return json.loads(text)
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "word" and text in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[text]
        raise MappingError(f"cannot parse trigger {self.text!r}: expected a value at position {token[2]}")

    def _term(self) -> Predicate:
        token = self._peek()
        if token is None:
            raise MappingError(f"cannot parse trigger {self.text!r}: expected a condition at the end")
        if token[1] == "(":
            self._take("punct", "(")
            inner = self._or()
            self._take("punct", ")")
            return inner
        field = self._take("word")[1]
        if field in ("contains", "match") and (nxt := self._peek()) and nxt[1] == "(":
            self._take("punct", "(")
            target = self._take("word")[1]
            self._take("punct", ",")
            needle = self._value()
            self._take("punct", ")")
            if not isinstance(needle, str):
                raise MappingError(f"cannot parse trigger {self.text!r}: {field}() takes a string")
            if field == "contains":
                return lambda e: isinstance(v := _field(e, target), str) and needle in v
            return lambda e: isinstance(v := _field(e, target), str) and fnmatch.fnmatchcase(v, needle)
        op = self._take("op")[1]
        expected = self._value()
        return lambda e: _compare(op, _field(e, field), expected)


def compile_trigger(text: str) -> Predicate:
    """Parse ``text`` once; the returned predicate tells whether an event is subscribed."""
    if not isinstance(text, str):
        raise MappingError("the trigger must be a string")
    return _Parser(text).parse()
