"""From accepted Segment events to the 1Flow mock's state, through the real destination.

One destination per Segment source, kept across requests (as Segment keeps its
destination's device ids) and rebuilt when the source's project changes (region, plan,
deleted and re-created); its client is pointed at this same app in-process, so the 1Flow
calls it makes are journaled like any other, marked with the source they came from.

At-least-once (the mock's design, see FIDELITY.md): the inner client does not retry; when
a delivery fails for a reason a retry can cure (5xx, 429, dropped connection), the ingest
answers the Segment client 503 or 429 so that *it* retries, and skips on the retry what
already ended (the :class:`~.ledger.DeliveryLedger`, by messageId). One source's
deliveries run one at a time, so each request's ``delivery`` summary counts its own events.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from flask import current_app

from ..destination import wire
from ..destination.client import OneFlowClient
from ..destination.destination import Destination
from ..destination.mapping import load_subscriptions
from ..destination.outcomes import FAILED, Outcome, Report
from ..destination.settings import Settings
from ..paths import DEFAULT_PROJECTS_FILE
from ..server.faults import MAX_LATENCY_MS
from ..server.projects import Project, Source
from ..server.runtime import Runtime
from .inprocess import INPROCESS_URL, InProcessAdapter, inprocess_session
from .ledger import DeliveryLedger
from .sources import mappings_path

BARRIER_TIMEOUT = MAX_LATENCY_MS / 1000 + 5  # a reset waits at most this for the ingest's calls in flight
EXTENSION_KEY = "mock_1flow.ingest"


class UnknownSource(Exception):
    """The source's project is gone (deleted through the admin API or a provider state)."""


@dataclass
class _Route:
    """A source's destination, built for one version of its project."""

    signature: tuple[str, str, str]
    destination: Destination
    adapter: InProcessAdapter
    lock: threading.Lock = field(default_factory=threading.Lock)


class StaleDelivery(requests.ConnectionError):
    """A delivery's call to the mock after a reset: refused, so nothing of what was sent
    before the reset lands in the state after it."""


@dataclass
class IngestState:
    routes: dict[str, _Route] = field(default_factory=dict)
    ledger: DeliveryLedger = field(default_factory=DeliveryLedger)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The reset barrier: each reset starts a new generation; a delivery's in-process calls
    # run only in the generation the delivery began in, and a reset waits for the calls in
    # flight (milliseconds; as long as a latency fault holds one) before forgetting anything.
    generation: int = 0
    active: int = 0
    gate: threading.Condition = field(default_factory=threading.Condition)

    @contextmanager
    def call(self, generation: int) -> Iterator[None]:
        """One in-process call of a delivery begun in ``generation``."""
        with self.gate:
            if generation != self.generation:
                raise StaleDelivery("the mock was reset during this delivery: not sent")
            self.active += 1
        try:
            yield
        finally:
            with self.gate:
                self.active -= 1
                self.gate.notify_all()

    def barrier(self) -> None:
        """Before a reset: later calls of the deliveries in flight are refused; those
        already running end first (bounded by the longest latency fault)."""
        with self.gate:
            self.generation += 1
            self.gate.wait_for(lambda: self.active == 0, timeout=BARRIER_TIMEOUT)

    def clear(self) -> None:
        with self.lock:
            self.routes.clear()
        self.ledger.clear()


@dataclass
class Delivery:
    """One request's outcome: the summary for the journal, and whether the Segment client
    must retry (``retry_status`` 503 or 429, with ``retry_after`` seconds for a 429)."""

    summary: dict[str, Any]
    retry_status: int | None = None
    retry_after: int | None = None
    reasons: tuple[str, ...] = ()


def ingest_state(runtime: Runtime) -> IngestState:
    """This app's destinations and ledger, emptied when the runtime resets."""
    app = current_app._get_current_object()
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        state = app.extensions[EXTENSION_KEY] = IngestState()
        runtime.before_reset.append(state.barrier)
        runtime.on_reset.append(state.clear)
    return state


def source_project(runtime: Runtime, source: Source) -> Project:
    project = runtime.store.projects.get(source.project)
    if project is None:
        raise UnknownSource(source.project)
    return project


def _route(runtime: Runtime, state: IngestState, source: Source, project: Project) -> _Route:
    region = source.region or project.region
    signature = (project.key, region, project.plan)
    with state.lock:
        route = state.routes.get(source.write_key)
        if route is not None and route.signature == signature:
            return route
        settings = Settings(project_api_key=project.key, region=region, url=INPROCESS_URL)
        session = inprocess_session(current_app._get_current_object(), via=f"segment:{source.write_key}",
                                    gate=state.call)
        client = OneFlowClient(settings, session=session, max_retries=0)
        projects_file = runtime.config.projects_file or DEFAULT_PROJECTS_FILE
        subscriptions = load_subscriptions(mappings_path(source, projects_file.resolve().parent))
        route = _Route(signature, Destination(settings, subscriptions, client=client), session.get_adapter(INPROCESS_URL))
        state.routes[source.write_key] = route
        return route


def deliver(runtime: Runtime, source: Source, events: list[dict[str, Any]]) -> Delivery:
    """Run ``events`` through the source's destination now, skipping those already delivered."""
    state = ingest_state(runtime)
    project = source_project(runtime, source)
    route = _route(runtime, state, source, project)
    outcomes: list[Outcome] = []
    with route.lock:
        with state.gate:
            generation = route.adapter.generation = state.generation
        route.adapter.retry_after = None
        fresh = [e for e in events if not state.ledger.done(source.write_key, wire.message_id(e))]
        for event in fresh:
            outcomes.extend(route.destination.process(event))
        outcomes.extend(route.destination.flush())
        route.destination.report.outcomes.clear()  # the ledger keeps what matters, bounded
        with state.gate:
            reset = generation != state.generation
        if not reset:
            state.ledger.record(source.write_key, project.key, outcomes)
        downstream_retry_after = route.adapter.retry_after
    summary = Report(outcomes).summary()
    summary["duplicates"] = len(events) - len(fresh)
    if reset:  # accepted before the reset, forgotten by it like everything else: no retry
        summary["reset"] = True
        return Delivery(summary)
    retryable = [o for o in outcomes if o.status == FAILED and _retryable(o.http_status)]
    if not retryable:
        return Delivery(summary)
    reasons = tuple(sorted({o.reason or "" for o in retryable}))
    if all(o.http_status == 429 for o in retryable):
        wait = 1 if downstream_retry_after is None else math.ceil(downstream_retry_after)
        return Delivery(summary, 429, wait, reasons)
    return Delivery(summary, 503, None, reasons)


def _retryable(http_status: int | None) -> bool:
    """What a later attempt can cure: no response (dropped, refused), 429, or 5xx."""
    return http_status is None or http_status == 429 or http_status >= 500
