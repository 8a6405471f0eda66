"""The 404s of DESIGN.md, each with its own code, in the documented order, under both profiles."""

from __future__ import annotations

import pytest

from tests.conftest import DOWNGRADED_KEY, EU_KEY, US_ENTERPRISE_KEY, US_KEY, api
from mock_1flow.app import create_app

BODY = {"user_id": "device-1"}

CASES = [
    # (id, region, key, docs status/code, backend status/code, words in the message)
    ("unknown region", "ap", US_KEY, (404, "unknown_region"), (404, "unknown_region"), ["'ap'", "us, eu"]),
    ("missing key", "us", None, (404, "missing_key"), (401, "invalid_key"), ["one_flow_key"]),
    ("unknown key", "us", "oneflow_prod_nobody", (404, "unknown_key"), (401, "invalid_key"), ["oneflow_prod_nobody", "projectApiKey"]),
    ("region not in plan", "eu", US_KEY, (404, "region_not_in_plan"), (404, "region_not_in_plan"), ["free", "eu", "includes: us"]),
    ("outside home region", "us", EU_KEY, (404, "key_region_mismatch"), (404, "key_region_mismatch"), ["hosted in eu", "send it to the eu endpoint"]),
    ("downgraded plan", "eu", DOWNGRADED_KEY, (404, "region_not_in_plan"), (404, "region_not_in_plan"), ["growth"]),
]


@pytest.mark.parametrize("profile", ["docs", "backend"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_key_region_plan_error(case, profile):
    _, region, key, docs, backend, words = case
    client = create_app(error_profile=profile).test_client()
    headers = {"one_flow_key": key} if key else {}
    response = client.post(api(region, "/v3/user"), json=BODY, headers=headers)
    status, code = docs if profile == "docs" else backend
    assert (response.status_code, response.json["error"]) == (status, code)
    assert response.json["success"] == status and response.json["result"] is None
    for word in words if code != "invalid_key" else ["Invalid key"]:
        assert word in response.json["message"]


def test_valid_key_in_its_home_region_passes(client):
    assert client.post(api("us", "/v3/user"), json=BODY, headers={"one_flow_key": US_ENTERPRISE_KEY}).status_code == 200
    assert client.post(api("eu", "/v3/user"), json=BODY, headers={"one_flow_key": EU_KEY}).status_code == 200


def test_checks_run_in_the_documented_order(client):
    # unknown region wins over a missing key
    assert client.post(api("zz", "/v3/user"), json=BODY).json["error"] == "unknown_region"
    # a missing key wins over an invalid body
    assert client.post(api("us", "/v3/user"), json={"nope": 1}).json["error"] == "missing_key"
    # plan is checked before home region: a us/free key in eu is a plan error, not a mismatch
    assert client.post(api("eu", "/v3/user"), json=BODY, headers={"one_flow_key": US_KEY}).json["error"] == "region_not_in_plan"
    # key checks come before body validation
    bad = client.post(api("us", "/v3/user"), json={"nope": 1}, headers={"one_flow_key": "oneflow_x"})
    assert bad.json["error"] == "unknown_key"


@pytest.mark.parametrize("path", ["/v3/contacts/batch", "/v3/users/bulk", "/v3/batch", "/v3/track/batch"])
def test_bulk_endpoints_say_they_do_not_exist(client, path):
    response = client.post(api("us", path), json={}, headers={"one_flow_key": US_KEY})
    assert response.status_code == 404 and response.json["error"] == "bulk_not_supported"
    assert "rETL" in response.json["message"]


def test_unknown_paths(client):
    response = client.get(api("us", "/v3/nothing"), headers={"one_flow_key": US_KEY})
    assert (response.status_code, response.json["error"]) == (404, "unknown_endpoint")
    root = client.get("/nowhere")
    assert (root.status_code, root.json["error"]) == (404, "unknown_endpoint")
