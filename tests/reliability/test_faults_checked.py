"""Faults are checked the same way wherever they come from: the admin API, ``--fault``
and provider states; values that would crash a worker or a client are refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mock_1flow.cli.serve import serve
from mock_1flow.server.faults import fault_from_text

BAD = [
    ("latency_ms=100000000000000", "latency"),
    ("status=302", "status"),
    ('{"status": 503, "retry_after": 1e23}', "retry_after"),
    ("status=429,retry_after=999999999", "retry_after"),
    ("path=/v3/user,colour=red", "colour"),
    ("status=503,probability=0", "probability"),
    ('{"status": 503, "times": 0}', "times"),
    ("drop_connection=maybe", "drop_connection"),
    ('{"status": 503', "JSON"),
]


@pytest.mark.parametrize("text, field", BAD)
def test_a_bad_fault_flag_exits_2_before_the_banner(text, field):
    result = CliRunner().invoke(serve, ["--port", "0", "--fault", text])
    assert result.exit_code == 2
    assert "serving on" not in result.output and field in result.output


@pytest.mark.parametrize("spec", [
    {"latency_ms": 10**14}, {"status": 302}, {"status": 503, "retry_after": 1e23}, {"status": 429, "retry_after": 999999999},
    {"path": "/v3/user", "colour": "red"}, {"status": 503, "probability": 0}, {"status": 503, "times": 0},
    {"drop_connection": "maybe"}, {"status": 503, "latency_max_ms": 10**14}, {"status": True},
])
def test_the_admin_api_refuses_the_same_faults(client, spec):
    response = client.post("/__admin/faults", json=spec)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert client.get("/__admin/faults").json["faults"] == []


def test_a_good_fault_flag_is_the_admin_api_spec():
    assert fault_from_text("path=/v3/track,status=503,probability=0.3") == {"path": "/v3/track", "status": 503, "probability": 0.3}
    assert fault_from_text('{"latency_ms": 5, "drop_connection": true}') == {"latency_ms": 5, "drop_connection": True}


@pytest.mark.parametrize("retry_after", ["²", "1e23", -1, 10**14, True])
def test_provider_state_retry_after_is_refused_cleanly(client, retry_after):
    response = client.post("/__admin/provider-states", json={
        "state": "a rate-limited project", "params": {"key": "rl", "region": "us", "plan": "free", "retry_after": retry_after}})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert client.get("/__admin/projects/rl").status_code == 404, "a refused state changes nothing"
