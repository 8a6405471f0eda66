"""``mock-1flow drift FILE``: a recording's requests sent to a fresh mock in this process, and
where the mock's answers differ from the recorded (real) ones, per operation.

Compared: the HTTP status; 1Flow's envelope (``success``'s value, whether ``message`` is
there); then the body's shape: which fields exist (at any depth; the elements of an array
are merged) and each field's JSON type. Values are not compared (ids, times, messages
differ by nature), so a difference is one a client's decoder could trip on. When the
statuses differ the bodies are not compared: an error and an answer have nothing in common.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..proxy.forward import HOP_BY_HOP, HTTP_API_HOST, SDK_HOST, is_http_api, spec_operation
from ..server.validation import json_or_text
from .matching import PLACEHOLDER
from .recording import Recorded, body_bytes

ENVELOPE = ("/success", "/message")


@dataclass
class Difference:
    kind: str  # status, envelope, only in real, only in mock, type
    where: str  # a JSON pointer, or "status"
    real: str
    mock: str
    lines: list[int] = field(default_factory=list)  # the recording's lines where it showed


@dataclass
class OperationDrift:
    operation: str
    exchanges: int = 0
    differences: list[Difference] = field(default_factory=list)

    def add(self, found: Difference, line: int) -> None:
        for known in self.differences:
            if (known.kind, known.where, known.real, known.mock) == (found.kind, found.where, found.real, found.mock):
                known.lines.append(line)
                return
        found.lines.append(line)
        self.differences.append(found)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def shape(value: Any, here: str = "", out: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every pointer of ``value`` (array elements as ``/*``, merged) with the JSON types seen there."""
    out = {} if out is None else out
    out.setdefault(here, set()).add(json_type(value))
    if isinstance(value, dict):
        for name, child in value.items():
            shape(child, f"{here}/{name}", out)
    elif isinstance(value, list):
        for child in value:
            shape(child, f"{here}/*", out)
    return out


def compare(real_status: int, real: Any, mock_status: int, mock: Any) -> list[Difference]:
    """Where the mock's answer differs from the real one (see the module's docstring)."""
    if real_status != mock_status:
        return [Difference("status", "status", str(real_status), str(mock_status))]
    found: list[Difference] = []
    real_envelope, mock_envelope = isinstance(real, dict), isinstance(mock, dict)
    if real_envelope and mock_envelope:
        if real.get("success") != mock.get("success"):
            found.append(Difference("envelope", "/success", _shown(real, "success"), _shown(mock, "success")))
        if ("message" in real) != ("message" in mock):
            found.append(Difference("envelope", "/message", "present" if "message" in real else "absent",
                                    "present" if "message" in mock else "absent"))
    real_shape, mock_shape = shape(real), shape(mock)
    gone: list[str] = []  # the fields of a missing (or retyped) object are not listed one by one
    for pointer in sorted(real_shape.keys() | mock_shape.keys()):
        if pointer in ENVELOPE and real_envelope and mock_envelope or any(pointer.startswith(g + "/") for g in gone):
            continue
        if _inside_empty_array(pointer, real_shape, mock_shape):
            continue
        if pointer not in mock_shape:
            found.append(Difference("only in real", pointer or "(body)", _types(real_shape[pointer]), "-"))
            gone.append(pointer)
        elif pointer not in real_shape:
            found.append(Difference("only in mock", pointer or "(body)", "-", _types(mock_shape[pointer])))
            gone.append(pointer)
        elif real_shape[pointer] != mock_shape[pointer]:
            found.append(Difference("type", pointer or "(body)", _types(real_shape[pointer]), _types(mock_shape[pointer])))
            gone.append(pointer)  # what one side has inside, the other cannot have
    return found


def _inside_empty_array(pointer: str, *shapes: dict[str, set[str]]) -> bool:
    """Under an array one side has empty (``/*`` never seen there): nothing to compare with."""
    parts = pointer.split("/")
    for end in range(1, len(parts)):
        if parts[end] == "*":
            array = "/".join(parts[:end])
            if any("array" in s.get(array, ()) and "/".join(parts[:end + 1]) not in s for s in shapes):
                return True
    return False


def _types(types: set[str]) -> str:
    return "|".join(sorted(types))


def _shown(body: dict, name: str) -> str:
    return str(body[name]) if name in body else "absent"


def operation_name(recorded: Recorded) -> str:
    found = spec_operation(recorded.method, recorded.path)
    return found.path_form if found else f"{recorded.method} {recorded.path} (not in openapi.yaml)"


def drift(recordings: list[Recorded], key_map: dict[str, str] | None = None, error_profile: str = "docs") -> list[OperationDrift]:
    """Each recorded request sent, in order, to one fresh mock (so state builds up as it did
    upstream); a ``<key-N>`` placeholder becomes its ``key_map`` key, else the mock's first
    project's. Returns one entry per operation, in the order they first appear."""
    from ..app import create_app
    from ..server.runtime import current_runtime

    app = create_app(error_profile=error_profile)
    with app.app_context():
        default_key = next(iter(current_runtime().store.projects))
    client = app.test_client()
    report: dict[str, OperationDrift] = {}
    for recorded in recordings:
        headers = [(name, (key_map or {}).get(value, default_key) if PLACEHOLDER.match(value) else value)
                   for name, value in recorded.headers.items() if name.lower() not in HOP_BY_HOP]
        host = HTTP_API_HOST if is_http_api(recorded.path) else SDK_HOST
        reply = client.open(recorded.path, method=recorded.method, query_string=recorded.query or None,
                            data=body_bytes(recorded.body), headers=headers, base_url=f"http://{host}")
        name = operation_name(recorded)
        entry = report.setdefault(name, OperationDrift(name))
        entry.exchanges += 1
        for found in compare(recorded.status, recorded.response_body, reply.status_code, json_or_text(reply.get_data())):
            entry.add(found, recorded.line)
    return list(report.values())


def as_json(file: str, operations: list[OperationDrift]) -> dict[str, Any]:
    return {
        "recording": file,
        "exchanges": sum(o.exchanges for o in operations),
        "drift": any(o.differences for o in operations),
        "operations": [{"operation": o.operation, "exchanges": o.exchanges,
                        "differences": [vars(d) for d in o.differences]} for o in operations],
    }
