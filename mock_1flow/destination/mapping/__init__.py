"""Segment's mapping-kit directives and FQL triggers (ported from the pinned packages in
:mod:`.pins`, checked against Segment's own answers), and the mapping loader with presets."""

from .directives import compile_mapping, resolve, transform, validate_mapping
from .errors import MappingError
from .fql import compile_trigger, parse_fql
from .jsvalues import UNDEFINED
from .loader import MAX_MAPPINGS, PRESETS_PATH, Subscription, load_presets, load_subscriptions
from .pins import SEGMENT_PACKAGES

__all__ = [
    "MAX_MAPPINGS", "PRESETS_PATH", "SEGMENT_PACKAGES", "UNDEFINED", "MappingError", "Subscription",
    "compile_mapping", "compile_trigger", "load_presets", "load_subscriptions", "parse_fql", "resolve", "transform",
    "validate_mapping",
]
