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
from itertools import islice
from typing import Any, Iterable, Mapping

import jsonschema_rs
import orjson

from .errors import ApiError
from .spec import bundle, load_spec, resolve_ref

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
        if json_depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise MalformedJson(f"nested more than {MAX_JSON_DEPTH} levels deep; the mock accepts at most {MAX_JSON_DEPTH}")
    if not exact and _DIGIT_RUN in scan and _LONG_DIGITS.search(data):
        value = json.loads(data)  # exact integers; orjson has already refused what JSON does not allow
    return value


def json_or_text(raw: bytes | None) -> Any:
    """A body as the recorder keeps it (and replay reads it): parsed JSON, else text
    (undecodable bytes replaced), None when empty."""
    if not raw:
        return None
    try:
        return parse_json(raw)
    except (MalformedJson, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def json_depth(value: Any, stop: int | None = None) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), level by level without recursion.

    ``stop``: return as soon as the depth is known to exceed it (a wide body is walked once,
    in comprehensions, not node by node through a stack)."""
    depth, level = 0, [value] if isinstance(value, (dict, list)) else []
    while level:
        depth += 1
        if stop is not None and depth > stop:
            return depth
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
    return depth


# Bounds of a validation answer, whatever the body: the first MAX_ERRORS violations, each
# quoting at most PREVIEW_CHARS of the offending value (the pointer says where the rest is).
# jsonschema-rs builds every error of a call at once, each holding a copy of its instance,
# about 17 µs an error plus the size of the value (a 1M-item array of bad items took 65 s,
# an 8 MB array where an object belongs 1.5 s), so an invalid body is first cut down by
# is_valid (lazy, it stops at the first failure) to a small PROBE that is still invalid.
MAX_ERRORS = 10
PREVIEW_CHARS = 80
MESSAGE_CHARS = 300
POINTER_SEGMENT_CHARS = 64
POINTER_CHARS = 512
VALIDATION_ANSWER_BYTES = 64 * 1024
"""What a validation 400 weighs at most: MAX_ERRORS + 1 pointers of at most POINTER_CHARS
and messages of at most MESSAGE_CHARS characters (4 UTF-8 bytes each at worst) and the
envelope. A typical answer is under 1 KB."""
PROBE_KEEP = 8  # items of an array / properties of an object a probe keeps when it can
PROBE_CALLS = 48  # is_valid calls spent cutting a body down
PROBE_NODES = 2000  # a probe larger than this reports its first error only
_MASK = "\x00value\x00"
_ELLIPSIS = "…"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


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


def _pointer(parts: Iterable[Any]) -> str:
    pointer = "".join(
        "/" + _clip(str(part), POINTER_SEGMENT_CHARS).replace("~", "~0").replace("/", "~1") for part in parts
    )
    return _clip(pointer, POINTER_CHARS)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """The start of ``value`` as compact JSON, at most ``limit`` characters (``…`` marks a cut).

    Written token by token and stopped at the limit, so quoting an 8 MB value costs as much
    as quoting 80 bytes of it."""
    out: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, _Token):
            text = item.text
        elif isinstance(item, dict):
            stack.append(_Token("}"))
            entries = list(item.items()) if len(item) <= limit else [kv for kv, _ in zip(item.items(), range(limit))]
            for index in range(len(entries) - 1, -1, -1):
                key, child = entries[index]
                stack.append(child)
                stack.append(_Token(("," if index else "") + _scalar(str(key), limit) + ":"))
            text = "{"
        elif isinstance(item, list):
            stack.append(_Token("]"))
            entries = item[:limit]
            for index in range(len(entries) - 1, -1, -1):
                stack.append(entries[index])
                if index:
                    stack.append(_Token(","))
            text = "["
        else:
            text = _scalar(item, limit)
        out.append(text)
        size += len(text)
    text = "".join(out)
    return text[: limit - 1] + _ELLIPSIS if stack or len(text) > limit else text


class _Token:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _scalar(value: Any, limit: int) -> str:
    if isinstance(value, str):
        return json.dumps(value[: limit + 1], ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int) and value.bit_length() > 4 * limit:
        return f"(an integer of {value.bit_length()} bits)"  # str() of a huge int is slow, or refused
    return str(value)


def _cut(node: Any, size: int) -> Any:
    if isinstance(node, list):
        return node[:size]
    return dict(islice(node.items(), size))


def _probe(validator: Any, instance: Any) -> Any:
    """A copy of an invalid ``instance`` cut down so that it stays invalid and is small.

    Breadth first from the root, every array and object is cut to its first
    :data:`PROBE_KEEP` entries or, when those are all valid, to the shortest prefix that is
    still invalid (found by doubling then bisection with ``is_valid``). Prefixes keep every
    index and key, so a pointer into the probe is a pointer into the instance."""
    holder = [instance]
    calls = 0
    queue: list[tuple[Any, Any]] = [(holder, 0)]
    while queue and calls < PROBE_CALLS:
        parent, key = queue.pop(0)
        node = parent[key]
        size = len(node)
        if size > PROBE_KEEP:

            def invalid(length: int) -> bool:
                parent[key] = _cut(node, length)
                return not validator.is_valid(holder[0])

            good, bad = PROBE_KEEP, size
            calls += 1
            if invalid(PROBE_KEEP):
                bad = PROBE_KEEP
            else:
                while calls < PROBE_CALLS and good * 2 < bad:
                    calls += 1
                    if invalid(good * 2):
                        bad = good * 2
                        break
                    good *= 2
                while calls < PROBE_CALLS and bad - good > 1:
                    middle = (good + bad) // 2
                    calls += 1
                    if invalid(middle):
                        bad = middle
                    else:
                        good = middle
            parent[key] = _cut(node, bad)
        else:
            parent[key] = _cut(node, size)
        kept = parent[key]
        keys = range(len(kept) - 1, -1, -1) if isinstance(kept, list) else reversed(list(kept))
        queue.extend((kept, k) for k, _ in zip(keys, range(PROBE_CALLS)) if isinstance(kept[k], (dict, list)))
    return holder[0]


def _small(value: Any, limit: int) -> bool:
    """Whether ``value`` has at most ``limit`` nodes (counted no further than the limit)."""
    count, stack = 0, [value]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            return False
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _at(value: Any, path: Iterable[Any]) -> Any:
    for part in path:
        value = value[part]
    return value


def _violations(validator: Any, instance: Any, prefix: tuple[Any, ...] = ()) -> list[dict[str, str]]:
    """At most :data:`MAX_ERRORS` violations, each message bounded, in bounded time."""
    if validator.is_valid(instance):
        return []
    probe = instance if not isinstance(instance, (dict, list)) else _probe(validator, instance)
    if _small(probe, PROBE_NODES):
        errors = list(validator.iter_errors(probe))
    else:
        try:
            validator.validate(probe)
            errors = []
        except jsonschema_rs.ValidationError as first:
            errors = [first]
    found = []
    for error in errors:
        parts = list(error.instance_path)
        value = _at(instance, parts)  # the value as sent (the probe's may be cut)
        if type(error.kind).__name__ == "Required":
            name = error.kind.property
            if probe is not instance and isinstance(value, dict) and name in value:
                continue  # the probe cut that property off; the instance has it
            parts.append(name)
        message = error.message.replace(_MASK, preview(value))
        found.append({"pointer": _pointer(list(prefix) + parts), "message": _clip(message, MESSAGE_CHARS)})
        if len(found) == MAX_ERRORS:
            break
    if not found:  # every error was an artefact of the cut: say where, without details
        found.append({"pointer": "", "message": "the value does not match the schema"})
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
        self.body_validator = jsonschema_rs.Draft202012Validator(bundle(schema), mask=_MASK) if schema else None

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
                validator=jsonschema_rs.Draft202012Validator(bundle(schema), mask=_MASK),
            )
        )
    return rules


@lru_cache(maxsize=2)
def operation_validators(skip_params: frozenset[str] = frozenset({"region"})) -> dict[str, OperationValidator]:
    """Every operation of the spec, by ``operationId``.

    ``skip_params`` (path parameters) are checked elsewhere with their own error (the region: 404
    ``unknown_region`` rather than 400).
    """
    spec = load_spec()
    validators = {}
    for path_item in spec["paths"].values():
        shared = [resolve_ref(p, spec) for p in path_item.get("parameters", [])]
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if not operation:
                continue
            own = [resolve_ref(p, spec) for p in operation.get("parameters", [])]
            body = resolve_ref(operation["requestBody"], spec) if "requestBody" in operation else None
            validators[operation["operationId"]] = OperationValidator(
                operation["operationId"], _parameter_rules(shared + own, skip_params), body
            )
    return validators


def validate_request(operation_id: str, body: Any) -> list[dict[str, str]]:
    """Check a JSON body an SDK or the destination would send; returns violations (empty = valid)."""
    validator = operation_validators()[operation_id].body_validator
    return _violations(validator, body) if validator is not None else []
