"""The 1Flow destination: Segment events in, 1Flow SDK calls out, one outcome per event.

Like a 1Flow SDK: ``/v3/user`` once per new device (anonymousId, else userId),
``/v3/identify`` on identify (the returned id replaces the device's), ``/v3/track`` with
events batched per user. Nothing is lost silently: each event ends sent, dropped (no
user id, unsubscribed type, no matching mapping, invalid payload) or failed (HTTP status
and 1Flow error code, or a transport error).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import orjson

from . import wire
from .actions import IDENTIFY, validate_payload
from .client import OneFlowClient
from .errors import DeliveryError, PayloadValidationError
from .mapping import Subscription, load_subscriptions, resolve
from .outcomes import DROPPED, FAILED, SENT, Outcome, Report
from .settings import Settings

UNSUBSCRIBED = ("group", "alias")
MAX_BATCH_BYTES = 30 * 1024  # stay under 1Flow's 32 KB per request, envelope included


class _Pending:
    """An event whose matching actions are not all done: one outcome when the last ends
    (failed if any failed, else sent if any was sent, else the first drop)."""

    def __init__(self, base: Outcome, actions: int, finish: Callable[[Outcome], None]) -> None:
        self.base, self.left, self.finish = base, actions, finish
        self.results: list[Outcome] = []

    def done(self, outcome: Outcome) -> None:
        self.results.append(outcome)
        self.left -= 1
        if self.left == 0:
            for status in (FAILED, SENT, DROPPED):
                chosen = [o for o in self.results if o.status == status]
                if chosen:
                    return self.finish(chosen[0])


class Destination:
    def __init__(
        self,
        settings: Settings,
        subscriptions: list[Subscription] | None = None,
        client: OneFlowClient | None = None,
        batch_size: int = 20,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.settings = settings
        self.subscriptions = load_subscriptions() if subscriptions is None else subscriptions
        self.client = client or OneFlowClient(settings)
        self.batch_size = batch_size
        self.on_outcome = on_outcome
        self.devices: dict[str, str] = {}
        self.pending: dict[str, list[tuple[dict[str, Any], Outcome, _Pending]]] = {}
        self.report = Report()

    def _finish(self, outcome: Outcome) -> None:
        self.report.add(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _failed(self, base: Outcome, error: DeliveryError) -> Outcome:
        reason = f"{error.status} {error.error}" if error.status else "transport_error"
        return Outcome(base.message_id, base.type, FAILED, reason, error.status, error.error, error.message)

    def _analytic_id(self, device_id: str, event: dict[str, Any]) -> str:
        analytic = self.devices.get(device_id)
        if analytic is None:
            analytic = self.devices[device_id] = self.client.add_user(device_id, wire.device_context(event))
        return analytic

    def process(self, event: dict[str, Any]) -> None:
        """Map and deliver (or queue) one event; its outcome is reported now or at flush."""
        kind = str(event.get("type"))
        base = Outcome(wire.message_id(event), kind, SENT)
        matching = [subscription for subscription in self.subscriptions if subscription.matches(event)]
        if not matching:
            if kind in UNSUBSCRIBED:
                return self._finish(Outcome(base.message_id, kind, DROPPED, "unsubscribed_type",
                                            detail=f"1Flow does not take {kind} calls"))
            return self._finish(Outcome(base.message_id, kind, DROPPED, "no_matching_mapping"))
        pending = _Pending(base, len(matching), self._finish)
        for subscription in matching:
            self._act(subscription, event, base, pending)

    def _drop(self, base: Outcome, reason: str, detail: str | None = None) -> Outcome:
        return Outcome(base.message_id, base.type, DROPPED, reason, detail=detail)

    def _act(self, subscription: Subscription, event: dict[str, Any], base: Outcome, pending: _Pending) -> None:
        payload = resolve(subscription.mapping, event)
        try:
            payload = validate_payload(subscription.partner_action, payload)
        except PayloadValidationError as exc:
            return pending.done(self._drop(base, "invalid_payload", f"{subscription.name}: {exc}"))
        identify = subscription.partner_action == IDENTIFY
        if identify and not payload.get("userId"):
            return pending.done(self._drop(base, "no_user_id"))
        # identifyUser has no anonymousId field (Segment's definition): the device comes from the event.
        device_id = payload.get("anonymousId") or event.get("anonymousId") or payload.get("userId")
        if not device_id:
            return pending.done(self._drop(base, "no_user_id"))
        try:
            analytic = self._analytic_id(device_id, event)
            if identify:
                self._flush_user(analytic)
                self.devices[device_id] = self.client.identify(analytic, payload["userId"], payload.get("traits") or {})
                return pending.done(base)
        except DeliveryError as exc:
            return pending.done(self._failed(base, exc))
        self._queue(analytic, wire.track_event(payload, event), base, pending)

    def _queue(self, analytic: str, one_flow_event: dict[str, Any], outcome: Outcome, pending: _Pending) -> None:
        queue = self.pending.setdefault(analytic, [])
        size = sum(len(orjson.dumps(e)) for e, _, _ in queue) + len(orjson.dumps(one_flow_event))
        if queue and size > MAX_BATCH_BYTES:
            self._flush_user(analytic)
            queue = self.pending.setdefault(analytic, [])
        queue.append((one_flow_event, outcome, pending))
        if len(queue) >= self.batch_size:
            self._flush_user(analytic)

    def _flush_user(self, analytic: str) -> None:
        queue = self.pending.pop(analytic, [])
        if not queue:
            return
        try:
            self.client.track(analytic, [event for event, _, _ in queue])
        except DeliveryError as exc:
            for _, outcome, pending in queue:
                pending.done(self._failed(outcome, exc))
            return
        for _, outcome, pending in queue:
            pending.done(outcome)

    def flush(self) -> None:
        for analytic in list(self.pending):
            self._flush_user(analytic)

    def send(self, events: Iterable[dict[str, Any]]) -> Report:
        """Process every event and flush; returns the report of this call."""
        before = len(self.report.outcomes)
        for event in events:
            self.process(event)
        self.flush()
        return Report(self.report.outcomes[before:])
