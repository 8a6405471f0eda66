"""The live page at ``/__admin/``: the journal (filtered, each entry opening to its
request, body and response), projects with their users and events, the faults in force.

Server-rendered with Jinja. ``static/admin.js`` polls every second for the journal rows
newer than the newest it shows (``since_id``) and inserts them by id, so open entries,
the scroll offset and a text selection stay as they are; "load more" asks for the rows
before the oldest shown (``before_id``). Its buttons and forms call the admin API itself
(faults, projects, reset), so the page adds no write endpoint of its own.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request

from ..server.journal import Criteria, has_fault
from ..server.runtime import Runtime, current_runtime
from .routes import loopback_only

page = Blueprint("admin_page", __name__, url_prefix="/__admin", template_folder="templates",
                 static_folder="static", static_url_path="/static")
page.before_request(loopback_only)

SHOWN_ENTRIES = 200  # rows per answer: the first page, each poll, each "load more"
FILTERS = ("method", "status", "project", "region", "path", "fault")
SEGMENT_PREFIX = "/v1/"
#: Fields shown in an entry's summary or sections; anything else is listed under "more".
SHOWN_FIELDS = {"id", "time", "method", "path", "query", "region", "project", "status", "error", "body",
                "response", "fault", "via", "delivery", "duration_ms", "warning", "stub", "off_spec", "violations"}


def journal_entries(runtime: Runtime, filters: dict[str, str], limit: int = SHOWN_ENTRIES, *,
                    since_id: int | None = None, before_id: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """The most recent matching entries, newest first, and how many matched (in the id
    range when ``since_id`` / ``before_id`` are given). ``fault`` is a fault id, or ``*``
    for requests any fault fired on."""
    status = filters.get("status") or ""
    fault = filters.get("fault") or None
    criteria = Criteria(
        method=filters.get("method") or None,
        path=filters.get("path") or None,
        region=filters.get("region") or None,
        project=filters.get("project") or None,
        status=int(status) if status.isdigit() else None,
        fault=fault if fault != "*" else None,
        since_id=since_id,
    )
    journal = runtime.journal
    entries, total = journal.select(criteria, limit, before_id=before_id, where=has_fault if fault == "*" else None)
    return [journal.present(entry) for entry in entries], total


def link_segment_calls(entries: list[dict[str, Any]]) -> None:
    """Pair each 1Flow call a Segment call made (``via: segment:<write key>``) with that
    Segment call: the calls run inside it, so they are journaled just before it. Sets
    ``segment_call`` on the 1Flow entries and ``oneflow_calls`` (ids) on the Segment entry."""
    pending: dict[str, list[dict[str, Any]]] = {}
    for entry in sorted(entries, key=lambda e: e["id"]):
        via = entry.get("via") or ""
        if via.startswith("segment:"):
            pending.setdefault(via, []).append(entry)
        elif entry["path"].startswith(SEGMENT_PREFIX) and pending:
            body = entry.get("body")
            write_key = body.get("writeKey") if isinstance(body, dict) else None
            via = f"segment:{write_key}" if f"segment:{write_key}" in pending else next(iter(pending))
            calls = pending.pop(via)
            entry["oneflow_calls"] = [call["id"] for call in calls]
            for call in calls:
                call["segment_call"] = entry["id"]


def _status_class(status: int) -> str:
    return "ok" if 200 <= status < 300 else "client" if 400 <= status < 500 else "server"


def _projects(runtime: Runtime) -> list[dict[str, Any]]:
    store = runtime.store
    with store.lock:
        return [
            {
                **project.as_dict(),
                "users": [dict(user) for user in store.state(key).users.values()],
                "events": list(store.state(key).events),
            }
            for key, project in store.projects.items()
        ]


def _id_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _journal_context() -> dict[str, Any]:
    runtime = current_runtime()
    filters = {name: request.args.get(name, "") for name in FILTERS}
    entries, total = journal_entries(runtime, filters, since_id=_id_arg("since_id"), before_id=_id_arg("before_id"))
    link_segment_calls(entries)
    return {
        "entries": entries,
        "total": total,
        "journal": runtime.journal,
        "shown_fields": SHOWN_FIELDS,
        "status_class": _status_class,
    }


def _state_context() -> dict[str, Any]:
    runtime = current_runtime()
    return {"projects": _projects(runtime), "faults": runtime.faults.list(), "stubs": runtime.stubs.list()}


@page.get("/", endpoint="page")
def show_page() -> str:
    runtime = current_runtime()
    return render_template(
        "admin/page.html",
        filters={name: request.args.get(name, "") for name in FILTERS},
        regions=runtime.regions,
        project_keys=list(runtime.store.projects),
        plans=list(runtime.store.plans),
        page_size=SHOWN_ENTRIES,
        error_profile=runtime.config.error_profile,
        **_journal_context(),
        **_state_context(),
    )


@page.get("/ui/journal", endpoint="journal_fragment")
def journal_fragment() -> str:
    """Rows for the page: the newest, or those newer than ``since_id``, or older than ``before_id``."""
    return render_template("admin/journal.html", **_journal_context())


@page.get("/ui/state", endpoint="state_fragment")
def state_fragment() -> str:
    return render_template("admin/state.html", **_state_context())


def init_app(app: Flask) -> None:
    app.register_blueprint(page)
