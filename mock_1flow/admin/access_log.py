"""``mock-1flow serve --access-log``: one line per request on stderr, with what a mock
user looks for (the key, the region, the fault that fired) besides method, path and status.

It reads what the core's hooks put on ``g`` (region, project, fault, start time), so it
works the same for SDK, Segment and admin requests, and for the 1Flow calls a Segment call
makes in-process (shown with ``via=``).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TextIO

from flask import Flask, Response, g, request

from ..server.core import split_api_path
from ..server.runtime import Runtime
from ..server.wsgi import VIA

def access_line(
    method: str, target: str, status: int, key: str | None, region: str | None,
    duration_ms: float | None, fault: str | None, via: str | None,
    stub: str | None = None, off_spec: Sequence[str] | None = None,
    violations: Sequence[Mapping[str, str]] | None = None,
) -> str:
    """One request as the access log prints it (the same for the hot path and Flask).

    An answer that is not 1Flow's contract says so on its line: ``stub=`` (the stub that
    answered), ``off_spec=`` (where its answer breaks the spec), ``violations=`` (``mock-1flow
    proxy``: side and pointer of each); the reasons are in the journal."""
    duration = f"{duration_ms:.1f}ms" if duration_ms is not None else "-"
    fields = [method, target, str(status), f"key={key or '-'}", f"region={region or '-'}", duration, f"fault={fault or '-'}"]
    if via:
        fields.append(f"via={via}")
    if stub:
        fields.append(f"stub={stub}")
    if off_spec:
        fields.append(f"off_spec={off_spec[0] or '(root)'}")
    if violations:
        fields.append("violations=" + ",".join(f"{item['side']}:{item['pointer'] or '(root)'}" for item in violations))
    return " ".join(fields)


def _line(response: Response) -> str:
    ctx = vars(g._get_current_object())
    started = ctx.get("started")
    return access_line(
        request.method,
        request.full_path.rstrip("?"),
        0 if ctx.get("dropped") else response.status_code,
        ctx.get("project") or request.headers.get("one_flow_key"),
        ctx.get("region") or split_api_path(request.path)[0],
        (time.perf_counter() - started) * 1000 if started else None,
        ctx.get("fault"),
        request.environ.get(VIA),
        ctx.get("stub"),
        ctx.get("off_spec"),
        ctx.get("violations"),
    )


def enable_access_log(app: Flask, runtime: Runtime, stream: TextIO | None = None) -> None:
    """Log each request after it is answered: Flask's routes through an after-request hook
    (registered after the core's), the SDK API's hot path through the runtime's listeners.
    Lines go straight to the stream, not through :mod:`logging`: granian configures logging
    in its workers and can silence a logger set up before it."""
    out = stream or sys.stderr
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            out.write(f"{time.strftime('%H:%M:%S')} {line}\n")
            out.flush()

    runtime.on_request.append(lambda *fields: write(access_line(*fields)))

    @app.after_request
    def _access(response: Response) -> Response:
        write(_line(response))
        return response
