"""The request journal (WireMock-style): what each API request was and how it was answered.

Bounded by a cap so a long run cannot exhaust memory; entries pushed out by the cap
are counted in ``dropped``.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Any

DEFAULT_JOURNAL_CAP = 10_000


class Journal:
    def __init__(self, cap: int = DEFAULT_JOURNAL_CAP) -> None:
        if cap < 1:
            raise ValueError("the journal cap must be at least 1")
        self.cap = cap
        self._entries: deque[dict[str, Any]] = deque(maxlen=cap)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0
        self.recorded = 0

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["id"] = next(self._ids)
            self.recorded += 1
            if len(self._entries) == self.cap:
                self.dropped += 1
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0
            self.recorded = 0

    def __len__(self) -> int:
        return len(self._entries)

    def query(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        region: str | None = None,
        project: str | None = None,
        status: int | None = None,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Matching entries oldest first (``limit``: only the most recent N) and the match count."""
        with self._lock:
            entries = list(self._entries)
        method = method.upper() if method else None
        matches = [
            entry
            for entry in entries
            if (method is None or entry["method"] == method)
            and (path is None or fnmatch.fnmatchcase(entry["path"], path))
            and (region is None or entry["region"] == region)
            and (project is None or entry["project"] == project)
            and (status is None or entry["status"] == status)
        ]
        total = len(matches)
        if limit is not None:
            matches = matches[-limit:]
        return [_presented(entry) for entry in matches], total


def _presented(entry: dict[str, Any]) -> dict[str, Any]:
    """Entries keep an epoch float (cheap on the hot path); readers get ISO-8601 UTC."""
    shown = dict(entry)
    stamp = datetime.fromtimestamp(entry["time"], timezone.utc)
    shown["time"] = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return shown
