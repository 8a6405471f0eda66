"""Provider verification of the forwarder's HTTP API contract against the mock, and proof that
it can fail: against Segment's surface on the same ``/v1`` paths, and with a changed expectation."""

from __future__ import annotations

import json
from pathlib import Path

from mock_1flow.contracts.verify import verify_contracts
from mock_1flow.paths import CONTRACTS_DIR
from mock_1flow.testing import MockServer

CONTRACT = CONTRACTS_DIR / "1flow-http-forwarder-1flow-http-api.json"
STATES = "/__admin/provider-states"


def verify(folder: Path, **options):
    with MockServer(**options) as mock:
        return verify_contracts(mock.url, folder, mock.url + STATES)


def copy(tmp_path: Path, change=None) -> Path:
    contract = json.loads(CONTRACT.read_text())
    if change is not None:
        change(contract)
    (tmp_path / CONTRACT.name).write_text(json.dumps(contract))
    return tmp_path


def test_the_forwarder_contract_verifies_in_both_error_profiles(tmp_path):
    for profile in ("docs", "backend"):  # 401 for a bad api_key either way
        result = verify(copy(tmp_path), error_profile=profile)
        assert result.ok, result.summary() + "\n" + result.output
        assert len(result.interactions) == 6


def test_replayed_on_segment_paths_it_fails(tmp_path):
    """The same requests on /v1/... with a plain Host reach Segment's ingest, which answers
    otherwise: the HTTP API's contract does not pass against Segment's surface."""
    def to_segment(contract):
        for interaction in contract["interactions"]:
            interaction["request"]["path"] = interaction["request"]["path"].replace("/us/v1/", "/v1/")

    result = verify(copy(tmp_path, to_segment))
    assert not result.ok
    assert all(not i.ok for i in result.interactions), result.summary()


def test_a_changed_expectation_fails_naming_it(tmp_path):
    def expect_200(contract):
        limited = next(i for i in contract["interactions"] if "rate limited" in i["description"])
        limited["response"]["status"] = 200

    result = verify(copy(tmp_path, expect_200))
    failed = [i for i in result.interactions if not i.ok]
    assert [i.description for i in failed] == ["track while rate limited over the HTTP API"]
    assert "status: expected 200 but was 429" in failed[0].problems
