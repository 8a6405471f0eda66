"""``GET /__admin/usage``: what the mock holds in memory, in entries and bytes, so a long
run (``benchmarks/soak.py``) can show that the journal, the event store and the delivery
ledger stay within their caps."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..ingest.pipeline import ingest_state
from ..server.routes.common import json_response
from ..server.runtime import current_runtime
from .routes import bp


@bp.get("/usage", endpoint="adminUsage")
def usage() -> Any:
    runtime = current_runtime()
    journal, store = runtime.journal, runtime.store
    with store.lock:
        logs = [state.events for state in store.states.values()]
        event_bytes = sum(len(row) for log in logs for row in getattr(log, "rows", ()))  # packed bytes per call
        budget = getattr(store, "event_budget", None)
    ledger = ingest_state(runtime).ledger
    return json_response({
        "journal": {"entries": len(journal), "bytes": getattr(journal, "bytes", None),
                    "max_bytes": getattr(journal, "max_bytes", None), "recorded": journal.recorded,
                    "dropped": journal.dropped},
        "events": {"stored": sum(len(log) for log in logs), "bytes": event_bytes,
                   "cap": getattr(budget, "cap", None), "dropped": getattr(budget, "dropped", 0)},
        "deliveries": {"entries": ledger.size(), "cap": ledger.cap, "dropped": ledger.dropped},
    })


def init_app(app: Flask) -> None:
    """The route lives on the admin blueprint; importing this module registers it."""
