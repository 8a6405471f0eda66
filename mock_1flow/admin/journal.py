"""Journal queries beyond the listing (WireMock-style): ``GET /__admin/requests/count``
and ``POST /__admin/requests/find``. The listing itself is ``GET /__admin/requests``."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from ..server.journal import Criteria
from ..server.routes.common import json_response
from ..server.runtime import current_runtime
from .routes import _admin_body, bp


@bp.get("/requests/count", endpoint="adminCountRequests")
def count_requests() -> Any:
    args = request.args
    criteria = Criteria(
        method=args.get("method"),
        path=args.get("path"),
        region=args.get("region"),
        project=args.get("project"),
        status=int(args["status"]) if "status" in args else None,
        error=args.get("error"),
        fault=args.get("fault"),
        stub=args.get("stub"),
    )
    return json_response({"count": current_runtime().journal.count(criteria)})


@bp.post("/requests/find", endpoint="adminFindRequests")
def find_requests() -> Any:
    body = dict(_admin_body("adminFindRequests") or {})
    for name in ("limit", "status", "since_id"):  # JSON Schema integers include 3.0
        if name in body:
            body[name] = int(body[name])
    limit = body.pop("limit", None)
    journal = current_runtime().journal
    entries, total = journal.find(Criteria(**body), limit, raw=True)
    return json_response({"requests": entries, "total": total, "recorded": journal.recorded, "dropped": journal.dropped, "cap": journal.cap})


def init_app(app: Flask) -> None:
    """The routes live on the admin blueprint; importing this module registers them."""
