"""Segment's HTTP Tracking API: ``POST /v1/batch`` and ``/v1/{identify,track,page,screen,group,alias}``.

The write key comes from the body (``writeKey``), Basic auth (key as user name) or a
Bearer token; bodies may be gzip-compressed. Limits as Segment documents them: 32 KB per
event, 500 KB per batch. Errors are Segment-shaped, ``{"code": ..., "message": ...}``;
success is exactly 200 with ``{"success": true}``.

The write key is checked before the body (as the SDK API checks its key first): a key in
a header is checked before the body is even parsed, a key in the body before the body is
validated. When delivery failed for a reason a retry can cure, the answer is 503
``delivery_failed`` or 429 ``rate_limited`` (with ``Retry-After``), so Segment's client
retries; events already delivered are skipped on the retry (see :mod:`.pipeline`).
"""

from __future__ import annotations

import base64
import gzip
import io
import zlib
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ..server.errors import ApiError
from ..server.projects import Source
from ..server.routes.common import dumps
from ..server.runtime import EXTENSION_KEY, Runtime, current_runtime
from ..server.stubs import Scope
from ..server.validation import MalformedJson, operation_validators, parse_json
from .background import QueueFull
from .pipeline import ASYNC, UnknownSource, deliver, delivery_mode, enqueue, source_project

EVENT_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

bp = Blueprint("segment", __name__, url_prefix="/v1")


class SegmentError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _segment_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    g.response_body = body
    return Response(dumps(body), status=status, headers=headers, content_type="application/json")


@bp.errorhandler(413)
def _too_large(error: Exception) -> Response:
    return _segment_error(SegmentError(400, "batch_too_large", f"The request is over {BATCH_LIMIT // 1024} KB; send smaller batches."))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        allowed = getattr(error, "valid_methods", None)
        headers = {"Allow": ", ".join(allowed)} if error.code == 405 and allowed else None
        code = "method_not_allowed" if error.code == 405 else "invalid_request"
        return _segment_error(SegmentError(error.code or 500, code, error.description or error.name, headers))
    current_app.logger.exception("mock-1flow: unexpected error in Segment ingest")
    message = f"The mock failed unexpectedly ({type(error).__name__}); this is a bug in mock-1flow."
    return _segment_error(SegmentError(500, "internal_error", message))


@bp.errorhandler(SegmentError)
def _segment_error(error: SegmentError) -> Response:
    return _segment_response(error.status, {"code": error.code, "message": error.message}, error.headers)


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    """An ApiError on a Segment path (an injected fault): its status and headers, Segment's shape."""
    return _segment_error(SegmentError(error.status, error.error, error.message, error.headers))


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
    except MalformedJson as exc:
        raise SegmentError(400, "invalid_json", f"The body is not JSON the mock can keep exactly ({exc}).") from None


def _header_write_key() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            return base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[0] or None
        except (ValueError, UnicodeDecodeError):
            return None
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip() or None
    return None


def _write_key(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str) and body["writeKey"]:
        return body["writeKey"]
    return _header_write_key()


def _source(runtime: Runtime, write_key: str | None) -> Source:
    """The source of ``write_key``: 401 when there is none or it is unknown, 404 when its
    project is gone."""
    if not write_key:
        raise SegmentError(401, "missing_write_key", "No write key: put it in 'writeKey', Basic auth (user name) or a Bearer token.")
    source = runtime.store.sources.get(write_key)
    if source is None:
        raise SegmentError(401, "invalid_write_key", f"Unknown write key '{write_key}'. Add it under 'sources' in the projects file.")
    try:
        project = source_project(runtime, source)
    except UnknownSource:
        raise SegmentError(
            404, "unknown_source",
            f"The source of write key '{write_key}' sends to project '{source.project}', which no longer exists "
            "(deleted?). Create the project again (POST /__admin/projects) or reset the mock.",
        ) from None
    g.project = project.key
    g.region = source.region or project.region
    return source


def _check(operation_id: str, body: Any) -> None:
    validator = operation_validators()[operation_id]
    try:
        validator.validate_parameters(request.args, request.view_args or {})
    except ApiError as error:
        raise SegmentError(400, "invalid_request", error.message) from None
    body_validator = validator.body_validator
    assert body_validator is not None  # every Segment operation has a body
    if not body_validator.is_valid(body):
        problem = next(iter(body_validator.iter_errors(body)))
        pointer = "".join(f"/{part}" for part in problem.instance_path)
        event = problem.instance
        if isinstance(event, dict) and not event.get("userId") and not event.get("anonymousId"):
            index = problem.instance_path[-1] if problem.instance_path else 0
            raise SegmentError(400, "invalid_request", f"Event {index} has neither userId nor anonymousId; send at least one.")
        raise SegmentError(400, "invalid_request", f"Invalid request at {pointer or '(root)'}: {problem.message}.")


def _check_events(events: list[dict[str, Any]]) -> int:
    """Each event's size and ids checked; returns their JSON bytes in all."""
    total = 0
    for index, event in enumerate(events):
        size = len(dumps(event))
        total += size
        if size > EVENT_LIMIT:
            raise SegmentError(
                400, "event_too_large", f"Event {index} is {size} bytes; Segment accepts at most {EVENT_LIMIT} bytes per event."
            )
        if not event.get("userId") and not event.get("anonymousId"):
            raise SegmentError(400, "invalid_request", f"Event {index} has neither userId nor anonymousId; send at least one.")
    return total


def _request_source() -> tuple[Any, Source]:
    """The body and its source, the write key checked before the body's contents."""
    runtime = current_runtime()
    if _header_write_key() is not None:
        _source(runtime, _header_write_key())
    body = _body()
    g.request_json = body
    return body, _source(runtime, _write_key(body))


def _accept(events: list[dict[str, Any]], source: Source) -> Response:
    size = _check_events(events)
    runtime = current_runtime()
    if delivery_mode(runtime, source) == ASYNC:
        try:
            g.delivery = enqueue(runtime, source, events, size).summary
        except QueueFull as full:
            raise SegmentError(429, "rate_limited",
                               f"The ingest's delivery queue is full ({runtime.config.ingest_queue_bytes} bytes of events "
                               f"not yet delivered); retry after {full.retry_after} s. Nothing of this batch was accepted.",
                               {"Retry-After": str(full.retry_after)}) from None
        return _segment_response(200, {"success": True})
    delivery = deliver(runtime, source, events)
    g.delivery = delivery.summary
    if delivery.retry_status == 429:
        raise SegmentError(429, "rate_limited",
                           f"1Flow rate-limited the delivery ({', '.join(delivery.reasons)}); retry after "
                           f"{delivery.retry_after} s. Events already delivered are not sent again.",
                           {"Retry-After": str(delivery.retry_after)})
    if delivery.retry_status is not None:
        raise SegmentError(503, "delivery_failed",
                           f"Delivery to 1Flow failed ({', '.join(delivery.reasons)}); retry the request. "
                           "Events already delivered are not sent again (deduplicated by messageId).")
    return _segment_response(200, {"success": True})


@bp.post("/batch", endpoint="segmentBatch")
def batch() -> Response:
    body, source = _request_source()
    _check("segmentBatch", body)
    context = {k: body[k] for k in ("context", "integrations") if k in body}
    events = [{**context, **event} for event in body["batch"]]
    return _accept(events, source)


@bp.post("/<type>", endpoint="segmentEvent")
def single(**path: str) -> Response:
    event_type = path["type"]
    if event_type not in EVENT_TYPES:
        raise SegmentError(404, "unknown_endpoint", f"Segment's API has no /v1/{event_type}; use /v1/batch or /v1/{{{','.join(EVENT_TYPES)}}}.")
    body, source = _request_source()
    _check("segmentEvent", body)
    event = {k: v for k, v in body.items() if k != "writeKey"}
    event["type"] = event_type
    return _accept([event], source)


def stub_scope(runtime: Runtime, req: Any) -> Scope | None:
    """A Segment request as stubs see it: its project and region are its write key's source's;
    it passes the gate when the write key opens a project."""
    if req.blueprint != bp.name:
        return None
    key = _header_write_key()
    if key is None:
        try:
            key = _write_key(_body())
        except SegmentError:
            key = None
    source = runtime.store.sources.get(key) if key else None
    if source is None:
        return Scope(None, req.path, None, req.endpoint.rpartition(".")[2], lambda: False)
    project = runtime.store.projects.get(source.project)
    region = source.region or (project.region if project else None)
    return Scope(region, req.path, source.project, req.endpoint.rpartition(".")[2], lambda: project is not None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions[EXTENSION_KEY].stubs.scopes.append(stub_scope)
