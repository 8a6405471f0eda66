"""Segment's mapping-kit directives and FQL triggers, and the mapping loader with presets."""

from .directives import UNDEFINED, resolve, validate_mapping
from .errors import MappingError
from .fql import compile_trigger, parse_fql
from .loader import MAX_MAPPINGS, PRESETS_PATH, Subscription, load_presets, load_subscriptions

__all__ = [
    "MAX_MAPPINGS", "PRESETS_PATH", "UNDEFINED", "MappingError", "Subscription", "compile_trigger",
    "load_presets", "load_subscriptions", "parse_fql", "resolve", "validate_mapping",
]
