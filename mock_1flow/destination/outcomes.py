"""Every event ends in exactly one outcome: sent, dropped (with the reason) or failed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SENT, DROPPED, FAILED = "sent", "dropped", "failed"


@dataclass(frozen=True)
class Outcome:
    message_id: str
    type: str
    status: str
    reason: str | None = None
    http_status: int | None = None
    error: str | None = None
    detail: str | None = None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.status == FAILED)

    def counts(self) -> Counter:
        """(status, reason) -> count; a failure's reason is ``<http status> <error code>``."""
        return Counter((o.status, o.reason) for o in self.outcomes)

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"events": len(self.outcomes), SENT: 0, DROPPED: {}, FAILED: {}}
        for (status, reason), count in sorted(self.counts().items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            if status == SENT:
                summary[SENT] += count
            else:
                summary[status][reason] = count
        return summary
