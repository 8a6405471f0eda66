"""Recordings made the way a user makes them: ``mock-1flow proxy --record`` in front of a real
second server (a ``mock-1flow serve`` mapping 127.0.0.1 to 1Flow's hosts), first faithful, then
made to deviate with stubs (addUser loses ``analytic_user_id`` and answers ``created_on`` as a
string; trackEvents answers ``success`` 202 without ``message``; listSurveys is 503)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.proxy.test_proxy import ADMIN, call, corpus, start_proxy
from tests.unit.test_serve import free_port, start, stop, wait_ready

FLOW = ("ios-add-user", "ios-list-surveys", "ios-track", "ios-identify", "ios-survey-response", "ios-list-announcements")
DEVIATING_FLOW = ("ios-add-user", "ios-track", "ios-list-surveys")
DEVIATIONS = [
    {"request": {"method": "POST", "path": "/v3/user"},
     "response": {"status": 200, "json": {"success": 200, "message": "found",
                                          "result": {"system_id": "SYS-1", "created_on": "2026-01-01", "updated_on": 1}}}},
    {"request": {"method": "POST", "path": "/v3/track"}, "response": {"status": 200, "json": {"success": 202, "result": None}}},
    {"request": {"method": "GET", "path": "/v3/survey"},
     "response": {"status": 503, "json": {"success": 503, "message": "maintenance", "result": None}}},
]
HTTP_API_IDENTIFY = json.dumps({"user_id": "u-7", "traits": {"plan": "pro"}}).encode()


@dataclass(frozen=True)
class Recordings:
    faithful: Path  # FLOW and an HTTP API identify, as the faithful upstream answered
    deviating: Path  # DEVIATING_FLOW, as the deviating upstream answered
    both: Path  # the whole recording: faithful lines, then deviating ones


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Recordings:
    folder = tmp_path_factory.mktemp("recordings")
    both = folder / "traffic.jsonl"
    up, port = free_port(), free_port()
    upstream = start("--port", str(up), "--host-region", "127.0.0.1=us", "--http-api-host", "127.0.0.1=us")
    proxy = None
    try:
        wait_ready(up, upstream)
        url = f"http://127.0.0.1:{up}"
        proxy = start_proxy("--port", str(port), "--upstream", url, "--http-api-upstream", url, "--record", str(both))
        wait_ready(port, proxy)
        for request_id in FLOW:
            assert corpus(port, request_id)[0] == 200, request_id
        assert call(port, "POST", "/v1/identify", HTTP_API_IDENTIFY,
                    {"api_key": "oneflow_prod_acme", "Content-Type": "application/json"})[0] == 200
        for stub in DEVIATIONS:
            assert call(up, "POST", "/__admin/stubs", json.dumps(stub).encode(), ADMIN)[0] == 201
        for request_id in DEVIATING_FLOW:
            corpus(port, request_id)
    finally:
        if proxy is not None:
            stop(proxy)
        stop(upstream)
    lines = both.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == len(FLOW) + 1 + len(DEVIATING_FLOW)
    faithful, deviating = folder / "faithful.jsonl", folder / "deviating.jsonl"
    faithful.write_text("".join(lines[:len(FLOW) + 1]), encoding="utf-8")
    deviating.write_text("".join(lines[len(FLOW) + 1:]), encoding="utf-8")
    return Recordings(faithful, deviating, both)
