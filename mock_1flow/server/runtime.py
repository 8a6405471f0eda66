"""The per-app runtime: configuration, state, journal, faults and fixtures in one place,
so routes reach them through ``current_runtime()`` instead of globals."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from flask import Flask, current_app

from .config import MockConfig
from .content import ContentPart, ProjectContent
from .faults import FaultSet
from .journal import Journal
from ..paths import FIXTURES_DIR
from .projects import SourceCheck, load_projects
from .spec import regions
from .state import StateParts
from .store import Store
from .stubs import StubSet, StubsPart

EXTENSION_KEY = "mock_1flow"


@lru_cache(maxsize=2)
def _fixture_text(name: str) -> str:
    return (FIXTURES_DIR / name).read_text(encoding="utf-8")


def _fixture(name: str) -> Any:
    """A fresh copy each time: a test that changes the defaults in place changes only its own."""
    return json.loads(_fixture_text(name))


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
    # State kept beside the store's (content, stubs, ...): carried by the state document and
    # the state file; see mock_1flow.server.state.StatePart.
    state_parts: StateParts = field(default_factory=StateParts)
    # Each project's own surveys and announcements; ``surveys``/``announcements`` above are
    # the defaults of a project without its own (server/content.py).
    content: ProjectContent = field(default_factory=ProjectContent)
    # Called with the key by reset_project (stubs scoped to a project plug in here).
    on_project_reset: list[Callable[[str], None]] = field(default_factory=list)
    # mock-1flow proxy / serve --replay: answers instead of the mock (server/answers.py)
    answerer: Any = None
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)  # tells a restarted mock from the same one
    # Called after each hot-path (SDK API) request with (method, path?query, status, key,
    # region, duration_ms, fault id, via, stub id, off_spec, violations); the access log
    # listens here, since those requests never reach Flask's hooks.
    on_request: list[Callable[[str, str, int, str | None, str | None, float, str | None, str | None,
                               str | None, Any, Any], None]] = field(default_factory=list)

    @classmethod
    def build(cls, config: MockConfig, check_source: SourceCheck | None = None) -> "Runtime":
        projects = load_projects(config.projects_file, check_source)
        store: Store
        journal: Journal
        faults: FaultSet
        if config.store:  # state in Redis (serve --store): shared by every worker and instance
            from .state.redis.build import redis_state

            store, journal, faults = redis_state(config, projects)
        else:
            store = Store(projects, event_cap=config.event_cap, event_max_bytes=config.event_max_bytes)
            journal = Journal(
                config.journal_cap,
                max_bytes=config.journal_max_bytes,
                body_max=config.journal_body_max,
                redact=config.journal_redact,
            )
            faults = FaultSet()
        runtime = cls(
            config=config,
            store=store,
            journal=journal,
            faults=faults,
            regions=regions(),
            stubs=store.stub_set(config.journal_body_max),
            content=ProjectContent(projects.content),
        )
        seeded = getattr(store, "seeded", True)  # an instance joining a Redis that holds a mock adds no faults
        if seeded:
            runtime.install_configured_faults()
        runtime.install_configured_stubs()
        runtime.state_parts["stubs"] = StubsPart(runtime)
        runtime.state_parts["content"] = ContentPart(runtime)
        runtime.on_project_reset.append(lambda key: runtime.stubs.clear(project=key))
        if config.store:
            from .state.redis.bind import bind

            bind(runtime, store.shared, seeded)  # type: ignore[attr-defined]
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
        self.state_parts.reset()
        self.journal.clear()
        self.faults.clear()
        self.install_configured_faults()
        self.state_changed()

    def state_changed(self) -> None:
        """An admin write changed projects or a state part: with ``--state-file`` the change
        is logged now (a crash after this call keeps it). Every such write calls this."""
        sink = self.store.sink
        if sink is not None:
            sink.changed()

    def reset_default_content(self) -> None:
        """The fixtures again as the defaults (a test may have changed them in place)."""
        self.surveys, self.announcements = _fixture("surveys.json"), _fixture("announcements.json")

    def surveys_for(self, key: str) -> dict[str, Any]:
        """What ``/v3/survey`` serves project ``key``: its own surveys, else the defaults."""
        return self.content.get(key, "surveys") or self.surveys

    def announcements_for(self, key: str) -> dict[str, Any]:
        """What ``/v3/announcements`` (and its inbox) serve project ``key``."""
        return self.content.get(key, "announcements") or self.announcements

    def reset_project(self, key: str) -> None:
        """Forget one project's users, events, responses, content (back to the file's), the
        faults scoped to it and its journal entries; nothing else changes."""
        self.store.clear_state(key)
        self.content.reset_project(key)
        self.faults.forget_project(key)
        for spec in self.config.faults:  # start-up faults scoped to it come back, as on reset
            if spec.get("project") == key:
                self.faults.add(dict(spec))
        self.journal.forget_project(key)
        for hook in self.on_project_reset:
            hook(key)
        self.state_changed()


def current_runtime() -> Runtime:
    return current_app.extensions[EXTENSION_KEY]


def attach(app: Flask, runtime: Runtime) -> None:
    app.extensions[EXTENSION_KEY] = runtime
