"""The 1Flow destination: Segment events in, 1Flow SDK calls out, one outcome per event.

Per event: the subscriptions whose trigger matches run, each through the runtime profile
(:mod:`.profiles`: transform, validation for ``cloud``, then the SDK call the source makes).
Each SDK call then becomes SDK API requests the way the 1Flow SDKs make them (the mock's
documented choice for the web SDK, whose wire format is not public): ``/v3/user`` once per
device (anonymousId, else userId) before its first request, ``/v3/identify`` for an
identify (the returned id replaces the device's, and events that carry only that userId go
to it too), ``/v3/track`` with the device's queued events in one body (the SDKs send their
whole queue; ``batch_size`` caps the events per request if given).

Each device is a *lane*: its requests run in order. With ``concurrency`` above 1, several
lanes' requests are in flight at once while each user's order is kept: over libcurl's multi
interface from the caller's thread (:mod:`.multi`; plain HTTP), else in sender threads. Nothing is lost silently: each event ends sent, dropped (no user id,
unsubscribed type, no matching mapping, invalid payload) or failed (HTTP status and 1Flow
error code, a transport error, or the run's ``deadline``/``interrupted``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from queue import SimpleQueue
from typing import Any

from . import wire
from .client import CurlTransport, OneFlowClient, Steps
from .http_api import client_for
from .errors import DeliveryError, PayloadValidationError
from .mapping import MappingError, Subscription
from .multi import MultiSender
from .outcomes import (
    DEADLINE,
    DROPPED,
    DUPLICATE,
    FAILED,
    INTERRUPTED,
    INVALID_PAYLOAD,
    NO_MATCHING_MAPPING,
    NO_USER_ID,
    SENT,
    UNSUBSCRIBED_TYPE,
    Outcome,
    Report,
    failure_reason,
)
from .profiles import Profile, SdkCall, profile as named_profile
from .settings import Settings

UNSUBSCRIBED = ("group", "alias")
RESOLVE_ERRORS = (MappingError, TypeError, ValueError, RecursionError)
PUMP_EVERY = 4  # events mapped between two looks at the requests in flight (a look costs about one event)


class _Pending:
    """An event whose matching actions are not all done. When the last one ends, the event
    gets its one outcome: failed if any action failed, else sent if any was delivered,
    else dropped with the first action's reason; what the other actions did goes in ``detail``."""

    def __init__(self, actions: int, finish: Callable[[Outcome], None]) -> None:
        self.left, self.finish = actions, finish
        self.results: list[Outcome] = []

    def done(self, outcome: Outcome) -> None:
        self.left -= 1
        if not self.left and not self.results:  # the usual case: one matching action
            return self.finish(outcome)
        self.results.append(outcome)
        if self.left:
            return
        index = next(i for status in (FAILED, SENT, DROPPED) for i, o in enumerate(self.results) if o.status == status)
        chosen = self.results[index]
        others = [f"{o.status}{f' ({o.reason})' if o.reason else ''}" for i, o in enumerate(self.results) if i != index]
        if others:
            note = "other matching actions: " + ", ".join(others)
            chosen = Outcome(chosen.message_id, chosen.type, chosen.status, chosen.reason, chosen.http_status,
                             chosen.error, f"{chosen.detail}; {note}" if chosen.detail else note)
        self.finish(chosen)


Queued = tuple[dict[str, Any], Outcome, _Pending | None]  # None: the event's only action
Op = Callable[["_Lane"], Steps]  # one of a lane's requests (with the /v3/user before it if needed)


class _Lane:
    """One device as its SDK sees it: its analytic id once registered, the track events
    queued for the next ``/v3/track``, and its requests waiting to run (in order)."""

    def __init__(self, device_id: str, context: dict[str, Any]) -> None:
        self.device_id, self.context = device_id, context
        self.analytic: str | None = None
        self.batch: list[Queued] = []
        self.order = 0  # creation order: flush sends the lanes' batches in it
        self.ops: deque[Op] = deque()
        self.running = False


class Destination:
    """Segment's 1Flow destination under a runtime profile, with its subscriptions (the
    profile's presets by default).

    Outcomes are finalised when known: drops at once, identifies when 1Flow answers, track
    events when their batch is sent (at ``batch_size`` events per device if given, before
    the device's next identify, or on :meth:`flush`). Group and alias calls that no
    subscription takes are dropped as ``unsubscribed_type`` (1Flow has no call for them); a
    custom subscription that does take them is obeyed, as Segment would.
    """

    def __init__(
        self,
        settings: Settings,
        subscriptions: list[Subscription] | None = None,
        client: OneFlowClient | None = None,
        batch_size: int | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        profile: str | None = None,
        concurrency: int = 1,
        deduplicate: bool = False,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError("batch_size must be at least 1 (or None: the whole queue, as the SDKs send it)")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings = settings
        self.profile: Profile = named_profile(profile or settings.profile)
        self.subscriptions = self.profile.subscriptions() if subscriptions is None else subscriptions
        self._by_type = _type_index(self.subscriptions)
        self.client = client or client_for(settings, pool_size=concurrency)  # the SDK API's, or the HTTP API's
        self.batch_size = batch_size
        self.on_outcome = on_outcome
        self.lanes: dict[str, _Lane] = {}  # device id (or identified userId) -> its lane
        self._every_lane: list[_Lane] = []  # a lane whose key moved to another still has events to send
        # the lanes with a batch queued: flush visits these, not every device ever seen (a
        # long-lived destination, the ingest's, knows many)
        self._batched: dict[_Lane, None] = {}
        self.report = Report()
        # deduplicate: a messageId seen before is dropped as a duplicate (Segment delivers an
        # event once per messageId: twilio.com/docs/segment/guides/duplicate-data), so the
        # report's sent count is what 1Flow stores. The ingest has its own ledger for this.
        self._seen: set[str] | None = set() if deduplicate else None
        self.deadline: float | None = None  # time.monotonic() after which nothing more is sent
        self._stop_reason: str | None = None
        self._recent: list[Outcome] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running_lanes = 0
        self._errors: list[BaseException] = []
        self.concurrency = concurrency
        # How lanes run: one at a time in the caller's thread (concurrency 1); over libcurl's
        # multi interface, also in the caller's thread, between events and while waiting (the
        # default for plain HTTP); or else in ``concurrency`` sender threads (a requests
        # session's or urllib3's transport, which block).
        self._multi: MultiSender | None = None
        if concurrency > 1 and isinstance(self.client.transport, CurlTransport):
            self._multi = MultiSender(self.client, concurrency, self._errors.append)
        self._since_pump = 0
        self._ready: SimpleQueue[_Lane | None] = SimpleQueue()  # lanes with requests to run, for the senders
        self._senders: list[threading.Thread] = []  # started at the first request (none when concurrency is 1)
        self._closed = False

    # -- public -------------------------------------------------------------------------

    def process(self, event: dict[str, Any]) -> list[Outcome]:
        """Map and deliver (or queue) one event; returns the outcomes finalised by this call
        (this event's if already known, and those of any batch it completed; with
        ``concurrency`` above 1, only those known when it returns)."""
        self._process(event)
        self._pump()
        return self._take_recent()

    def process_many(self, events: Iterable[dict[str, Any]]) -> list[Outcome]:
        """:meth:`process` of each event in turn, the outcomes collected once at the end (the
        ingest's batch: one look at the finalised outcomes, not one per event)."""
        for event in events:
            self._process(event)
            self._pump()
        return self._take_recent()

    def flush(self) -> list[Outcome]:
        """Send every queued batch and wait for every lane; returns the outcomes finalised
        since the last :meth:`process` or :meth:`flush`."""
        for lane in sorted(self._batched, key=lambda lane: lane.order):
            self._send_batch(lane)
        self.wait()
        return self._take_recent()

    def send(self, events: Iterable[dict[str, Any]]) -> Report:
        """Process every event and flush; returns the report of this call."""
        before = len(self.report.outcomes)
        for event in events:
            self._process(event)
            self._pump()
        self.flush()
        return Report(self.report.outcomes[before:])

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no lane has requests left (or ``timeout`` seconds passed: returns
        False then); re-raises a lane's unexpected error."""
        until = None if timeout is None else time.monotonic() + timeout
        if self._multi is not None:
            while self._multi.busy and (until is None or time.monotonic() < until):
                self._multi.pump(block=True)
        with self._idle:
            while self._running_lanes and (until is None or time.monotonic() < until):
                self._idle.wait(0.1)
            if self._errors:
                raise self._errors.pop(0)
            return not self._running_lanes and not (self._multi is not None and self._multi.busy)

    def stop(self, reason: str = INTERRUPTED) -> None:
        """From now on nothing more is sent: queued and later events fail with ``reason``
        (``interrupted`` or ``deadline``), and the client stops retrying at once."""
        self._stop_reason = reason
        self.client.cancel(reason)

    @property
    def stop_reason(self) -> str | None:
        """Why the run stopped sending (``interrupted``, ``deadline``, ``unreachable``), or None."""
        return self._stopped()

    def set_deadline(self, seconds: float) -> None:
        """An overall deadline from now: after it, events fail with reason ``deadline``."""
        self.deadline = time.monotonic() + seconds
        self.client.deadline = self.deadline

    def close(self) -> None:
        """Release the lanes' threads (queued work is not sent: call :meth:`flush` first).
        From now on the report is final: a request still in flight in a sender thread
        records no outcome (the caller gives the events without one theirs)."""
        with self._lock:
            self._closed = True
        for _ in self._senders:
            self._ready.put(None)
        if self._multi is not None:
            self._multi.close()
            self._multi = None

    # -- one event ----------------------------------------------------------------------

    def _stopped(self) -> str | None:
        if self._stop_reason is None and self.deadline is not None and time.monotonic() >= self.deadline:
            self._stop_reason = DEADLINE
        return self._stop_reason

    def _process(self, event: dict[str, Any]) -> None:
        if not isinstance(event, dict):
            return self._complete(None, Outcome("", "?", DROPPED, INVALID_PAYLOAD, detail="a Segment event is a JSON object"))
        event_type = event.get("type")
        kind = event_type if type(event_type) is str else str(event_type)
        base = Outcome(wire.message_id(event), kind, SENT)
        if self._seen is not None:
            if base.message_id in self._seen:
                return self._complete(None, _drop(base, DUPLICATE, f"messageId {base.message_id!r} came earlier in this "
                                                                   "run: Segment delivers it once"))
            self._seen.add(base.message_id)
        if self._stop_reason is not None or self.deadline is not None:  # (a look at the clock only with a deadline)
            stopped = self._stopped()
            if stopped:
                return self._complete(None, _stopped_outcome(base, stopped))
        by_type = self._by_type
        if by_type is not None and type(event_type) is str:
            matching = by_type.get(event_type, [])  # what running each trigger would pick
        else:
            matching = [subscription for subscription in self.subscriptions if subscription.matches(event)]
        if matching and not self.profile.hooked(kind):  # a mapping's trigger matches, but the runtime never calls it
            return self._complete(None, _drop(base, UNSUBSCRIBED_TYPE, f"the {self.profile.name} profile's runtime hands "
                                              f"a destination no {kind} calls (hooks: {', '.join(self.profile.hooks)})"))
        if not matching:
            if kind in UNSUBSCRIBED:
                return self._complete(None, _drop(base, UNSUBSCRIBED_TYPE, f"1Flow does not take {kind} calls"))
            return self._complete(None, _drop(base, NO_MATCHING_MAPPING, "no enabled mapping's trigger matches"))
        if len(matching) == 1:  # the presets' case: its outcome is the event's, no _Pending
            return self._act(matching[0], event, base, None, None)
        pending = _Pending(len(matching), self._record)
        tracks = 0
        for subscription in matching:
            # The first track action's _id is the messageId's; a second one of the same event
            # gets its own (by subscription name), or 1Flow would discard it as a duplicate.
            is_track = subscription.partner_action != "identifyUser"
            self._act(subscription, event, base, pending, subscription.name if is_track and tracks else None)
            tracks += is_track

    def _act(self, subscription: Subscription, event: dict[str, Any], base: Outcome, pending: _Pending | None,
             action_key: str | None) -> None:
        name = subscription.name
        try:
            call = self.profile.call(subscription, event)
        except PayloadValidationError as exc:
            return self._complete(pending, _drop(base, INVALID_PAYLOAD, f"{name}: {exc}"))
        except RESOLVE_ERRORS as exc:
            return self._complete(pending, _drop(base, INVALID_PAYLOAD, f"{name}: cannot resolve mapping ({exc})"))
        target, parameters = call.target, call.parameters
        if not (call.method == "track" and type(target) is str and target and (parameters is None or type(parameters) is dict)):
            problem = _unsendable(call)  # (a track call with a name and its properties as an object is sendable)
            if problem:
                return self._complete(pending, _drop(base, problem[0], f"{name}: {problem[1]}"))
        device_id = self._device_id(call, event)
        if not device_id:
            return self._complete(pending, _drop(base, NO_USER_ID, f"{name}: neither anonymousId nor userId"))
        lane = self.lanes.get(device_id)
        if lane is None:
            lane = self.lanes[device_id] = _Lane(device_id, wire.device_context(event))
            lane.order = len(self._every_lane)
            self._every_lane.append(lane)
        if call.method == "identify":
            self._send_batch(lane)  # the anonymous user's events go out under its own id first
            previous = self.lanes.get(call.target)
            if previous is not None and previous is not lane:
                self._send_batch(previous)  # that userId's own lane is replaced: its queue goes out first
            self.lanes[call.target] = lane  # later events with only this userId are this device's
            self._submit(lane, self._identify_op(call.target, call.parameters or {}, base, pending))
            return
        if parameters is None:
            parameters = {}
        self._batched[lane] = None
        lane.batch.append((wire.track_event(target, parameters, event, action_key, self.profile.platform, base.message_id),
                           base, pending))
        if self.batch_size is not None and len(lane.batch) >= self.batch_size:
            self._send_batch(lane)

    def _device_id(self, call: SdkCall, event: dict[str, Any]) -> str | None:
        """The SDK's device: Web's track passes anonymousId and userId (the payload's, else
        the event's anonymousId: Identify User has no anonymousId field, yet the device that
        logs in is the event's); an identify's own userId last. A mobile plugin's device is
        the app's: the event's anonymousId, else its userId."""
        candidates = (event.get("anonymousId"), event.get("userId")) if self.profile.platform else (
            call.anonymous_id, event.get("anonymousId"), call.user_id if call.method == "track" else call.target)
        for candidate in candidates:
            if isinstance(candidate, str) and candidate:
                return candidate
        return None

    # -- lanes: one device's requests, in order -----------------------------------------

    def _send_batch(self, lane: _Lane) -> None:
        self._batched.pop(lane, None)
        if lane.batch:
            queue, lane.batch = lane.batch, []
            self._submit(lane, self._track_op(queue))

    def _pump(self) -> None:
        """Let the in-flight requests move on, every few events (each pump polls the sockets)."""
        if self._multi is not None:
            self._since_pump += 1
            if self._since_pump >= PUMP_EVERY:
                self._since_pump = 0
                self._multi.pump()

    def _submit(self, lane: _Lane, op: Op) -> None:
        if self.concurrency == 1:
            return self.client.run(op(lane))
        if self._multi is not None:
            lane.ops.append(op)
            if not lane.running:
                lane.running = True
                self._multi.start(self._lane_steps(lane))
            return
        with self._lock:
            lane.ops.append(op)
            if lane.running:
                return
            lane.running = True
            self._running_lanes += 1
        if not self._senders:
            self._start_senders()
        self._ready.put(lane)

    def _start_senders(self) -> None:
        """``concurrency`` threads that each run one lane's requests at a time. A C queue
        hands them the lanes: an executor's future per hand-off cost the main thread more
        than the request it started."""
        for number in range(self.concurrency):
            sender = threading.Thread(target=self._send_lanes, name=f"1flow-lane-{number}", daemon=True)
            self._senders.append(sender)
            sender.start()

    def _send_lanes(self) -> None:
        while True:
            lane = self._ready.get()
            if lane is None or self._closed:
                return
            self._drain(lane)

    def _lane_steps(self, lane: _Lane) -> Steps:
        """The lane's requests one after another, as one task of the multi sender."""
        try:
            while lane.ops:
                yield from lane.ops.popleft()(lane)
        finally:
            lane.running = False

    def _drain(self, lane: _Lane) -> None:
        while True:
            with self._lock:
                if not lane.ops:
                    lane.running = False
                    self._running_lanes -= 1
                    self._idle.notify_all()
                    return
                op = lane.ops.popleft()
            try:
                self.client.run(op(lane))
            except BaseException as exc:  # a bug, not a delivery failure: surface it in wait()
                with self._lock:
                    self._errors.append(exc)

    def _registered(self, lane: _Lane) -> Steps:
        """The lane's analytic id, registering the device (``/v3/user``) the first time."""
        if lane.analytic is None:
            lane.analytic = yield from self.client.add_user_steps(lane.device_id, lane.context)
        return lane.analytic

    def _track_op(self, queue: list[Queued]) -> Op:
        def run(lane: _Lane) -> Steps:
            try:
                self._check_stopped()
                analytic = yield from self._registered(lane)
                yield from self.client.track_steps(analytic, [body for body, _, _ in queue])
            except DeliveryError as exc:
                return self._complete_all([(pending, _failed(outcome, exc)) for _, outcome, pending in queue])
            self._complete_all([(pending, outcome) for _, outcome, pending in queue])
        return run

    def _identify_op(self, user_id: str, traits: dict[str, Any], base: Outcome,
                     pending: _Pending | None) -> Op:
        def run(lane: _Lane) -> Steps:
            try:
                self._check_stopped()
                analytic = yield from self._registered(lane)
                lane.analytic = yield from self.client.identify_steps(analytic, user_id, traits)
            except DeliveryError as exc:
                return self._complete(pending, _failed(base, exc))
            self._complete(pending, base)
        return run

    def _check_stopped(self) -> None:
        reason = self._stopped()
        if reason:
            raise DeliveryError(None, reason, f"not sent: {reason}", 0)

    # -- outcomes -----------------------------------------------------------------------

    def _complete(self, pending: _Pending | None, outcome: Outcome) -> None:
        with self._lock:
            if pending is None:
                self._record(outcome)
            else:
                pending.done(outcome)

    def _complete_all(self, done: list[tuple[_Pending | None, Outcome]]) -> None:
        """A batch's outcomes under one hold of the lock (not one per event)."""
        with self._lock:
            for pending, outcome in done:
                if pending is None:
                    self._record(outcome)
                else:
                    pending.done(outcome)

    def _record(self, outcome: Outcome) -> None:
        """Called with the lock held."""
        if self._closed:
            return
        self.report.add(outcome)
        self._recent.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _take_recent(self) -> list[Outcome]:
        with self._lock:
            recent, self._recent = self._recent, []
        return recent


def _unsendable(call: SdkCall) -> tuple[str, str] | None:
    """Why an SDK call gets no request (the mock's rules where the SDK's are not public)."""
    if call.method == "identify":
        if call.target is None or call.target == "":
            return NO_USER_ID, "identify without userId is not sent (Segment's docs; the iOS plugin and Android SDK)"
        if not isinstance(call.target, str):
            return INVALID_PAYLOAD, f"the userId must be a string, not {type(call.target).__name__}"
        return None
    if not isinstance(call.target, str) or not call.target:
        return INVALID_PAYLOAD, f"the SDK would get the event name {call.target!r}; 1Flow's track needs a name, so it is not sent"
    if call.parameters is not None and not isinstance(call.parameters, dict):
        return INVALID_PAYLOAD, f"the properties must be an object, not {type(call.parameters).__name__}"
    return None


def _drop(base: Outcome, reason: str, detail: str | None = None) -> Outcome:
    return Outcome(base.message_id, base.type, DROPPED, reason, detail=detail)


def _stopped_outcome(base: Outcome, reason: str) -> Outcome:
    return Outcome(base.message_id, base.type, FAILED, reason, detail=f"not sent: {reason}")


def _failed(base: Outcome, error: DeliveryError) -> Outcome:
    attempts = f" (after {error.attempts} attempt(s))" if error.attempts else ""
    return Outcome(base.message_id, base.type, FAILED, failure_reason(error.status, error.error), error.status,
                   error.error, f"{error.message}{attempts}")


def _type_index(subscriptions: list[Subscription]) -> dict[str, list[Subscription]] | None:
    """The enabled subscriptions by the event type their trigger names, in order, when every
    enabled trigger is exactly ``type = "X"`` (:attr:`~.mapping.fql.Trigger.event_type`); None
    otherwise (then each event runs every trigger)."""
    index: dict[str, list[Subscription]] = {}
    for subscription in subscriptions:
        if not subscription.enabled:
            continue
        event_type = getattr(subscription.trigger, "event_type", None)
        if event_type is None:
            return None
        index.setdefault(event_type, []).append(subscription)
    return index
