"""``GET /__admin/deliveries``: what became of each event the Segment ingest accepted."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from ..ingest.pipeline import ingest_state
from ..server.routes.common import json_response
from ..server.runtime import current_runtime
from .routes import bp, query_limit


@bp.get("/deliveries", endpoint="adminListDeliveries")
def list_deliveries() -> Any:
    ledger = ingest_state(current_runtime()).ledger
    args = request.args
    entries, total = ledger.query(
        write_key=args.get("write_key"),
        message_id=args.get("message_id"),
        status=args.get("status"),
        limit=query_limit(),
    )
    return json_response({"deliveries": entries, "total": total, "recorded": ledger.recorded,
                          "dropped": ledger.dropped, "cap": ledger.cap})


def init_app(app: Flask) -> None:
    """The route lives on the admin blueprint; importing this module registers it."""
