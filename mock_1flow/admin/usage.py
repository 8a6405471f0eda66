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
        budget = store.event_budget
    ledger = ingest_state(runtime).ledger
    return json_response({
        "journal": {"entries": len(journal), "bytes": journal.bytes,
                    "max_bytes": journal.max_bytes, "recorded": journal.recorded,
                    "dropped": journal.dropped, "lost": journal.lost},
        "events": {"stored": sum(len(log) for log in logs), "bytes": budget.bytes, "max_bytes": budget.max_bytes,
                   "cap": budget.cap, "dropped": budget.dropped},
        "deliveries": {"entries": ledger.size(), "bytes": ledger.bytes, "max_bytes": ledger.max_bytes,
                       "cap": ledger.cap, "dropped": ledger.dropped},
    })


def init_app(app: Flask) -> None:
    """The route lives on the admin blueprint; importing this module registers it."""
