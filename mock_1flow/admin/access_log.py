"""``mock-1flow serve --access-log``: one line per request on stderr, with what a mock
user looks for (the key, the region, the fault that fired) besides method, path and status.

It reads what the core's hooks put on ``g`` (region, project, fault, start time), so it
works the same for SDK, Segment and admin requests, and for the 1Flow calls a Segment call
makes in-process (shown with ``via=``).
"""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, Response, g, request

from ..server.core import split_api_path

log = logging.getLogger("mock_1flow.access")


def _line(response: Response) -> str:
    ctx = vars(g._get_current_object())
    started = ctx.get("started")
    duration = f"{(time.perf_counter() - started) * 1000:.1f}ms" if started else "-"
    status = 0 if ctx.get("dropped") else response.status_code
    fields = [
        request.method,
        request.full_path.rstrip("?"),
        str(status),
        f"key={ctx.get('project') or request.headers.get('one_flow_key') or '-'}",
        f"region={ctx.get('region') or split_api_path(request.path)[0] or '-'}",
        duration,
        f"fault={ctx.get('fault') or '-'}",
    ]
    via = request.headers.get("X-Mock-1flow-Via")
    if via:
        fields.append(f"via={via}")
    return " ".join(fields)


def enable_access_log(app: Flask) -> None:
    """Log each request after it is answered (registered after the core's hooks)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.after_request
    def _access(response: Response) -> Response:
        log.info(_line(response))
        return response
