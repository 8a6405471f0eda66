"""``serve --state-file``: a ``PUT /__admin/state`` is in the file when it is acknowledged (a
SIGKILL right after the answer keeps it), and a file whose data the server cannot replay
stops it with the reason and status 2, rather than granian starting the worker again."""

from __future__ import annotations

import http.client
import json
import os
import signal
from pathlib import Path

from mock_1flow.app import create_app

from ..conftest import US_KEY, api
from ..unit.test_serve import free_port, start, stop, wait_ready
from .test_state_file_crash import poll, port_free, served_state

HEADERS = {"one_flow_key": US_KEY, "Content-Type": "application/json"}


def a_document() -> dict:
    """A state with a project of its own, users and 300 events, exported by an in-process mock."""
    client = create_app().test_client()
    client.post("/__admin/projects", json={"key": "oneflow_prod_imported", "name": "Imported", "region": "us",
                                           "plan": "enterprise"})
    analytic = client.post(api("us", "/v3/user"), json={"user_id": "dev-1"}, headers=HEADERS).json["result"]["analytic_user_id"]
    for call in range(30):
        client.post(api("us", "/v3/track"), headers=HEADERS, json={"user_id": analytic, "events": [
            {"name": "Opened", "time": 1764000000, "parameters": {"n": call * 10 + n}, "plt": "i",
             "_id": f"{call * 10 + n:024x}"} for n in range(10)]})
    return client.get("/__admin/state").json


def put(port: int, document: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("PUT", "/__admin/state", body=json.dumps(document), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.status


def test_a_sigkill_right_after_a_put_state_keeps_the_imported_state(tmp_path: Path):
    state_file = tmp_path / "state.log"
    document = a_document()
    port = free_port()
    process = start("--port", str(port), "--state-file", str(state_file))
    try:
        wait_ready(port, process)
        assert put(port, document) == 200
        os.kill(process.pid, signal.SIGKILL)  # at once: no writer round in between
        process.wait(timeout=10)
        poll(lambda: port_free(port))
    finally:
        stop(process)

    assert served_state(state_file) == document


def test_a_state_file_the_replay_cannot_use_stops_the_server_with_the_reason(tmp_path: Path):
    """The start-up check reads stored calls only as framed lines (a replay is the server's
    job); a call the replay then refuses stops the server: one message, status 2, no restarts."""
    state_file = tmp_path / "state.log"
    state_file.write_text('["mock-1flow state",2]\n["t","oneflow_prod_acme","u",1.5,"not a list of events"]\n')
    process = start("--port", str(free_port()), "--state-file", str(state_file))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert f"cannot load the state file: {state_file.resolve()}, line 2" in output
    assert "Traceback" not in output and output.count("cannot load the state file") == 1
