"""The 1Flow destination: Segment events in, 1Flow SDK calls out, one outcome per event.

Like a 1Flow SDK: ``/v3/user`` once per new device (anonymousId, else userId),
``/v3/identify`` on identify (the returned id replaces the device's from then on, and
events that carry only that userId go to it too),
``/v3/track`` with events batched per analytic user. Nothing is lost silently: each event
ends sent, dropped (no user id, unsubscribed type, no matching mapping, invalid payload)
or failed (HTTP status and 1Flow error code, or a transport error).

The Segment event -> action payload step is the mapping engine's (``resolve`` with the
subscription's mapping, then the action's validation); the payload -> request body step
is :mod:`.wire`'s; this module only decides what to call, in which order, and the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import wire
from .actions import IDENTIFY, validate_payload
from .client import OneFlowClient
from .http_api import client_for
from .errors import DeliveryError, PayloadValidationError
from .mapping import MappingError, Subscription, load_subscriptions, resolve
from .outcomes import (
    DROPPED,
    FAILED,
    INVALID_PAYLOAD,
    NO_MATCHING_MAPPING,
    NO_USER_ID,
    SENT,
    UNSUBSCRIBED_TYPE,
    Outcome,
    Report,
    failure_reason,
)
from .settings import Settings

UNSUBSCRIBED = ("group", "alias")
RESOLVE_ERRORS = (MappingError, TypeError, ValueError, RecursionError)


class _Pending:
    """An event whose matching actions are not all done. When the last one ends, the event
    gets its one outcome: failed if any action failed, else sent if any was delivered,
    else dropped with the first action's reason; what the other actions did goes in ``detail``."""

    def __init__(self, actions: int, finish: Callable[[Outcome], None]) -> None:
        self.left, self.finish = actions, finish
        self.results: list[Outcome] = []

    def done(self, outcome: Outcome) -> None:
        self.results.append(outcome)
        self.left -= 1
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


class Destination:
    """Segment's 1Flow (Actions) destination with its subscriptions (the presets by default).

    Outcomes are finalised when known: drops and identifies at once, track events when
    their batch is sent (``batch_size`` per user, or :meth:`flush`). Group and alias calls
    that no subscription takes are dropped as ``unsubscribed_type`` (1Flow has no call for
    them); a custom subscription that does take them is obeyed, as Segment would.
    """

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
        self.client = client or client_for(settings)
        self.batch_size = batch_size
        self.on_outcome = on_outcome
        self.devices: dict[str, str] = {}  # device id (or identified userId) -> current analytic user id
        self.pending: dict[str, list[tuple[dict[str, Any], Outcome, _Pending]]] = {}
        self.pending_sizes: dict[str, list[int]] = {}  # encoded bytes of each queued event
        self.report = Report()
        self._recent: list[Outcome] = []

    # -- public -------------------------------------------------------------------------

    def process(self, event: dict[str, Any]) -> list[Outcome]:
        """Map and deliver (or queue) one event; returns the outcomes finalised by this call
        (this event's if already known, and those of any batch it completed)."""
        self._recent = []
        self._process(event)
        return self._recent

    def flush(self) -> list[Outcome]:
        """Send every queued batch; returns the outcomes this finalised."""
        self._recent = []
        for analytic in list(self.pending):
            self._flush_user(analytic)
        return self._recent

    def send(self, events: Iterable[dict[str, Any]]) -> Report:
        """Process every event and flush; returns the report of this call."""
        before = len(self.report.outcomes)
        for event in events:
            self.process(event)
        self.flush()
        return Report(self.report.outcomes[before:])

    # -- one event ----------------------------------------------------------------------

    def _process(self, event: dict[str, Any]) -> None:
        if not isinstance(event, dict):
            return self._finish(Outcome("", "?", DROPPED, INVALID_PAYLOAD, detail="a Segment event is a JSON object"))
        kind = str(event.get("type"))
        base = Outcome(wire.message_id(event), kind, SENT)
        matching = [subscription for subscription in self.subscriptions if subscription.matches(event)]
        if not matching:
            if kind in UNSUBSCRIBED:
                return self._finish(self._drop(base, UNSUBSCRIBED_TYPE, f"1Flow does not take {kind} calls"))
            return self._finish(self._drop(base, NO_MATCHING_MAPPING, "no enabled mapping's trigger matches"))
        pending = _Pending(len(matching), self._finish)
        tracks = 0
        for subscription in matching:
            # The first track action's _id is the messageId's; a second one of the same event
            # gets its own (by subscription name), or 1Flow would discard it as a duplicate.
            action_key = subscription.name if subscription.partner_action != IDENTIFY and tracks else None
            tracks += subscription.partner_action != IDENTIFY
            self._act(subscription, event, base, pending, action_key)

    def _act(self, subscription: Subscription, event: dict[str, Any], base: Outcome, pending: _Pending,
             action_key: str | None = None) -> None:
        try:
            payload = validate_payload(subscription.partner_action, resolve(subscription.mapping, event))
        except PayloadValidationError as exc:
            return pending.done(self._drop(base, INVALID_PAYLOAD, f"{subscription.name}: {exc}"))
        except RESOLVE_ERRORS as exc:
            return pending.done(self._drop(base, INVALID_PAYLOAD, f"{subscription.name}: cannot resolve mapping ({exc})"))
        identify = subscription.partner_action == IDENTIFY
        if identify and not payload.get("userId"):
            return pending.done(self._drop(base, NO_USER_ID, f"{subscription.name}: identify without userId is not sent"))
        device_id = _device_id(payload, event)
        if not device_id:
            return pending.done(self._drop(base, NO_USER_ID, f"{subscription.name}: neither anonymousId nor userId"))
        try:
            analytic = self._analytic_id(device_id, event)
            if identify:
                self._flush_user(analytic)  # the anonymous user's events go out under its own id first
                identified = self.client.identify(analytic, payload["userId"], payload.get("traits") or {})
                self.devices[device_id] = self.devices[payload["userId"]] = identified
                return pending.done(base)
        except DeliveryError as exc:
            return pending.done(self._failed(base, exc))
        self._queue(analytic, wire.track_event(payload, event, action_key), base, pending)

    def _analytic_id(self, device_id: str, event: dict[str, Any]) -> str:
        analytic = self.devices.get(device_id)
        if analytic is None:
            analytic = self.devices[device_id] = self.client.add_user(device_id, wire.device_context(event))
        return analytic

    # -- batches ------------------------------------------------------------------------

    def _queue(self, analytic: str, one_flow_event: dict[str, Any], outcome: Outcome, pending: _Pending) -> None:
        """Queue under the user; a batch goes out at ``batch_size`` events, or before the next
        event would take it past what one request takes (``client.batch_fits``: 32 KB to the SDK
        API's /v3/track, 500 KB to the HTTP API's /v1/batch)."""
        size = len(wire.encode(one_flow_event))
        sizes = self.pending_sizes.get(analytic, [])
        if sizes and not self.client.batch_fits(analytic, [*sizes, size]):
            self._flush_user(analytic)
        self.pending.setdefault(analytic, []).append((one_flow_event, outcome, pending))
        self.pending_sizes.setdefault(analytic, []).append(size)
        if len(self.pending[analytic]) >= self.batch_size:
            self._flush_user(analytic)

    def _flush_user(self, analytic: str) -> None:
        queue = self.pending.pop(analytic, [])
        self.pending_sizes.pop(analytic, None)
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

    # -- outcomes -----------------------------------------------------------------------

    def _finish(self, outcome: Outcome) -> None:
        self.report.add(outcome)
        self._recent.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    @staticmethod
    def _drop(base: Outcome, reason: str, detail: str | None = None) -> Outcome:
        return Outcome(base.message_id, base.type, DROPPED, reason, detail=detail)

    @staticmethod
    def _failed(base: Outcome, error: DeliveryError) -> Outcome:
        return Outcome(base.message_id, base.type, FAILED, failure_reason(error.status, error.error), error.status,
                       error.error, f"{error.message} (after {error.attempts} attempt(s))")


def _device_id(payload: dict[str, Any], event: dict[str, Any]) -> str | None:
    """The SDK's device: the payload's anonymousId, else the event's (Identify User has no
    anonymousId field, yet the device that logs in is the event's), else the userId."""
    for candidate in (payload.get("anonymousId"), event.get("anonymousId"), payload.get("userId")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None
