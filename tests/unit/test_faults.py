"""Fault injection over a real socket: dropped connections, latency, probability, first N."""

from __future__ import annotations

import time

import pytest
import requests

from mock_1flow.server.faults import FaultSet, parse_fault_option

H = {"one_flow_key": "oneflow_prod_acme"}


@pytest.fixture
def mock(one_flow_mock):
    """The pytest plugin's server, reset before each test."""
    return one_flow_mock.server


def post_user(mock, device="d"):
    return requests.post(f"{mock.base('us')}/v3/user", json={"user_id": device}, headers=H, timeout=5)


def test_dropped_connection_is_a_transport_error_and_journaled(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "drop_connection": True, "times": 1})
    with pytest.raises(requests.exceptions.RequestException):
        post_user(mock)
    assert post_user(mock).status_code == 200
    first = mock.admin("requests")["requests"][0]
    assert first["status"] == 0 and first["error"] == "connection_dropped" and first["fault"]


def test_latency(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "latency_ms": 300})
    started = time.monotonic()
    assert post_user(mock).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_scoped_to_project_and_region(mock):
    mock.admin("faults", "POST", json={"path": "/v3/*", "status": 500, "project": "oneflow_prod_globex"})
    assert post_user(mock).status_code == 200
    eu = requests.post(f"{mock.base('eu')}/v3/user", json={"user_id": "d"},
                       headers={"one_flow_key": "oneflow_prod_globex"}, timeout=5)
    assert eu.status_code == 500 and eu.json()["error"] == "injected_fault"


def test_probability_is_seeded_and_roughly_right():
    faults = FaultSet(seed=1)
    faults.add({"path": "/v3/track", "status": 503, "probability": 0.3})
    fired = sum(faults.pick("POST", "/v3/track", "/us/api/2021-06-15/v3/track", None, "us") is not None for _ in range(2000))
    assert 500 < fired < 700
    again = FaultSet(seed=1)
    again.add({"path": "/v3/track", "status": 503, "probability": 0.3})
    assert fired == sum(again.pick("POST", "/v3/track", "/x", None, "us") is not None for _ in range(2000))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("path=/v3/track,status=503,probability=0.3", {"path": "/v3/track", "status": 503, "probability": 0.3}),
        ("path=*,drop_connection=true,times=2", {"path": "*", "drop_connection": True, "times": 2}),
    ],
)
def test_cli_fault_syntax(text, expected):
    assert parse_fault_option(text) == expected


@pytest.mark.parametrize("text", ["status", "colour=red", "status=abc", "drop_connection=maybe"])
def test_cli_fault_syntax_errors(text):
    with pytest.raises(ValueError):
        parse_fault_option(text)


def test_a_fault_needs_an_effect():
    with pytest.raises(ValueError, match="needs a status"):
        FaultSet().add({"path": "/v3/track"})
