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

from . import presets, wire
from .client import OneFlowClient
from .errors import DeliveryError, PayloadValidationError
from .outcomes import DROPPED, FAILED, SENT, Outcome, Report
from .settings import Settings

UNSUBSCRIBED = ("group", "alias")
MAX_BATCH_BYTES = 30 * 1024  # stay under 1Flow's 32 KB per request, envelope included


class Destination:
    def __init__(
        self,
        settings: Settings,
        client: OneFlowClient | None = None,
        batch_size: int = 20,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.settings = settings
        self.client = client or OneFlowClient(settings)
        self.batch_size = batch_size
        self.on_outcome = on_outcome
        self.devices: dict[str, str] = {}
        self.pending: dict[str, list[tuple[dict[str, Any], Outcome]]] = {}
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
        if kind in UNSUBSCRIBED:
            return self._finish(Outcome(base.message_id, kind, DROPPED, "unsubscribed_type",
                                        detail=f"1Flow does not take {kind} calls"))
        action = presets.action_for(event)
        if action is None:
            return self._finish(Outcome(base.message_id, kind, DROPPED, "no_matching_mapping"))
        name, payload = action
        try:
            presets.validate(name, payload)
        except PayloadValidationError as exc:
            return self._finish(Outcome(base.message_id, kind, DROPPED, "invalid_payload", detail=str(exc)))
        if name == presets.IDENTIFY and not payload.get("userId"):
            return self._finish(Outcome(base.message_id, kind, DROPPED, "no_user_id"))
        device_id = payload.get("anonymousId") or payload.get("userId")
        if not device_id:
            return self._finish(Outcome(base.message_id, kind, DROPPED, "no_user_id"))
        try:
            analytic = self._analytic_id(device_id, event)
            if name == presets.IDENTIFY:
                self._flush_user(analytic)
                self.devices[device_id] = self.client.identify(analytic, payload["userId"], payload.get("traits") or {})
                return self._finish(base)
        except DeliveryError as exc:
            return self._finish(self._failed(base, exc))
        self._queue(analytic, wire.track_event(payload, event), base)

    def _queue(self, analytic: str, one_flow_event: dict[str, Any], outcome: Outcome) -> None:
        queue = self.pending.setdefault(analytic, [])
        size = sum(len(orjson.dumps(e)) for e, _ in queue) + len(orjson.dumps(one_flow_event))
        if queue and size > MAX_BATCH_BYTES:
            self._flush_user(analytic)
            queue = self.pending.setdefault(analytic, [])
        queue.append((one_flow_event, outcome))
        if len(queue) >= self.batch_size:
            self._flush_user(analytic)

    def _flush_user(self, analytic: str) -> None:
        queue = self.pending.pop(analytic, [])
        if not queue:
            return
        try:
            self.client.track(analytic, [event for event, _ in queue])
        except DeliveryError as exc:
            for _, outcome in queue:
                self._finish(self._failed(outcome, exc))
            return
        for _, outcome in queue:
            self._finish(outcome)

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
