"""The ``@liquid`` directive (actions-core ``mapping-kit/liquid-directive.ts``) on python-liquid,
limited as Segment limits liquidjs: the tags ``case``, ``for``, ``include``, ``layout``,
``render``, ``tablerow`` and twenty array filters are disabled, a template is at most 1,000
characters, an empty one renders ``""``. Values print as liquidjs prints JavaScript values
(``1.0`` is ``1``, an object is ``[object Object]``, arrays are joined with nothing), and the
filters whose results differ between the two engines are given liquidjs' definitions.

Two things liquidjs accepts and python-liquid refuses are given liquidjs' reading by
replacing two python-liquid internals, for every python-liquid user in the process (this
package is the only one): ``<``/``>`` between text and a number compare as JavaScript does
(python-liquid raises), and a keyword after a dot is a property name (``properties.nil``).
Both only turn python-liquid errors into results; the golden corpus checks the outcome.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import quote

import liquid.builtin.expressions as _expressions
import liquid.builtin.expressions._tokenize as _tokenize_module
import liquid.builtin.output as _output_module
import liquid.stream as _stream_module
from liquid import Environment
from liquid.builtin.expressions import logical as _logical
from liquid.builtin.output import Output, OutputNode
from liquid.exceptions import LiquidError, LiquidSyntaxError
from liquid.tag import Tag
from liquid.token import TOKEN_DOT, TOKEN_WORD
from liquid.undefined import Undefined

from .errors import MappingError
from .jsvalues import UNDEFINED, JSFunction, JSTypeError, js_string, js_trim, utf16_length

MAX_LIQUID_LENGTH = 1000
DISABLED_TAGS = ("case", "for", "include", "layout", "render", "tablerow")
DISABLED_FILTERS = (
    "array_to_sentence_string", "concat", "find", "find_exp", "find_index", "find_index_exp", "group_by",
    "group_by_exp", "has", "has_exp", "map", "newline_to_br", "reject", "reject_exp", "reverse", "sort",
    "sort_natural", "uniq", "where_exp", "type",
)


def _nil(value: Any) -> bool:
    return value is None or value is UNDEFINED or isinstance(value, Undefined)


def stringify(value: Any) -> str:
    """liquidjs ``stringify``: nil is ``""``, arrays join their items' strings with nothing."""
    if isinstance(value, str):
        return value
    if _nil(value):
        return ""
    if isinstance(value, list):
        return "".join(stringify(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return js_string(value)


def _number(value: Any) -> float:
    """What liquidjs' math filters make of a value: ``Number(value)``, and 0 for NaN."""
    from .fql import js_to_number

    if _nil(value) or isinstance(value, Mapping):
        return 0.0
    number = js_to_number(js_string(value) if isinstance(value, list) else value)
    return 0.0 if math.isnan(number) else number


def _num_out(number: float) -> int | float:
    return int(number) if math.isfinite(number) and number.is_integer() and abs(number) < 2**53 else number


class _DisabledTag(Tag):
    def parse(self, stream: Any) -> Any:
        raise LiquidSyntaxError(f'tag "{self.name}" is disabled', token=stream.current)


def _disabled_filter(name: str) -> Any:
    def disabled(*_args: Any, **_kwargs: Any) -> Any:
        raise LiquidError(f'filter "{name}" is disabled', token=None)
    return disabled


class _JSOutputNode(OutputNode):
    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        return buffer.write(stringify(self.expression.evaluate(context)))


class _JSOutput(Output):
    node_class = _JSOutputNode


def _size(value: Any) -> int:
    if isinstance(value, str):
        return utf16_length(value)
    if isinstance(value, list):
        return len(value)
    return 0


def _first(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1]
    return value[0] if isinstance(value, list) and value else ""


def _last(value: Any) -> Any:
    if isinstance(value, str):
        return value[-1:]
    return value[-1] if isinstance(value, list) and value else ""


def _plus(value: Any, arg: Any = UNDEFINED) -> Any:
    return _num_out(_number(value) + _number(arg))


def _minus(value: Any, arg: Any = UNDEFINED) -> Any:
    return _num_out(_number(value) - _number(arg))


def _times(value: Any, arg: Any = UNDEFINED) -> Any:
    return _num_out(_number(value) * _number(arg))


def _divided_by(value: Any, arg: Any = UNDEFINED, integer_arithmetic: Any = False) -> Any:
    left, right = _number(value), _number(arg)
    try:
        result = left / right
    except ZeroDivisionError:
        result = math.nan if left == 0 or math.isnan(left) else math.copysign(math.inf, left) * math.copysign(1, right)
    return _num_out(math.floor(result) if integer_arithmetic and math.isfinite(result) else result)


def _round(value: Any, arg: Any = 0) -> Any:
    number, amp = _number(value), 10 ** _number(arg)
    if not math.isfinite(number):
        return _num_out(number)
    return _num_out(math.copysign(math.floor(abs(number) * amp + 0.5) / amp, number))


def _abs(value: Any) -> Any:
    return _num_out(abs(_number(value)))


def _append(value: Any, arg: Any = UNDEFINED) -> str:
    return stringify(value) + stringify(arg)


def _prepend(value: Any, arg: Any = UNDEFINED) -> str:
    return stringify(arg) + stringify(value)


def _upcase(value: Any) -> str:
    return stringify(value).upper()


def _downcase(value: Any) -> str:
    return stringify(value).lower()


def _capitalize(value: Any) -> str:
    text = stringify(value)
    return text[:1].upper() + text[1:].lower()


def _strip(value: Any, chars: Any = UNDEFINED) -> str:
    return js_trim(stringify(value)) if _nil(chars) else stringify(value).strip(stringify(chars))


def _join(value: Any, arg: Any = UNDEFINED) -> Any:
    if not isinstance(value, list):
        return value
    separator = " " if arg is UNDEFINED or isinstance(arg, Undefined) else js_string(arg)
    return separator.join("" if _nil(item) else js_string(item) for item in value)


def _split(value: Any, arg: Any = UNDEFINED) -> list[str]:
    text, separator = stringify(value), stringify(arg)
    parts = list(text) if separator == "" else text.split(separator)
    while parts and parts[-1] == "":  # liquidjs drops trailing empty strings, like Ruby
        parts.pop()
    return parts


def _default(value: Any, default: Any = UNDEFINED, *_args: Any, **kwargs: Any) -> Any:
    if isinstance(value, (list, str)):
        return value if value else default
    if value is False and kwargs.get("allow_false"):
        return False
    return default if _nil(value) or value is False else value


def _url_encode(value: Any) -> str:
    return quote(stringify(value), safe="-_.!~*'()").replace("%20", "+")


def _truncate(value: Any, length: Any = 50, ellipsis: Any = "...") -> str:
    text, ellipsis = stringify(value), stringify(ellipsis)
    size = int(_number(length)) if math.isfinite(_number(length)) else 50
    if utf16_length(text) <= size:
        return text
    return text[:max(0, size - len(ellipsis))] + ellipsis


def _slice(value: Any, begin: Any = 0, length: Any = 1) -> Any:
    start, count = int(_number(begin)), int(_number(length))
    if _nil(value):
        return []
    seq = value if isinstance(value, list) else stringify(value)
    if start < 0:
        start = len(seq) + start
    start = max(0, start)
    part = seq[start:start + count]
    return part


def _escape(value: Any) -> str:
    text = stringify(value)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;"), ("'", "&#39;")):
        text = text.replace(char, entity)
    return text


OVERRIDES = {
    "escape": _escape,
    "size": _size, "first": _first, "last": _last, "plus": _plus, "minus": _minus, "times": _times,
    "divided_by": _divided_by, "round": _round, "abs": _abs, "append": _append, "prepend": _prepend,
    "upcase": _upcase, "downcase": _downcase, "capitalize": _capitalize, "strip": _strip, "join": _join,
    "split": _split, "default": _default, "url_encode": _url_encode, "truncate": _truncate, "slice": _slice,
}


class _SegmentLiquid(Environment):
    string_sequences = True  # "abc"[0] and "abc".first read characters, as in JavaScript
    string_first_and_last = True


def _environment() -> Environment:
    env = _SegmentLiquid(strict_filters=False)
    env.add_tag(_JSOutput)
    for name in DISABLED_TAGS:
        env.add_tag(type(f"Disabled_{name}", (_DisabledTag,), {"name": name, "block": False}))
    for name, function in OVERRIDES.items():
        env.add_filter(name, function)
    for name in DISABLED_FILTERS:
        env.add_filter(name, _disabled_filter(name))
    return env


def _js_less(token: Any, left: Any, right: Any) -> bool:
    """``left < right`` as JavaScript (and so liquidjs) compares: numbers with numeric strings,
    strings by code units; python-liquid refuses such mixes, so its ``_lt`` gets this fallback."""
    if hasattr(left, "__liquid__"):
        left = left.__liquid__()
    if hasattr(right, "__liquid__"):
        right = right.__liquid__()
    try:
        return _python_lt(token, left, right)
    except LiquidError:
        pass
    if isinstance(left, str) and isinstance(right, str):
        return left < right
    from .fql import js_to_number

    def number(value: Any) -> float:
        if _nil(value):
            return 0.0 if value is None else math.nan
        if isinstance(value, (list, Mapping)):
            return js_to_number(stringify(value)) if isinstance(value, list) else math.nan
        return js_to_number(value)

    return number(left) < number(right)


def _js_tokenize(source: str, parent_token: Any) -> Any:
    """python-liquid's expression tokens, except that a word after a dot is a property name
    even when it is a keyword (``properties.nil``, ``traits.empty``), as liquidjs reads it."""
    previous = None
    for token in _python_tokenize(source, parent_token):
        if previous is not None and previous.kind == TOKEN_DOT and token.kind in _KEYWORDS:
            token = token._replace(kind=TOKEN_WORD)
        previous = token
        yield token


_python_lt = _logical._lt
_logical._lt = _js_less
_python_tokenize = _expressions.tokenize
_KEYWORDS = _tokenize_module._keywords
_output_module.tokenize = _js_tokenize
_stream_module.tokenize = _js_tokenize
ENVIRONMENT = _environment()


def _data(value: Any) -> Any:
    """The payload as liquid sees it: JSON values; functions read as nothing."""
    if isinstance(value, dict):
        return {key: _data(item) for key, item in value.items() if item is not UNDEFINED and not isinstance(item, JSFunction)}
    if isinstance(value, list):
        return [None if item is UNDEFINED or isinstance(item, JSFunction) else _data(item) for item in value]
    return value


def evaluate_liquid(template: Any, payload: Any) -> str:
    """liquid-directive.ts ``evaluateLiquid``; errors are :class:`MappingError` with the class
    ``LiquidError`` (the wording of syntax errors is python-liquid's, not liquidjs')."""
    if not isinstance(template, str):
        raise MappingError("liquid template value must be a string")
    if template == "":
        return ""
    if utf16_length(template) > MAX_LIQUID_LENGTH:
        raise MappingError("liquid template values are limited to 1000 characters")
    data = _data(payload) if isinstance(payload, dict) else {}
    try:
        return ENVIRONMENT.from_string(template, globals=data).render()
    except LiquidError as exc:
        raise MappingError(str(exc), "LiquidError") from None
    except JSTypeError as exc:
        raise MappingError(str(exc), "LiquidError") from None
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise MappingError(f"liquid: {exc}", "LiquidError") from None

