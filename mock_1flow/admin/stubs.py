"""Admin API for stubs (answers of your own): ``/__admin/stubs``."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from ..server.errors import ApiError
from ..server.routes.common import json_response, read_body
from ..server.runtime import current_runtime
from ..server.stubs import StubError
from ..server.validation import operation_validators, parse_json
from .routes import _ok, bp


def stub_error(exc: StubError) -> ApiError:
    """A refused stub as a 400 naming the field (``pointer``) and what to write instead."""
    return ApiError(400, "invalid_request", f"Bad stub {exc.pointer or '(root)'}: {exc.message}.",
                    location="body", pointer=exc.pointer)


@bp.get("/stubs", endpoint="adminListStubs")
def list_stubs() -> Any:
    return json_response({"stubs": current_runtime().stubs.list()})


@bp.post("/stubs", endpoint="adminAddStub")
def add_stub() -> Any:
    runtime = current_runtime()
    raw = read_body(runtime.config.max_body_bytes)
    try:
        spec = operation_validators()["adminAddStub"].validate_body(raw, request.mimetype)
    except ApiError as error:
        if error.error != "invalid_request" or not raw:  # no body, not JSON, or not sent as JSON
            raise
        spec = parse_json(raw)  # JSON that breaks StubSpec: the stub check below says how, and what to write
    try:
        stub = runtime.stubs.add(spec)
    except StubError as exc:
        raise stub_error(exc) from None
    runtime.state_changed()
    return json_response(stub.as_dict(), 201)


@bp.delete("/stubs", endpoint="adminClearStubs")
def clear_stubs() -> Any:
    runtime = current_runtime()
    runtime.stubs.clear()
    runtime.state_changed()
    return _ok()


@bp.delete("/stubs/<stub_id>", endpoint="adminRemoveStub")
def remove_stub(stub_id: str) -> Any:
    runtime = current_runtime()
    if not runtime.stubs.remove(stub_id):
        raise ApiError(404, "unknown_stub", f"No stub '{stub_id}'. GET /__admin/stubs lists them.")
    runtime.state_changed()
    return _ok()


def init_app(app: Flask) -> None:
    """The routes live on the admin blueprint; importing this module registers them."""
