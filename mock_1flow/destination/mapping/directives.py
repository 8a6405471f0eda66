"""Segment's mapping-kit directives (packages/core/src/mapping-kit), in Python.

A directive is an object whose only key starts with ``@``. Resolving a mapping walks it:
directives are evaluated against the payload, objects and arrays are resolved member by
member, and a member whose value is :data:`UNDEFINED` is dropped (``None`` is kept), as
JavaScript's ``undefined`` is dropped from JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from .errors import MappingError


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()
PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]")


def is_directive(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith("@")


def get_path(payload: Any, path: str) -> Any:
    """``$.a.b``, ``$.a[0]``, ``$.a["b c"]``; a falsy intermediate value is returned as is
    (Segment's quirk: ``$.a.b`` of ``{"a": null}`` is ``null``, not undefined)."""
    text = path.strip()
    if text in ("$", ""):
        return payload
    if not text.startswith("$"):
        text = "$." + text
    position, value = 1, payload
    while position < len(text):
        match = PATH_TOKEN.match(text, position)
        if match is None:
            return UNDEFINED
        key = next(group for group in match.groups() if group is not None)
        position = match.end()
        if value is None or value is False or value == 0 or value == "":
            return value
        if isinstance(value, list) and key.isdigit():
            index = int(key)
            value = value[index] if index < len(value) else UNDEFINED
        elif isinstance(value, dict):
            value = value.get(key, UNDEFINED)
        else:
            return UNDEFINED
        if value is UNDEFINED:
            return UNDEFINED
    return value


def _stringify(value: Any) -> str:
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


TEMPLATE = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")


def _template(spec: Any, payload: Any) -> Any:
    return TEMPLATE.sub(lambda m: _stringify(get_path(payload, m.group(1))), spec)


def _if(spec: dict, payload: Any) -> Any:
    if "exists" in spec:
        value = resolve(spec["exists"], payload)
        condition = value is not UNDEFINED and value is not None
    else:
        value = resolve(spec["blank"], payload)
        condition = value is UNDEFINED or value is None or value == ""
    branch = "then" if condition else "else"
    return resolve(spec[branch], payload) if branch in spec else UNDEFINED


def _case(spec: dict, payload: Any) -> Any:
    value = resolve(spec.get("value"), payload)
    if not isinstance(value, str):
        return value
    return value.lower() if spec["operator"] == "lower" else value.upper()


def _replace(spec: dict, payload: Any) -> Any:
    value = resolve(spec.get("value"), payload)
    if isinstance(value, bool) or isinstance(value, (int, float)):
        value = _stringify(value)
    if not isinstance(value, str):
        return value
    flags = re.IGNORECASE if spec.get("ignorecase") else 0
    count = 0 if spec.get("global", True) else 1
    for pattern_key, replacement_key in (("pattern", "replacement"), ("pattern2", "replacement2")):
        if spec.get(pattern_key):
            pattern = re.compile(re.escape(spec[pattern_key]), flags)
            value = pattern.sub(lambda _: spec.get(replacement_key, ""), value, count=count)
    return value


def _array_path(spec: list, payload: Any) -> Any:
    root = resolve(spec[0], payload) if is_directive(spec[0]) else get_path(payload, spec[0])
    shape = spec[1] if len(spec) > 1 else None
    if isinstance(root, (dict, list)) and isinstance(shape, dict) and shape:
        items = root if isinstance(root, list) else [root]
        return [resolve(shape, item) for item in items]
    return root


def _json(spec: dict, payload: Any) -> Any:
    value = resolve(spec.get("value"), payload)
    if spec["mode"] == "encode":
        return UNDEFINED if value is UNDEFINED else json.dumps(value, separators=(",", ":"))
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _flatten(spec: dict, payload: Any) -> Any:
    value = resolve(spec.get("value"), payload)
    separator = spec.get("separator", ".")
    if not isinstance(value, (dict, list)):
        return value
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            name = f"{prefix}{separator}{key}" if prefix else str(key)
            if isinstance(child, (dict, list)) and child:
                walk(child, name)
            else:
                flat[name] = child

    walk(value, "")
    return flat


def _merge(spec: dict, payload: Any) -> Any:
    objects = [resolve(item, payload) for item in spec["objects"]]
    objects = [item for item in objects if isinstance(item, dict)]
    if spec.get("direction", "right") == "left":
        objects = list(reversed(objects))
    merged: dict[str, Any] = {}
    for item in objects:
        merged.update(item)
    return merged


def _exclude_when_null(spec: Any, payload: Any) -> Any:
    value = resolve(spec, payload)
    return UNDEFINED if value is None else value


DIRECTIVES: dict[str, Callable[[Any, Any], Any]] = {
    "@path": lambda spec, payload: get_path(payload, spec),
    "@template": _template,
    "@literal": lambda spec, payload: spec,
    "@if": _if,
    "@case": _case,
    "@replace": _replace,
    "@arrayPath": _array_path,
    "@json": _json,
    "@flatten": _flatten,
    "@merge": _merge,
    "@excludeWhenNull": _exclude_when_null,
}


def resolve(mapping: Any, payload: Any) -> Any:
    """Evaluate ``mapping`` against ``payload``; undefined members are dropped."""
    if is_directive(mapping):
        name, spec = next(iter(mapping.items()))
        return DIRECTIVES[name](spec, payload)
    if isinstance(mapping, dict):
        resolved = {key: resolve(value, payload) for key, value in mapping.items()}
        return {key: value for key, value in resolved.items() if value is not UNDEFINED}
    if isinstance(mapping, list):
        return [None if (item := resolve(value, payload)) is UNDEFINED else item for value in mapping]
    return mapping


def _need(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise MappingError(f"{where}: {message}")


def _check_spec(name: str, spec: Any, where: str) -> None:
    if name in ("@path", "@template"):
        _need(isinstance(spec, str), where, f"{name} takes a string, not {type(spec).__name__}")
    elif name == "@if":
        _need(isinstance(spec, dict) and (("exists" in spec) ^ ("blank" in spec)), where,
              "@if takes an object with exactly one of 'exists' or 'blank', and 'then'/'else'")
        _need(set(spec) <= {"exists", "blank", "then", "else"}, where, f"@if has unknown keys {sorted(set(spec) - {'exists', 'blank', 'then', 'else'})}")
    elif name == "@case":
        _need(isinstance(spec, dict) and spec.get("operator") in ("lower", "upper"), where,
              "@case takes {'operator': 'lower'|'upper', 'value': ...}")
    elif name == "@replace":
        _need(isinstance(spec, dict) and isinstance(spec.get("pattern"), str), where,
              "@replace takes {'pattern': str, 'replacement': str, 'value': ...}")
    elif name == "@arrayPath":
        _need(isinstance(spec, list) and 1 <= len(spec) <= 2 and (isinstance(spec[0], str) or is_directive(spec[0])),
              where, "@arrayPath takes [path, item shape]")
    elif name == "@json":
        _need(isinstance(spec, dict) and spec.get("mode") in ("encode", "decode"), where,
              "@json takes {'mode': 'encode'|'decode', 'value': ...}")
    elif name == "@flatten":
        _need(isinstance(spec, dict) and isinstance(spec.get("separator", "."), str), where,
              "@flatten takes {'value': ..., 'separator': str}")
    elif name == "@merge":
        _need(isinstance(spec, dict) and isinstance(spec.get("objects"), list)
              and spec.get("direction", "right") in ("left", "right"), where,
              "@merge takes {'objects': [...], 'direction': 'left'|'right'}")


def validate_mapping(mapping: Any, where: str) -> None:
    """Refuse unknown directives, directives mixed with other keys and bad arguments."""
    if isinstance(mapping, list):
        for index, item in enumerate(mapping):
            validate_mapping(item, f"{where}[{index}]")
        return
    if not isinstance(mapping, dict):
        return
    directive_keys = [key for key in mapping if isinstance(key, str) and key.startswith("@")]
    if directive_keys and len(mapping) > 1:
        raise MappingError(f"{where}: directive {directive_keys[0]} mixed with other keys {sorted(k for k in mapping if k != directive_keys[0])}")
    if directive_keys:
        name, spec = directive_keys[0], mapping[directive_keys[0]]
        if name not in DIRECTIVES:
            raise MappingError(f"{where}: unknown directive {name} (known: {', '.join(DIRECTIVES)})")
        _check_spec(name, spec, where)
        if name != "@literal":
            validate_mapping(spec, f"{where}.{name}")
        return
    for key, value in mapping.items():
        validate_mapping(value, f"{where}.{key}")

