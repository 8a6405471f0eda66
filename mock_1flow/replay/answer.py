"""``mock-1flow serve --replay FILE``: each recorded request answered with its recorded
response, through the runtime's answerer hook (:mod:`mock_1flow.server.answers`), from
memory: no socket is ever opened. What the recording lacks falls to the mock, or with
``--replay-strict`` is 404 ``not_recorded`` naming the closest recording."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..server.answers import Answer, Exchange
from ..server.errors import ApiError
from ..server.routes.common import dumps
from .matching import MASK, Sent, closest, mismatch
from .recording import Recorded, load_recording

# what the recorded answer's length and transfer say about the upstream's connection, not about the answer
DROPPED_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"})


class Replayer:
    """The answerer of ``serve --replay``: answers are in memory, so it never blocks."""

    blocking = False

    def __init__(self, file: Path | str, key_map: dict[str, str] | None = None, strict: bool = False) -> None:
        self.file = str(file)
        self.recordings = load_recording(file)
        self.key_map = dict(key_map or {})
        self.strict = strict
        self.by_route: dict[tuple[str, str], list[Recorded]] = defaultdict(list)
        for recorded in self.recordings:
            self.by_route[(recorded.method, recorded.path)].append(recorded)

    def __call__(self, exchange: Exchange) -> Answer | None:
        sent = Sent.of(exchange.method, exchange.path, exchange.query, exchange.headers, exchange.body)
        found = [r for r in self.by_route.get((sent.method, sent.path), ()) if mismatch(r, sent, self.key_map) is None]
        if found:
            return self._answer(found)
        if not self.strict:
            return None
        near, why = closest(self.recordings, sent, self.key_map)
        error = ApiError(404, "not_recorded",
                         f"{exchange.method} {exchange.path} is not in the recording {self.file} (--replay-strict). "
                         f"The closest is line {near.line} ({near.method} {near.path}{'?' + near.query if near.query else ''}): {why}.",
                         closest={"line": near.line, "id": near.id, "method": near.method, "path": near.path,
                                  "differs": why})
        body = dumps(error.body())
        return Answer(404, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body,
                      note=f"not recorded; closest {near.where}: {why}", blocking=False)

    def _answer(self, found: list[Recorded]) -> Answer:
        first = found[0]
        body = first.response_bytes()
        headers = [(name, value) for name, value in first.response_headers.items()
                   if name.lower() not in DROPPED_RESPONSE_HEADERS and value != MASK]
        headers.append(("Content-Length", str(len(body))))
        note = f"replayed {first.where}"
        if len(found) > 1:
            others = ", ".join(str(r.line) for r in found[1:6]) + (", ..." if len(found) > 6 else "")
            note += f"; {len(found)} recordings match, the first answered (also lines {others})"
        return Answer(first.status, headers, body, note=note, blocking=False)
