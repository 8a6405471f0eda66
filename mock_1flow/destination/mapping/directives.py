"""Segment's mapping-kit directives, ported from segmentio/action-destinations
``packages/core/src/mapping-kit/index.ts`` (resolution), ``validate.ts`` (load-time checks)
and ``packages/core/src/get.ts`` (paths), JavaScript quirks included.

A directive is an object whose keys are one ``@name`` (plus, optionally, ``_metadata``).
Resolving walks the mapping: directives are evaluated against the payload, objects and
arrays member by member. JavaScript's ``undefined`` is :data:`UNDEFINED`; like Segment's
``removeUndefined`` it is dropped from objects at the end (``None``, JS ``null``, is kept),
so a directive in a later ``@merge`` source can still overwrite a key with "nothing".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from .errors import MappingError


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
MAX_PATTERN_LENGTH = 10  # index.ts: MAX_PATTERN_LENGTH / MAX_REPLACEMENT_LENGTH
MAX_REPLACEMENT_LENGTH = 10


# --- JavaScript value semantics the directives rely on -------------------------------------


def js_type(value: Any) -> str:
    """``realTypeOf`` of core/src/real-type-of.ts, for JSON-like Python values."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: ``0``, ``NaN``, ``""``, ``null``, ``undefined``, ``false`` are falsy."""
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def js_number_to_string(number: float) -> str:
    """``Number.prototype.toString()``: ``1.0`` is ``"1"``, ``1e21`` is ``"1e+21"``, ``1e-7`` is ``"1e-7"``."""
    if isinstance(number, int) and not isinstance(number, bool) and abs(number) < 10**21:
        return str(number)
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
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return js_number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if item is None or item is UNDEFINED else js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def js_json_stringify(value: Any) -> Any:
    """``JSON.stringify(value)``: compact, non-ASCII kept, undefined members dropped
    (``null`` inside arrays), JavaScript number formatting; ``undefined`` stays undefined."""
    if value is UNDEFINED:
        return UNDEFINED
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return "null" if isinstance(value, float) and not math.isfinite(value) else js_number_to_string(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        items = (js_json_stringify(item) for item in value)
        return "[" + ",".join("null" if item is UNDEFINED else item for item in items) + "]"
    if isinstance(value, dict):
        members = ((key, js_json_stringify(item)) for key, item in value.items())
        return "{" + ",".join(f"{json.dumps(str(key), ensure_ascii=False)}:{item}"
                              for key, item in members if item is not UNDEFINED) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def _json_parse_int(text: str) -> int | float:
    number = int(text)
    return number if abs(number) <= 2**53 else float(number)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]}")


def js_json_parse(text: str) -> Any:
    """``JSON.parse``: strict JSON (no NaN/Infinity), numbers as doubles."""
    return json.loads(text, parse_int=_json_parse_int, parse_constant=_reject_constant)


def utf16_length(text: str) -> int:
    """JavaScript's ``string.length`` counts UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _canonical_index(key: str) -> int | None:
    return int(key) if key.isdigit() and str(int(key)) == key else None


def _member(value: Any, key: Any) -> Any:
    """``value[key]`` in JavaScript, for JSON values (strings and arrays have ``length``)."""
    key = js_string(key)
    if isinstance(value, dict):
        return value.get(key, UNDEFINED)
    if isinstance(value, (list, str)):
        if key == "length":
            return len(value) if isinstance(value, list) else utf16_length(value)
        index = _canonical_index(key)
        return value[index] if index is not None and index < len(value) else UNDEFINED
    return UNDEFINED


PATH_KEYS = re.compile(r"[^\[.\]]+")


def get(obj: Any, path: str | list) -> Any:
    """core/src/get.ts: ``'foo.bar[0].baz'``; ``''`` and ``'.'`` are the root. A falsy
    intermediate value is returned as is (``prev && prev[key]``): ``a.b`` of ``{a: 0}`` is 0.
    Quotes are not special: ``a["b"]`` looks up the key ``"b"`` with its quotes."""
    if path == "" or path == ".":
        return obj
    if path is None or path is UNDEFINED:
        return UNDEFINED
    keys = path if isinstance(path, list) else PATH_KEYS.findall(path)
    if not keys:
        raise MappingError(f"Cannot read path {path!r}: it names no key")
    value = obj
    for key in keys:
        if not js_truthy(value):
            return value
        value = _member(value, key)
    return value


def remove_undefined(value: Any) -> Any:
    """core/src/remove-undefined.ts: drop undefined object members, recursively; an undefined
    array item would serialise as ``null``, so it becomes ``None``."""
    if isinstance(value, list):
        return [None if item is UNDEFINED else remove_undefined(item) for item in value]
    if isinstance(value, dict):
        return {key: remove_undefined(item) for key, item in value.items() if item is not UNDEFINED}
    return value


def _loosely_equals_empty_string(value: Any) -> bool:
    """``value == ''`` in JavaScript (``0``, ``false``, ``[]`` are loosely equal to ``''``)."""
    if isinstance(value, bool):
        return not value
    if is_number(value):
        return value == 0
    if isinstance(value, str):
        return value == ""
    if isinstance(value, list):
        return js_string(value) == ""
    return False


# --- directives ------------------------------------------------------------------------------


def is_directive(value: Any) -> bool:
    """is-directive.ts: an object with an ``@`` key and no other keys but ``_metadata``."""
    if not isinstance(value, dict) or not any(str(key).startswith("@") for key in value):
        return False
    return all(str(key).startswith("@") or key == "_metadata" for key in value)


def _string_arg(name: str, value: Any, payload: Any) -> str:
    """registerStringDirective: the argument may itself be a directive, resolving to a string."""
    text = _resolve(value, payload)
    if not isinstance(text, str):
        raise MappingError(f"{name}: expected string, got {js_type(text)}")
    return text


def _path(value: Any, payload: Any) -> Any:
    return get(payload, _string_arg("@path", value, payload).replace("$.", "", 1))


TRIPLE = re.compile(r"\{\{\{([^}]+)\}\}\}")
DOUBLE = re.compile(r"\{\{([^}]+)\}\}")


def render(template: str, data: Any) -> str:
    """placeholders.ts: ``{{{a.b}}}`` then ``{{a.b}}``, no HTML escaping (Segment's
    "no escaping" test); a missing value renders as ``""``; no ``$.`` prefix in placeholders."""

    def replace(match: re.Match[str]) -> str:
        value = get(data, match.group(1).strip())
        return "" if value is UNDEFINED or value is None else js_string(value)

    return DOUBLE.sub(replace, TRIPLE.sub(replace, template))


def _template(value: Any, payload: Any) -> Any:
    return render(_string_arg("@template", value, payload), payload)


def _literal(value: Any, payload: Any) -> Any:
    # Segment's @literal resolves its value: {"@literal": {"a": {"@path": "$.a"}}} reads $.a.
    return _resolve(value, payload)


def _if(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@if requires an object with an "exists" key')
    if not js_truthy(opts.get("exists", UNDEFINED)) and not js_truthy(opts.get("blank", UNDEFINED)):
        raise MappingError('@if requires an "exists" key or a "blank" key')
    if "exists" in opts:
        value = _resolve(opts["exists"], payload)
        condition = value is not UNDEFINED and value is not None
    else:
        # Segment's quirk: the condition holds when the value is NOT blank ("then" = has a value).
        value = _resolve(opts["blank"], payload)
        condition = value is not UNDEFINED and value is not None and not _loosely_equals_empty_string(value)
    if condition and "then" in opts:
        return _resolve(opts["then"], payload)
    if not condition and js_truthy(opts.get("else", UNDEFINED)):  # a falsy raw else (0, "", null) is ignored
        return _resolve(opts["else"], payload)
    return UNDEFINED


def _case(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@case requires an object with a "operator" key')
    if not js_truthy(opts.get("operator", UNDEFINED)):
        raise MappingError('@case requires a "operator" key')
    if not js_truthy(opts.get("value", UNDEFINED)):
        return UNDEFINED
    value = _resolve(opts["value"], payload)
    if isinstance(value, str):
        if opts["operator"] == "lower":
            return value.lower()
        if opts["operator"] == "upper":
            return value.upper()
        raise MappingError('operator key should have a value of "lower" or "upper"')
    return value


def _js_substitution(replacement: str, match: re.Match[str]) -> str:
    """GetSubstitution of String.prototype.replace with a pattern that has no groups:
    ``$$``, ``$&``, ``$` `` and ``$'`` are special, anything else is literal."""
    out, index, text = [], 0, match.string
    while index < len(replacement):
        char = replacement[index]
        nxt = replacement[index + 1] if index + 1 < len(replacement) else ""
        if char == "$" and nxt in ("$", "&", "`", "'"):
            out.append({"$": "$", "&": match.group(0), "`": text[:match.start()], "'": text[match.end():]}[nxt])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _perform_replace(value: str, pattern: str, replacement: str, is_global: bool, ignorecase: bool) -> str:
    if utf16_length(pattern) > MAX_PATTERN_LENGTH:
        raise MappingError(f'@replace requires a "pattern" less than {MAX_PATTERN_LENGTH} characters')
    if utf16_length(replacement) > MAX_REPLACEMENT_LENGTH:
        raise MappingError(f'@replace requires a "replacement" less than {MAX_REPLACEMENT_LENGTH} characters')
    # Segment escapes every regex metacharacter: the pattern is always literal text.
    regex = re.compile(re.escape(pattern), re.IGNORECASE if ignorecase else 0)
    return regex.sub(lambda match: _js_substitution(replacement, match), value, count=0 if is_global else 1)


def _replace(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@replace requires an object with a "pattern" key')
    if not js_truthy(opts.get("pattern", UNDEFINED)):
        raise MappingError('@replace requires a "pattern" key')
    pattern, pattern2 = opts["pattern"], opts.get("pattern2", UNDEFINED)
    replacement = "" if opts.get("replacement") is None else opts["replacement"]
    replacement2 = opts.get("replacement2", UNDEFINED)
    if js_truthy(pattern2) and replacement2 in (None, UNDEFINED):
        replacement2 = ""
    ignorecase = False if opts.get("ignorecase") is None else opts["ignorecase"]
    is_global = True if opts.get("global") is None else opts["global"]
    if not js_truthy(opts.get("value", UNDEFINED)):
        return UNDEFINED
    value = _resolve(opts["value"], payload)
    if isinstance(value, bool) or is_number(value):
        value = js_string(value)
    if not (isinstance(value, str) and isinstance(pattern, str) and isinstance(replacement, str)
            and isinstance(ignorecase, bool) and isinstance(is_global, bool)):
        return ""  # Segment's quirk: null, undefined and objects become ""
    result = _perform_replace(value, pattern, replacement, is_global, ignorecase)
    if js_truthy(pattern2) and isinstance(pattern2, str) and isinstance(replacement2, str):
        result = _perform_replace(result, pattern2, replacement2, is_global, ignorecase)
    return result


def _array_path(data: Any, payload: Any) -> Any:
    if not isinstance(data, list):
        raise MappingError(f"@arrayPath expected array, got {js_type(data)}")
    path = data[0] if data else UNDEFINED
    item_shape = data[1] if len(data) > 1 else UNDEFINED
    root = get(payload, path.replace("$.", "", 1)) if isinstance(path, str) else _resolve(path, payload)
    if isinstance(root, (dict, list)) and isinstance(item_shape, dict) and item_shape:
        return [_resolve(item_shape, item) for item in (root if isinstance(root, list) else [root])]
    return root


def flatten_object(value: Any, prefix: str, separator: str, ignore_arrays: bool) -> dict[str, Any]:
    """flatten.ts: nested keys joined by the separator; a bare value becomes ``{prefix: value}``
    (so ``null`` flattens to ``{"": null}``); empty objects vanish."""
    if isinstance(value, dict) or (not ignore_arrays and isinstance(value, list)):
        entries = value.items() if isinstance(value, dict) else ((str(i), item) for i, item in enumerate(value))
        flat: dict[str, Any] = {}
        for key, item in entries:
            flat.update(flatten_object(item, f"{prefix}{separator}{key}" if prefix else key, separator, ignore_arrays))
        return flat
    return {prefix: value}


def _flatten(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@flatten requires an object with a "separator" key')
    if not js_truthy(opts.get("separator", UNDEFINED)):
        raise MappingError('@flatten requires a "separator" key')
    separator = _resolve(opts["separator"], payload)
    if not isinstance(separator, str):
        raise MappingError("@flatten requires a string separator")
    value = _resolve(opts.get("value", UNDEFINED), payload)
    return flatten_object(value, "", separator, js_truthy(opts.get("omitArrays", UNDEFINED)))


def _json(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@json requires an object with a "value" key')
    if not js_truthy(opts.get("mode", UNDEFINED)):
        raise MappingError('@json requires a "mode" key')
    if not js_truthy(opts.get("value", UNDEFINED)):
        raise MappingError('@json requires a "value" key')
    value = _resolve(opts["value"], payload)
    if opts["mode"] == "encode":
        return js_json_stringify(value)
    if opts["mode"] == "decode":
        if not isinstance(value, str):
            return value
        try:
            return js_json_parse(value)
        except ValueError as exc:
            raise MappingError(f"@json: cannot decode {value!r} ({exc})") from None
    return UNDEFINED  # validation lower-cases the mode, the runtime does not: "Encode" yields nothing


def _object_assign(sources: list[Any]) -> dict[str, Any]:
    """``Object.assign({}, ...sources)``: undefined members overwrite too; a string or an array
    contributes its indices; null and other primitives contribute nothing."""
    merged: dict[str, Any] = {}
    for source in sources:
        if isinstance(source, dict):
            merged.update(source)
        elif isinstance(source, (list, str)):
            merged.update((str(index), item) for index, item in enumerate(source))
    return merged


def _merge(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@merge requires an object with an "objects" key and a "direction" key')
    if not js_truthy(opts.get("direction", UNDEFINED)):
        raise MappingError('@merge requires a "direction" key')
    direction = _resolve(opts["direction"], payload)
    if not js_truthy(opts.get("objects", UNDEFINED)):
        raise MappingError('@merge requires a "objects" key')
    if not isinstance(opts["objects"], list):
        raise MappingError(f"@merge: expected opts.array, got {'object' if isinstance(opts['objects'], dict) else js_type(opts['objects'])}")
    objects = [_resolve(item, payload) for item in opts["objects"]]
    if direction == "left":
        objects.reverse()
    return _object_assign(objects)


def _transform(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@transform requires an object with an "apply" key and a "mapping" key')
    if not js_truthy(opts.get("mapping", UNDEFINED)):
        raise MappingError('@transform requires a "mapping" key')
    if not js_truthy(opts.get("apply", UNDEFINED)):
        raise MappingError('@transform requires a "apply" key')
    if not isinstance(opts["apply"], dict):
        raise MappingError('@transform "apply" key should be an object')
    return _resolve(opts["mapping"], transform(opts["apply"], payload))


def _exclude_when_null(value: Any, payload: Any) -> Any:
    resolved = _resolve(value, payload)
    return UNDEFINED if resolved is None else resolved


DIRECTIVES: dict[str, Callable[[Any, Any], Any]] = {
    "@if": _if,
    "@case": _case,
    "@replace": _replace,
    "@arrayPath": _array_path,
    "@path": _path,
    "@template": _template,
    "@literal": _literal,
    "@flatten": _flatten,
    "@json": _json,
    "@merge": _merge,
    "@transform": _transform,
    "@excludeWhenNull": _exclude_when_null,
}


def _resolve(mapping: Any, payload: Any) -> Any:
    if isinstance(mapping, list):
        return [_resolve(item, payload) for item in mapping]
    if not isinstance(mapping, dict):
        return mapping
    if is_directive(mapping):
        name = next(key for key in mapping if str(key).startswith("@"))
        directive = DIRECTIVES.get(name)
        if directive is None:
            raise MappingError(f"{name} is not a valid directive, got undefined")
        return directive(mapping[name], payload)
    return {key: _resolve(value, payload) for key, value in mapping.items()}


def resolve(mapping: Any, payload: Any) -> Any:
    """Evaluate ``mapping`` against ``payload`` as Segment does; undefined members are dropped.

    Errors Segment raises while resolving (e.g. ``@json`` decoding text that is not JSON)
    raise :class:`MappingError`; :func:`validate_mapping` refuses the static ones at load."""
    return remove_undefined(_resolve(mapping, payload))


def transform(mapping: Any, data: Any) -> Any:
    """index.ts ``transform``: validate, resolve, remove undefined; ``data`` must be an object."""
    if not isinstance(data, dict):
        raise MappingError(f"data must be an object, got {js_type(data)}")
    validate_mapping(mapping, "mapping")
    return resolve(mapping, data)


# --- validation (validate.ts), at load time ------------------------------------------------


def _article(type_name: str) -> str:
    return f"{'an' if type_name[:1] in 'aeiou' else 'a'} {type_name}"


def _type_or_directive(value: Any) -> str:
    if isinstance(value, dict) and any(str(key).startswith("@") for key in value):
        return "directive"
    return js_type(value)


Stack = tuple[str, ...]


class _Errors(list):
    """Validation messages in Segment's shape: ``/<path> <message>.``"""

    def add(self, stack: Stack, message: str) -> None:
        text = f"/{'/'.join(stack)} {message}."
        if text not in self:
            self.append(text)


def _directive(value: Any, stack: Stack, errors: _Errors) -> None:
    keys = [str(key) for key in value]
    directive_keys = [key for key in keys if key.startswith("@")]
    others = [key for key in keys if not key.startswith("@") and key != "_metadata"]
    if len(directive_keys) > 1:
        return errors.add(stack, f"should only have one @-prefixed key but it has {len(directive_keys)} keys"
                                 f" ({', '.join(directive_keys)})")
    if others:
        return errors.add(stack, f"should only have one @-prefixed key but it has {len(keys)} keys"
                                 f" (directive {directive_keys[0]} mixed with other keys: {', '.join(others)})")
    name = directive_keys[0]
    checker = _CHECKS.get(name)
    if checker is None:
        return errors.add(stack, f"has an invalid directive: {name} (known: {', '.join(DIRECTIVES)})")
    checker(value[name], stack + (name,), errors)


def _directive_or_raw(value: Any, stack: Stack, errors: _Errors) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _directive(value, stack, errors)
    elif kind in ("object", "array"):
        _validate(value, stack, errors)
    elif kind not in ("boolean", "string", "number", "null"):
        errors.add(stack, f"should be a mapping directive or a JSON value but it is {_article(kind)}")


def _directive_or_string(value: Any, stack: Stack, errors: _Errors) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _directive(value, stack, errors)
    elif kind != "string":
        errors.add(stack, f"should be a string or a mapping directive but it is {_article(kind)}")


def _string(value: Any, stack: Stack, errors: _Errors) -> bool:
    kind = _type_or_directive(value)
    if kind != "string":
        errors.add(stack, f"should be a string but it is {_article(kind)}")
    return kind == "string"


def _string_length(low: int, high: int) -> Callable[[Any, Stack, _Errors], None]:
    def check(value: Any, stack: Stack, errors: _Errors) -> None:
        if _string(value, stack, errors):
            if utf16_length(value) < low:
                errors.add(stack, f"should be a string of length {low} or greater")
            elif utf16_length(value) > high:
                errors.add(stack, f"should be a string of length {high} or less")
    return check


def _boolean(value: Any, stack: Stack, errors: _Errors) -> None:
    kind = _type_or_directive(value)
    if kind != "boolean":
        errors.add(stack, f"should be a boolean but it is {_article(kind)}")


def _one_of(*allowed: str) -> Callable[[Any, Stack, _Errors], None]:
    def check(value: Any, stack: Stack, errors: _Errors) -> None:
        if _string(value, stack, errors) and value.lower() not in allowed:  # Segment lower-cases here
            errors.add(stack, f"should be one of {', '.join(allowed)} but it is {json.dumps(value)}")
    return check


def _object(value: Any, stack: Stack, errors: _Errors) -> bool:
    kind = _type_or_directive(value)
    if kind != "object":
        errors.add(stack, f"should be an object but it is {_article(kind)}")
        return False
    for key, item in value.items():
        _validate(item, stack + (str(key),), errors)
    return True


def _array(value: Any, stack: Stack, errors: _Errors) -> bool:
    if not isinstance(value, list):
        errors.add(stack, f"should be an array but it is {_article(js_type(value))}")
        return False
    return True


Check = Callable[[Any, Stack, _Errors], Any]


def _fields(value: Any, stack: Stack, errors: _Errors, required: dict[str, Check], optional: dict[str, Check]) -> bool:
    """validateObjectWithFields: an object, its members valid, required fields present."""
    if _type_or_directive(value) != "object":
        errors.add(stack, f"should be an object but it is {_article(_type_or_directive(value))}")
        return False
    for key, item in value.items():
        if key not in required and key not in optional:
            _validate(item, stack + (str(key),), errors)
    for key, check in required.items():
        if key not in value:
            errors.add(stack, f"should have field {json.dumps(key)} but it doesn't")
        else:
            check(value[key], stack + (key,), errors)
    for key, check in optional.items():
        if key in value:
            check(value[key], stack + (key,), errors)
    return True


def _check_if(value: Any, stack: Stack, errors: _Errors) -> None:
    branches = {"exists": _directive_or_raw, "blank": _directive_or_raw, "then": _directive_or_raw, "else": _directive_or_raw}
    if _fields(value, stack, errors, {}, branches) and not (
            js_truthy(value.get("exists", UNDEFINED)) or js_truthy(value.get("blank", UNDEFINED))):
        errors.add(stack, 'requires an "exists" key or a "blank" key')


def _check_case(value: Any, stack: Stack, errors: _Errors) -> None:
    if _fields(value, stack, errors, {}, {"operator": _string, "value": _directive_or_string}):
        if "operator" not in value:
            errors.add(stack, 'requires a "operator" key')
        elif value["operator"] not in ("lower", "upper"):
            errors.add(stack + ("operator",), 'should have a value of "lower" or "upper"')


def _check_replace(value: Any, stack: Stack, errors: _Errors) -> None:
    _fields(value, stack, errors,
            {"pattern": _string_length(1, MAX_PATTERN_LENGTH), "value": _directive_or_string},
            {"replacement": _string_length(0, MAX_REPLACEMENT_LENGTH), "pattern2": _string_length(0, MAX_PATTERN_LENGTH),
             "replacement2": _string_length(0, MAX_REPLACEMENT_LENGTH), "ignorecase": _boolean, "global": _boolean})


def _check_array_path(value: Any, stack: Stack, errors: _Errors) -> None:
    if _array(value, stack, errors):
        _directive_or_string(value[0] if value else UNDEFINED, stack, errors)
        if len(value) > 1:
            _validate(value[1], stack, errors)


def _check_path(value: Any, stack: Stack, errors: _Errors) -> None:
    # validate.ts also lets an array through, but index.ts's @path then always throws
    # ("@path: expected string, got array"): refused here, at load.
    _directive_or_string(value, stack, errors)


def _check_json(value: Any, stack: Stack, errors: _Errors) -> None:
    required = {"value": _directive_or_raw, "mode": _one_of("encode", "decode")}
    if _fields(value, stack, errors, required, {}) and "value" in value and not js_truthy(value["value"]):
        errors.add(stack + ("value",), "should not be empty (Segment throws '@json requires a \"value\" key')")


def _check_flatten(value: Any, stack: Stack, errors: _Errors) -> None:
    _fields(value, stack, errors, {"value": _directive_or_raw, "separator": _string_length(1, 10**6)},
            {"omitArrays": _boolean})


def _check_merge(value: Any, stack: Stack, errors: _Errors) -> None:
    def objects(items: Any, where: Stack, errs: _Errors) -> None:
        if _array(items, where, errs):
            for index, item in enumerate(items):
                if _type_or_directive(item) == "directive":
                    _directive(item, where + (str(index),), errs)
                else:
                    _object(item, where + (str(index),), errs)

    _fields(value, stack, errors, {"objects": objects, "direction": _one_of("left", "right")}, {})


def _check_transform(value: Any, stack: Stack, errors: _Errors) -> None:
    _fields(value, stack, errors, {"apply": _object, "mapping": _object}, {})


_CHECKS: dict[str, Check] = {
    "@if": _check_if,
    "@case": _check_case,
    "@replace": _check_replace,
    "@arrayPath": _check_array_path,
    "@path": _check_path,
    "@template": _directive_or_string,
    "@literal": _directive_or_raw,
    "@json": _check_json,
    "@flatten": _check_flatten,
    "@merge": _check_merge,
    "@transform": _check_transform,
    "@excludeWhenNull": _directive_or_raw,
}


def _validate(mapping: Any, stack: Stack, errors: _Errors) -> None:
    kind = _type_or_directive(mapping)
    if kind == "directive":
        _directive(mapping, stack, errors)
    elif kind == "object":
        for key, value in mapping.items():
            _validate(value, stack + (str(key),), errors)
    elif kind == "array":
        # Deliberately stricter than validate.ts, which does not look inside arrays:
        # directives in arrays are resolved at send time, so they are checked here too.
        for index, value in enumerate(mapping):
            _validate(value, stack + (str(index),), errors)


def validate_mapping(mapping: Any, where: str) -> None:
    """Refuse, before any event is sent, what Segment refuses or would fail on every event:
    unknown directives, directives mixed with other keys, wrong directive arguments.
    The message is ``where`` followed by Segment's own wording, all problems at once."""
    errors = _Errors()
    _validate(mapping, (), errors)
    if errors:
        raise MappingError(f"{where}: {' '.join(errors)}")
