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
from importlib import metadata
from pathlib import Path

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
    code, out = run("publish", "--broker-url", broker, "--consumer-app-version", "1.0.0", "--branch", "main",
                    "--tag", "main", "--tag", "release")
    assert code == 0, out
    assert "published 6 pact(s)" in out and "on branch main" in out
    assert "Pact published successfully for consumer: segment-1flow-destination against provider: 1flow-api" in out
    code, out = run("publish", "contracts/segment-1flow-destination-1flow-api.json", "--broker-url", broker,
                    "--consumer-app-version", "1.0.0", "--branch", "main")  # no tags: the CLI sends no tags key
    assert code == 0 and "published 1 pact(s)" in out, out


@pytest.mark.parametrize("version, branch", [("1.0.1", "main"), ("1.0.0", "feature-x")])
def test_publish_with_another_version_or_branch_is_refused_by_the_double(broker: str, version: str, branch: str) -> None:
    code, out = run("publish", "--broker-url", broker, "--consumer-app-version", version, "--branch", branch)
    assert code == 2, out
    assert f"{broker} answered 404 Not Found to /contracts/publish: check that --broker-url" in out


def test_verify_from_the_broker_with_a_pending_pact(broker: str) -> None:
    code, out = run("verify", "--broker-url", broker, "--provider-branch", "main",
                    "--consumer-version-selector", '{"mainBranch": true}', "--enable-pending",
                    "--include-wip-pacts-since", "2026-01-01")
    assert code == 0, out  # the pending pact's failure does not fail the verification, as in Pact
    assert "PASS  add a user with an unknown key" in out
    assert "FAIL (pending)  add a user with an unknown key answers 201" in out and "status: expected 201 but was 404" in out
    assert "1 passed, 0 failed, 1 failed in pending pacts" in out
    assert "verified: all interactions passed but 1 in pending pacts" in out


@pytest.mark.parametrize("args", [
    ("--provider-branch", "main", "--consumer-version-selector", '{"mainBranch": true}', "--enable-pending"),
    ("--consumer-version-selector", '{"mainBranch": true}'),
    (),
])
def test_verify_without_wip_pacts_asks_for_the_main_branch_only(broker: str, args: tuple[str, ...]) -> None:
    code, out = run("verify", "--broker-url", broker, *args)
    assert code == 0, out
    assert "PASS  add a user with an unknown key" in out and "1 passed, 0 failed\n" in out
    assert "pending" not in out


def test_verification_results_are_published_with_the_provider_version_and_branch(broker: str) -> None:
    # The double answers the branch PUT only for 1flow-api 2.0.0 on main, and each result POST
    # only with providerApplicationVersion 2.0.0: a success proves both requests matched.
    code, out = run("verify", "--broker-url", broker, "--provider-app-version", "2.0.0", "--provider-branch", "main",
                    "--consumer-version-selector", '{"mainBranch": true}', "--enable-pending",
                    "--include-wip-pacts-since", "2026-01-01", "--publish-results")
    assert code == 0, out
    assert out.strip().splitlines()[-1] == f"results published to {broker} for 1flow-api 2.0.0 on branch main"


@pytest.mark.parametrize("version, branch, message", [
    ("2.0.1", "main", "answered 404 Not Found to /pacticipants/1flow-api/branches/main/versions/2.0.1"),
    ("2.0.0", "release", "No pacts found for provider '1flow-api'"),  # the double selects pacts for main only
])
def test_a_failed_publication_is_reported_not_claimed(broker: str, version: str, branch: str, message: str) -> None:
    code, out = run("verify", "--broker-url", broker, "--provider-app-version", version, "--provider-branch", branch,
                    "--consumer-version-selector", '{"mainBranch": true}', "--enable-pending", "--publish-results")
    assert code == 2, out
    assert "results published" not in out
    errors = [line for line in out.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0], out


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
    (("can-i-deploy", "--pacticipant", "segment-1flow-destination", "--version", "1.0.5", "--to-environment", "production"),
     "answered 404 Not Found to /matrix?q[][pacticipant]=segment-1flow-destination&q[][version]=1.0.5&"),
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


@pytest.mark.parametrize("args", [
    ("publish", "--consumer-app-version", "1.0.0", "--broker-url", "http://127.0.0.1:1"),
    ("can-i-deploy", "--pacticipant", "x", "--version", "1", "--to-environment", "production", "--broker-url", "http://127.0.0.1:1"),
])
def test_without_the_broker_extra_exit_2_naming_it(monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]) -> None:
    real = metadata.distribution

    def without_cli(name: str) -> metadata.Distribution:
        if name == "pact-python-cli":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "distribution", without_cli)
    code, out = run(*args)
    assert code == 2, out
    assert out.strip() == "Error: the broker commands need the pact CLI, an extra of mock-1flow: pip install 'mock-1flow[broker]'"


def test_a_comma_in_a_tag_is_refused(broker: str) -> None:
    code, out = run("publish", "--broker-url", broker, "--consumer-app-version", "1.0.0", "--tag", "a,b")
    assert code == 2 and "a tag cannot contain a comma" in out


def test_the_double_is_what_make_double_writes() -> None:
    """The committed double is generated: edit make_double.py and run it, not the JSON."""
    import json
    import runpy

    build = runpy.run_path(str(Path(__file__).with_name("broker") / "make_double.py"))["build"]
    assert json.loads(DOUBLE.read_text(encoding="utf-8")) == build()
