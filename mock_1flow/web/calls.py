"""What the web SDK double accepts as a ``_1flow(method, ...args)`` call: one check, here,
for every call the page makes (the script asks before it sends anything).

The calls are those Segment's 1Flow Web (Actions) makes (FIDELITY.md, "The web path"):
``_1flow('track', name, {userId, anonymousId, properties})`` and
``_1flow('identify', userId, {...traits})``; the destination's stub turns a missing third
argument into ``{}``.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

METHODS = ("track", "identify")


class Verdict(NamedTuple):
    """``error`` is None for a call the double sends on; else a code and what to fix."""

    error: str | None
    message: str


def check_call(method: Any, args: list[Any]) -> Verdict:
    """Whether the double can send ``_1flow(method, *args)``. A missing or null third
    argument is ``{}`` (the stub's ``!v ? {} : v``); any other non-object is refused."""
    if method not in METHODS:
        return Verdict("unknown_method", f"_1flow({_shown(method)}, ...): the web SDK double knows "
                       f"{', '.join(json.dumps(m) for m in METHODS)} (the calls 1Flow Web (Actions) makes).")
    options = args[1] if len(args) > 1 else None
    if options is not None and not isinstance(options, dict):
        return Verdict("invalid_argument", f"_1flow(\"{method}\", ..., {_shown(options)}): the third argument must be "
                       "an object ({userId, anonymousId, properties} for track, the traits for identify).")
    first = args[0] if args else None
    if method == "track":
        if not isinstance(first, str) or not first:
            return Verdict("invalid_event_name", f"_1flow(\"track\", {_shown(first)}, ...): the event name must be a "
                           "non-empty string (1Flow's /v3/track needs one).")
        properties = (options or {}).get("properties")
        if properties is not None and not isinstance(properties, dict):
            return Verdict("invalid_argument", f"_1flow(\"track\", ..., {{properties: {_shown(properties)}}}): "
                           "properties must be an object.")
    elif not isinstance(first, str) or not first:
        return Verdict("missing_user_id", f"_1flow(\"identify\", {_shown(first)}, ...): identify needs a userId "
                       "(Segment's docs: an identify without one is not sent).")
    return Verdict(None, f"_1flow(\"{method}\", ...) recorded")


def _shown(value: Any) -> str:
    """A value as the page wrote it, short: JSON for a scalar (``null`` for undefined)."""
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
