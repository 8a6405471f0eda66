"""Segment's HTTP Tracking API: ``POST /v1/batch`` and ``/v1/{identify,track,page,screen,group,alias}``.

The write key comes from the body (``writeKey``), Basic auth (key as user name) or a
Bearer token; bodies may be gzip-compressed. Limits as Segment documents them: 32 KB per
event, 500 KB per batch. Errors are Segment-shaped, ``{"code": ..., "message": ...}``;
success is exactly 200 with ``{"success": true}``.
"""

from __future__ import annotations

import base64
import gzip
import io
import zlib
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ..server.errors import ApiError
from ..server.routes.common import dumps
from ..server.runtime import current_runtime
from ..server.validation import operation_validators, parse_json
from .pipeline import deliver

EVENT_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

bp = Blueprint("segment", __name__, url_prefix="/v1")


class SegmentError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _segment_response(status: int, body: dict[str, Any]) -> Response:
    g.response_body = body
    return Response(dumps(body), status=status, content_type="application/json")


@bp.errorhandler(413)
def _too_large(error: Exception) -> Response:
    return _segment_error(SegmentError(400, "batch_too_large", f"The request is over {BATCH_LIMIT // 1024} KB; send smaller batches."))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _segment_error(SegmentError(error.code or 500, "invalid_request", error.description or error.name))
    current_app.logger.exception("mock-1flow: unexpected error in Segment ingest")
    message = f"The mock failed unexpectedly ({type(error).__name__}); this is a bug in mock-1flow."
    return _segment_error(SegmentError(500, "internal_error", message))


@bp.errorhandler(SegmentError)
def _segment_error(error: SegmentError) -> Response:
    return _segment_response(error.status, {"code": error.code, "message": error.message})


def _body() -> Any:
    raw = request.get_data(cache=True)
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(BATCH_LIMIT + 1)
        except (OSError, EOFError, zlib.error):
            raise SegmentError(400, "invalid_gzip", "Content-Encoding is gzip but the body is not valid gzip.") from None
    if len(raw) > BATCH_LIMIT:
        raise SegmentError(400, "batch_too_large", f"The request is over {BATCH_LIMIT // 1024} KB; send smaller batches.")
    try:
        return parse_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SegmentError(400, "invalid_json", f"The body is not valid JSON ({exc}).") from None


def _write_key(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str) and body["writeKey"]:
        return body["writeKey"]
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            return base64.b64decode(credentials).decode("utf-8").partition(":")[0] or None
        except (ValueError, UnicodeDecodeError):
            return None
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return None


def _check(operation_id: str, body: Any) -> None:
    validator = operation_validators()[operation_id]
    try:
        validator.validate_parameters(request.args, request.view_args or {})
    except ApiError as error:
        raise SegmentError(400, "invalid_request", error.message) from None
    if not validator.body_validator.is_valid(body):
        error = next(iter(validator.body_validator.iter_errors(body)))
        pointer = "".join(f"/{part}" for part in error.instance_path)
        raise SegmentError(400, "invalid_request", f"Invalid request at {pointer or '(root)'}: {error.message}.")


def _check_events(events: list[dict[str, Any]]) -> None:
    for index, event in enumerate(events):
        size = len(orjson.dumps(event))
        if size > EVENT_LIMIT:
            raise SegmentError(
                400, "event_too_large", f"Event {index} is {size} bytes; Segment accepts at most {EVENT_LIMIT} bytes per event."
            )
        if not event.get("userId") and not event.get("anonymousId"):
            raise SegmentError(400, "invalid_request", f"Event {index} has neither userId nor anonymousId; send at least one.")


def _accept(events: list[dict[str, Any]], write_key: str | None) -> Response:
    runtime = current_runtime()
    if not write_key:
        raise SegmentError(401, "missing_write_key", "No write key: put it in 'writeKey', Basic auth (user name) or a Bearer token.")
    source = runtime.store.sources.get(write_key)
    if source is None:
        raise SegmentError(401, "invalid_write_key", f"Unknown write key '{write_key}'. Add it under 'sources' in the projects file.")
    g.project = source.project
    g.region = source.region or runtime.store.projects[source.project].region
    _check_events(events)
    g.delivery = deliver(runtime, source, events)
    return _segment_response(200, {"success": True})


@bp.post("/batch", endpoint="segmentBatch")
def batch() -> Response:
    body = _body()
    g.request_json = body
    _check("segmentBatch", body)
    context = {k: body[k] for k in ("context", "integrations") if k in body}
    events = [{**context, **event} for event in body["batch"]]
    return _accept(events, _write_key(body))


@bp.post("/<type>", endpoint="segmentEvent")
def single(**path: str) -> Response:
    event_type = path["type"]
    if event_type not in EVENT_TYPES:
        raise SegmentError(404, "unknown_endpoint", f"Segment's API has no /v1/{event_type}; use /v1/batch or /v1/{{{','.join(EVENT_TYPES)}}}.")
    body = _body()
    g.request_json = body
    _check("segmentEvent", body)
    event = {k: v for k, v in body.items() if k != "writeKey"}
    event["type"] = event_type
    return _accept([event], _write_key(body))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
