"""Outcomes and the report: one per event, counted by (status, reason)."""

from __future__ import annotations

from mock_1flow.destination.outcomes import (
    DROP_REASONS,
    Outcome,
    Report,
    failure_reason,
)


def test_drop_reasons_are_exactly_these():
    assert DROP_REASONS == ("no_user_id", "unsubscribed_type", "no_matching_mapping", "invalid_payload",
                            "duplicate_message_id")


def test_failure_reasons():
    assert failure_reason(404, "unknown_key") == "404 unknown_key"
    assert failure_reason(503, None) == "503"
    assert failure_reason(None, "transport_error") == "transport_error"


def test_report_counts_and_summary():
    report = Report()
    report.add(Outcome("1", "track", "sent"))
    report.extend([
        Outcome("2", "identify", "dropped", "no_user_id"),
        Outcome("3", "group", "dropped", "unsubscribed_type"),
        Outcome("4", "track", "failed", "404 unknown_key", 404, "unknown_key"),
        Outcome("5", "track", "failed", "404 unknown_key", 404, "unknown_key"),
        Outcome("6", "page", "sent"),
        Outcome("7", "alias", "dropped", "unsubscribed_type"),
    ])
    assert (len(report), report.sent, report.dropped, report.failed) == (7, 2, 3, 2)
    assert report.rows() == [
        ("sent", None, 2),
        ("dropped", "no_user_id", 1),
        ("dropped", "unsubscribed_type", 2),
        ("failed", "404 unknown_key", 2),
    ]
    assert report.summary() == {
        "events": 7, "sent": 2,
        "dropped": {"no_user_id": 1, "unsubscribed_type": 2},
        "failed": {"404 unknown_key": 2},
    }
    assert Report().summary() == {"events": 0, "sent": 0, "dropped": {}, "failed": {}}
