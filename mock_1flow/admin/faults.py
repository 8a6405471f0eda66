"""Admin API for fault injection: ``/__admin/faults``."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..server.errors import ApiError
from ..server.runtime import current_runtime
from .routes import bp, _admin_body
from ..server.routes.common import json_response


@bp.get("/faults", endpoint="adminListFaults")
def list_faults() -> Any:
    return json_response({"faults": current_runtime().faults.list()})


@bp.post("/faults", endpoint="adminAddFault")
def add_fault() -> Any:
    body = _admin_body("adminAddFault")
    try:
        fault = current_runtime().faults.add(body)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_request", f"Bad fault: {exc}.", location="body", pointer="") from None
    return json_response({"fault": fault.as_dict()}, 201)


@bp.delete("/faults", endpoint="adminClearFaults")
def clear_faults() -> Any:
    current_runtime().faults.clear()
    return json_response({"ok": True})


@bp.delete("/faults/<fault_id>", endpoint="adminRemoveFault")
def remove_fault(fault_id: str) -> Any:
    if not current_runtime().faults.remove(fault_id):
        raise ApiError(404, "unknown_fault", f"No fault '{fault_id}'. GET /__admin/faults lists them.")
    return json_response({"ok": True})


def init_app(app: Flask) -> None:
    """The routes live on the admin blueprint; importing this module registers them."""
