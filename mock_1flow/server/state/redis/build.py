"""The Redis store, journal and faults for one runtime (``MockConfig.store`` set)."""

from __future__ import annotations

from ...config import MockConfig
from ...projects import ProjectsConfig
from . import connect
from .faults import RedisFaultSet
from .journal import RedisJournal
from .store import RedisStore


def redis_state(config: MockConfig, projects: ProjectsConfig) -> tuple[RedisStore, RedisJournal, RedisFaultSet]:
    """Connect (:class:`~. StoreStartError` when Redis cannot be used) and seed an empty Redis."""
    assert config.store is not None
    shared = connect(config.store)
    store = RedisStore(projects, shared, config.event_cap, config.event_max_bytes)
    journal = RedisJournal(shared, config.journal_cap, max_bytes=config.journal_max_bytes,
                           body_max=config.journal_body_max, redact=config.journal_redact)
    return store, journal, RedisFaultSet(shared)
