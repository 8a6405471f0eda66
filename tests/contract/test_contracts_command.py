"""``mock-1flow contracts list`` and ``verify``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.contracts.listing import list_interactions
from mock_1flow.paths import CONTRACTS_DIR
from mock_1flow.testing import MockServer


def test_list_groups_interactions_by_file_with_consumer_provider_and_pact_version():
    result = CliRunner().invoke(main, ["contracts", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("segment-1flow-destination-1flow-api.json"))
    assert lines[header].split() == ["segment-1flow-destination-1flow-api.json", "segment-1flow-destination", "->",
                                     "1flow-api", "Pact", "4.0", "12", "interactions"]
    assert lines[header + 1].split() == ["status", "method", "path", "description", "given"]
    rows = lines[header + 2:header + 14]
    assert any(row.split()[:3] == ["404", "POST", "/us/api/2021-06-15/v3/user"] and "add a user with an unknown key" in row
               for row in rows)
    assert any('a rate-limited project {"key": "oneflow_prod_acme"' in row for row in rows)
    assert "1flow-http-forwarder -> 1flow-http-api" in result.output
    files = len(list(CONTRACTS_DIR.glob("*.json")))
    assert lines[-1] == f"{files} files, {len(list_interactions(CONTRACTS_DIR))} interactions"
    assert "ios-push-token-empty: registerPushToken" in result.output  # the real clients' contracts are listed


def test_list_json_has_each_file_with_its_interactions():
    result = CliRunner().invoke(main, ["contracts", "list", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    by_file = {item["file"]: item for item in listing["files"]}
    assert set(by_file) == {path.name for path in CONTRACTS_DIR.glob("*.json")}
    destination = by_file["segment-1flow-destination-1flow-api.json"]
    assert (destination["consumer"], destination["provider"], destination["pact_version"]) == (
        "segment-1flow-destination", "1flow-api", "4.0")
    unknown = next(i for i in destination["interactions"] if i["description"] == "add a user with an unknown key")
    assert unknown == {"description": "add a user with an unknown key", "method": "POST", "status": 404,
                       "path": "/us/api/2021-06-15/v3/user", "states": ['no project {"key": "oneflow_prod_nobody"}']}
    assert listing["interactions"] == sum(len(f["interactions"]) for f in listing["files"]) == len(list_interactions(CONTRACTS_DIR))


def test_list_of_a_file_that_is_not_a_pact(tmp_path):
    (tmp_path / "broken.json").write_text('{"consumer": {"name": "x"}}', encoding="utf-8")
    result = CliRunner().invoke(main, ["contracts", "list", "--contracts", str(tmp_path)])
    assert result.exit_code == 2 and "broken.json is not a Pact file" in result.output and "Traceback" not in result.output


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
