"""Mappings in Segment's own shape (``name``, ``subscribe``, ``partnerAction``, ``mapping``),
checked when loaded: unknown directives, mixed keys, bad triggers and unknown actions are
refused with the mapping's name. At most 50 per destination instance, as in Segment."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..actions import ACTIONS
from .directives import validate_mapping
from .errors import MappingError
from .fql import compile_trigger

MAX_MAPPINGS = 50
PRESETS_PATH = Path(__file__).with_name("presets.json")


@dataclass(frozen=True)
class Subscription:
    name: str
    subscribe: str
    partner_action: str
    mapping: dict[str, Any]
    enabled: bool = True
    predicate: Callable[[dict[str, Any]], bool] = field(repr=False, compare=False, default=lambda event: False)

    def matches(self, event: dict[str, Any]) -> bool:
        return self.enabled and self.predicate(event)


def _subscription(item: Any, index: int) -> Subscription:
    label = f"mapping {index}" + (f" ({item.get('name')!r})" if isinstance(item, dict) and item.get("name") else "")
    if not isinstance(item, dict):
        raise MappingError(f"{label}: must be an object with name, subscribe, partnerAction and mapping")
    missing = [key for key in ("name", "subscribe", "partnerAction", "mapping") if key not in item]
    if missing:
        raise MappingError(f"{label}: missing {', '.join(missing)}")
    if item["partnerAction"] not in ACTIONS:
        raise MappingError(f"{label}: unknown partnerAction {item['partnerAction']!r} (known: {', '.join(ACTIONS)})")
    if not isinstance(item["mapping"], dict):
        raise MappingError(f"{label}: mapping must be an object of field -> value or directive")
    try:
        predicate = compile_trigger(item["subscribe"])
        validate_mapping(item["mapping"], "mapping")
    except MappingError as exc:
        raise MappingError(f"{label}: {exc}") from None
    unknown = set(item["mapping"]) - set(ACTIONS[item["partnerAction"]].fields)
    if unknown:
        raise MappingError(f"{label}: unknown field(s) {sorted(unknown)} for {item['partnerAction']}")
    return Subscription(item["name"], item["subscribe"], item["partnerAction"], item["mapping"],
                        bool(item.get("enabled", True)), predicate)


def load_subscriptions(source: str | os.PathLike[str] | list | dict | None = None) -> list[Subscription]:
    """None: the presets; a path to a JSON file; a list of mappings; or ``{"subscriptions": [...]}``."""
    if source is None:
        source = PRESETS_PATH
    if isinstance(source, (str, os.PathLike)):
        try:
            source = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise MappingError(f"{source}: cannot read ({exc.strerror})") from None
        except ValueError as exc:
            raise MappingError(f"{source}: not JSON ({exc})") from None
    if isinstance(source, dict):
        source = source.get("subscriptions", source.get("mappings"))
    if not isinstance(source, list):
        raise MappingError("mappings must be a list (or an object with 'subscriptions')")
    if len(source) > MAX_MAPPINGS:
        raise MappingError(f"{len(source)} mappings: a destination instance holds at most {MAX_MAPPINGS}")
    return [_subscription(item, index) for index, item in enumerate(source)]
