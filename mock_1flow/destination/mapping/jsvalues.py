"""JavaScript value semantics for JSON-like Python values, as Segment's TypeScript relies on
them: ``undefined`` (:data:`UNDEFINED`), truthiness, ``String(x)``, ``JSON.stringify``,
``JSON.parse``, ``realTypeOf``, UTF-16 lengths, own-key order, and property access
(``value[key]``) including what objects inherit (``constructor``, ``toString``,
``__proto__``, a string's ``length``), since an event may carry such names.

Shared by the mapping-kit port (:mod:`.directives`), the FQL port (:mod:`.fql`) and the
destination's payload check (``destination/actions.py``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any


class _Undefined:
    """JavaScript's ``undefined``: a value that is absent, as opposed to ``null``."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:  # one instance, so ``is UNDEFINED`` always works
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()


class JSFunction:
    """A built-in function reached through a property name (``event.constructor``): it has a
    ``name`` and a ``length``, is truthy, ``typeof`` is ``"function"``, JSON drops it."""

    __slots__ = ("name", "length")

    def __init__(self, name: str, length: int) -> None:
        self.name, self.length = name, length

    def __repr__(self) -> str:
        return f"JSFunction({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JSFunction) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class JSPrototype:
    """``Object.prototype``, ``Array.prototype``, ...: what ``x.__proto__`` gives."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{self.name}.prototype"


class JSObject(dict):
    """An object whose prototype was replaced, as ``Object.assign`` does when a source has an
    own ``__proto__`` key holding an object (an event parsed from JSON may have one)."""

    __slots__ = ("proto",)

    def __init__(self, *args: Any, proto: Any = None) -> None:
        super().__init__(*args)
        self.proto = proto


# Own members of the built-in prototypes (name: (function name, length)); read from Node 20.
_PROTOTYPE_MEMBERS: dict[str, dict[str, tuple[str, int]]] = {
    "Object": {k: (k, n) for k, n in (
        ("__defineGetter__", 2), ("__defineSetter__", 2), ("hasOwnProperty", 1), ("__lookupGetter__", 1),
        ("__lookupSetter__", 1), ("isPrototypeOf", 1), ("propertyIsEnumerable", 1), ("toString", 0),
        ("valueOf", 0), ("toLocaleString", 0))},
    "Array": {k: (k, n) for k, n in (
        ("at", 1), ("concat", 1), ("copyWithin", 2), ("fill", 1), ("find", 1), ("findIndex", 1), ("findLast", 1),
        ("findLastIndex", 1), ("lastIndexOf", 1), ("pop", 0), ("push", 1), ("reverse", 0), ("shift", 0),
        ("unshift", 1), ("slice", 2), ("sort", 1), ("splice", 2), ("includes", 1), ("indexOf", 1), ("join", 1),
        ("keys", 0), ("entries", 0), ("values", 0), ("forEach", 1), ("filter", 1), ("flat", 0), ("flatMap", 1),
        ("map", 1), ("every", 1), ("some", 1), ("reduce", 1), ("reduceRight", 1), ("toLocaleString", 0),
        ("toString", 0), ("toReversed", 0), ("toSorted", 1), ("toSpliced", 2), ("with", 2))},
    "String": {k: (k, n) for k, n in (
        ("anchor", 1), ("at", 1), ("big", 0), ("blink", 0), ("bold", 0), ("charAt", 1), ("charCodeAt", 1),
        ("codePointAt", 1), ("concat", 1), ("endsWith", 1), ("fontcolor", 1), ("fontsize", 1), ("fixed", 0),
        ("includes", 1), ("indexOf", 1), ("isWellFormed", 0), ("italics", 0), ("lastIndexOf", 1), ("link", 1),
        ("localeCompare", 1), ("match", 1), ("matchAll", 1), ("normalize", 0), ("padEnd", 1), ("padStart", 1),
        ("repeat", 1), ("replace", 2), ("replaceAll", 2), ("search", 1), ("slice", 2), ("small", 0), ("split", 2),
        ("strike", 0), ("sub", 0), ("substr", 2), ("substring", 2), ("sup", 0), ("startsWith", 1), ("toString", 0),
        ("toWellFormed", 0), ("trim", 0), ("trimStart", 0), ("trimEnd", 0), ("toLocaleLowerCase", 0),
        ("toLocaleUpperCase", 0), ("toLowerCase", 0), ("toUpperCase", 0), ("valueOf", 0))},
    "Number": {k: (k, n) for k, n in (
        ("toExponential", 1), ("toFixed", 1), ("toPrecision", 1), ("toString", 1), ("valueOf", 0),
        ("toLocaleString", 0))},
    "Boolean": {k: (k, n) for k, n in (("toString", 0), ("valueOf", 0))},
    "Function": {k: (k, n) for k, n in (("apply", 2), ("bind", 1), ("call", 1), ("toString", 0))},
}
_PROTOTYPE_MEMBERS["String"].update(trimLeft=("trimStart", 0), trimRight=("trimEnd", 0))
PROTOTYPES = {name: JSPrototype(name) for name in _PROTOTYPE_MEMBERS}
_CONSTRUCTORS = {name: JSFunction(name, 1) for name in _PROTOTYPE_MEMBERS}
_PARENT: dict[str, str | None] = {"Object": None}  # every other built-in prototype inherits from Object.prototype


class JSTypeError(Exception):
    """A TypeError JavaScript would throw (reading a property of null, a strict accessor)."""


def _proto_member(proto: str | None, key: str) -> Any:
    """``value[key]`` for a primitive whose prototype is ``proto`` (``"String"``, ...)."""
    if key == "__proto__" and proto is not None:
        return PROTOTYPES[proto]
    while proto is not None:
        if key == "constructor":
            return _CONSTRUCTORS[proto]
        if key == "__proto__":
            return None if proto == "Object" else PROTOTYPES[_PARENT.get(proto, "Object") or "Object"]
        member = _PROTOTYPE_MEMBERS[proto].get(key)
        if member is not None:
            return JSFunction(*member)
        if key == "length" and proto in ("Array", "String", "Function"):
            return 0
        proto = _PARENT.get(proto, "Object")
    return UNDEFINED


def js_type(value: Any) -> str:
    """``realTypeOf`` of core/src/real-type-of.ts: ``Object.prototype.toString`` lower-cased."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, JSFunction):
        return "function"
    if isinstance(value, JSPrototype):
        return value.name.lower()
    return type(value).__name__


def typeof(value: Any) -> str:
    """JavaScript's ``typeof``."""
    kind = js_type(value)
    return "object" if kind in ("null", "array") or isinstance(value, JSPrototype) and kind != "function" else kind


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: ``0``, ``-0``, ``NaN``, ``""``, ``null``, ``undefined``, ``false`` are falsy."""
    if value is UNDEFINED or value is None:
        return False
    if value is True or value is False:
        return value
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (int, float)):
        return value == value and value != 0
    return True


def js_number_to_string(number: float) -> str:
    """``Number.prototype.toString()``: ``1.0`` is ``"1"``, ``1e21`` is ``"1e+21"``, ``1e-7`` is ``"1e-7"``."""
    if isinstance(number, int) and not isinstance(number, bool) and abs(number) < 10**21:
        if abs(number) <= 2**53:
            return str(number)
        number = float(number)
    number = float(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    # repr gives the shortest round-trip digits, as ECMAScript does; only the layout differs.
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    fraction = "" if fraction == "0" else fraction
    digits = (whole + fraction).lstrip("0")
    n = len(whole) - (len(whole + fraction) - len(digits)) + int(exponent or 0)  # value = 0.digits x 10^n
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + f"e{'+' if n > 0 else '-'}{abs(n - 1)}"
    return ("-" if number < 0 else "") + text


def js_string(value: Any) -> str:
    """``String(value)``: arrays join with ``,`` (null items empty), objects are ``[object Object]``."""
    if isinstance(value, str):
        return value
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number_to_string(value)
    if isinstance(value, list):
        return ",".join("" if item is None or item is UNDEFINED else js_string(item) for item in value)
    if isinstance(value, JSFunction):
        return f"function {value.name}() {{ [native code] }}"
    if isinstance(value, JSPrototype):
        return {"Array": "", "Function": "function () { [native code] }", "String": "", "Number": "0",
                "Boolean": "false"}.get(value.name, "[object Object]")
    if not isinstance(js_member(value, "toString"), JSFunction):
        # OrdinaryToPrimitive: an own "toString" that is data (an event may carry one), and
        # valueOf gives the object back: String() throws.
        raise JSTypeError("Cannot convert object to primitive value")
    proto = value.proto if isinstance(value, JSObject) else UNDEFINED
    while isinstance(proto, JSObject):
        proto = proto.proto
    if proto is None:  # no toString to call: String() of a null-prototype object throws
        raise JSTypeError("Cannot convert object to primitive value")
    if isinstance(proto, list):
        return ""  # Array.prototype.toString of an object without length
    return "[object Object]"


JS_WHITESPACE = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                 "\u2028\u2029\u202f\u205f\u3000\ufeff")


def js_trim(text: str) -> str:
    """``String.prototype.trim``: JavaScript's whitespace set, not Python's."""
    return text.strip(JS_WHITESPACE)


def _canonical_index(key: str) -> int | None:
    if key.isdigit() and key.isascii() and (key == "0" or key[0] != "0"):
        return int(key)
    return None


def js_keys(obj: dict) -> list[str]:
    """``Object.keys`` order: integer-like keys ascending, then the others in insertion order."""
    keys = list(obj)
    if not any(key[:1].isdigit() for key in keys):
        return keys
    numeric = sorted((index, key) for key in keys if (index := _canonical_index(key)) is not None and index < 2**32 - 1)
    taken = {key for _, key in numeric}
    return [key for _, key in numeric] + [key for key in keys if key not in taken]


def utf16_units(text: str) -> str:
    """The string as UTF-16 code units, one Python character each (astral characters become pairs)."""
    if text.isascii() or all(ord(char) < 0x10000 for char in text):
        return text
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i:i + 2], "little")) for i in range(0, len(data), 2))


def from_utf16_units(units: str) -> str:
    """Inverse of :func:`utf16_units`: pairs join again, lone surrogates stay."""
    if all(not 0xD800 <= ord(char) <= 0xDFFF for char in units):
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def utf16_length(text: str) -> int:
    """JavaScript's ``string.length`` counts UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def js_member(value: Any, key: Any) -> Any:
    """``value[key]`` in JavaScript, for JSON values and what they inherit."""
    if not isinstance(key, str):
        key = js_string(key)
    if isinstance(value, dict):
        if key in value:
            return value[key]
        proto = value.proto if isinstance(value, JSObject) else PROTOTYPES["Object"]
        if key == "__proto__":
            return proto
        return js_member(proto, key) if proto is not None else UNDEFINED
    if isinstance(value, str):
        if key == "length":
            return utf16_length(value)
        index = _canonical_index(key)
        if index is not None:
            units = utf16_units(value)
            return units[index] if index < len(units) else UNDEFINED
        return _proto_member("String", key)
    if isinstance(value, list):
        if key == "length":
            return len(value)
        index = _canonical_index(key)
        if index is not None:
            return value[index] if index < len(value) else UNDEFINED
        return _proto_member("Array", key)
    if value is True or value is False:
        return _proto_member("Boolean", key)
    if isinstance(value, (int, float)):
        return _proto_member("Number", key)
    if isinstance(value, JSFunction):
        if key == "name":
            return value.name
        if key == "length":
            return value.length
        if key == "prototype":
            return PROTOTYPES.get(value.name, UNDEFINED) if value in _CONSTRUCTORS.values() else UNDEFINED
        if key in ("caller", "arguments"):
            raise JSTypeError("'caller', 'callee', and 'arguments' properties may not be accessed on strict mode "
                              "functions or the arguments objects for calls to them")
        return _proto_member("Function", key)
    if isinstance(value, JSPrototype):
        if key in _PROTOTYPE_MEMBERS[value.name]:
            return JSFunction(*_PROTOTYPE_MEMBERS[value.name][key])
        if key == "constructor":
            return _CONSTRUCTORS[value.name]
        if key == "length" and value.name in ("Array", "String", "Function"):
            return 0
        if key == "name" and value.name == "Function":
            return ""
        if value.name == "Object":
            return None if key == "__proto__" else UNDEFINED
        return _proto_member("Object", key)
    if value is None or value is UNDEFINED:
        raise JSTypeError(f"Cannot read properties of {js_string(value)} (reading '{key}')")
    return UNDEFINED


def js_assign(target: dict, key: str, value: Any) -> dict:
    """``target[key] = value`` ([[Set]]): ``__proto__`` replaces the prototype when the value is an
    object or null, and is ignored otherwise. Returns the target (a JSObject if it had to be)."""
    if key != "__proto__":
        target[key] = value
        return target
    holder: Any = target
    while isinstance(holder, dict):
        if "__proto__" in holder:  # a data property named __proto__ on the way: [[Set]] makes an own one
            target[key] = value
            return target
        holder = holder.proto if isinstance(holder, JSObject) else PROTOTYPES["Object"]
    if holder is None:  # a null-prototype chain has no __proto__ accessor either
        target[key] = value
        return target
    if value is None or isinstance(value, (dict, list, JSFunction, JSPrototype)):
        target = target if isinstance(target, JSObject) else JSObject(target)
        target.proto = value
    return target


def object_assign(sources: list[Any], target: dict | None = None) -> dict:
    """``Object.assign(target ?? {}, ...sources)``: own enumerable members, in key order."""
    merged: dict = {} if target is None else target
    for source in sources:
        if isinstance(source, dict):
            if "__proto__" in source:
                for key in js_keys(source):
                    merged = js_assign(merged, key, source[key])
            elif not merged:
                merged.update((key, source[key]) for key in js_keys(source))
            else:
                for key in js_keys(source):
                    merged[key] = source[key]
        elif isinstance(source, list):
            for index, item in enumerate(source):
                merged[str(index)] = item
        elif isinstance(source, str):
            for index, unit in enumerate(utf16_units(source)):
                merged[str(index)] = unit
    return merged


def js_json_stringify(value: Any) -> Any:
    """``JSON.stringify(value)``: compact, non-ASCII kept, lone surrogates escaped, undefined and
    functions dropped from objects (``null`` in arrays), JavaScript number formatting, object keys
    in JavaScript order; ``undefined`` (or a function) alone stays undefined."""
    if value is UNDEFINED or isinstance(value, JSFunction):
        return UNDEFINED
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, (int, float)):
        return "null" if isinstance(value, float) and not math.isfinite(value) else js_number_to_string(value)
    if isinstance(value, list):
        items = (js_json_stringify(item) for item in value)
        return "[" + ",".join("null" if item is UNDEFINED else item for item in items) + "]"
    if isinstance(value, dict):
        members = ((key, js_json_stringify(value[key])) for key in js_keys(value))
        return "{" + ",".join(f"{_json_string(key)}:{item}" for key, item in members if item is not UNDEFINED) + "}"
    if isinstance(value, JSPrototype):
        return "[]" if value.name == "Array" else "{}"
    return _json_string(str(value))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    if _LONE_SURROGATE.search(out):  # valid pairs never occur here: Python joins them
        out = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return out


def _json_parse_int(text: str) -> int | float:
    if text == "-0":
        return -0.0
    number = int(text)
    return number if abs(number) <= 2**53 else float(number)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]}")


def js_json_parse(text: str) -> Any:
    """``JSON.parse``: strict JSON (no NaN/Infinity), numbers as doubles."""
    return json.loads(text, parse_int=_json_parse_int, parse_constant=_reject_constant)
