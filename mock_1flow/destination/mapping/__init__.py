"""Segment's mapping-kit directives and FQL triggers, and the mapping loader."""

from .directives import UNDEFINED, resolve, validate_mapping
from .errors import MappingError
from .fql import compile_trigger
from .loader import MAX_MAPPINGS, PRESETS_PATH, Subscription, load_subscriptions

__all__ = [
    "MAX_MAPPINGS", "PRESETS_PATH", "UNDEFINED", "MappingError", "Subscription",
    "compile_trigger", "load_subscriptions", "resolve", "validate_mapping",
]
