"""Segment's subscription language (FQL) for triggers, ported from ``@segment/fql-ts``
(``lexer.ts``, ``strings.ts``) and ``@segment/destination-subscriptions`` (``parse-fql.ts``,
``validate.ts``, ``get.ts``, ``generate-fql.ts``); versions in :mod:`.pins`.

:func:`parse_fql` builds the AST Segment's ``parseFql`` builds, quirks included, and
:func:`validate` evaluates it as Segment's ``validate`` does; the golden corpus checks both
against Segment's code. Among the quirks:

* ``=`` is ``actual === String(expected)``; ``= <number>`` / ``!= <number>`` on
  properties/traits/context is ``number_equals`` (a number on the event side).
* ``< <= > >=`` need a number on the event side.
* ``!= null`` / ``= null`` test existence for ``name``, ``userId`` and properties/traits/context;
  for ``type``/``event`` they compare with the string ``"null"``.
* One level of a trigger has one operator, the last ``and``/``or`` written at that level;
  parentheses group but cannot nest, and a group ends at the first ``)``, even one closing a
  ``contains()``; upper-case ``AND``/``OR`` are ignored words; a lexer error gives no tokens.

:func:`compile_trigger` is what the loader uses: it refuses, at load time, a trigger Segment
cannot parse, a trigger Segment reads differently from what it says (``a and b or c``,
``a OR b``, ``!(...)``, nested parentheses, an unknown field, single quotes) and a condition
that can never hold (``properties.x > "abc"``), each with the position and what to write
instead; the triggers it accepts are evaluated exactly as Segment evaluates them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import MappingError
from .jsvalues import (
    UNDEFINED, JSTypeError, from_utf16_units, is_number, js_member, js_string, js_trim, js_truthy, utf16_units,
)

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
# A plain object literal: these names find what every object inherits, a truthy value that is
# no condition type, so parse-fql.ts consumes an operator and a value and adds no condition.
_INHERITED = frozenset(("constructor", "__proto__", "__defineGetter__", "__defineSetter__", "hasOwnProperty",
                        "__lookupGetter__", "__lookupSetter__", "isPrototypeOf", "propertyIsEnumerable", "toString",
                        "valueOf", "toLocaleString"))
CONTAINERS = {"event-property": "properties", "event-trait": "traits", "event-context": "context"}
FUNCTIONS = ("contains", "match")
EOS_FLAG = "-1"
_TYPE_ERROR_UNDEFINED = "Cannot read properties of undefined (reading 'type')"


class FqlError(MappingError):
    """A trigger Segment cannot parse (``parseFql`` answers ``{error}``) or refused at load."""


# --- lexer (fql-ts lexer.ts), on UTF-16 code units -----------------------------------------------


@dataclass(frozen=True)
class Token:
    type: str  # ident dot operator conditional string number null brackleft brackright parenleft parenright comma eos
    value: str
    pos: int = -1  # offset in the trigger (code units), for messages


class _LexerError(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def _is_whitespace(char: str) -> bool:
    return char in (" ", "\t", "\n")


def _is_alpha(char: str) -> bool:
    return len(char) == 1 and ("a" <= char <= "z" or "A" <= char <= "Z")


def _is_number(char: str) -> bool:
    return len(char) == 1 and "0" <= char <= "9"


def _is_ident(char: str) -> bool:
    return char != EOS_FLAG and (_is_alpha(char) or _is_number(char) or char in ("_", "-", "\\"))


def _is_terminator(char: str) -> bool:
    return char == EOS_FLAG or char in (" ", "\t", "\n", ",", "]", ")")


class _Lexer:
    def __init__(self, code: str) -> None:
        self.code, self.pos = utf16_units(code), 0

    def next(self) -> tuple[str, bool]:
        if self.pos >= len(self.code):
            return EOS_FLAG, True
        char = self.code[self.pos]
        self.pos += 1
        return char, False

    def peek(self) -> str:
        char, eos = self.next()
        if not eos:
            self.pos -= 1
        return char

    def backup(self, count: int) -> None:
        self.pos = max(0, self.pos - count)

    def accept(self, text: str) -> bool:
        chars = ""
        for _ in text:
            char, eos = self.next()
            chars += char
            if eos:
                return False
            if _is_terminator(char):
                break
        if text == chars and _is_terminator(self.peek()):
            return True
        self.backup(len(chars))
        return False

    def lex(self) -> list[Token]:
        tokens: list[Token] = []
        while True:
            start = self.pos
            char, eos = self.next()
            if eos:
                tokens.append(Token("eos", "eos", start))
                return tokens
            if _is_whitespace(char):
                continue
            if char == "!":
                following = self.peek()
                if _is_alpha(following) or following == "(":
                    tokens.append(Token("operator", "!", start))
                    continue
            if _is_alpha(char) or char in ("!", "=", ">", "<", "\\", "_"):
                tokens.append(self.operator_or_conditional(char, start))
            elif _is_number(char) or char in ("-", "+"):
                tokens.append(self.number(char, start))
            elif char in ('"', "'"):
                tokens.append(self.string(char, start))
            elif char in (".", "[", "]", ",", "(", ")"):
                kind = {".": "dot", "[": "brackleft", "]": "brackright", ",": "comma", "(": "parenleft",
                        ")": "parenright"}[char]
                tokens.append(Token(kind, char, start))
            else:
                raise _LexerError(f'invalid character "{char}"', start)

    def string(self, quote: str, start: int) -> Token:
        text = ""
        while self.peek() != quote:
            char, eos = self.next()
            text += char
            if eos:
                raise _LexerError("unterminated string", start)
        self.accept(quote)  # eats the closing quote only when a terminator follows it
        return Token("string", f"{quote}{text}{quote}", start)

    def number(self, first: str, start: int) -> Token:
        text, coming, decimal = "", self.peek(), False
        while _is_number(coming) or coming == ".":
            char, _ = self.next()
            text += char
            if coming == ".":
                if _is_terminator(self.peek()):
                    raise _LexerError("unexpected terminator after decimal point", self.pos)
                if decimal:
                    raise _LexerError("multiple decimal points in one number", self.pos)
                decimal = True
            coming = self.peek()
        return Token("number", first + text, start)

    def operator_or_conditional(self, first: str, start: int) -> Token:
        if first == "=":
            return Token("operator", "=", start)
        if first == "!":
            if self.accept("="):
                return Token("operator", "!=", start)
            raise _LexerError(f"expected '=' after '!', got '{self.peek()}'", start)
        for head, rest, kind in (("a", "nd", "conditional"), ("o", "r", "conditional"), ("n", "ull", "null")):
            if first == head:
                if self.accept(rest):
                    return Token(kind, head + rest, start)
                return self.ident(first, start)
        if first in ("<", ">"):
            return Token("operator", first + "=" if self.accept("=") else first, start)
        return self.ident(first, start)

    def ident(self, first: str, start: int) -> Token:
        text, char = "", first
        while True:
            if char == "\\":
                if self.peek() == EOS_FLAG:
                    raise _LexerError("expected character after escape character, got EOS", start)
                char, _ = self.next()
            text += char
            if not _is_ident(self.peek()):
                break
            char, _ = self.next()
        coming = self.peek()
        if not (_is_terminator(coming) or coming in (".", "(", "=", "!")):
            raise _LexerError(f"expected termination character after identifier, got {coming}", self.pos)
        return Token("ident", text, start)


def lex(code: str) -> tuple[list[Token], _LexerError | None]:
    """fql-ts ``lex``: the tokens, or no tokens and the error."""
    try:
        return _Lexer(code).lex(), None
    except _LexerError as exc:
        return [], exc


def normalize(tokens: list[Token]) -> list[Token]:
    """parse-fql.ts ``normalize``: ``ident . ident`` becomes one dotted ident."""
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        current = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if out and out[-1].type == "ident" and current.type == "dot" and following is not None and following.type == "ident":
            previous = out.pop()
            out.append(Token("ident", f"{previous.value}.{following.value}", previous.pos))
            index += 2
        else:
            out.append(current)
            index += 1
    return out


# --- parser (parse-fql.ts, exactly) ----------------------------------------------------------


def js_to_number(value: Any) -> float:
    """``Number(value)``."""
    if is_number(value):
        return float(value)
    if value is True or value is False:
        return 1.0 if value else 0.0
    if value is None:
        return 0.0
    if value is UNDEFINED:
        return math.nan
    if isinstance(value, list):
        return js_to_number(js_string(value))
    if not isinstance(value, str):
        return math.nan
    text = js_trim(value)
    if text == "":
        return 0.0
    if text in ("Infinity", "+Infinity", "-Infinity"):
        return -math.inf if text[0] == "-" else math.inf
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if text[:2].lower() == prefix:
            try:
                return float(int(text[2:], base)) if text[2:].isascii() and text[2:].isalnum() else math.nan
            except ValueError:
                return math.nan
    if re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", text):
        return float(text)
    return math.nan


def _number_value(number: float) -> int | float:
    return int(number) if math.isfinite(number) and number.is_integer() and abs(number) < 2**53 and not (
        number == 0 and math.copysign(1, number) < 0) else number


def token_value(token: Token) -> Any:
    """parse-fql.ts ``getTokenValue``: only double quotes are stripped."""
    if token.type == "string":
        return from_utf16_units(re.sub(r'"$', "", re.sub(r'^"', "", token.value)))
    if token.type == "number":
        return _number_value(js_to_number(token.value))
    if token.type == "ident" and token.value in ("true", "false"):
        return token.value == "true"
    return from_utf16_units(token.value)


def _str_value(token: Token) -> str:
    return js_string(token_value(token))


def _strip_container(value: str, head: str) -> str:
    return from_utf16_units(value[len(head) + 1:] if value.startswith(head + ".") else value)


class _Tokens:
    """The token list parse-fql.ts shifts from; ``shift`` gives None once it is empty."""

    def __init__(self, tokens: list[Token]) -> None:
        self.items, self.index = tokens, 0

    def shift(self) -> Token | None:
        if self.index >= len(self.items):
            return None
        token = self.items[self.index]
        self.index += 1
        return token

    def first(self) -> Token | None:
        return self.items[self.index] if self.index < len(self.items) else None


def _function(name: str, nodes: list[Any], tokens: _Tokens, negate: bool) -> None:
    tokens.shift()
    target = tokens.shift()
    if target is None:
        raise FqlError(f"{name}() is missing a 1st argument")
    tokens.shift()
    value = tokens.shift()
    if value is None:
        raise FqlError(f"{name}() is missing a 2nd argument")
    tokens.shift()
    if name == "contains":
        operator = "not_contains" if negate else "contains"
        text = _str_value(value)
    elif value.value.endswith('*"'):
        operator = "not_starts_with" if negate else "starts_with"
        text = from_utf16_units(utf16_units(_str_value(value))[:-1])
    else:
        operator = "not_ends_with" if negate else "ends_with"
        text = from_utf16_units(utf16_units(_str_value(value))[1:])
    field = target.value
    if field in ("event", "name", "userId"):
        nodes.append({"type": field, "operator": operator, "value": text})
    for head, kind in (("properties", "event-property"), ("traits", "event-trait"), ("context", "event-context")):
        if field.startswith(head):
            nodes.append({"type": kind, "name": _strip_container(field, head), "operator": operator, "value": text})


def _condition(kind: str, token: Token, tokens: _Tokens) -> dict[str, Any] | None:
    operator = tokens.shift()
    if operator is None:
        raise FqlError("Operator token is missing")
    value = tokens.shift()
    if value is None:
        raise FqlError("Value token is missing")
    op, raw = operator.value, value.value
    flags = {("=", "true"): "is_true", ("=", "false"): "is_false", ("!=", "null"): "exists", ("=", "null"): "not_exists"}
    flag = flags.get((op, raw))
    number_op = {"=": "number_equals", "!=": "number_not_equals"}.get(op) if value.type == "number" else None
    if kind in ("event", "event-type"):
        return {"type": kind, "operator": op, "value": _str_value(value)}
    if kind == "name":
        if flag in ("exists", "not_exists"):
            return {"type": "name", "operator": flag}
        return {"type": "name", "operator": op, "value": _str_value(value)}
    if kind == "userId":
        if flag:
            return {"type": "userId", "operator": flag}
        return {"type": "userId", "operator": op, "value": _str_value(value)}
    if kind in CONTAINERS:
        name = _strip_container(token.value, CONTAINERS[kind])
        if flag:
            return {"type": kind, "name": name, "operator": flag}
        if number_op:
            return {"type": kind, "name": name, "operator": number_op, "value": token_value(value)}
        return {"type": kind, "name": name, "operator": op, "value": token_value(value)}
    return None  # an inherited name (constructor, toString, ...): tokens consumed, nothing added


def _parse(tokens: _Tokens) -> Any:
    nodes: list[Any] = []
    operator = "and"
    token = tokens.shift()
    while token is not None and token.type != "eos":
        if token.type == "ident":
            head = token.value.split(".")[0]
            kind = CONDITION_TYPES.get(head) or ("inherited" if head in _INHERITED else None)
            if kind:
                node = _condition(kind, token, tokens)
                if node is not None:
                    nodes.append(node)
            if token.value in FUNCTIONS:
                _function(token.value, nodes, tokens, negate=False)
        if token.type == "operator" and token.value == "!":
            following = tokens.first()
            if following is None:
                raise FqlError(_TYPE_ERROR_UNDEFINED, "TypeError")
            if following.type == "ident" and following.value in FUNCTIONS:
                tokens.shift()
                _function(following.value, nodes, tokens, negate=True)
        if token.type == "parenleft":
            group: list[Token] = []
            inner = tokens.shift()
            while inner is None or inner.type != "parenright":
                if inner is None:
                    raise FqlError(_TYPE_ERROR_UNDEFINED, "TypeError")
                group.append(inner)
                inner = tokens.shift()
            group.append(Token("eos", "eos"))
            nodes.append(_parse(_Tokens(group)))
        if token.type == "conditional":
            operator = token.value
        token = tokens.shift()
    if len(nodes) > 1:
        return {"type": "group", "operator": operator, "children": nodes}
    return nodes[0] if nodes else UNDEFINED


def parse_fql(text: str) -> dict[str, Any]:
    """The AST Segment's ``parseFql`` builds; :class:`FqlError` (with the class and message
    Segment's gives, e.g. ``TypeError`` for a lexer error or an empty trigger) where it fails."""
    tokens, _ = lex(text) if isinstance(text, str) else ([], None)
    ast = _parse(_Tokens(normalize(tokens)))
    if ast is UNDEFINED:
        raise FqlError(_TYPE_ERROR_UNDEFINED, "TypeError")
    if ast["type"] != "group":
        return {"type": "group", "operator": "and", "children": [ast]}
    return ast


# --- evaluation (validate.ts) --------------------------------------------------------------


_PATH_PART = re.compile(r"[^\[.\]]+")


def _get(obj: Any, path: str) -> Any:
    """destination-subscriptions get.ts (``path.match(/([^[.\\]])+/g)``, ``prev && prev[key]``)."""
    if not path:
        return UNDEFINED
    keys = _PATH_PART.findall(path)
    if not keys:
        raise JSTypeError("Cannot read properties of null (reading 'reduce')")
    value = obj
    for key in keys:
        if not js_truthy(value):
            return value
        value = js_member(value, key)
    return value


def validate_value(actual: Any, operator: str, expected: Any = UNDEFINED) -> bool:
    """validate.ts ``validateValue``, operator by operator."""
    if operator == "=":
        return isinstance(actual, str) and actual == js_string(expected)
    if operator == "!=":
        return not (isinstance(actual, str) and actual == js_string(expected))
    if operator in ("number_equals", "number_not_equals", "<", "<=", ">", ">="):
        if not is_number(actual):
            return False
        left, right = float(actual), js_to_number(expected)
        if operator == "number_equals":
            return left == right
        if operator == "number_not_equals":
            return left != right
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[operator]
    if operator in ("contains", "not_contains", "starts_with", "not_starts_with", "ends_with", "not_ends_with"):
        if not isinstance(actual, str):
            return False
        needle = js_string(expected)
        base = operator[4:] if operator.startswith("not_") else operator
        hit = needle in actual if base == "contains" else actual.startswith(needle) if base == "starts_with" else actual.endswith(needle)
        return not hit if operator.startswith("not_") else hit
    if operator == "exists":
        return actual is not UNDEFINED and actual is not None
    if operator == "not_exists":
        return actual is UNDEFINED or actual is None
    if operator == "is_true":
        return actual is True
    if operator == "is_false":
        return actual is False
    return False


def _member(event: Any, key: str) -> Any:
    return event.get(key, UNDEFINED) if type(event) is dict else js_member(event, key)


def _validate_condition(condition: Any, event: Any) -> bool:
    if not isinstance(condition, dict):
        raise JSTypeError(_TYPE_ERROR_UNDEFINED)
    kind = condition.get("type")
    if kind == "group":
        return _validate_group(condition, event)
    field = {"event-type": "type", "event": "event", "name": "name", "userId": "userId"}.get(kind)
    if field is not None:
        actual = _member(event, field)
    elif kind in CONTAINERS:
        actual = _get(_member(event, CONTAINERS[kind]), condition.get("name"))
    else:
        return False
    return validate_value(actual, condition.get("operator"), condition.get("value", UNDEFINED))


def _validate_group(condition: dict[str, Any], event: Any) -> bool:
    if condition.get("operator") == "and":
        return all(_validate_condition(child, event) for child in condition["children"])
    if condition.get("operator") == "or":
        return any(_validate_condition(child, event) for child in condition["children"])
    return False


def validate(ast: dict[str, Any], event: Any) -> bool:
    """validate.ts ``validate``: does ``event`` satisfy the AST? Errors JavaScript would throw
    (a condition that is undefined, a path that names no key) raise :class:`MappingError`."""
    if "error" in ast or event is UNDEFINED:
        return False
    try:
        return _validate_group(ast, event)
    except JSTypeError as exc:
        raise MappingError(str(exc), "TypeError") from None


# --- generate-fql.ts -------------------------------------------------------------------------


def _stringify_value(value: Any) -> str:
    return js_string(value) if value is True or value is False or is_number(value) else f'"{js_string(value)}"'


def _expression(name: str, operator: str, value: Any) -> str:
    number = js_string(js_to_number(value))
    return {
        "contains": f"contains({name}, {_stringify_value(value)})",
        "not_contains": f"!contains({name}, {_stringify_value(value)})",
        "exists": f"{name} != null", "not_exists": f"{name} = null",
        "is_true": f"{name} = true", "is_false": f"{name} = false",
        "starts_with": f'match({name}, "{js_string(value)}*")', "not_starts_with": f'!match({name}, "{js_string(value)}*")',
        "ends_with": f'match({name}, "*{js_string(value)}")', "not_ends_with": f'!match({name}, "*{js_string(value)}")',
        "<": f"{name} < {number}", ">": f"{name} > {number}", "<=": f"{name} <= {number}", ">=": f"{name} >= {number}",
        "number_equals": f"{name} = {number}", "number_not_equals": f"{name} != {number}",
    }.get(operator) or f"{name} {operator} {_stringify_value(value)}"


def _escape_name(name: Any) -> Any:
    return re.sub(r"[^a-zA-Z0-9._-]", lambda m: "\\" + m.group(), name) if isinstance(name, str) else name


def _child(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind in ("name", "userId", "event"):
        return _expression(kind, node.get("operator"), node.get("value", UNDEFINED))
    if kind == "event-type":
        return _expression("type", node.get("operator"), node.get("value", UNDEFINED))
    if kind in CONTAINERS:
        return _expression(f"{CONTAINERS[kind]}.{_escape_name(node.get('name'))}", node.get("operator"),
                           node.get("value", UNDEFINED))
    raise MappingError("Unknown condition type")


def _group(node: dict[str, Any]) -> str:
    return f" {node['operator']} ".join(f"({_group(child)})" if child.get("type") == "group" else _child(child)
                                        for child in node["children"])


def generate_fql(ast: dict[str, Any]) -> str:
    """generate-fql.ts: the FQL text Segment's UI writes for an AST."""
    text = _group(ast)
    if text.startswith("(") and text.endswith(")") and text.count("(") + text.count(")") == 2:
        return text[1:-1]
    return text


# --- the loader's trigger: parity, plus load-time refusals -------------------------------------


class _Intended:
    """What a trigger says by the usual reading (``and`` before ``or``, nested parentheses,
    ``!`` negating what follows), built from the same tokens, with positions for messages."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text, self.tokens, self.index = text, tokens, 0

    def fail(self, token: Token, message: str) -> FqlError:
        where = "the end" if token.type == "eos" else f"position {token.pos}"
        return FqlError(f"cannot parse trigger {self.text!r}: at {where}: {message}")

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        if token.type != "eos":
            self.index += 1
        return token

    def conjunction(self) -> str | None:
        token = self.peek()
        if token.type == "conditional":
            return token.value
        if token.type == "ident" and token.value.lower() in ("and", "or"):  # AND, Or, "and(" (an ident to fql-ts)
            return token.value.lower()
        return None

    def parse(self) -> dict[str, Any]:
        node = self.disjunction(0)
        if self.peek().type != "eos":
            token = self.peek()
            raise self.fail(token, "unmatched ')'" if token.type == "parenright" else
                            f"expected 'and' or 'or' before {from_utf16_units(token.value)!r}")
        return node

    def disjunction(self, depth: int) -> dict[str, Any]:
        children = [self.conjunction_level(depth)]
        while self.conjunction() == "or":
            self.take()
            children.append(self.conjunction_level(depth))
        return children[0] if len(children) == 1 else {"type": "group", "operator": "or", "children": children}

    def conjunction_level(self, depth: int) -> dict[str, Any]:
        children = [self.term(depth)]
        while self.conjunction() == "and":
            self.take()
            children.append(self.term(depth))
        return children[0] if len(children) == 1 else {"type": "group", "operator": "and", "children": children}

    def term(self, depth: int) -> dict[str, Any]:
        token = self.take()
        if token.type == "parenleft":
            node = self.disjunction(depth + 1)
            closing = self.take()
            if closing.type != "parenright":
                raise self.fail(closing, "missing ')'")
            return node
        if token.type == "operator" and token.value == "!":
            following = self.peek()
            if following.type == "ident" and following.value in FUNCTIONS:
                self.take()
                return self.function(following, negate=True)
            raise self.fail(token, "'!' negates only contains() and match(); Segment ignores it elsewhere: "
                                   "write the opposite comparison (= and !=, < and >=) instead")
        if token.type == "ident" and token.value in FUNCTIONS and self.peek().type == "parenleft":
            return self.function(token, negate=False)
        if token.type == "ident":
            return self.condition(token)
        raise self.fail(token, "expected a condition" + ("" if token.type == "eos" else f", got {from_utf16_units(token.value)!r}"))

    def field(self, token: Token) -> tuple[str, str | None]:
        head, _, rest = token.value.partition(".")
        kind = CONDITION_TYPES.get(head)
        if kind is None:
            raise self.fail(token, f"unknown field {from_utf16_units(token.value)!r} (fields: type, event, name, userId, "
                                   "properties.<name>, traits.<name>, context.<name>)")
        if kind in CONTAINERS:
            if not rest:
                raise self.fail(token, f"{head} needs a name, e.g. {head}.plan")
            if not _PATH_PART.search(from_utf16_units(rest)):
                raise self.fail(token, f"{from_utf16_units(rest)!r} names no key (Segment fails on every event)")
            return kind, from_utf16_units(rest)
        if rest:
            raise self.fail(token, f"{head} has no sub-fields")
        return kind, None

    def literal(self, token: Token) -> None:
        if token.type == "string" and token.value.startswith("'"):
            raise self.fail(token, "use double quotes (Segment keeps single quotes as part of the value)")
        if token.type == "number" and math.isnan(js_to_number(token.value)):
            raise self.fail(token, f"{from_utf16_units(token.value)!r} is not a number")
        if not (token.type in ("string", "number", "null") or token.type == "ident" and token.value in ("true", "false")):
            raise self.fail(token, f"expected a value (a \"string\", a number, true, false or null), "
                                   f"got {from_utf16_units(token.value)!r}")

    def condition(self, token: Token) -> dict[str, Any]:
        kind, name = self.field(token)
        operator = self.take()
        if operator.type != "operator" or operator.value not in ("=", "!=", "<", "<=", ">", ">="):
            raise self.fail(operator, f"expected one of = != < <= > >= after {from_utf16_units(token.value)!r}, got "
                                      f"{from_utf16_units(operator.value)!r}" + (" (write <= and >= with a space after them)"
                                                                                 if operator.value == "=" else ""))
        value = self.take()
        self.literal(value)
        if operator.value not in ("=", "!=") and math.isnan(js_to_number(token_value(value))):
            raise self.fail(value, f"{operator.value} compares numbers, {from_utf16_units(value.value)} is not one "
                                   "(Segment's condition never holds)")
        node = _condition(kind, token, _Tokens([operator, value]))
        assert node is not None
        return node

    def function(self, token: Token, negate: bool) -> dict[str, Any]:
        opening = self.take()
        if opening.type != "parenleft":
            raise self.fail(opening, f"expected '(' after {token.value}")
        target = self.take()
        if target.type != "ident":
            raise self.fail(target, f"expected a field as the 1st argument of {token.value}()")
        comma = self.take()
        if comma.type != "comma":
            raise self.fail(comma, f"expected ',' between the arguments of {token.value}()")
        value = self.take()
        if value.type not in ("string", "number") and not (value.type == "ident" and value.value in ("true", "false")):
            raise self.fail(value, f"expected a \"string\" as the 2nd argument of {token.value}()")
        self.literal(value)
        closing = self.take()
        if closing.type != "parenright":
            raise self.fail(closing, f"expected ')' to close {token.value}()")
        kind, _ = self.field(target)
        if kind == "event-type":
            raise self.fail(target, f"{token.value}() does not take type (Segment ignores it): use type = \"...\"")
        if token.value == "match":
            text = _str_value(value)
            if value.type != "string" or text.count("*") != 1 or not (text.startswith("*") or text.endswith("*")):
                raise self.fail(value, 'match() takes "X*" (starts with) or "*X" (ends with); use contains() for "*X*"')
        nodes: list[Any] = []
        _function(token.value, nodes, _Tokens([opening, target, comma, value, closing]), negate)
        return nodes[0]


def _flatten_groups(node: Any) -> Any:
    """Same meaning, one shape: single-child groups dissolve, a child group with its parent's
    operator merges into the parent."""
    if not isinstance(node, dict) or node.get("type") != "group":
        return node
    children: list[Any] = []
    for child in node["children"]:
        child = _flatten_groups(child)
        if isinstance(child, dict) and child.get("type") == "group" and child["operator"] == node["operator"]:
            children.extend(child["children"])
        else:
            children.append(child)
    if len(children) == 1:
        return children[0]
    return {"type": "group", "operator": node["operator"], "children": children}


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return type(left) is type(right) and left == right or (is_number(left) and is_number(right) and left == right)


def _as_written(ast: dict[str, Any]) -> str:
    try:
        return generate_fql(ast)
    except MappingError:
        return repr(ast)


def _only_event_type(ast: Any) -> str | None:
    """``X`` when the trigger is exactly ``type = "X"`` (the presets' and most mappings'
    triggers): then it matches an event whose ``type`` is the string ``X`` and no other, so a
    destination can pick such subscriptions by the event's type without running them."""
    if ast.get("type") != "group" or ast.get("operator") not in ("and", "or") or len(ast.get("children") or ()) != 1:
        return None
    node = ast["children"][0]
    if node.get("type") != "event-type" or node.get("operator") != "=":
        return None
    return js_string(node.get("value", UNDEFINED))


def _compile(node: Any) -> Predicate:
    """A predicate for one node of a parsed (and accepted) AST."""
    kind = node["type"]
    if kind == "group":
        parts = [_compile(child) for child in node["children"]]
        if node["operator"] not in ("and", "or"):
            return lambda event: False
        if len(parts) == 1:
            return parts[0]
        if node["operator"] == "and":
            return lambda event: all(part(event) for part in parts)
        return lambda event: any(part(event) for part in parts)
    operator, expected = node["operator"], node.get("value", UNDEFINED)
    field = {"event-type": "type", "event": "event", "name": "name", "userId": "userId"}.get(kind)
    if field is not None:
        if operator == "=":
            text = js_string(expected)
            return lambda event: (event.get(field) if type(event) is dict else _member(event, field)) == text
        return lambda event: validate_value(_member(event, field), operator, expected)
    container, name = CONTAINERS[kind], node["name"]
    keys = _PATH_PART.findall(name)
    if len(keys) == 1 and keys[0] not in _INHERITED:
        key = keys[0]

        def actual(event: Any) -> Any:
            box = _member(event, container)
            if type(box) is dict:
                return box.get(key, UNDEFINED)
            return _get(box, name)
    else:
        def actual(event: Any) -> Any:
            return _get(_member(event, container), name)
    return lambda event: validate_value(actual(event), operator, expected)


def _nesting(tokens: list[Token]) -> int:
    depth = deepest = 0
    for token in tokens:
        depth += {"parenleft": 1, "parenright": -1}.get(token.type, 0)
        deepest = max(deepest, depth)
    return deepest


def _instead(intended: dict[str, Any]) -> str:
    """What to write instead: Segment's own spelling of the intended conditions, if Segment
    reads that one as intended; else why the language cannot say it."""
    group = intended if intended.get("type") == "group" else {"type": "group", "operator": "and", "children": [intended]}
    try:
        suggestion = generate_fql(_flatten_groups(group) if _flatten_groups(group).get("type") == "group" else group)
        if _same(_flatten_groups(parse_fql(suggestion)), _flatten_groups(intended)):
            return f"write {suggestion!r} (lower-case and/or, parentheses around each mixed group)"
    except MappingError:
        pass
    return ("Segment's triggers cannot say this: parentheses do not nest, and a group ends at the first ')', "
            "even one closing contains() or match(); put a contains()/match() last inside its parentheses, or "
            "split the trigger into several mappings")


class Trigger:
    """A compiled trigger: call it with an event. ``ast`` is Segment's parse of the text."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise FqlError(f"the trigger must be a string, not {type(text).__name__}")
        self.text = text
        tokens, lex_error = lex(text)
        if lex_error is not None:
            raise FqlError(f"cannot parse trigger {text!r}: at position {lex_error.pos}: {lex_error} "
                           "(Segment cannot parse it and never sends)")
        intended = _Intended(text, normalize(tokens)).parse()
        try:
            self.ast = parse_fql(text)
        except FqlError as exc:
            hint = " (parentheses cannot nest in Segment's triggers)" if _nesting(tokens) > 1 else ""
            raise FqlError(f"cannot parse trigger {text!r}: Segment cannot parse it ({exc}) and never sends{hint}") from None
        if not _same(_flatten_groups(intended), _flatten_groups(self.ast)):
            raise FqlError(f"cannot use trigger {text!r}: Segment reads it as {_as_written(self.ast)!r}, not as written; "
                           + _instead(intended))
        self.predicate = _compile(self.ast)  # raises JSTypeError where Segment's validate throws
        self.event_type = _only_event_type(self.ast)

    def __call__(self, event: dict[str, Any]) -> bool:
        try:
            return self.predicate(event)
        except JSTypeError as exc:
            raise MappingError(str(exc), "TypeError") from None

    def __repr__(self) -> str:
        return f"Trigger({self.text!r})"


def compile_trigger(text: str) -> Trigger:
    """Parse ``text`` once, refusing what Segment cannot parse or reads differently; the
    returned predicate tells whether an event is subscribed, as Segment's ``validate`` does."""
    return Trigger(text)
