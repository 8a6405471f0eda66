"""Request validation compiled from ``openapi.yaml`` (Prism-style), not restated in Python.

Each operation of the spec becomes an :class:`OperationValidator` holding compiled
JSON Schema validators (jsonschema-rs, Draft 2020-12) for its parameters and body.
A failure is an :class:`~mock_1flow.server.errors.ApiError` 400 that names the location
(``body``, ``query``, ``path``) and the JSON pointer of the failing value.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

import jsonschema_rs
import orjson

from .errors import ApiError
from .spec import bundle, load_spec

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


MAX_JSON_DEPTH = 128
"""Deepest nesting a body may have. orjson writes at most 254 levels; the journal and
the admin API wrap a body in a few more, so every accepted body can be read back."""
INT_RANGE = (-(2**63), 2**64 - 1)
"""Integers orjson reads exactly; past them it would silently make a float, so a body
that may hold one is read again by the standard library, which keeps every integer."""
# A JSON number token starts the text or follows '-', ':', '[', ',' or white space, so a run
# of digits inside a string (a 24-hex `_id`, a phone number) does not send the body to the
# slower exact parser.
_LONG_DIGITS = re.compile(rb"(?:^|[-:\[,\s])[0-9]{19}")
# That regex tries every position (about 19 µs on a 1.3 KB track body). One translate maps
# every digit to "0", "[" and "{" to "[", and everything else to " ": "is there a run of 19
# digits" becomes a substring search and the nesting bound a count, both under 1 µs, so the
# regex and the depth walk run only on the rare body that needs them.
_SCAN = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x5B if byte in (0x5B, 0x7B) else 0x20 for byte in range(256))
_DIGIT_RUN = b"0" * 19


class MalformedJson(ValueError):
    """The body is not JSON the mock can keep exactly: the message says what to fix."""


def parse_json(raw: bytes | str) -> Any:
    """Strict JSON, the one parser of every route: refuses what the mock could not keep
    and read back exactly. Malformed syntax, NaN/Infinity and numbers that overflow to
    infinity (``1e999``), lone surrogates (``"\\ud800"``) and nesting deeper than
    :data:`MAX_JSON_DEPTH` raise :class:`MalformedJson`. Integers are kept exactly up to
    4,300 digits (Python's limit; the writers fall back to the standard library for those
    orjson cannot write); a longer one is refused.

    orjson does the parse (it refuses non-finite numbers and lone surrogates itself); the
    two extra steps run only when a cheap scan says they could matter.
    """
    exact = False
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        value, exact = _huge_integers(raw, exc), True
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    scan = data.translate(_SCAN)
    if scan.count(b"[") > MAX_JSON_DEPTH:
        depth = json_depth(value)
        if depth > MAX_JSON_DEPTH:
            raise MalformedJson(f"nested {depth} levels deep; the mock accepts at most {MAX_JSON_DEPTH}")
    if not exact and _DIGIT_RUN in scan and _LONG_DIGITS.search(data):
        value = json.loads(data)  # exact integers; orjson has already refused what JSON does not allow
    return value


# A number of 300 digits or more: orjson reads an integer of 309+ digits as an infinite
# double and refuses it; such a body is read by the standard library instead.
_HUGE_NUMBER = re.compile(rb"(^|[-:\[,\s])[0-9]{300,}")


def _huge_integers(raw: bytes | str, error: orjson.JSONDecodeError) -> Any:
    """``raw`` that orjson refused: when only for integers too big for a double, the value
    read exactly (up to Python's :func:`sys.get_int_max_str_digits` digits, 4,300 by default:
    past that, converting digits costs quadratic time); else ``error`` as :class:`MalformedJson`."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if not _HUGE_NUMBER.search(data):
        raise MalformedJson(str(error)) from None
    try:  # everything but those numbers checked by orjson (syntax, NaN, 1e999, lone surrogates)
        orjson.loads(_HUGE_NUMBER.sub(rb"\g<1>0", data))
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(str(exc)) from None

    def finite(text: str) -> float:
        number = float(text)
        if math.isinf(number):
            raise MalformedJson(f"the number {text[:20]}... is infinity when parsed as a double")
        return number

    try:
        return json.loads(data, parse_float=finite)
    except ValueError as exc:  # an integer past the digit limit
        if isinstance(exc, MalformedJson):
            raise
        raise MalformedJson(f"an integer has more than {sys.get_int_max_str_digits():,} digits, the most the mock "
                            "keeps exactly") from None


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _violations(validator: Any, instance: Any, prefix: tuple[Any, ...] = ()) -> list[dict[str, str]]:
    found = []
    for error in validator.iter_errors(instance):
        parts = list(prefix) + list(error.instance_path)
        if type(error.kind).__name__ == "Required" or getattr(error.kind, "name", "") == "required":
            parts.append(error.kind.property)
        found.append({"pointer": _pointer(parts), "message": error.message})
    return found


def _bad_request(location: str, violations: list[dict[str, str]], error: str = "invalid_request") -> ApiError:
    first = violations[0]
    where = f"{location} {first['pointer'] or '(root)'}"
    return ApiError(
        400,
        error,
        f"Invalid request {where}: {first['message']}. Fix that value and send again.",
        location=location,
        pointer=first["pointer"],
        errors=[{"location": location, **item} for item in violations],
    )


@dataclass(frozen=True)
class ParameterRule:
    """One query or path parameter: its coercion from text and its compiled schema."""

    name: str
    location: str
    required: bool
    json_type: str | None
    validator: Any

    def coerce(self, raw: str) -> Any:
        if self.json_type == "integer":
            try:
                return int(raw)
            except ValueError:
                return raw
        if self.json_type == "number":
            try:
                return float(raw)
            except ValueError:
                return raw
        if self.json_type == "boolean":
            return {"true": True, "false": False}.get(raw, raw)
        return raw


class OperationValidator:
    """Validates one operation's parameters and JSON body against the spec."""

    def __init__(self, operation_id: str, parameters: list[ParameterRule], body: dict[str, Any] | None) -> None:
        self.operation_id = operation_id
        self.parameters = parameters
        self.query_names = frozenset(rule.name for rule in parameters if rule.location == "query")
        self.body_required = bool(body and body.get("required"))
        schema = ((body or {}).get("content") or {}).get("application/json", {}).get("schema")
        self.body_validator = jsonschema_rs.Draft202012Validator(bundle(schema)) if schema else None

    def validate_parameters(self, query: Mapping[str, str], path: Mapping[str, str]) -> None:
        unknown = [name for name in query if name not in self.query_names]
        if unknown:
            known = ", ".join(sorted(self.query_names)) or "none"
            raise ApiError(
                400,
                "invalid_request",
                f"Unknown query parameter '{unknown[0]}' (this operation takes: {known}).",
                location="query",
                pointer=f"/{unknown[0]}",
            )
        for rule in self.parameters:
            source = query if rule.location == "query" else path
            if rule.name not in source:
                if rule.required:
                    raise ApiError(
                        400,
                        "invalid_request",
                        f"Missing required {rule.location} parameter '{rule.name}'.",
                        location=rule.location,
                        pointer=f"/{rule.name}",
                    )
                continue
            value = rule.coerce(source[rule.name])
            violations = _violations(rule.validator, value, (rule.name,))
            if violations:
                raise _bad_request(rule.location, violations)

    def validate_body(self, raw: bytes, mimetype: str) -> Any:
        """Parse and check the body; returns the parsed JSON (or None when there is none)."""
        if self.body_validator is None:
            return None
        if not raw:
            if self.body_required:
                raise ApiError(
                    400,
                    "invalid_request",
                    "The request body is required: send a JSON object with Content-Type: application/json.",
                    location="body",
                    pointer="",
                )
            return None
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise ApiError(
                400,
                "unsupported_content_type",
                f"Content-Type '{mimetype or '(none)'}' is not accepted: send JSON with Content-Type: application/json.",
                location="header",
                pointer="/Content-Type",
            )
        try:
            body = parse_json(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                400,
                "malformed_json",
                f"The body is not valid JSON ({exc}). Send a well-formed JSON document.",
                location="body",
                pointer="",
            ) from None
        if not self.body_validator.is_valid(body):
            raise _bad_request("body", _violations(self.body_validator, body))
        return body


def _parameter_rules(parameters: list[dict[str, Any]], skip: frozenset[str]) -> list[ParameterRule]:
    rules = []
    for param in parameters:
        if param["in"] not in ("query", "path") or (param["in"] == "path" and param["name"] in skip):
            continue
        schema = param.get("schema", {})
        json_type = schema.get("type") if isinstance(schema.get("type"), str) else None
        rules.append(
            ParameterRule(
                name=param["name"],
                location=param["in"],
                required=bool(param.get("required")),
                json_type=json_type,
                validator=jsonschema_rs.Draft202012Validator(bundle(schema)),
            )
        )
    return rules


def _resolve(node: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@lru_cache(maxsize=2)
def operation_validators(skip_params: frozenset[str] = frozenset({"region"})) -> dict[str, OperationValidator]:
    """Every operation of the spec, by ``operationId``.

    ``skip_params`` (path parameters) are checked elsewhere with their own error (the region: 404
    ``unknown_region`` rather than 400).
    """
    spec = load_spec()
    validators = {}
    for path_item in spec["paths"].values():
        shared = [_resolve(p, spec) for p in path_item.get("parameters", [])]
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if not operation:
                continue
            own = [_resolve(p, spec) for p in operation.get("parameters", [])]
            body = _resolve(operation["requestBody"], spec) if "requestBody" in operation else None
            validators[operation["operationId"]] = OperationValidator(
                operation["operationId"], _parameter_rules(shared + own, skip_params), body
            )
    return validators


def validate_request(operation_id: str, body: Any) -> list[dict[str, str]]:
    """Check a JSON body an SDK or the destination would send; returns violations (empty = valid)."""
    validator = operation_validators()[operation_id].body_validator
    return _violations(validator, body) if validator is not None else []
