"""``mock-1flow contracts list`` and ``verify``."""

from __future__ import annotations

from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.contracts.listing import list_interactions
from mock_1flow.paths import CONTRACTS_DIR
from mock_1flow.testing import MockServer


def test_list_prints_interactions_states_and_statuses():
    result = CliRunner().invoke(main, ["contracts", "list"])
    assert result.exit_code == 0, result.output
    assert "404  POST  /us/api/2021-06-15/v3/user" in result.output
    assert 'given a rate-limited project {"key": "oneflow_prod_acme"' in result.output
    assert result.output.strip().endswith(f"{len(list_interactions(CONTRACTS_DIR))} interactions")
    for consumer in ("1flow-ios-sdk", "1flow-android-sdk", "1flow-segment-ios", "1flow-segment-android"):
        assert (CONTRACTS_DIR / f"{consumer}-1flow-api.json").exists()
    assert "ios-push-token-empty: registerPushToken" in result.output  # the real clients' contracts are listed


def test_verify_against_the_default_in_process_mock():
    result = CliRunner().invoke(main, ["contracts", "verify"])
    assert result.exit_code == 0, result.output
    assert "verified: all interactions passed" in result.output


def test_verify_against_another_server_fails_with_the_interaction_named():
    with MockServer(error_profile="backend") as other:
        result = CliRunner().invoke(main, ["contracts", "verify", "--url", other.url])
    assert result.exit_code == 1
    assert "verification FAILED" in result.output and "add a user with an unknown key" in result.output


def test_list_with_no_contracts(tmp_path):
    result = CliRunner().invoke(main, ["contracts", "list", "--contracts", str(tmp_path)])
    assert result.exit_code == 2 and "no Pact files" in result.output
