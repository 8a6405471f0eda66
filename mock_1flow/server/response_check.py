"""Does an answer keep the contract? A response checked against the response schema that
``openapi.yaml`` declares for its operation and status.

Used for answers the mock did not make itself (stubs): the journal flags one that breaks
the spec (``off_spec``), so a test never mistakes an override for 1Flow's real contract.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonschema_rs

from .spec import bundle, load_spec, resolve_ref
from .validation import HTTP_METHODS, MalformedJson, _violations, parse_json

OffSpec = tuple[str, str]
"""(JSON pointer in the response body, reason)."""


@lru_cache(maxsize=1)
def _operations() -> dict[str, dict[str, Any]]:
    spec = load_spec()
    return {
        operation["operationId"]: operation
        for item in spec["paths"].values()
        for method in HTTP_METHODS
        if (operation := item.get(method))
    }


@lru_cache(maxsize=512)
def _declared(operation_id: str, status: int) -> tuple[str, Any]:
    """What the spec declares for this status: ("undeclared", the declared statuses),
    ("json", a compiled validator) or ("any", None) when it declares no JSON body."""
    responses = _operations()[operation_id].get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
    if response is None:
        return "undeclared", ", ".join(sorted(responses))
    schema = (resolve_ref(response).get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:
        return "any", None
    return "json", jsonschema_rs.Draft202012Validator(bundle(schema))


def off_spec(operation_id: str | None, method: str, path: str, status: int, body: bytes) -> OffSpec | None:
    """Where and why the answer breaks the spec, or None when it conforms.

    ``operation_id`` None: no operation of the spec serves ``method path``."""
    if operation_id is None or operation_id not in _operations():
        return "", f"no operation in openapi.yaml serves {method} {path}"
    kind, detail = _declared(operation_id, status)
    if kind == "undeclared":
        return "", f"{operation_id} does not declare status {status} (it declares: {detail})"
    if kind == "any":
        return None
    try:
        document = parse_json(body) if body else None
    except (MalformedJson, UnicodeDecodeError) as exc:
        return "", f"{operation_id} {status} is JSON in the spec; this body is not ({exc})"
    if document is None:
        return "", f"{operation_id} {status} has a JSON body in the spec; this answer has none"
    found = _violations(detail, document)
    if found:
        return found[0]["pointer"], found[0]["message"]
    return None
