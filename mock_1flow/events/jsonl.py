"""JSON Lines for events: one compact, UTF-8, unescaped JSON object per line.

orjson is what the ingest uses to measure Segment's 32 KB per-event limit, so a line's
length here is exactly the size the limit checks. Keys keep the event's order, so the
same event always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson


def dumps_event(event: dict[str, Any]) -> str:
    """The event as one compact JSON line (no trailing newline), non-ASCII left as is."""
    return orjson.dumps(event).decode()


def write_jsonl(events: Iterable[dict[str, Any]], stream: IO[bytes]) -> int:
    """Write ``events`` to a binary stream, one per line; returns how many were written."""
    written = 0
    dumps, write = orjson.dumps, stream.write
    for event in events:
        write(dumps(event) + b"\n")
        written += 1
    return written


def read_jsonl(source: str | Path | IO[bytes], name: str | None = None) -> Iterator[dict[str, Any]]:
    """Events of a JSON Lines file or binary stream; blank lines are skipped.

    The one reader of event files (``send``, tests, tools): a line that is not a JSON
    object raises ``ValueError`` naming the source, the line and the column, so a CLI can
    show it as is. Lines are split on ``\\n`` only: U+2028 inside a string (edge-case
    mode emits it) is not a line break, whatever ``str.splitlines`` thinks.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as stream:
            yield from read_jsonl(stream, name or str(source))
        return
    label = f"{name}: " if name else ""
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise ValueError(f"{label}line {number}: not JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(event, dict):
            raise ValueError(f"{label}line {number}: a Segment event must be a JSON object")
        yield event
