"""``mock-1flow serve --access-log``: one line per API request on stderr, with what a mock
user looks for (the key, the region, the fault that fired) besides method, path and status.

Every API request, whether the SDK hot path, the Segment ingest or an unknown path,
ends in one :meth:`Journal.record` call, so the log is written there: the line and the
journal entry always agree. The admin API and the spec are not journaled, nor logged.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from typing import Any, TextIO

from ..server.core import split_api_path
from ..server.runtime import Runtime

def access_line(fields: dict[str, Any]) -> str:
    """``POST /us/api/2021-06-15/v3/track 200 key=oneflow_prod_acme region=us 0.4ms fault=-``."""
    path = fields["path"] + (f"?{fields['query']}" if fields.get("query") else "")
    key = fields.get("project") or _header(fields.get("request_headers") or (), "one_flow_key") or "-"
    region = fields.get("region") or split_api_path(fields["path"])[0] or "-"
    line = (f"{fields['method']} {path} {fields['status']} key={key} region={region} "
            f"{fields.get('duration_ms', 0):.1f}ms fault={fields.get('fault') or '-'}")
    return line + (f" via={fields['via']}" if fields.get("via") else "")


def _header(headers: Any, name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def enable_access_log(runtime: Runtime, stream: TextIO | None = None) -> None:
    """Log each journaled request as it is recorded. Written straight to the stream, not
    through :mod:`logging`, which granian configures in its workers."""
    out = stream or sys.stderr
    record = runtime.journal.record
    lock = threading.Lock()

    @functools.wraps(record)
    def record_and_log(**fields: Any) -> None:
        record(**fields)
        line = f"{time.strftime('%H:%M:%S')} {access_line(fields)}\n"
        with lock:
            out.write(line)
            out.flush()

    runtime.journal.record = record_and_log  # type: ignore[method-assign]
