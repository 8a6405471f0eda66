"""Provider verification: pact-python's Verifier replays every committed contract against the
Flask mock on a real socket, with the mock's provider-state endpoint; and proves it can fail."""

from __future__ import annotations

import pytest

from mock_1flow.contracts.listing import list_interactions
from mock_1flow.contracts.verify import verify_contracts
from mock_1flow.paths import CONTRACTS_DIR
from mock_1flow.testing import MockServer


def verify(**options):
    with MockServer(**options) as mock:
        return verify_contracts(mock.url, CONTRACTS_DIR, f"{mock.url}/__admin/provider-states")


def test_every_contract_verifies_against_the_mock():
    result = verify()
    assert result.ok, result.output
    interactions = list_interactions(CONTRACTS_DIR)
    assert len(interactions) >= 12
    for interaction in interactions:
        assert interaction.description in result.output


def test_verification_fails_against_a_different_provider():
    """The backend error profile answers unknown keys with 401 invalid_key, not 404 unknown_key."""
    result = verify(error_profile="backend")
    assert not result.ok
    assert "add a user with an unknown key" in result.output
    assert "expected 404 but was 401" in result.output
    assert "invalid_key" in result.output or "unknown_key" in result.output


def test_unknown_provider_state_is_a_clear_error(one_flow_mock):
    import requests

    response = requests.post(f"{one_flow_mock.url}/__admin/provider-states", json={"state": "a unicorn"}, timeout=5)
    assert response.status_code == 400 and "Known: a project" in response.json()["message"]


@pytest.mark.parametrize("state, params", [("a project", {"key": "k", "region": "eu", "plan": "enterprise"}),
                                           ("a project with a device", {"key": "k", "region": "us", "plan": "free"})])
def test_states_set_up_projects(one_flow_mock, state, params):
    import requests

    body = requests.post(f"{one_flow_mock.url}/__admin/provider-states",
                         json={"state": state, "params": params, "action": "setup"}, timeout=5).json()
    assert body["result"]["project"]["key"] == "k"
    assert requests.get(f"{one_flow_mock.url}/__admin/projects/k", timeout=5).status_code == 200
