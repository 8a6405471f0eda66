"""``contracts publish``, ``verify --broker-url`` and ``can-i-deploy`` against the broker
double: ``pact stub`` serving mock_1flow/contracts/pact-broker-double.json (the broker's
documented HAL API as a Pact contract, see tests/contract/broker/make_double.py). The stub
answers only requests that match the contract (method, path, query, body with its matching
rules), so a command that succeeds made the requests the contract describes."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.contracts.broker import DOUBLE, pact_binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true"}
    stub = subprocess.Popen([str(pact_binary()), "stub", "--file", str(DOUBLE), "--port", str(port), "--loglevel", "warn"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:  # poll until the stub listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert stub.poll() is None and time.monotonic() < deadline, "pact stub did not start"
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stub.terminate()
        stub.wait(10)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["contracts", *args], env={"PACT_DO_NOT_TRACK": "true"})
    assert "Traceback" not in result.output and "urllib3" not in result.output
    return result.exit_code, result.output


def test_publish_sends_what_the_contract_describes(broker: str) -> None:
    code, out = run("publish", "--broker-url", broker, "--consumer-app-version", "1.0.0", "--branch", "main", "--tag", "main")
    assert code == 0, out
    assert "published 6 pact(s)" in out and "on branch main" in out


def test_verify_from_the_broker_with_a_pending_pact(broker: str) -> None:
    code, out = run("verify", "--broker-url", broker, "--provider-branch", "main",
                    "--consumer-version-selector", '{"mainBranch": true}', "--enable-pending",
                    "--include-wip-pacts-since", "2026-01-01")
    assert code == 0, out  # the pending pact's failure does not fail the verification, as in Pact
    assert "PASS  add a user with an unknown key" in out
    assert "FAIL (pending)  add a user with an unknown key answers 201" in out and "status: expected 201 but was 404" in out
    assert "1 passed, 0 failed, 1 failed in pending pacts" in out


def test_can_i_deploy_yes_and_no(broker: str) -> None:
    code, out = run("can-i-deploy", "--pacticipant", "segment-1flow-destination", "--version", "1.0.0",
                    "--to-environment", "production", "--broker-url", broker)
    assert code == 0, out
    assert "segment-1flow-destination  1.0.0" in out and "yes: segment-1flow-destination 1.0.0 may be deployed to production" in out
    code, out = run("can-i-deploy", "--pacticipant", "segment-1flow-destination", "--version", "1.1.0",
                    "--to-environment", "production", "--broker-url", broker)
    assert code == 1 and "NO" in out and "no: segment-1flow-destination 1.1.0 may not be deployed" in out


@pytest.mark.parametrize("args, message", [
    (("can-i-deploy", "--pacticipant", "nobody", "--version", "1.0.0", "--to-environment", "production"),
     "has no pacticipant 'nobody': check --pacticipant"),
    (("publish", "--consumer-app-version", "1.0.0", "--broker-url", "{broker}/locked"),
     "refused the credentials (HTTP 401): pass --broker-token"),
    (("publish", "--consumer-app-version", "1.0.0", "--broker-url", "http://127.0.0.1:1"),
     "no Pact Broker answers at http://127.0.0.1:1"),
    (("verify", "--broker-url", "http://127.0.0.1:1", "--enable-pending"), "no Pact Broker answers at http://127.0.0.1:1"),
    (("verify", "--broker-url", "{broker}", "--consumer-version-selector", '{"mainBranch": tru'), "is not JSON"),
    (("verify", "--broker-url", "{broker}", "--consumer-version-selector", '{"branchh": "main"}'), "unknown: branchh"),
    (("verify", "--enable-pending"), "need --broker-url"),
    (("can-i-deploy", "--pacticipant", "x", "--version", "1"), "pass one of --to-environment"),
])
def test_bad_input_gets_one_line_and_exit_2(broker: str, args: tuple[str, ...], message: str) -> None:
    args = tuple(a.replace("{broker}", broker) for a in args)
    if "--broker-url" not in args and args[0] != "verify":
        args = (*args, "--broker-url", broker)
    code, out = run(*args)
    assert code == 2, out
    assert message in out
    assert len([line for line in out.splitlines() if line.startswith("Error")]) == 1
