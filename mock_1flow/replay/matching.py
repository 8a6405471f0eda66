"""Which recorded exchange a request is: the replay's matching rule (FIDELITY.md, "Replay").

A request matches a recording when all of these hold:

- the method and the path are the same, character for character (host form and path form
  are different paths: a client replays the form it recorded);
- the query has the same parameters with the same values, in any order;
- the body is the same JSON value, ignoring the values (not the presence) of the volatile
  fields :data:`VOLATILE_FIELDS` at any depth, and reading ``<redacted>`` in a recorded
  string (the recorder's mask) as any text; a body that is not JSON is compared as text;
- the project key: a recorded ``<key-N>`` placeholder matches any key unless ``--key-map``
  maps it, then only that key; a key recorded as sent (``--record-keys``) only itself.

Other headers are not compared: clients differ in them (User-Agent, Accept-Encoding)
without asking anything else.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ..server.validation import json_or_text
from .recording import KEY_HEADERS, Recorded

# Values a client makes anew each time it sends the same thing: ids it mints (events' and
# survey responses' `_id`, `_lid`, Segment's `messageId`) and clock readings (events' `time`,
# survey responses' `created_on`, the HTTP API's `timestamp`, Segment's `sentAt`, ...).
VOLATILE_FIELDS = frozenset({"_id", "_lid", "messageId", "time", "timestamp", "created_on", "sentAt",
                             "originalTimestamp", "receivedAt"})
MASK = "<redacted>"  # mock_1flow.proxy.record.MASK; not imported: that module needs urllib3's side
PLACEHOLDER = re.compile(r"^<key-\d+>$")


@dataclass(frozen=True)
class Sent:
    """A request as the matching rule sees it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any
    key: str | None

    @classmethod
    def of(cls, method: str, path: str, query: str, headers: Any, body: bytes | None) -> "Sent":
        folded = {name.lower(): value for name, value in headers}
        key = next((folded[name] for name in KEY_HEADERS if name in folded), None)
        return cls(method.upper(), path, sorted(parse_qsl(query, keep_blank_values=True)), json_or_text(body), key)


def body_difference(recorded: Any, sent: Any, here: str = "") -> str | None:
    """The JSON pointer of the first place ``sent`` differs from ``recorded`` under the
    rule above ("" for the whole body), or None when they match."""
    if isinstance(recorded, dict):
        if not isinstance(sent, dict):
            return here
        if recorded.keys() != sent.keys():
            return f"{here}/{sorted(recorded.keys() ^ sent.keys())[0]}"
        for name, value in recorded.items():
            if name not in VOLATILE_FIELDS:
                found = body_difference(value, sent[name], f"{here}/{name}")
                if found is not None:
                    return found
        return None
    if isinstance(recorded, list):
        if not isinstance(sent, list):
            return here
        for index, (value, other) in enumerate(zip(recorded, sent)):
            found = body_difference(value, other, f"{here}/{index}")
            if found is not None:
                return found
        return None if len(recorded) == len(sent) else f"{here}/{min(len(recorded), len(sent))}"
    if isinstance(recorded, str) and MASK in recorded:
        pattern = ".*".join(re.escape(part) for part in recorded.split(MASK))
        return None if isinstance(sent, str) and re.fullmatch(pattern, sent, re.DOTALL) else here
    same = recorded == sent and type(recorded) is type(sent) or (
        isinstance(recorded, (int, float)) and isinstance(sent, (int, float))
        and not isinstance(recorded, bool) and not isinstance(sent, bool) and recorded == sent)
    return None if same else here


def key_matches(recorded: str | None, sent: str | None, key_map: dict[str, str]) -> bool:
    if recorded is None:
        return True
    if PLACEHOLDER.match(recorded):
        return recorded not in key_map or sent == key_map[recorded]
    return sent == recorded


def mismatch(recorded: Recorded, sent: Sent, key_map: dict[str, str]) -> str | None:
    """Why ``recorded`` does not answer ``sent`` (in words), or None when it does."""
    if recorded.method != sent.method:
        return f"its method is {recorded.method}"
    if recorded.path != sent.path:
        return f"its path is {recorded.path}"
    if sorted(parse_qsl(recorded.query, keep_blank_values=True)) != sent.query:
        return f"its query is {recorded.query!r}" if recorded.query else "it has no query"
    if not key_matches(recorded.key(), sent.key, key_map):
        return f"its key is {recorded.key()}" + (f" (--key-map: {key_map[recorded.key() or '']})"
                                                 if recorded.key() in key_map else "")
    pointer = body_difference(recorded.body, sent.body)
    if pointer is not None:
        return f"its body differs at {pointer or '(root)'}"
    return None


def closest(recordings: list[Recorded], sent: Sent, key_map: dict[str, str]) -> tuple[Recorded, str]:
    """The recording nearest to ``sent`` and why it does not match: the one agreeing on most of
    method, path, query, key, body (in that order of weight), then on the text of its path."""
    def score(recorded: Recorded) -> tuple[int, float]:
        agree = (recorded.method == sent.method) * 16 + (recorded.path == sent.path) * 8
        agree += (sorted(parse_qsl(recorded.query, keep_blank_values=True)) == sent.query) * 4
        agree += key_matches(recorded.key(), sent.key, key_map) * 2
        agree += (body_difference(recorded.body, sent.body) is None) * 1
        return agree, difflib.SequenceMatcher(None, recorded.path, sent.path).ratio()

    best = max(recordings, key=score)
    return best, mismatch(best, sent, key_map) or "it matches"
