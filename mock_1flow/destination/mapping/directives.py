"""Segment's mapping-kit, ported from ``@segment/actions-core`` (see :mod:`.pins`):
``mapping-kit/index.ts`` (``transform``, ``resolve``, the directives), ``validate.ts``,
``placeholders.ts``, ``flatten.ts``, ``liquid-directive.ts`` and ``core/src/get.ts``,
JavaScript quirks included. The golden corpus under ``fixtures/segment-golden/`` checks this
port against Segment's own code, case by case.

A directive is an object whose keys are one ``@name`` (plus, optionally, ``_metadata``).
Resolving walks the mapping: directives are evaluated against the payload, objects and
arrays member by member. JavaScript's ``undefined`` is :data:`UNDEFINED`; like Segment's
``removeUndefined`` it is dropped from objects at the end (``None``, JS ``null``, is kept).

:func:`transform` is Segment's ``transform`` (validate, resolve, remove undefined) and answers
with JavaScript values; :func:`resolve` is what the destination sends (JSON values);
:func:`compile_mapping` validates once and returns a fast function of the payload.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from .errors import MappingError
from .jsvalues import (
    UNDEFINED, JSFunction, JSPrototype, JSTypeError, from_utf16_units, is_number, js_assign, js_json_parse,
    js_json_stringify, js_keys, js_member, js_string, js_trim, js_truthy, js_type, object_assign, typeof,
    utf16_length, utf16_units,
)

MAX_PATTERN_LENGTH = 10  # index.ts: MAX_PATTERN_LENGTH / MAX_REPLACEMENT_LENGTH
MAX_REPLACEMENT_LENGTH = 10
ROOT_MAPPING_FIELD_KEY = "__segment_internal_directive"
DIRECTIVE_NAMES = ("@if", "@case", "@replace", "@arrayPath", "@path", "@template", "@literal", "@flatten", "@json",
                   "@merge", "@transform", "@excludeWhenNull", "@liquid")


# --- core/src/get.ts -------------------------------------------------------------------------

_ARRAY_RE = re.compile(r"""\[(?=["'0-9])|\.|(?<=["'0-9])\]+""")


@functools.lru_cache(maxsize=4096)
def path_keys(path: str) -> tuple[str, ...]:
    """``path.split(arrayRe).filter(f => f).map(s => s.replace(/'|"/g, ''))``."""
    return tuple(part.replace("'", "").replace('"', "") for part in _ARRAY_RE.split(path) if part)


def get(obj: Any, path: Any) -> Any:
    """get.ts: ``'foo.bar[0].baz'``; ``''`` and ``'.'`` are the root; ``prev && prev[key]``, so a
    falsy intermediate value is returned as is (``a.b`` of ``{a: 0}`` is 0)."""
    if path == "" or path == ".":
        return obj
    if path is None or path is UNDEFINED:
        return UNDEFINED
    value = obj
    for key in (path if isinstance(path, list) else path_keys(path)):
        if not js_truthy(value):
            return value
        if type(value) is dict:
            value = value.get(key, UNDEFINED) if key in value or key not in _OBJECT_MEMBERS else js_member(value, key)
        else:
            try:
                value = js_member(value, key)
            except JSTypeError as exc:
                raise MappingError(str(exc), "TypeError") from None
    return value


_OBJECT_MEMBERS = frozenset(("constructor", "__proto__", "__defineGetter__", "__defineSetter__", "hasOwnProperty",
                             "__lookupGetter__", "__lookupSetter__", "isPrototypeOf", "propertyIsEnumerable",
                             "toString", "valueOf", "toLocaleString"))


def _is_object(value: Any) -> bool:
    """real-type-of.ts ``isObject``."""
    return isinstance(value, dict) or isinstance(value, JSPrototype) and js_type(value) == "object"


def remove_undefined(value: Any) -> Any:
    """core/src/remove-undefined.ts: drop undefined object members, recursively (arrays keep
    their undefined items); the copy is made with ``Object.assign``."""
    if isinstance(value, list):
        return [remove_undefined(item) if isinstance(item, (dict, list, JSPrototype)) else item for item in value]
    if isinstance(value, JSPrototype) and value.name in ("Object", "Array"):
        return {} if value.name == "Object" else []  # no own enumerable members to copy
    if isinstance(value, dict):
        cleaned = object_assign([value])
        for key in list(cleaned):
            item = cleaned[key]
            if item is UNDEFINED:
                del cleaned[key]
            elif isinstance(item, (dict, list, JSPrototype)):
                cleaned[key] = remove_undefined(item)
        return cleaned
    return value


def json_ready(value: Any) -> Any:
    """What ``JSON.stringify`` would send of a mapping result: undefined array items and
    functions become ``null`` in arrays and vanish from objects, prototypes are not sent."""
    if isinstance(value, list):
        return [None if item is UNDEFINED or isinstance(item, (JSFunction,)) else json_ready(item) for item in value]
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()
                if item is not UNDEFINED and not isinstance(item, JSFunction)}
    if isinstance(value, JSPrototype):
        return [] if value.name == "Array" else {}
    return value


# --- placeholders.ts -------------------------------------------------------------------------

TRIPLE = re.compile(r"\{\{\{([^}]+)\}\}\}")
DOUBLE = re.compile(r"\{\{([^}]+)\}\}")


def _placeholder(match: re.Match[str], data: Any) -> str:
    value = get(data, js_trim(match.group(1)))
    return "" if value is UNDEFINED or value is None else js_string(value)


def render(template: str, data: Any) -> str:
    """``{{{a.b}}}`` then ``{{a.b}}`` (the second pass also sees what the first inserted), no
    HTML escaping; a missing value renders as ``""``; no ``$.`` prefix in placeholders."""
    if "{{" not in template:
        return template
    text = TRIPLE.sub(lambda m: _placeholder(m, data), template)
    return DOUBLE.sub(lambda m: _placeholder(m, data), text)


# --- directives (index.ts) -------------------------------------------------------------------


def _string_arg(name: str, value: Any, payload: Any) -> str:
    """registerStringDirective: the argument may itself be a directive, resolving to a string."""
    text = _resolve(value, payload)
    if not isinstance(text, str):
        raise MappingError(f"{name}: expected string, got {js_type(text)}")
    return text


def _opt(opts: dict, key: str) -> Any:
    """``opts.key`` on a directive's options object."""
    return opts[key] if key in opts else (UNDEFINED if key not in _OBJECT_MEMBERS else js_member(opts, key))


def _path(value: Any, payload: Any) -> Any:
    return get(payload, _string_arg("@path", value, payload).replace("$.", "", 1))


def _template(value: Any, payload: Any) -> Any:
    return render(_string_arg("@template", value, payload), payload)


def _literal(value: Any, payload: Any) -> Any:
    return _resolve(value, payload)  # Segment's @literal resolves directives inside its value


def _loosely_equals_empty_string(value: Any) -> bool:
    """``value == ''`` in JavaScript (``0``, ``false``, ``[]``, ``[null]`` equal ``''``)."""
    if value is True or value is False:
        return not value
    if is_number(value):
        return value == 0
    if isinstance(value, str):
        return value == ""
    if isinstance(value, list) or isinstance(value, JSPrototype):
        return js_string(value) == ""
    if isinstance(value, dict):
        return js_string(value) == ""  # ToPrimitive: throws for an object whose toString is data
    return False


def _if(opts: Any, payload: Any) -> Any:
    if not _is_object(opts):
        raise MappingError('@if requires an object with an "exists" key')
    exists, blank = _opt(opts, "exists"), _opt(opts, "blank")
    if not js_truthy(exists) and not js_truthy(blank):
        raise MappingError('@if requires an "exists" key or a "blank" key')
    condition = False
    if exists is not UNDEFINED:
        value = _resolve(exists, payload)
        condition = value is not UNDEFINED and value is not None
    elif blank is not UNDEFINED:
        # Segment's quirk: the condition holds when the value is NOT blank ("then" = has a value).
        value = _resolve(blank, payload)
        condition = value is not UNDEFINED and value is not None and not _loosely_equals_empty_string(value)
    then, otherwise = _opt(opts, "then"), _opt(opts, "else")
    if condition and then is not UNDEFINED:
        return _resolve(then, payload)
    if not condition and js_truthy(otherwise):  # a falsy raw else (0, "", null) is ignored
        return _resolve(otherwise, payload)
    return UNDEFINED


def _case(opts: Any, payload: Any) -> Any:
    if not _is_object(opts):
        raise MappingError('@case requires an object with a "operator" key')
    operator = _opt(opts, "operator")
    if not js_truthy(operator):
        raise MappingError('@case requires a "operator" key')
    if not js_truthy(_opt(opts, "value")):
        return UNDEFINED
    value = _resolve(opts["value"], payload)
    if isinstance(value, str):
        if operator == "lower":
            return value.lower()
        if operator == "upper":
            return value.upper()
        raise MappingError('operator key should have a value of "lower" or "upper"')
    return value


def _canonicalize(unit: str) -> str:
    """Canonicalize of a non-unicode case-insensitive RegExp, per UTF-16 code unit."""
    upper = unit.upper()
    if len(upper) != 1 or (ord(unit) >= 128 and ord(upper) < 128):
        return unit
    return upper


def _substitute(replacement: str, text: str, start: int, end: int) -> str:
    """GetSubstitution of ``String.prototype.replace`` for a pattern without groups."""
    if "$" not in replacement:
        return replacement
    out, index = [], 0
    while index < len(replacement):
        char = replacement[index]
        nxt = replacement[index + 1] if index + 1 < len(replacement) else ""
        if char == "$" and nxt in ("$", "&", "`", "'"):
            out.append({"$": "$", "&": text[start:end], "`": text[:start], "'": text[end:]}[nxt])
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
    # Segment escapes the regex metacharacters: the pattern is literal text, matched on UTF-16 code units.
    text, needle, repl = utf16_units(value), utf16_units(pattern), utf16_units(replacement)
    haystack = "".join(map(_canonicalize, text)) if ignorecase else text
    if ignorecase:
        needle = "".join(map(_canonicalize, needle))
    out, position = [], 0
    while True:
        found = haystack.find(needle, position)
        if found < 0:
            break
        out.append(text[position:found])
        out.append(_substitute(repl, text, found, found + len(needle)))
        position = found + len(needle)
        if not is_global:
            break
    out.append(text[position:])
    return from_utf16_units("".join(out))


def _replace(opts: Any, payload: Any) -> Any:
    if not _is_object(opts):
        raise MappingError('@replace requires an object with a "pattern" key')
    pattern = _opt(opts, "pattern")
    if not js_truthy(pattern):
        raise MappingError('@replace requires a "pattern" key')
    replacement = _opt(opts, "replacement")
    replacement = "" if replacement is None or replacement is UNDEFINED else replacement
    pattern2, replacement2 = _opt(opts, "pattern2"), _opt(opts, "replacement2")
    if js_truthy(pattern2) and (replacement2 is None or replacement2 is UNDEFINED):
        replacement2 = ""
    ignorecase, is_global = _opt(opts, "ignorecase"), _opt(opts, "global")
    ignorecase = False if ignorecase is None or ignorecase is UNDEFINED else ignorecase
    is_global = True if is_global is None or is_global is UNDEFINED else is_global
    if not js_truthy(_opt(opts, "value")):
        return UNDEFINED
    value = _resolve(opts["value"], payload)
    if value is True or value is False or is_number(value):
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
    if js_type(root) in ("object", "array") and js_type(item_shape) == "object" and item_shape:
        items = root if isinstance(root, list) else [root]
        return [_resolve(item_shape, item) for item in items]
    return root


def _entries(value: Any) -> list[tuple[str, Any]]:
    """``Object.entries``: own enumerable members in key order."""
    if isinstance(value, dict):
        return [(key, value[key]) for key in js_keys(value)]
    if isinstance(value, list):
        return [(str(index), item) for index, item in enumerate(value)]
    return []


def flatten_object(value: Any, prefix: str, separator: str, ignore_arrays: bool) -> dict[str, Any]:
    """flatten.ts: nested keys joined by the separator; a bare value becomes ``{prefix: value}``
    (so ``null`` flattens to ``{"": null}``); empty objects vanish; an empty key adds no prefix."""
    if _is_object(value) or (not ignore_arrays and (isinstance(value, list) or js_type(value) == "array")):
        flat: dict[str, Any] = {}
        for key, item in _entries(value):
            flat.update(flatten_object(item, f"{prefix}{separator}{key}" if prefix else key, separator, ignore_arrays))
        return flat
    return {prefix: value}


def _flatten(opts: Any, payload: Any) -> Any:
    if not _is_object(opts):
        raise MappingError('@flatten requires an object with a "separator" key')
    separator = _opt(opts, "separator")
    if not js_truthy(separator):
        raise MappingError('@flatten requires a "separator" key')
    separator = _resolve(separator, payload)
    if not isinstance(separator, str):
        raise MappingError("@flatten requires a string separator")
    value = _resolve(_opt(opts, "value"), payload)
    return flatten_object(value, "", separator, js_truthy(_opt(opts, "omitArrays")))


def _json(opts: Any, payload: Any) -> Any:
    if not _is_object(opts):
        raise MappingError('@json requires an object with a "value" key')
    mode = _opt(opts, "mode")
    if not js_truthy(mode):
        raise MappingError('@json requires a "mode" key')
    if not js_truthy(_opt(opts, "value")):
        raise MappingError('@json requires a "value" key')
    value = _resolve(opts["value"], payload)
    if mode == "encode":
        return js_json_stringify(value)
    if mode == "decode":
        if isinstance(value, str):
            try:
                return js_json_parse(value)
            except (ValueError, RecursionError):
                return value  # index.ts: text that is not JSON is returned as it is
        return value
    return UNDEFINED  # validation lower-cases the mode, the runtime does not: "Encode" yields nothing


def _merge(opts: Any, payload: Any) -> Any:
    if not _is_object(opts):
        raise MappingError('@merge requires an object with an "objects" key and a "direction" key')
    direction = _opt(opts, "direction")
    if not js_truthy(direction):
        raise MappingError('@merge requires a "direction" key')
    direction = _resolve(direction, payload)
    objects = _opt(opts, "objects")
    if not js_truthy(objects):
        raise MappingError('@merge requires a "objects" key')
    if not isinstance(objects, list):
        raise MappingError(f"@merge: expected opts.array, got {typeof(objects)}")
    resolved = [_resolve(item, payload) for item in objects]
    if direction == "left":
        resolved.reverse()
    return object_assign(resolved)


def _transform(opts: Any, payload: Any) -> Any:
    if not _is_object(opts):
        raise MappingError('@transform requires an object with an "apply" key and a "mapping" key')
    if not js_truthy(_opt(opts, "mapping")):
        raise MappingError('@transform requires a "mapping" key')
    if not js_truthy(_opt(opts, "apply")):
        raise MappingError('@transform requires a "apply" key')
    if not _is_object(opts["apply"]):
        raise MappingError('@transform "apply" key should be an object')
    return _resolve(opts["mapping"], transform(opts["apply"], payload))


def _clean_nulls(value: Any) -> Any:
    if not _is_object(value) or not isinstance(value, dict):
        return value
    cleaned = object_assign([value])
    for key in js_keys(value):
        item = value[key]
        if item is None:
            cleaned = js_assign(cleaned, key, UNDEFINED)
        elif _is_object(item):
            cleaned = js_assign(cleaned, key, _clean_nulls(item))
    return cleaned


def _exclude_when_null(value: Any, payload: Any) -> Any:
    resolved = _resolve(value, payload)
    return UNDEFINED if resolved is None else _clean_nulls(resolved)


def _liquid(value: Any, payload: Any) -> Any:
    from .liquid import evaluate_liquid  # python-liquid loads only when a mapping uses @liquid

    return evaluate_liquid(value, payload)


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
    "@liquid": _liquid,
}


def is_directive(value: Any) -> bool:
    """is-directive.ts: an object with an ``@`` key and no other keys but ``_metadata``."""
    if not isinstance(value, dict):
        return False
    found = False
    for key in value:
        if key[:1] == "@":
            found = True
        elif key != "_metadata":
            return False
    return found


def _run_directive(mapping: dict, payload: Any) -> Any:
    name = next(key for key in mapping if key[:1] == "@")
    directive = DIRECTIVES.get(name)
    if directive is None:
        raise MappingError(f"{name} is not a valid directive, got undefined")
    return directive(mapping[name], payload)


def _resolve(mapping: Any, payload: Any) -> Any:
    if isinstance(mapping, list):
        return [_resolve(item, payload) for item in mapping]
    if not isinstance(mapping, dict):
        return mapping
    if is_directive(mapping):
        return _run_directive(mapping, payload)
    if "__proto__" in mapping:
        resolved: dict = {}
        for key in js_keys(mapping):
            resolved = js_assign(resolved, key, _resolve(mapping[key], payload))
        return resolved
    return {key: _resolve(value, payload) for key, value in mapping.items()}


def mapping_to_process(mapping: Any) -> Any:
    """index.ts ``getMappingToProcess``: a copy (``{...mapping}``), or the root directive of a
    mapping with ``__segment_internal_directive`` given the other fields as its ``mapping``."""
    if mapping is None or mapping is UNDEFINED:
        raise MappingError("Cannot convert undefined or null to object", "TypeError")
    if isinstance(mapping, dict):
        copy = dict(mapping) if type(mapping) is dict else object_assign([mapping])
    elif isinstance(mapping, (list, str)):
        copy = object_assign([mapping])
    else:
        copy = {}
    if ROOT_MAPPING_FIELD_KEY not in copy:
        return copy
    customer = {key: value for key, value in copy.items() if key != ROOT_MAPPING_FIELD_KEY}
    root = copy[ROOT_MAPPING_FIELD_KEY]
    if root is None or root is UNDEFINED:
        raise MappingError("Cannot convert undefined or null to object", "TypeError")
    keys = list(root) if isinstance(root, dict) else [str(i) for i in range(len(root))] if isinstance(root, (list, str)) else []
    if len(keys) > 1:
        raise MappingError("The root mapping must only have a single directive object")
    directive = js_member(root, keys[0]) if keys else UNDEFINED
    if not isinstance(directive, (dict, list)):
        raise MappingError("The root directive must be an object")
    if isinstance(directive, dict):
        directive = dict(directive, mapping=customer)
        root = {keys[0]: directive} if isinstance(root, dict) else root
    return root


def transform(mapping: Any, data: Any = UNDEFINED) -> Any:
    """index.ts ``transform``: validate, resolve, remove undefined, with JavaScript values in
    the answer (:data:`UNDEFINED` array items, built-in functions). ``data`` must be an object."""
    if data is UNDEFINED:
        data = {}
    if js_type(data) != "object":
        raise MappingError(f"data must be an object, got {js_type(data)}")
    to_process = mapping_to_process(mapping)
    check(to_process)
    try:
        return remove_undefined(_resolve(to_process, data))
    except JSTypeError as exc:
        raise MappingError(str(exc), "TypeError") from None
    except RecursionError:
        raise MappingError("Maximum call stack size exceeded", "RangeError") from None


_COMPILED: dict[int, tuple[Any, Callable[[Any], Any]]] = {}
MAX_COMPILED = 4096  # loaded subscriptions remembered; older ones fall back to the interpreter


def register_compiled(mapping: Any, compiled: Callable[[Any], Any]) -> None:
    """Let :func:`resolve` use ``compiled`` for this very mapping object (a loaded
    subscription's, which is not changed after loading)."""
    while len(_COMPILED) >= MAX_COMPILED:
        _COMPILED.pop(next(iter(_COMPILED)), None)
    _COMPILED[id(mapping)] = (mapping, compiled)


def resolve(mapping: Any, payload: Any) -> Any:
    """The mapping's result for ``payload`` as the destination sends it (JSON values); the
    mapping is expected to be valid (:func:`validate_mapping`). Errors Segment raises while
    resolving (``@path`` of a number, ``@case`` with an unknown operator, ...) raise
    :class:`MappingError` with Segment's wording. A loaded subscription's mapping runs compiled."""
    entry = _COMPILED.get(id(mapping))
    if entry is not None and entry[0] is mapping:
        return entry[1](payload)
    return interpret(mapping, payload)


def interpret(mapping: Any, payload: Any) -> Any:
    """:func:`resolve` by walking the mapping for every payload (no compiled form)."""
    try:
        return json_ready(remove_undefined(_resolve(mapping, payload)))
    except JSTypeError as exc:
        raise MappingError(str(exc), "TypeError") from None
    except RecursionError:
        raise MappingError("Maximum call stack size exceeded", "RangeError") from None


# --- compiled mappings --------------------------------------------------------------------------

Compiled = Callable[[Any], Any]


def _compile(node: Any) -> Compiled:
    """A function of the payload that gives what ``_resolve(node, payload)`` gives, with the
    work that does not depend on the payload (walking the mapping, splitting paths) done once."""
    if not isinstance(node, (dict, list)):
        return lambda payload: node
    if isinstance(node, list):
        parts = [_compile(item) for item in node]
        return lambda payload: [part(payload) for part in parts]
    if is_directive(node):
        name = next(key for key in node if key[:1] == "@")
        argument = node[name]
        if name == "@path" and isinstance(argument, str):
            path = argument.replace("$.", "", 1)
            if path == "" or path == ".":
                return lambda payload: payload
            keys = path_keys(path)
            if len(keys) == 1 and keys[0] not in _OBJECT_MEMBERS:
                key = keys[0]
                return lambda payload: payload.get(key, UNDEFINED) if type(payload) is dict else get(payload, list(keys))
            return lambda payload: get(payload, list(keys))
        return lambda payload: _run_directive(node, payload)
    if "__proto__" in node:
        return lambda payload: _resolve(node, payload)
    members = [(key, _compile(value)) for key, value in node.items()]
    fields = [(key, _top_level_key(value)) for key, value in node.items()]
    if fields and all(field is not None for _, field in fields):
        # every member is {"@path": "$.<key>"} (the presets' mappings): one lookup each, no call
        pairs = tuple(fields)

        def pick(payload: Any) -> Any:
            if type(payload) is dict:
                found = payload.get
                return {key: found(field, UNDEFINED) for key, field in pairs}
            return {key: part(payload) for key, part in members}

        return pick
    return lambda payload: {key: part(payload) for key, part in members}


def _top_level_key(node: Any) -> str | None:
    """``key`` when ``node`` is ``{"@path": "$.key"}`` with a plain top-level key (what
    :func:`_compile` makes a single ``dict.get`` of), else None."""
    if type(node) is not dict or not is_directive(node):
        return None
    name = next(key for key in node if key[:1] == "@")
    argument = node[name]
    if name != "@path" or not isinstance(argument, str):
        return None
    path = argument.replace("$.", "", 1)
    if path == "" or path == ".":
        return None
    keys = path_keys(path)
    return keys[0] if len(keys) == 1 and keys[0] not in _OBJECT_MEMBERS else None


_PLAIN = (str, int, float, bool, type(None))

Fields = tuple[tuple[str, str], ...]


def top_level_fields(mapping: Any) -> Fields | None:
    """``((key, event key), ...)`` when every member of ``mapping`` is ``{"@path": "$.<event key>"}``
    with a plain top-level key (the presets' Track Event and Identify User), else None: what
    :func:`picked` can resolve without the compiled function."""
    if type(mapping) is not dict or not mapping or "__proto__" in mapping or is_directive(mapping):
        return None
    fields = tuple((key, _top_level_key(value)) for key, value in mapping.items())
    return fields if all(name is not None for _, name in fields) else None  # type: ignore[return-value]


def picked(fields: Fields, payload: dict[str, Any]) -> dict[str, Any] | None:
    """:func:`resolve` of a mapping of top-level ``@path`` members (:func:`top_level_fields`)
    for a dict payload: each present key's value as is; None when a value is not a clean JSON
    value (then :func:`resolve` gives the answer, copying and cleaning). The ingest's fast path:
    one lookup per member, no call per member and no second walk of the result."""
    out: dict[str, Any] = {}
    get = payload.get
    for key, name in fields:
        value = get(name, UNDEFINED)
        if value is UNDEFINED:
            continue
        if not _is_clean(value):
            return None
        out[key] = value
    return out


def _is_clean(value: Any) -> bool:
    """A JSON value that ``remove_undefined`` and ``json_ready`` would give back unchanged
    (no undefined, no functions, no own ``__proto__`` key that ``Object.assign`` would eat)."""
    kind = type(value)
    if kind is dict:
        if "__proto__" in value:
            return False
        items = value.values()
    elif kind is list:
        items = value
    else:
        return kind in _PLAIN
    for item in items:
        kind = type(item)
        if kind is dict or kind is list:
            if not _is_clean(item):
                return False
        elif kind not in _PLAIN:
            return False
    return True


def compile_mapping(mapping: Any, where: str = "mapping") -> Compiled:
    """Validate ``mapping`` once (:func:`validate_mapping`) and return ``payload -> result``,
    the same result as :func:`resolve`, computed without re-reading the mapping each time."""
    validate_mapping(mapping, where)
    part = _compile(mapping)

    def run(payload: Any) -> Any:
        try:
            result = part(payload)
        except JSTypeError as exc:
            raise MappingError(str(exc), "TypeError") from None
        except RecursionError:
            raise MappingError("Maximum call stack size exceeded", "RangeError") from None
        if type(result) is dict:
            if UNDEFINED in result.values():  # identity test first: UNDEFINED has no __eq__
                result = {key: value for key, value in result.items() if value is not UNDEFINED}
            if _is_clean(result):
                return result  # JSON values only (the presets' case): nothing to remove or copy
        return json_ready(remove_undefined(result))

    return run


# --- validation (validate.ts) ------------------------------------------------------------------


class _ValidationError(Exception):
    def __init__(self, message: str, stack: tuple[str, ...] = ()) -> None:
        super().__init__(f"/{'/'.join(stack)} {message}.")


class _AggregateError(Exception):
    def __init__(self, errors: list[Exception]) -> None:
        super().__init__()
        self.errors = errors


def _flat(errors: list[Exception]) -> list[Exception]:
    out: list[Exception] = []
    for error in errors:
        out.extend(error.errors if isinstance(error, _AggregateError) else [error])
    return out


def _type_or_directive(value: Any) -> str:
    kind = js_type(value)
    if kind == "object" and isinstance(value, dict) and any(key[:1] == "@" for key in value):
        return "directive"
    return kind


def _article(kind: str) -> str:
    return f"{'an' if kind[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {kind}"


Stack = tuple[str, ...]


def _validate_directive(obj: Any, stack: Stack = ()) -> None:
    if not is_directive(obj) and not _is_object(obj):
        raise _ValidationError(f"should be a directive object but it is {_article(js_type(obj))}", stack)
    keys = list(obj)
    directive_keys = [key for key in keys if key[:1] == "@"]
    if len(directive_keys) > 1:
        raise _ValidationError(f"should only have one @-prefixed key but it has {len(directive_keys)} keys", stack)
    if any(key[:1] != "@" and key != "_metadata" for key in keys):
        raise _ValidationError(f"should only have one @-prefixed key but it has {len(keys)} keys", stack)
    name = directive_keys[0]
    checker = _CHECKS.get(name)
    if checker is None:
        raise _ValidationError(f"has an invalid directive: {name}", stack)
    try:
        checker(obj[name], stack + (name,))
    except (_ValidationError, _AggregateError):
        raise
    except Exception as exc:  # noqa: BLE001 - validate.ts wraps any other error the same way
        raise _ValidationError(str(exc), stack) from None


def _directive_or_raw(value: Any, stack: Stack = ()) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _validate_directive(value, stack)
    elif kind not in ("object", "array", "boolean", "string", "number", "null"):
        raise _ValidationError(f"should be a mapping directive or a JSON value but it is {_article(kind)}", stack)


def _directive_or_string(value: Any, stack: Stack = ()) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _validate_directive(value, stack)
    elif kind != "string":
        raise _ValidationError(f"should be a string or a mapping directive but it is {_article(kind)}", stack)


def _directive_or_object(value: Any, stack: Stack = ()) -> None:
    kind = _type_or_directive(value)
    if kind == "directive":
        _validate_directive(value, stack)
    elif kind == "object":
        _validate_object(value, stack)
    else:
        raise _ValidationError(f"should be a object or a mapping directive but it is {_article(kind)}", stack)


def _string(value: Any, stack: Stack = ()) -> None:
    kind = _type_or_directive(value)
    if kind != "string":
        raise _ValidationError(f"should be a string but it is {_article(kind)}", stack)


def _string_length(low: int, high: int) -> Callable[[Any, Stack], None]:
    def check(value: Any, stack: Stack = ()) -> None:
        _string(value, stack)
        if utf16_length(value) < low:
            raise _ValidationError(f"should be a string of length {low} or greater", stack)
        if utf16_length(value) > high:
            raise _ValidationError(f"should be a string of length {high} or less", stack)
    return check


def _allowed(*allowed: str) -> Callable[[Any, Stack], None]:
    def check(value: Any, stack: Stack = ()) -> None:
        _string(value, stack)
        if value.lower() not in allowed:  # validate.ts lower-cases here; index.ts does not
            raise _ValidationError(f"should be one of {', '.join(allowed)} but it is {_json_stringify_str(value)}", stack)
    return check


def _json_stringify_str(value: str) -> str:
    return js_json_stringify(value)


def _boolean(value: Any, stack: Stack = ()) -> None:
    kind = _type_or_directive(value)
    if kind != "boolean":
        raise _ValidationError(f"should be a boolean but it is {_article(kind)}", stack)


def _validate_object(value: Any, stack: Stack = ()) -> None:
    kind = _type_or_directive(value)
    if kind != "object":
        raise _ValidationError(f"should be an object but it is {_article(kind)}", stack)
    errors: list[Exception] = []
    for key in js_keys(value) if isinstance(value, dict) else []:
        try:
            _validate(value[key], stack + (key,))
        except (_ValidationError, _AggregateError) as exc:
            errors.append(exc)
    if errors:
        raise _AggregateError(_flat(errors))


def _array(value: Any, stack: Stack = ()) -> None:
    kind = js_type(value)
    if kind != "array":
        raise _ValidationError(f"should be an array but it is {_article(kind)}", stack)


Check = Callable[..., None]


def _fields(value: Any, stack: Stack, fields: dict[str, tuple[bool, Check]]) -> None:
    """validateObjectWithFields: an object, then each named field (required or optional)."""
    _validate_object(value, stack)
    errors: list[Exception] = []
    for name, (required, check) in fields.items():
        item = _opt(value, name)
        try:
            if required:
                if item is UNDEFINED:
                    raise _ValidationError(f"should have field {json.dumps(name)} but it doesn't", stack)
                check(item, stack + (name,))
            elif item is not UNDEFINED:
                check(item, stack + (name,))
        except (_ValidationError, _AggregateError) as exc:
            errors.append(exc)
    if errors:
        raise _AggregateError(_flat(errors))


def _check_array_path(value: Any, stack: Stack) -> None:
    _array(value, stack)
    _directive_or_string(value[0] if value else UNDEFINED, stack)
    _validate(value[1] if len(value) > 1 else UNDEFINED, stack)


def _check_merge(value: Any, stack: Stack) -> None:
    _fields(value, stack, {"direction": (False, _allowed("left", "right")), "objects": (True, _array)})
    for item in value["objects"]:
        _directive_or_object(item)  # validate.ts passes no stack here: paths start at "/"


_CHECKS: dict[str, Check] = {
    "@if": lambda v, s: _fields(v, s, {"exists": (False, _directive_or_raw), "then": (False, _directive_or_raw),
                                       "else": (False, _directive_or_raw)}),
    "@case": lambda v, s: _fields(v, s, {"operator": (False, _string), "value": (False, _directive_or_string)}),
    "@replace": lambda v, s: _fields(v, s, {
        "pattern": (True, _string_length(1, MAX_PATTERN_LENGTH)),
        "replacement": (False, _string_length(0, MAX_REPLACEMENT_LENGTH)),
        "value": (True, _directive_or_string), "ignorecase": (False, _boolean), "global": (False, _boolean)}),
    "@arrayPath": _check_array_path,
    "@path": _directive_or_string,
    "@json": lambda v, s: _fields(v, s, {"value": (True, _directive_or_raw), "mode": (True, _allowed("encode", "decode"))}),
    "@flatten": lambda v, s: _fields(v, s, {"separator": (False, _string), "value": (True, _directive_or_raw)}),
    "@merge": _check_merge,
    "@template": _directive_or_string,
    "@literal": _directive_or_raw,
    "@transform": lambda v, s: _fields(v, s, {"apply": (True, _directive_or_object), "mapping": (True, _directive_or_object)}),
    "@excludeWhenNull": _directive_or_raw,
    "@liquid": _string,
}


def _validate(mapping: Any, stack: Stack = ()) -> None:
    kind = _type_or_directive(mapping)
    if kind == "directive":
        _validate_directive(mapping, stack)
    elif kind == "object":
        _validate_object(mapping, stack)
    elif kind == "array":
        _array(mapping, stack)


def check(mapping: Any) -> None:
    """validate.ts ``validate``, raising :class:`MappingError` with the class and messages
    Segment's throws (a ``ValidationError``, or an ``AggregateError`` of them)."""
    try:
        _validate(mapping)
    except _ValidationError as exc:
        raise MappingError(str(exc), "ValidationError") from None
    except _AggregateError as exc:
        messages = [str(error) for error in exc.errors]
        raise MappingError(" ".join(messages), "AggregateError", messages) from None


def _static_failure(name: str, opts: Any) -> str | None:
    """The error index.ts throws, whatever the event, each time this directive runs."""
    def missing(key: str) -> bool:
        return not js_truthy(opts.get(key, UNDEFINED))

    if name in ("@path", "@template") and not isinstance(opts, (str, dict)):
        return f"{name}: expected string, got {js_type(opts)}"
    if name == "@arrayPath" and not isinstance(opts, list):
        return f"@arrayPath expected array, got {js_type(opts)}"
    if name not in ("@if", "@case", "@replace", "@json", "@flatten", "@merge", "@transform"):
        return None
    if not isinstance(opts, dict):
        return None  # validate.ts already refuses these
    checks = {
        "@if": [(missing("exists") and missing("blank"), '@if requires an "exists" key or a "blank" key')],
        "@case": [(missing("operator"), '@case requires a "operator" key')],
        "@replace": [(missing("pattern"), '@replace requires a "pattern" key'),
                     (isinstance(opts.get("pattern2"), str) and utf16_length(opts["pattern2"]) > MAX_PATTERN_LENGTH,
                      f'@replace requires a "pattern" less than {MAX_PATTERN_LENGTH} characters'),
                     (isinstance(opts.get("replacement2"), str) and js_truthy(opts.get("pattern2", UNDEFINED))
                      and utf16_length(opts["replacement2"]) > MAX_REPLACEMENT_LENGTH,
                      f'@replace requires a "replacement" less than {MAX_REPLACEMENT_LENGTH} characters')],
        "@json": [(missing("mode"), '@json requires a "mode" key'), (missing("value"), '@json requires a "value" key')],
        "@flatten": [(missing("separator"), '@flatten requires a "separator" key'),
                     (not missing("separator") and not isinstance(opts["separator"], (str, dict)),
                      "@flatten requires a string separator")],
        "@merge": [(missing("direction"), '@merge requires a "direction" key'),
                   (missing("objects"), '@merge requires a "objects" key')],
        "@transform": [(missing("mapping"), '@transform requires a "mapping" key'),
                       (missing("apply"), '@transform requires a "apply" key')],
    }[name]
    return next((message for failed, message in checks if failed), None)


def _lint(mapping: Any, stack: Stack, problems: list[str]) -> None:
    """Directives that fail on every event (validate.ts lets them through; index.ts throws
    each time it runs them), in places every event reaches: in arrays and @literal values too,
    but not in an @if branch or an @arrayPath item shape, which some events never reach."""
    if isinstance(mapping, list):
        for index, item in enumerate(mapping):
            _lint(item, stack + (str(index),), problems)
        return
    if not isinstance(mapping, dict):
        return
    if not is_directive(mapping):
        for key, item in mapping.items():
            _lint(item, stack + (key,), problems)
        return
    name = next(key for key in mapping if key[:1] == "@")
    where = f"/{'/'.join(stack + (name,))}"
    if name not in DIRECTIVES:
        problems.append(f"{where}: {name} is not a valid directive, got undefined")
        return
    opts = mapping[name]
    failure = _static_failure(name, opts)
    if failure:
        problems.append(f"{where}: {failure}")
    elif name == "@if" and isinstance(opts, dict):
        _lint(opts.get("exists", UNDEFINED), stack + (name, "exists"), problems)
    elif name == "@arrayPath" and isinstance(opts, list):
        _lint(opts[:1], stack + (name,), problems)
    elif name not in ("@liquid", "@if", "@arrayPath"):
        _lint(opts, stack + (name,), problems)


def validate_mapping(mapping: Any, where: str) -> None:
    """Refuse, before any event is sent, what Segment's ``transform`` refuses on every event
    (validate.ts: unknown directives, directives mixed with other keys, wrong arguments),
    every problem at once, in Segment's words after ``where`` (the mapping's name)."""
    try:
        check(mapping_to_process(mapping))
    except MappingError as exc:
        hints = []
        if any("has an invalid directive" in message for message in exc.messages):
            hints.append(f"directives: {', '.join(DIRECTIVE_NAMES)}")
        if any("should only have one @-prefixed key" in message for message in exc.messages):
            hints.append("a directive is an object with one @-key (and optionally _metadata); put other fields "
                         "beside it, not inside it")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise MappingError(f"{where}: {exc}{hint}", exc.js_class, exc.messages) from None
    problems: list[str] = []
    _lint(mapping_to_process(mapping), (), problems)
    if problems:
        raise MappingError(f"{where}: {' '.join(problems)} (Segment accepts this mapping, then fails on every event "
                           "that reaches these directives)", "Error", problems)
