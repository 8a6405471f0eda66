"""Provider verification: pact-python's Verifier replays every committed contract against the
Flask mock on a real loopback socket, with the mock's provider-state endpoint, and proves it
can fail; plus the state endpoint itself and ``mock-1flow contracts verify``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.contracts.listing import list_interactions
from mock_1flow.contracts.verify import VerificationResult, verify_contracts
from mock_1flow.paths import CONTRACTS_DIR
from mock_1flow.server.store import object_id
from mock_1flow.testing import MockServer

STATES = "/__admin/provider-states"
ACME = {"key": "oneflow_prod_acme", "region": "us", "plan": "free"}
TOTAL = len(list_interactions(CONTRACTS_DIR))  # every committed contract (SDK API and HTTP API pairs)


def verify(contracts: Path = CONTRACTS_DIR, **options) -> tuple[VerificationResult, MockServer]:
    with MockServer(**options) as mock:
        return verify_contracts(mock.url, contracts, mock.url + STATES), mock


def change(mock, state: str, action: str = "setup", **params) -> requests.Response:
    return requests.post(mock.url + STATES, json={"state": state, "params": params, "action": action}, timeout=5)


def test_every_contract_verifies_against_the_mock():
    result, _ = verify()
    assert result.ok, result.summary() + "\n" + result.output
    assert sorted(i.description for i in result.interactions) == sorted(i.description for i in list_interactions(CONTRACTS_DIR))
    assert len(result.interactions) == TOTAL and all(i.ok for i in result.interactions)


def test_identify_is_replayed_with_the_analytic_id_the_state_made():
    """Provider-state injection: the verifier sends the id the state answered, not the example."""
    result, mock = verify()
    assert result.ok, result.summary()
    identify = mock.runtime.journal.query(path="/us/api/2021-06-15/v3/identify")[0][-1]
    assert identify["body"]["anonymous_user_id"] == object_id(ACME["key"], "device", "device-1")
    assert identify["status"] == 200


def test_verification_fails_against_a_different_provider():
    """The backend error profile answers unknown keys with 401 invalid_key, not 404 unknown_key."""
    result, _ = verify(error_profile="backend")
    assert not result.ok
    failed = [i for i in result.interactions if not i.ok]
    assert [i.description for i in failed] == ["add a user with an unknown key"]
    assert "status: expected 404 but was 401" in failed[0].problems
    assert any("invalid_key" in problem for problem in failed[0].problems)
    assert "FAIL  add a user with an unknown key" in result.summary()
    assert "expected 404 but was 401" in result.output  # Pact's own report says it too


def test_a_refused_state_is_explained(tmp_path):
    contract = json.loads((CONTRACTS_DIR / "segment-1flow-destination-1flow-api.json").read_text())
    contract["interactions"] = contract["interactions"][:1]
    contract["interactions"][0]["providerStates"][0]["params"]["plan"] = "platinum"
    (tmp_path / "pact.json").write_text(json.dumps(contract))
    result, _ = verify(tmp_path)
    assert not result.ok
    assert "Unknown plan 'platinum'" in result.interactions[0].problems[0]


def test_unknown_state_is_a_clear_error(one_flow_mock):
    reply = change(one_flow_mock, "a unicorn", key="k")
    assert reply.status_code == 400
    assert "Unknown provider state 'a unicorn'. Known: 'a project' (key, region, plan)" in reply.json()["message"]


@pytest.mark.parametrize("params, problem", [
    ({"key": "k", "region": "us"}, "needs plan"),
    ({**ACME, "kye": "typo"}, "does not take kye"),
    ({**ACME, "plan": "platinum"}, "Unknown plan 'platinum'"),
    ({**ACME, "region": "ap"}, "Unknown region 'ap'"),
])
def test_bad_state_params_are_refused_before_any_change(one_flow_mock, params, problem):
    reply = change(one_flow_mock, "a project", **params)
    assert reply.status_code == 400 and problem in reply.json()["message"]
    assert one_flow_mock.server.admin("projects/oneflow_prod_acme")["project"]["region"] == "us"


def test_setup_answers_values_for_injection_and_teardown_restores_the_loaded_project(one_flow_mock):
    device = change(one_flow_mock, "a project with a device", key=ACME["key"], region="eu", plan="enterprise",
                    device_id="d-1").json()
    assert device["analytic_user_id"] == object_id(ACME["key"], "device", "d-1")
    assert (device["region"], device["plan"]) == ("eu", "enterprise")
    assert [u["analytic_user_id"] for u in one_flow_mock.users(ACME["key"])] == [device["analytic_user_id"]]

    torn = change(one_flow_mock, "a project with a device", "teardown", key=ACME["key"], region="eu",
                  plan="enterprise", device_id="d-1").json()
    assert torn == {"key": ACME["key"], "restored": True}
    assert one_flow_mock.server.admin(f"projects/{ACME['key']}")["project"] == {**ACME, "name": "Acme"}
    assert one_flow_mock.users(ACME["key"]) == []


def test_teardown_removes_a_project_the_file_does_not_have(one_flow_mock):
    assert change(one_flow_mock, "a project", key="oneflow_prod_new", region="us", plan="growth").status_code == 200
    assert change(one_flow_mock, "a project", "teardown", key="oneflow_prod_new", region="us", plan="growth").json() == {
        "key": "oneflow_prod_new", "restored": False}
    assert requests.get(f"{one_flow_mock.url}/__admin/projects/oneflow_prod_new", timeout=5).status_code == 404


@pytest.mark.one_flow_lenient  # its "other" fault is there to show it survives the teardown, not to fire
def test_rate_limited_state_faults_only_its_project_until_teardown(one_flow_mock):
    other = one_flow_mock.add_fault(path="/v3/track", status=503, times=5)
    params = {**ACME, "path": "/v3/user", "retry_after": 2}
    values = change(one_flow_mock, "a rate-limited project", **params).json()

    def user() -> requests.Response:
        return requests.post(one_flow_mock.base() + "/v3/user", json={"user_id": "d"},
                             headers={"one_flow_key": ACME["key"]}, timeout=5)

    limited = user()
    assert (limited.status_code, limited.headers["Retry-After"], limited.json()["error"]) == (429, "2", "rate_limited")
    assert user().status_code == 200  # times=1
    change(one_flow_mock, "a rate-limited project", "teardown", **params)
    assert [f["id"] for f in one_flow_mock.server.admin("faults")["faults"]] == [other["id"]]
    assert values["fault_id"] != other["id"]
    assert one_flow_mock.requests(path="/us/api/2021-06-15/v3/user")  # the journal survives a teardown


def test_no_project_removes_the_key_and_teardown_brings_it_back(one_flow_mock):
    assert change(one_flow_mock, "no project", key=ACME["key"]).json() == {"key": ACME["key"]}
    reply = requests.post(one_flow_mock.base() + "/v3/user", json={"user_id": "d"},
                          headers={"one_flow_key": ACME["key"]}, timeout=5)
    assert (reply.status_code, reply.json()["error"]) == (404, "unknown_key")
    change(one_flow_mock, "no project", "teardown", key=ACME["key"])
    assert one_flow_mock.server.admin(f"projects/{ACME['key']}")["project"]["plan"] == "free"


def test_cli_verifies_a_running_mock_with_its_state_endpoint():
    with MockServer() as running:
        result = CliRunner().invoke(main, ["contracts", "verify", "--url", running.url])
    assert result.exit_code == 0, result.output
    total = len(list_interactions(CONTRACTS_DIR))
    assert "PASS  identify a user" in result.output and f"{total} passed, 0 failed" in result.output
    assert "PASS  android-add-user: addUser" in result.output  # the real clients' contracts verify too


def test_cli_fails_against_the_backend_profile_naming_the_mismatch():
    result = CliRunner().invoke(main, ["contracts", "verify", "--error-profile", "backend"])
    assert result.exit_code == 1
    assert "FAIL  add a user with an unknown key" in result.output
    assert "status: expected 404 but was 401" in result.output
    assert f"verification FAILED: 1 of {len(list_interactions(CONTRACTS_DIR))} interactions" in result.output


def test_cli_verifies_a_copied_contracts_folder(tmp_path):
    shutil.copy(CONTRACTS_DIR / "segment-1flow-destination-1flow-api.json", tmp_path)
    result = CliRunner().invoke(main, ["contracts", "verify", "--contracts", str(tmp_path), "--pact-output"])
    assert result.exit_code == 0, result.output
    assert "Verifying a pact between segment-1flow-destination and 1flow-api" in result.output


def test_cli_says_when_nothing_answers():
    with MockServer() as gone:
        url = gone.url
    result = CliRunner().invoke(main, ["contracts", "verify", "--url", url])
    assert result.exit_code == 1 and "nothing answers at" in result.output
