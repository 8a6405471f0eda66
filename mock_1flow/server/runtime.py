"""The per-app runtime: configuration, state, journal, faults and fixtures in one place,
so routes reach them through ``current_runtime()`` instead of globals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, current_app

from .config import MockConfig
from .faults import FaultSet
from .journal import Journal
from ..paths import FIXTURES_DIR
from .projects import SourceCheck, load_projects
from .spec import regions
from .store import Store
from .stubs import StubSet

EXTENSION_KEY = "mock_1flow"


def _fixture(name: str) -> Any:
    with open(FIXTURES_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


@dataclass
class Runtime:
    config: MockConfig
    store: Store
    journal: Journal
    faults: FaultSet
    regions: tuple[str, ...]
    surveys: dict[str, Any] = field(default_factory=lambda: _fixture("surveys.json"))
    announcements: dict[str, Any] = field(default_factory=lambda: _fixture("announcements.json"))
    before_reset: list[Callable[[], None]] = field(default_factory=list)  # barriers: run before anything is forgotten
    on_reset: list[Callable[[], None]] = field(default_factory=list)
    stubs: StubSet = field(default_factory=StubSet)
    # Called after each hot-path (SDK API) request with (method, path?query, status, key,
    # region, duration_ms, fault id, via); the access log listens here, since those
    # requests never reach Flask's hooks.
    on_request: list[Callable[[str, str, int, str | None, str | None, float, str | None, str | None], None]] = field(
        default_factory=list
    )

    @classmethod
    def build(cls, config: MockConfig, check_source: SourceCheck | None = None) -> "Runtime":
        runtime = cls(
            config=config,
            store=Store(load_projects(config.projects_file, check_source), event_cap=config.event_cap, event_max_bytes=config.event_max_bytes),
            journal=Journal(
                config.journal_cap,
                max_bytes=config.journal_max_bytes,
                body_max=config.journal_body_max,
                redact=config.journal_redact,
            ),
            faults=FaultSet(),
            regions=regions(),
            stubs=StubSet(config.journal_body_max),
        )
        runtime.install_configured_faults()
        runtime.install_configured_stubs()
        return runtime

    def install_configured_faults(self) -> None:
        for spec in self.config.faults:
            self.faults.add(dict(spec))

    def install_configured_stubs(self) -> None:
        """The stubs of ``serve --stub FILE``: in force from the start and again after each reset."""
        for spec in self.config.stubs:
            self.stubs.add(spec)

    def reset(self) -> None:
        """Back to the state right after start-up: projects from the file, no data, no journal."""
        for hook in self.before_reset:
            hook()
        self.store.reset()
        for hook in self.on_reset:
            hook()
        self.journal.clear()
        self.faults.clear()
        self.install_configured_faults()
        self.stubs.clear()
        self.install_configured_stubs()


def current_runtime() -> Runtime:
    return current_app.extensions[EXTENSION_KEY]


def attach(app: Flask, runtime: Runtime) -> None:
    app.extensions[EXTENSION_KEY] = runtime
