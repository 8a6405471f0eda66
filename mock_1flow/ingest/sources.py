"""Segment sources as the ingest sees them: their mappings files, checked at load time."""

from __future__ import annotations

from pathlib import Path

from ..destination.mapping import MappingError, load_subscriptions
from ..server.projects import Source


def mappings_path(source: Source, base_dir: Path) -> Path | None:
    """A source's mappings file, relative to the projects file's folder."""
    if not source.mappings:
        return None
    path = Path(source.mappings)
    return path if path.is_absolute() else base_dir / path


def check_source_mappings(source: Source, base_dir: Path) -> None:
    """The projects loader's source check: a bad mappings file fails at load, not at send."""
    if not source.mappings:
        return
    try:
        load_subscriptions(mappings_path(source, base_dir))
    except MappingError as exc:
        raise ValueError(str(exc)) from None
