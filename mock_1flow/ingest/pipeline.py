"""From accepted Segment events to the 1Flow mock's state, through the real destination.

One destination per Segment source, kept across requests (as Segment keeps its
destination's device ids) and rebuilt when the source's project changes (region, plan,
deleted and re-created); its client's transport calls this same mock's hot path as
function calls (:class:`~.inprocess.HotPathTransport`), so the 1Flow calls it makes are
journaled like any other, marked with the source they came from.

Two delivery modes (a source's ``delivery``, else ``serve --ingest-delivery``):

- ``sync`` (default; the mock's design, see FIDELITY.md): the events are delivered before
  the answer. The inner client does not retry; when a delivery fails for a reason a retry
  can cure (5xx, 429, dropped connection), the ingest answers the Segment client 503 or 429
  so that *it* retries, and skips on the retry what already ended (the
  :class:`~.ledger.DeliveryLedger`, by messageId).
- ``async`` (Segment's own semantics): 200 once the batch is valid, delivery and retries in
  the background (:mod:`.background`), each event's attempts and state in the ledger.

One source's deliveries run one at a time, so each request's ``delivery`` summary counts its
own events. A reset is a barrier: each reset starts a new generation; a delivery's calls run
only in the generation it began in, and a reset waits for the calls in flight before it
forgets anything.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from ..destination import wire
from ..destination.client import OneFlowClient, TransportError
from ..destination.destination import Destination
from ..destination.mapping import load_subscriptions
from ..destination.outcomes import FAILED, Outcome, Report
from ..destination.settings import Settings
from ..paths import DEFAULT_PROJECTS_FILE
from ..server.faults import MAX_LATENCY_MS
from ..server.projects import Project, Source
from ..server.runtime import Runtime
from .background import BackgroundDelivery, Job, RetrySchedule
from .inprocess import INPROCESS_URL, HotPathTransport
from .ledger import QUEUED, RETRYING, DeliveryLedger
from .sources import mappings_path

VIA_PREFIX = "segment:"
BARRIER_TIMEOUT = MAX_LATENCY_MS / 1000 + 5  # a reset waits at most this for the ingest's calls in flight
EXTENSION_KEY = "mock_1flow.ingest"
SYNC, ASYNC = "sync", "async"
DELIVERY_MODES = (SYNC, ASYNC)
DEFAULT_DELIVERY = SYNC


class UnknownSource(Exception):
    """The source's project is gone (deleted through the admin API or a provider state)."""


class StaleDelivery(TransportError):
    """A delivery's call to the mock after a reset: refused, so nothing of what was sent
    before the reset lands in the state after it."""

    def __init__(self) -> None:
        super().__init__("the mock was reset during this delivery: not sent", retryable=False)


@dataclass
class _Route:
    """A source's destination, built for one version of its project."""

    signature: tuple[str, str, str]
    destination: Destination
    transport: HotPathTransport
    project: str
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class IngestState:
    routes: dict[str, _Route] = field(default_factory=dict)
    ledger: DeliveryLedger = field(default_factory=DeliveryLedger)
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0
    active: int = 0
    waiting: int = 0  # barriers waiting for the active calls to end
    # the generation's lock (a plain lock: entered twice per inner call) and the barrier's
    # condition over it
    gate_lock: threading.Lock = field(default_factory=threading.Lock)
    gate: threading.Condition = field(init=False)
    background: BackgroundDelivery | None = None
    hot: Any = None  # the app's hot path, which the destinations' transports call
    runtime: Runtime | None = None  # for a job another instance accepted (serve --store): its route is built here

    def __post_init__(self) -> None:
        self.gate = threading.Condition(self.gate_lock)

    def call(self, generation: int) -> _Call:
        """One in-process call of a delivery begun in ``generation`` (a context manager)."""
        return _Call(self, generation)

    def barrier(self) -> None:
        """Before a reset: later calls of the deliveries in flight are refused; those
        already running end first (bounded by the longest latency fault)."""
        with self.gate:
            self.generation += 1
            self.waiting += 1
            try:
                self.gate.wait_for(lambda: self.active == 0, timeout=BARRIER_TIMEOUT)
            finally:
                self.waiting -= 1

    def current(self) -> int:
        with self.gate_lock:
            return self.generation

    def clear(self) -> None:
        with self.lock:
            self.routes.clear()
        if self.background is not None:
            self.background.clear()
        self.ledger.clear()


class _Call:
    """:meth:`IngestState.call`: a class, not a generator context manager, since every inner
    call enters one; the barrier is woken only when one waits."""

    __slots__ = ("state", "generation")

    def __init__(self, state: IngestState, generation: int) -> None:
        self.state, self.generation = state, generation

    def __enter__(self) -> None:
        state = self.state
        with state.gate_lock:
            if self.generation != state.generation:
                raise StaleDelivery()
            state.active += 1

    def __exit__(self, *exc: object) -> None:
        state = self.state
        with state.gate_lock:  # the condition's own lock: notifying under it is allowed
            state.active -= 1
            if state.waiting:  # a reset's barrier waits for the calls in flight to end
                state.gate.notify_all()


@dataclass
class Delivery:
    """One request's outcome: the summary for the journal, and whether the Segment client
    must retry (``retry_status`` 503 or 429, with ``retry_after`` seconds for a 429)."""

    summary: dict[str, Any]
    retry_status: int | None = None
    retry_after: int | None = None
    reasons: tuple[str, ...] = ()


def ingest_state(runtime: Runtime, app: Flask | None = None) -> IngestState:
    """This app's destinations, ledger and background queue (``app``: the current app by
    default), made at first use, emptied when the runtime resets."""
    if app is None:
        app = current_app._get_current_object()
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        state = app.extensions[EXTENSION_KEY] = IngestState(ledger=_ledger(runtime), hot=app.wsgi_app, runtime=runtime)
        state.background = _background(runtime, state)
        runtime.before_reset.append(state.barrier)
        runtime.on_reset.append(state.clear)
    return state


def _background(runtime: Runtime, state: IngestState) -> BackgroundDelivery:
    """The ``async`` queue in memory, or in Redis with the rest of the state (``serve
    --store``: one queue for every instance; ``serve`` starts each instance's worker at once,
    to take batches other instances accepted)."""
    config = runtime.config
    attempt = lambda job, last: _attempt_job(state, job, last)  # noqa: E731
    schedule = RetrySchedule(config.ingest_retry_speedup)
    shared = getattr(runtime.store, "shared", None)
    if shared is None:
        return BackgroundDelivery(attempt, state.current, schedule, config.ingest_queue_bytes)
    from ..server.state.redis.queue import RedisBackgroundDelivery

    return RedisBackgroundDelivery(shared, attempt, state.current, schedule, config.ingest_queue_bytes)


def _ledger(runtime: Runtime) -> DeliveryLedger:
    """The ledger in memory, or in Redis with the rest of the state (``serve --store``)."""
    shared = getattr(runtime.store, "shared", None)
    if shared is None:
        return DeliveryLedger()
    from ..server.state.redis.ledger import RedisLedger

    return RedisLedger(shared)  # type: ignore[return-value]


def source_project(runtime: Runtime, source: Source) -> Project:
    project = runtime.store.projects.get(source.project)
    if project is None:
        raise UnknownSource(source.project)
    return project


def delivery_mode(runtime: Runtime, source: Source) -> str:
    """The source's ``delivery``, else the server's (``serve --ingest-delivery``)."""
    return source.delivery or runtime.config.ingest_delivery


def _route(runtime: Runtime, state: IngestState, source: Source, project: Project) -> _Route:
    region = source.region or project.region
    signature = (project.key, region, project.plan)
    with state.lock:
        route = state.routes.get(source.write_key)
        if route is not None and route.signature == signature:
            return route
        settings = Settings(project_api_key=project.key, region=region, url=INPROCESS_URL, profile=source.profile)
        client = OneFlowClient(settings, max_retries=0)
        transport = HotPathTransport(state.hot, VIA_PREFIX + source.write_key, state.call)
        client.transport = transport  # the function-call transport in place of libcurl
        projects_file = runtime.config.projects_file or DEFAULT_PROJECTS_FILE
        path = mappings_path(source, projects_file.resolve().parent)
        subscriptions = None if path is None else load_subscriptions(path)  # None: the profile's presets
        destination = Destination(settings, subscriptions, client=client, profile=source.profile)
        route = _Route(signature, destination, transport, project.key)
        state.routes[source.write_key] = route
        return route


def _run(state: IngestState, route: _Route, write_key: str, events: list[dict[str, Any]],
         generation: int) -> tuple[list[Outcome], int, float | None, bool]:
    """Deliver ``events`` once (those not already ended); returns the outcomes, how many were
    skipped as already delivered, the largest downstream Retry-After, and whether a reset
    came in between (then nothing is recorded)."""
    outcomes: list[Outcome] = []
    with route.lock:
        route.transport.generation = generation
        route.transport.retry_after = None
        claimed = state.ledger.claim(write_key, [wire.message_id(e) for e in events])
        fresh = [e for e, mine in zip(events, claimed) if mine]
        destination = route.destination
        outcomes.extend(destination.process_many(fresh))
        outcomes.extend(destination.flush())
        destination.report.outcomes.clear()  # the ledger keeps what matters, bounded
        return outcomes, len(events) - len(fresh), route.transport.retry_after, state.current() != generation


def deliver(runtime: Runtime, state: IngestState, source: Source, events: list[dict[str, Any]]) -> Delivery:
    """Run ``events`` through the source's destination now, skipping those already delivered."""
    project = source_project(runtime, source)
    route = _route(runtime, state, source, project)
    generation = state.current()
    outcomes, duplicates, downstream_retry_after, reset = _run(state, route, source.write_key, events, generation)
    if not reset:
        state.ledger.record(source.write_key, project.key, outcomes)
    summary = Report(outcomes).summary()
    summary["duplicates"] = duplicates
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


def enqueue(runtime: Runtime, state: IngestState, source: Source, events: list[dict[str, Any]], size: int) -> Delivery:
    """``async``: queue ``events`` (``size``: their JSON bytes) for background delivery; events
    already accepted (queued, retrying, sent or dropped) are not queued again. Raises
    :class:`~.background.QueueFull` when the queue cannot take them."""
    project = source_project(runtime, source)
    _route(runtime, state, source, project)  # built here, for the worker
    fresh = [e for e in events if not state.ledger.accepted(source.write_key, wire.message_id(e))]
    summary: dict[str, Any] = {"events": len(fresh), "queued": len(fresh), "duplicates": len(events) - len(fresh)}
    if fresh:
        assert state.background is not None
        share = size if len(fresh) == len(events) else max(1, size * len(fresh) // max(1, len(events)))
        state.background.submit(Job(source.write_key, fresh, share, state.current()))
        state.ledger.queue(source.write_key, project.key, [(wire.message_id(e), str(e.get("type"))) for e in fresh])
    return Delivery(summary)


def _attempt_job(state: IngestState, job: Job, last: bool) -> list[dict[str, Any]]:
    """One background attempt: the job's events through their source's destination; returns
    those to retry (none when ``last``: their failure is then final)."""
    with state.lock:
        route = state.routes.get(job.write_key)
    if route is None and state.runtime is not None and getattr(state.runtime.store, "shared", None) is not None:
        route = _shared_job_route(state.runtime, state, job.write_key)
    if route is None:  # the mock was reset (routes cleared) after the job was taken
        return []
    outcomes, _, _, reset = _run(state, route, job.write_key, job.events, job.generation)
    if reset:
        return []
    retry_ids = set() if last else {o.message_id for o in outcomes if o.status == FAILED and _retryable(o.http_status)}
    if retry_ids:
        outcomes = [o._replace(status=RETRYING) if o.message_id in retry_ids else o for o in outcomes]
    state.ledger.record(job.write_key, route.project, outcomes)
    return [e for e in job.events if wire.message_id(e) in retry_ids]


def _shared_job_route(runtime: Runtime, state: IngestState, write_key: str) -> _Route | None:
    """The route of a job another instance accepted (the queue in Redis), built here; None
    when its source or project is gone (a reset or an admin change since: nothing to deliver)."""
    source = runtime.store.sources.get(write_key)
    if source is None:
        return None
    try:
        return _route(runtime, state, source, source_project(runtime, source))
    except UnknownSource:
        return None


def _retryable(http_status: int | None) -> bool:
    """What a later attempt can cure: no response (dropped, refused), 429, or 5xx."""
    return http_status is None or http_status == 429 or http_status >= 500


__all__ = ["ASYNC", "DEFAULT_DELIVERY", "DELIVERY_MODES", "QUEUED", "SYNC", "Delivery", "IngestState", "UnknownSource",
           "deliver", "delivery_mode", "enqueue", "ingest_state", "source_project"]
