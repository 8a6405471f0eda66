"""Reads the golden corpus (Segment's own answers, made by tools/segment_golden/refresh.py) and
checks the Python engine against it, case by case, without Node."""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from mock_1flow.destination.mapping import fql
from mock_1flow.destination.mapping.directives import transform
from mock_1flow.destination.mapping.errors import MappingError
from mock_1flow.destination.mapping.jsvalues import UNDEFINED, JSFunction, JSObject, JSPrototype, js_json_parse

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "segment-golden" / "corpus.jsonl.gz"
LIQUID_ERRORS = ("ParseError", "RenderError", "TokenizationError", "UndefinedVariableError", "LiquidError")


@functools.lru_cache(maxsize=1)
def load() -> tuple[dict[str, Any], list[Any], list[dict[str, Any]]]:
    """The header, the event pool and the cases (each with Segment's ``answer``)."""
    with gzip.open(CORPUS, "rt", encoding="ascii") as handle:
        header = json.loads(handle.readline())
        events = json.loads(handle.readline())["events"]
        cases = [json.loads(line) for line in handle]
    return header, events, cases


def event(index: int) -> Any:
    """A fresh copy of a pooled event (JSON text), parsed as ``JSON.parse`` parses it."""
    return js_json_parse(load()[1][index])


def encode(value: Any) -> Any:
    """A JavaScript value in the corpus' notation (answer.js ``enc``)."""
    if value is UNDEFINED:
        return {"$undef": True}
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value) or (value == 0 and math.copysign(1, value) < 0)):
        return {"$num": "NaN" if math.isnan(value) else "-0" if value == 0 else "Infinity" if value > 0 else "-Infinity"}
    if isinstance(value, JSFunction):
        return {"$fn": value.name}
    if isinstance(value, JSPrototype):
        return {"$proto": value.name} if value.name in ("Object", "Array") else {"$fn": ""} if value.name == "Function" else {}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        if isinstance(value, JSObject) and value.proto is not None:
            out["$protoOf"] = encode(value.proto)
        for key, item in value.items():
            out["$" + key if key.startswith("$") else key] = encode(item)
        return out
    return value


def same(left: Any, right: Any) -> bool:
    """JSON equality that tells booleans from numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


def _error_matches(error: MappingError, expected: dict[str, Any]) -> bool:
    if expected["class"] in LIQUID_ERRORS:
        # Deliberate (FIDELITY.md): python-liquid words its own syntax errors; Segment's own
        # refusals (disabled tags and filters) keep Segment's words.
        own = expected["message"].split(", line:")[0]
        return error.js_class == "LiquidError" and (" is disabled" not in own or own in str(error))
    if expected["class"] == "AggregateError":
        return error.js_class == "AggregateError" and error.messages == expected["messages"]
    return error.js_class == expected["class"] and str(error) == expected["message"]


def check_mapping(case: dict[str, Any]) -> str | None:
    """None when the Python engine gives Segment's answer, else what differs."""
    answer = case["answer"]
    try:
        got = encode(transform(case["mapping"], event(case["event"])))
    except MappingError as exc:
        if "error" in answer and _error_matches(exc, answer["error"]):
            return None
        return f"raised {exc.js_class}: {exc} / {exc.messages}; Segment: {answer}"
    if "error" in answer:
        return f"gave {got!r}; Segment threw {answer['error']}"
    return None if same(got, answer["result"]) else f"gave {got!r}; Segment gave {answer['result']!r}"


def check_trigger(case: dict[str, Any]) -> str | None:
    """None when parse (and generateFql for UI conditions) and every evaluation agree."""
    answer = case["answer"]
    text = case.get("fql")
    if "ui" in case:
        try:
            text = fql.generate_fql(case["ui"])
        except MappingError as exc:
            return None if "generate_error" in answer and str(exc) == answer["generate_error"]["message"] else f"generate: {exc}"
        if "generate_error" in answer or text != answer["fql"]:
            return f"generate_fql gave {text!r}; Segment: {answer.get('fql', answer.get('generate_error'))!r}"
    try:
        ast = fql.parse_fql(text)
    except MappingError as exc:
        if "error" not in answer or exc.js_class != answer["error"]["class"] or str(exc) != answer["error"]["message"]:
            return f"parse raised {exc.js_class}: {exc}; Segment: {answer.get('error') or answer.get('ast')}"
        ast = {"error": exc}
    else:
        if "error" in answer or not same(encode(ast), answer["ast"]):
            return f"parsed {encode(ast)!r}; Segment: {answer.get('error') or answer.get('ast')!r}"
    for index, expected in zip(case["events"], answer["results"]):
        try:
            got: Any = fql.validate(ast, event(index))
        except MappingError as exc:
            got = {"error": {"class": exc.js_class, "message": str(exc)}}
        if not same(got, expected):
            return f"event {index}: {got!r}; Segment: {expected!r}"
    return None


def check_compiled_trigger(case: dict[str, Any]) -> tuple[str, str | None]:
    """The loader's path: ``("refused", None)`` or ``("accepted", difference or None)``."""
    text = case["answer"].get("fql", case.get("fql"))
    try:
        trigger = fql.compile_trigger(text)
    except MappingError:
        return "refused", None
    if "error" in case["answer"]:
        return "accepted", "accepted a trigger Segment cannot parse"
    for index, expected in zip(case["events"], case["answer"]["results"]):
        try:
            got: Any = trigger(event(index))
        except MappingError as exc:
            got = {"error": {"class": exc.js_class, "message": str(exc)}}
        if not same(got, expected):
            return "accepted", f"event {index}: compiled {got!r}; Segment {expected!r}"
    return "accepted", None


@functools.lru_cache(maxsize=1)
def differences() -> dict[str, str]:
    """Every case checked once: case id -> what differs (agreeing cases are absent)."""
    out: dict[str, str] = {}
    for case in load()[2]:
        diff = check_mapping(case) if case["kind"] == "mapping" else check_trigger(case)
        if diff:
            out[case["id"]] = diff
    return out


def groups() -> dict[str, list[dict[str, Any]]]:
    """Cases by directive (mapping cases) and by FQL form (trigger cases); a case with several
    directives or forms is in each of its groups."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in load()[2]:
        for tag in case.get("tags", case.get("forms", [])) or ["plain"]:
            out[("mapping " if case["kind"] == "mapping" else "trigger ") + tag].append(case)
    return dict(sorted(out.items()))
