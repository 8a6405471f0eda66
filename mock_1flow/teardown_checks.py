"""What the pytest plugin checks when a test ends, so a mistake in the test itself fails loudly.

- A fault (or stub) that no request matched is almost always a typo in its path, method,
  region or project: the test passed without exercising what it meant to. The message
  names the closest path the test did request (difflib), as pytest-httpserver's
  ``check_assertions`` and WireMock's near misses do.
- In strict mode, a 4xx the mock answered on its own (not a fault's, not a stub's) means
  the client sent something the real API would refuse; unless the test asserted it
  (``assert_requests(status=...)``/``error=``) or declared it (``expect_errors``), it fails.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from .testing import AdminClient, MockError

API_PREFIX = re.compile(r"^/[^/]+/api/[^/]+(?=/)|^/[^/]+(?=/v1/)")  # /{region}/api/{version}, /{region} before /v1
SHOWN_ERRORS = 10  # strict mode lists at most this many answers
DEFAULTS: dict[str, Any] = {"path": "*", "latency_ms": 0, "drop_connection": False, "probability": 1.0}


@dataclass
class Expectations:
    """What a test said about its 4xx answers: journal ids it asserted, patterns it expects."""

    asserted: set[int] = field(default_factory=set)
    expected: list[dict[str, Any]] = field(default_factory=list)

    def covers(self, entry: dict[str, Any]) -> bool:
        if entry["id"] in self.asserted:
            return True
        return any(
            (want["path"] is None or fnmatch.fnmatchcase(entry["path"], want["path"]))
            and (want["status"] is None or want["status"] == entry["status"])
            and (want["error"] is None or want["error"] == entry.get("error"))
            for want in self.expected
        )


def describe(rule: dict[str, Any]) -> str:
    """``path=/v3/trak status=503 times=1``: the fields that differ from a fault's defaults."""
    shown = {name: value for name, value in rule.items() if value is not None and DEFAULTS.get(name, ...) != value}
    return " ".join(f"{name}={value}" for name, value in shown.items()) or "(matches everything)"


def nearest(pattern: str, paths: list[str]) -> str | None:
    """The requested path closest to ``pattern``, after the API base or in full, as the pattern is written."""
    candidates = sorted({API_PREFIX.sub("", path) for path in paths} | set(paths))
    close = difflib.get_close_matches(pattern, candidates, n=1, cutoff=0.0)
    return close[0] if close else None


def _why(pattern: str | None, paths: list[str]) -> str:
    if not paths:
        return "no request matched; the test made no requests"
    near = nearest(pattern or "*", paths)
    return f"no request matched; nearest: {near}"


def unused_failures(client: AdminClient) -> list[str]:
    """One line per fault or stub of the client's (its project's, when bound) that no request matched."""
    paths = sorted({entry["path"] for entry in client.requests()})
    problems = []
    for fault in client.faults():
        if fault.get("seen", 0) == 0:
            rule = fault["rule"]
            problems.append(f"unused fault {fault['id']}: {describe(rule)} ({_why(rule.get('path'), paths)})")
    for stub in client.stubs():
        if stub["hits"] == 0:
            matcher = stub.get("request") or {}
            problems.append(f"unused stub {stub.get('id')}: {describe(matcher)} ({_why(matcher.get('path'), paths)})")
    return problems


def strict_failures(client: AdminClient, expectations: Expectations) -> list[str]:
    """One line per 4xx the mock answered itself that the test neither asserted nor expected."""
    unasserted = [
        entry for entry in client.requests()
        if 400 <= entry["status"] < 500 and not entry.get("fault") and not entry.get("stub") and not expectations.covers(entry)
    ]
    if not unasserted:
        return []
    lines = [f"strict: {len(unasserted)} request(s) got a 4xx the test did not assert "
             "(assert_requests(status=...), expect_errors(), or @pytest.mark.one_flow_strict(False)):"]
    for entry in unasserted[:SHOWN_ERRORS]:
        response = entry.get("response")
        message = response.get("message") if isinstance(response, dict) else None
        lines.append(f"  {entry['method']} {entry['path']} -> {entry['status']} {entry.get('error') or ''}: {message or ''}".rstrip(": "))
    if len(unasserted) > SHOWN_ERRORS:
        lines.append(f"  ... and {len(unasserted) - SHOWN_ERRORS} more")
    return lines
