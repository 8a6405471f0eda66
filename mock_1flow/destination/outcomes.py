"""Every event ends in exactly one outcome: sent, dropped (with the reason) or failed (with
the HTTP status and 1Flow's error code), so a run can prove nothing was lost silently."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

SENT, DROPPED, FAILED = "sent", "dropped", "failed"

# Why an event was dropped (never retried: sending it again would be dropped again).
NO_USER_ID = "no_user_id"  # identify without userId: Segment's docs, and the iOS plugin, do not send it
UNSUBSCRIBED_TYPE = "unsubscribed_type"  # group and alias: 1Flow has no call for them
NO_MATCHING_MAPPING = "no_matching_mapping"  # no enabled subscription's trigger matched
INVALID_PAYLOAD = "invalid_payload"  # the action's payload failed validation; ``detail`` keeps Segment's message
DUPLICATE = "duplicate_message_id"  # a messageId seen earlier in the run: Segment delivers it once
DROP_REASONS = (NO_USER_ID, UNSUBSCRIBED_TYPE, NO_MATCHING_MAPPING, INVALID_PAYLOAD, DUPLICATE)
TRANSPORT_ERROR = "transport_error"  # the reason of a failure without an HTTP status
DEADLINE = "deadline"  # not sent (or not retried) before the run's overall deadline
INTERRUPTED = "interrupted"  # not sent because the run was stopped (Ctrl-C, SIGTERM)
UNREACHABLE = "unreachable"  # not sent: the API stopped answering, so the run stopped


class Outcome(NamedTuple):  # a named tuple: one is made per event, at a fifth of a frozen dataclass's cost
    """What became of one Segment event.

    ``reason`` is None when sent, one of :data:`DROP_REASONS` when dropped, and
    ``"<http status> <1Flow error code>"`` (or ``transport_error``, ``deadline``,
    ``interrupted``, ``unreachable``) when failed, so counting
    by (status, reason) gives the summary table. ``detail`` is the human message.
    """

    message_id: str
    type: str
    status: str
    reason: str | None = None
    http_status: int | None = None
    error: str | None = None
    detail: str | None = None


def failure_reason(http_status: int | None, error: str | None) -> str:
    """``"404 unknown_key"``, ``"503"`` when 1Flow gave no code; without a response, the
    error (``transport_error``, ``deadline``, ``interrupted``)."""
    if http_status is None:
        return error or TRANSPORT_ERROR
    return f"{http_status} {error}" if error else str(http_status)


@dataclass
class Report:
    """The outcomes of a run, in the order they were finalised."""

    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def extend(self, outcomes: Iterable[Outcome]) -> None:
        self.outcomes.extend(outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def sent(self) -> int:
        return self.count(SENT)

    @property
    def dropped(self) -> int:
        return self.count(DROPPED)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    def counts(self) -> Counter:
        """(status, reason) -> count; a failure's reason is ``<http status> <error code>``."""
        return Counter((o.status, o.reason) for o in self.outcomes)

    def rows(self) -> list[tuple[str, str | None, int]]:
        """(status, reason, count) sorted sent, dropped, failed, then by reason: the summary table."""
        order = {SENT: 0, DROPPED: 1, FAILED: 2}
        items = sorted(self.counts().items(), key=lambda kv: (order.get(kv[0][0], 3), str(kv[0][1] or "")))
        return [(status, reason, count) for (status, reason), count in items]

    def summary(self) -> dict[str, Any]:
        """``{"events": n, "sent": n, "dropped": {reason: n}, "failed": {reason: n}}`` (JSON-ready)."""
        summary: dict[str, Any] = {"events": len(self.outcomes), SENT: 0, DROPPED: {}, FAILED: {}}
        if all(outcome.status == SENT for outcome in self.outcomes):  # the usual case: no table to build
            summary[SENT] = len(self.outcomes)
            return summary
        for status, reason, count in self.rows():
            if status == SENT:
                summary[SENT] += count
            else:
                summary[status][reason] = count
        return summary
