"""What every route needs: bounded body reading, spec validation, JSON responses."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

import orjson
from flask import Response, g, request

from .. import cors
from ..errors import ApiError, envelope
from ..journal import RawJson
from ..validation import operation_validators


def dumps(body: Any) -> bytes:
    """Compact JSON; orjson when it can (fast), the standard library past 64-bit integers.
    A :class:`~..journal.RawJson` is copied in as it is (parsed for the standard library)."""
    try:
        return orjson.dumps(body, default=_raw_fragment)
    except TypeError:
        return json.dumps(body, separators=(",", ":"), default=_raw_value).encode()


def _raw_fragment(value: Any) -> Any:
    if isinstance(value, RawJson):
        return orjson.Fragment(value.raw)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _raw_value(value: Any) -> Any:
    if isinstance(value, RawJson):
        return value.value()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    g.response_body = body
    return Response(dumps(body), status=status, headers=headers, content_type="application/json")


def preflight_response(allowed: Iterable[str]) -> Response:
    """A CORS preflight's answer (``server/cors.py``) from a Flask route: 204, no body, no type."""
    response = Response(status=cors.PREFLIGHT_STATUS, headers=cors.preflight_headers(allowed, request.headers.items()))
    response.headers.remove("Content-Type")
    return response


def ok(message: str, result: Any, **extra: Any) -> Response:
    return json_response(envelope(200, message, result, **extra))


def read_body(limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes with 413 ``payload_too_large``."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    length = req.content_length
    if length is not None and length > limit:
        raise _too_large(length, limit)
    raw = req.get_data(cache=True)
    if len(raw) > limit:
        raise _too_large(len(raw), limit)
    return raw


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"The body is {size} bytes; the limit is {limit} bytes ({limit // 1024} KB) per request. "
        "Send fewer events per request.",
    )


def validated(operation_id: str, path_params: Mapping[str, str], limit: int) -> Any:
    """Check parameters and body of the current request against the spec; returns the body."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    validator = operation_validators()[operation_id]
    if validator.parameters or req.args:
        validator.validate_parameters(req.args, path_params)
    if validator.body_validator is None:
        return None
    raw = read_body(limit)
    body = validator.validate_body(raw, req.mimetype)
    g.request_json = body
    return body
