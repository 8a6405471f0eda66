"""1,200 generated hostile requests over every route family: none answers 5xx, every
journaled one is in the journal, and the journal, state and delivery endpoints still
answer strict JSON afterwards (no bare Infinity, no lone surrogates, no 500 on read)."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from mock_1flow.app import create_app

from .hostile import FAMILIES, KEY, generate

COUNT = 1200


def strict_json(response) -> object:
    """orjson refuses NaN/Infinity and lone surrogates: what a strict client would refuse."""
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return orjson.loads(response.get_data())


@pytest.fixture(scope="module")
def hammered():
    app = create_app()
    client = app.test_client()
    requests = generate(COUNT, seed=10)
    answers = []
    for request in requests:
        response = client.open(request.path, method=request.method, data=request.body, headers=request.headers,
                               environ_base={"REMOTE_ADDR": "127.0.0.1"})
        answers.append((request, response.status_code, response.get_data()))
        if request.path.startswith("/__admin/faults") and response.status_code < 300:
            client.delete("/__admin/faults")  # a valid hostile fault must not answer the rest with 5xx
    return app, client, requests, answers


def test_at_least_1000_hostile_requests_over_every_family(hammered):
    _, _, requests, _ = hammered
    assert len(requests) >= 1000
    families = Counter(r.family for r in requests)
    assert set(families) == set(FAMILIES) and min(families.values()) >= 200


def test_no_hostile_request_gets_a_5xx(hammered):
    _, _, _, answers = hammered
    failures = [(r.method, r.path, (r.body or b"")[:80], status, body[:200]) for r, status, body in answers if status >= 500]
    assert not failures, failures[:5]
    statuses = Counter(status for _, status, _ in answers)
    assert statuses[400] > 100 and sum(n for s, n in statuses.items() if s < 300) > 50, statuses


def test_refusals_carry_a_machine_readable_code(hammered):
    _, _, _, answers = hammered
    for request, status, body in answers:
        if status < 400 or request.method == "HEAD":
            continue
        parsed = orjson.loads(body)
        code = parsed.get("error") or parsed.get("code")
        assert isinstance(code, str) and code, (request.method, request.path, status, parsed)


def test_every_journaled_request_is_in_the_journal_and_reads_back_as_strict_json(hammered):
    _, client, requests, _ = hammered
    journal = strict_json(client.get("/__admin/requests"))
    sent = sum(1 for r in requests if r.journaled)
    assert journal["dropped"] == 0
    direct = [entry for entry in journal["requests"] if entry["via"] is None]  # not the ingest's own 1Flow calls
    assert len(direct) == sent


@pytest.mark.parametrize("path", ["/__admin/state", "/__admin/deliveries", "/__admin/projects", "/__admin/health",
                                  f"/__admin/projects/{KEY}/users", f"/__admin/projects/{KEY}/events"])
def test_state_endpoints_still_answer_strict_json(hammered, path):
    _, client, _, _ = hammered
    response = client.get(path)
    assert response.status_code == 200
    strict_json(response)


def test_the_state_snapshot_round_trips_after_the_hammering(hammered):
    _, client, _, _ = hammered
    snapshot = strict_json(client.get("/__admin/state"))
    assert client.put("/__admin/state", json=snapshot).status_code == 200
    assert strict_json(client.get("/__admin/state")) == snapshot
