"""Edge-case mode: events that are legal but awkward, and a few deliberately invalid ones.

With ``edge_cases=True`` about half the events get exactly one of these kinds:

- ``unicode``: emoji (ZWJ sequences, flags), RTL, CJK, combining marks, zero-width
  characters and U+2028 in names, event names, keys and values.
- ``empty``: empty ``properties`` (track, page, screen) or ``traits`` (identify, group).
- ``deep``: an object nested ``DEEP_NESTING_DEPTH`` (20) levels deep in properties/traits.
- ``near_limit``: serialized (compact UTF-8 JSON) size within ``NEAR_LIMIT_MARGIN`` bytes
  under Segment's 32 KB per-event limit, i.e. still accepted.
- ``nulls``: null values in properties/traits and context, a null page/screen ``name``, a
  null ``userId`` next to an anonymousId.
- ``numeric_strings``: numbers sent as strings (``"revenue": "19.99"``, ``"age": "34"``).
- ``missing``: optional fields left out: no ``context`` or no ``timestamp``, sometimes also
  no ``messageId``, ``sentAt``, ``originalTimestamp``, ``receivedAt``, ``integrations``.

Deliberately invalid, so the destination's and the ingest's validation is exercised
(together about 5% of events in edge-case mode):

- ``over_limit``: serialized size 1 to ``NEAR_LIMIT_MARGIN`` bytes over 32,768: Segment
  answers 400 for such an event.
- ``invalid``: under Segment's minimum: a track whose ``event`` is "", a group without
  ``groupId``, an alias without ``previousId``, or an identify/page/screen with neither
  ``userId`` nor ``anonymousId``.

``edge_case_kinds(event)`` tells which kinds an event shows, from the event alone (no
marker is added to events); events generated without edge cases show none.
"""

from __future__ import annotations

import re
from bisect import bisect
from random import Random
from typing import Any

import orjson

EVENT_LIMIT = 32 * 1024  # Segment's per-event limit, in bytes of JSON
NEAR_LIMIT_MARGIN = 512
DEEP_NESTING_DEPTH = 20
EDGE_SHARE = 0.5
EDGE_WEIGHTS = {"unicode": 16, "nulls": 14, "numeric_strings": 14, "missing": 14, "empty": 10, "deep": 10,
                "near_limit": 8, "invalid": 5, "over_limit": 3}
EDGE_CASES = tuple(EDGE_WEIGHTS)
INVALID_KINDS = ("invalid", "over_limit")
OPTIONAL_FIELDS = ("context", "timestamp", "messageId", "sentAt", "originalTimestamp", "receivedAt", "integrations")
NUMERIC_KEYS = frozenset({"price", "quantity", "value", "revenue", "total", "subtotal", "shipping", "tax", "discount",
                          "age", "employees", "employee_count", "logins", "lifetime_value", "session_count",
                          "position", "step", "rating"})
UNICODE_NAMES = ("Zoë 👩‍👩‍👧‍👦", "José 🇧🇷", "مرحبا بالعالم 🌙", "こんにちは世界 🍣", "Z̴̡͇a̵̛͎l̸g̷o̶ 👾",
                 "zero\u200bwidth\u200d😀", "line\u2028separator 🧪", "🔥🚀✨", "Ελληνικά 🏛️", "𝕱𝖗𝖆𝖐𝖙𝖚𝖗",
                 "한국어 😀", "tab\tand\nnewline 🎉", "עברית 🕎", "Ǆemal Đurić 🇷🇸")
UNICODE_KEYS = ("emoji_🔥", "ключ", "备注", "clé_é", "🎯")

_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")
_CUMULATIVE: list[float] = []
_total = 0.0
for _weight in EDGE_WEIGHTS.values():
    _total += _weight
    _CUMULATIVE.append(_total / sum(EDGE_WEIGHTS.values()))
_CUMULATIVE[-1] = 2.0


def event_size(event: dict[str, Any]) -> int:
    """Bytes of the compact UTF-8 JSON of ``event`` (what Segment's 32 KB limit counts)."""
    return len(orjson.dumps(event))


def maybe_apply(event: dict[str, Any], rng: Random) -> dict[str, Any]:
    """Give ``event`` one edge case with probability ``EDGE_SHARE`` (drawn from ``rng``)."""
    if rng.random() >= EDGE_SHARE:
        return event
    return apply(EDGE_CASES[bisect(_CUMULATIVE, rng.random())], event, rng)


def apply(kind: str, event: dict[str, Any], rng: Random) -> dict[str, Any]:
    """Turn ``event`` into an instance of edge case ``kind`` (in place; returned for chaining).

    For alias, whose free-form object is ``context``, ``empty`` and ``numeric_strings`` do
    not fit and fall back to ``missing``.
    """
    bag = _bag(event, create=kind in ("unicode", "nulls", "deep", "near_limit", "over_limit"))
    if bag is None and kind in ("unicode", "empty", "deep", "nulls", "numeric_strings", "near_limit", "over_limit"):
        kind = "missing"
    _MUTATIONS[kind](event, bag, rng)
    return event


def _bag(event: dict[str, Any], create: bool = False) -> dict[str, Any] | None:
    """The event's free-form object: properties, traits, or (alias) context."""
    for key in ("properties", "traits"):
        if isinstance(event.get(key), dict):
            return event[key]
    if event["type"] == "alias" and create:
        return event.setdefault("context", {})
    return None


def _unicode(event: dict[str, Any], bag: dict[str, Any], rng: Random) -> None:
    name = rng.choice(UNICODE_NAMES)
    bag[rng.choice(UNICODE_KEYS)] = rng.choice(UNICODE_NAMES)
    if event["type"] == "identify":
        first, last = name.split(" ", 1) if " " in name else (name, "🙂")
        bag.update(firstName=first, lastName=last, name=name)
    elif event["type"] == "track" and rng.random() < 0.5:
        event["event"] = f"{event['event']} {name}"
    elif event["type"] in ("page", "screen", "group"):
        (bag if event["type"] == "group" else event)["name"] = name


def _empty(event: dict[str, Any], bag: dict[str, Any], rng: Random) -> None:
    bag.clear()


def _deep(event: dict[str, Any], bag: dict[str, Any], rng: Random) -> None:
    node: dict[str, Any] = {"level": DEEP_NESTING_DEPTH, "leaf": True}
    for level in range(DEEP_NESTING_DEPTH - 1, 0, -1):
        node = {"level": level, "child": node}
    bag["nested"] = node


def _nulls(event: dict[str, Any], bag: dict[str, Any], rng: Random) -> None:
    keys = list(bag)
    for key in rng.sample(keys, min(len(keys), rng.randint(1, 3))):
        bag[key] = None
    bag["coupon" if event["type"] == "track" else "description"] = None
    if event["type"] in ("page", "screen") and rng.random() < 0.5:
        event["name"] = None
    if event.get("anonymousId") and "userId" in event and rng.random() < 0.3:
        event["userId"] = None
    location = event.get("context", {}).get("location")
    if location and rng.random() < 0.5:
        location["city"] = None


def _numeric_strings(event: dict[str, Any], bag: dict[str, Any], rng: Random) -> None:
    changed = _stringify_numbers(bag)
    for product in bag.get("products", ()):
        changed |= _stringify_numbers(product)
    if not changed:
        bag["value"] = str(rng.randint(1, 500))


def _stringify_numbers(mapping: dict[str, Any]) -> bool:
    changed = False
    for key, value in mapping.items():
        if key in NUMERIC_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            mapping[key] = f"{value:.2f}" if isinstance(value, float) else str(value)
            changed = True
    return changed


def _missing(event: dict[str, Any], bag: dict[str, Any] | None, rng: Random) -> None:
    event.pop(rng.choice(("context", "timestamp")), None)
    for key in OPTIONAL_FIELDS[2:]:
        if rng.random() < 0.3:
            event.pop(key, None)


def _sized(low: int, high: int):
    def mutate(event: dict[str, Any], bag: dict[str, Any], rng: Random) -> None:
        bag["padding"] = ""
        need = rng.randint(low, high) - event_size(event)
        bag["padding"] = ("lorem ipsum dolor sit amet " * (need // 27 + 1))[:need]
    return mutate


def _invalid(event: dict[str, Any], bag: dict[str, Any] | None, rng: Random) -> None:
    kind = event["type"]
    if kind == "track":
        event["event"] = ""
    elif kind == "group":
        del event["groupId"]
    elif kind == "alias":
        del event["previousId"]
    else:
        event.pop("userId", None)
        event.pop("anonymousId", None)


_MUTATIONS = {
    "unicode": _unicode, "empty": _empty, "deep": _deep, "nulls": _nulls, "numeric_strings": _numeric_strings,
    "missing": _missing, "invalid": _invalid,
    "near_limit": _sized(EVENT_LIMIT - NEAR_LIMIT_MARGIN, EVENT_LIMIT - 1),
    "over_limit": _sized(EVENT_LIMIT + 1, EVENT_LIMIT + NEAR_LIMIT_MARGIN),
}


def minimum_problems(event: dict[str, Any]) -> list[str]:
    """What ``event`` lacks of Segment's minimum for its type; [] when it is acceptable."""
    problems = []
    kind = event.get("type")
    if kind not in ("identify", "track", "page", "screen", "group", "alias"):
        problems.append(f"unknown type {kind!r}")
    if not event.get("userId") and not event.get("anonymousId"):
        problems.append("neither userId nor anonymousId")
    required = {"track": "event", "group": "groupId", "alias": "previousId"}.get(str(kind))
    if required and not (isinstance(event.get(required), str) and event[required]):
        problems.append(f"{kind} without {required}")
    if kind == "alias" and not event.get("userId"):
        problems.append("alias without userId")
    return problems


def edge_case_kinds(event: dict[str, Any]) -> set[str]:
    """Which edge cases ``event`` shows, judged from its content alone."""
    kinds: set[str] = set()
    size = event_size(event)
    if size > EVENT_LIMIT:
        kinds.add("over_limit")
    elif size >= EVENT_LIMIT - NEAR_LIMIT_MARGIN:
        kinds.add("near_limit")
    if minimum_problems(event):
        kinds.add("invalid")
    if any(field not in event for field in OPTIONAL_FIELDS):
        kinds.add("missing")
    bag = event.get("properties", event.get("traits"))
    if bag == {}:
        kinds.add("empty")
    stats = _Walk(event)
    if stats.astral:
        kinds.add("unicode")
    if stats.nulls:
        kinds.add("nulls")
    if stats.numeric_strings:
        kinds.add("numeric_strings")
    if stats.depth >= DEEP_NESTING_DEPTH:
        kinds.add("deep")
    return kinds


class _Walk:
    """One pass over an event: deepest nesting, nulls, astral-plane characters, numbers as strings."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.depth, self.nulls, self.astral, self.numeric_strings = 0, False, False, False
        self._visit(event, 0, "")

    def _visit(self, value: Any, depth: int, key: str) -> None:
        if isinstance(value, dict):
            self.depth = max(self.depth, depth + 1)
            for child_key, child in value.items():
                self.astral = self.astral or _has_astral(child_key)
                self._visit(child, depth + 1, child_key)
        elif isinstance(value, list):
            self.depth = max(self.depth, depth + 1)
            for child in value:
                self._visit(child, depth + 1, key)
        elif value is None:
            self.nulls = True
        elif isinstance(value, str):
            self.astral = self.astral or _has_astral(value)
            if key in NUMERIC_KEYS and _NUMBER.match(value):
                self.numeric_strings = True


def _has_astral(text: str) -> bool:
    return not text.isascii() and any(ord(ch) > 0xFFFF for ch in text)
