"""Mappings in Segment's own shape (``name``, ``subscribe``, ``partnerAction``, ``mapping``,
``enabled``), checked when they are loaded, so a bad one never reaches send time: each
error names the mapping (index and name) and what is wrong. At most 50 per destination
instance, as in Segment."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import actions as _actions  # a module reference: actions imports this package too
from .directives import Compiled, Fields, compile_mapping, register_compiled, top_level_fields
from .errors import MappingError
from .fql import Trigger, compile_trigger
from .jsvalues import JSTypeError

MAX_MAPPINGS = 50
PRESETS_PATH = Path(__file__).with_name("presets.json")
REQUIRED_KEYS = ("name", "subscribe", "partnerAction", "mapping")


@dataclass(frozen=True)
class Subscription:
    """One mapping; its trigger and its mapping are compiled once, when it is created (so
    ``mapping`` is not to be changed afterwards)."""

    name: str
    subscribe: str
    partner_action: str
    mapping: dict[str, Any]
    enabled: bool = True
    trigger: Trigger = field(init=False, repr=False, compare=False)
    compiled: Compiled = field(init=False, repr=False, compare=False)
    # the mapping's (key, event key) pairs when every member is a top-level @path (the
    # presets'): :func:`~.directives.picked` resolves it with one lookup per member
    fields: Fields | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "trigger", compile_trigger(self.subscribe))
        object.__setattr__(self, "compiled", compile_mapping(self.mapping))
        register_compiled(self.mapping, self.compiled)
        object.__setattr__(self, "fields", top_level_fields(self.mapping))

    def matches(self, event: dict[str, Any]) -> bool:
        """Segment's ``validate`` of the trigger. Where Segment's would throw (a path through a
        built-in function's ``caller``), the event is not subscribed."""
        if not self.enabled:
            return False
        try:
            return self.trigger.predicate(event)
        except (MappingError, JSTypeError):
            return False

    def payload(self, event: dict[str, Any]) -> Any:
        """The mapping's result for the event (:func:`~.directives.resolve`, compiled)."""
        return self.compiled(event)


def _label(item: Any, index: int) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return f"mapping {index}" + (f" ({name!r})" if isinstance(name, str) and name else "")


def _subscription(item: Any, index: int) -> Subscription:
    label = _label(item, index)
    if not isinstance(item, dict):
        raise MappingError(f"{label}: must be an object with {', '.join(REQUIRED_KEYS)}, not {type(item).__name__}")
    missing = [key for key in REQUIRED_KEYS if key not in item]
    if missing:
        raise MappingError(f"{label}: missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    for key, kind in (("name", str), ("subscribe", str), ("partnerAction", str), ("mapping", dict), ("enabled", bool)):
        if key in item and not isinstance(item[key], kind):
            raise MappingError(f"{label}: {key} must be {'an object' if kind is dict else 'a ' + kind.__name__}")
    known = _actions.ACTIONS
    action = known.get(item["partnerAction"])
    if action is None:
        raise MappingError(f"{label}: unknown partnerAction {item['partnerAction']!r} (known: {', '.join(known)})")
    compile_mapping(item["mapping"], f"{label}: mapping")  # refused here, with the mapping's name
    # Segment drops unknown keys silently when it validates the payload; a typo there would
    # only show up as a missing field, so it is refused here.
    unknown = [key for key in item["mapping"] if key not in action.fields]
    if unknown:
        raise MappingError(f"{label}: mapping has unknown field{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(map(repr, unknown))} for {action.name} (fields: {', '.join(action.fields)})")
    try:
        return Subscription(item["name"], item["subscribe"], item["partnerAction"], item["mapping"],
                            item.get("enabled", True))
    except MappingError as exc:
        raise MappingError(f"{label}: subscribe: {exc}") from None


def _read(path: str | os.PathLike[str]) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mappings file ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise MappingError(f"{path}: not JSON ({exc})") from None


def load_subscriptions(source: str | os.PathLike[str] | list | dict | None = None) -> list[Subscription]:
    """``None``: the presets; a path to a JSON file; a list of mappings in Segment's shape; or an
    object whose ``subscriptions`` (or ``mappings``) key holds that list."""
    data = _read(PRESETS_PATH if source is None else source) if source is None or isinstance(source, (str, os.PathLike)) else source
    if isinstance(data, dict):
        key = next((k for k in ("subscriptions", "mappings") if k in data), None)
        if key is None:
            raise MappingError("an object of mappings needs a 'subscriptions' (or 'mappings') list")
        data = data[key]
    if not isinstance(data, list):
        raise MappingError(f"mappings must be a list, not {type(data).__name__}")
    if len(data) > MAX_MAPPINGS:
        raise MappingError(f"{len(data)} mappings: a destination instance holds at most {MAX_MAPPINGS}")
    return [_subscription(item, index) for index, item in enumerate(data)]


def load_presets() -> list[Subscription]:
    """Segment's two presets for 1Flow (Track Event, Identify User) and our Screen/Page ones."""
    return load_subscriptions(PRESETS_PATH)
