"""The installed pytest plugin's fixtures, used the way the README shows."""

from __future__ import annotations

import requests


def test_my_forwarder_sends_track_events(one_flow_mock):
    # The README's example, verbatim.
    base = one_flow_mock.base("us")
    headers = {"one_flow_key": "oneflow_prod_acme"}
    user = requests.post(f"{base}/v3/user", json={"user_id": "device-1"}, headers=headers).json()
    analytic_id = user["result"]["analytic_user_id"]
    requests.post(f"{base}/v3/track", headers=headers, json={
        "user_id": analytic_id,
        "events": [{"name": "Order Completed", "time": 1764000000, "plt": "w",
                    "_id": "0123456789abcdef01234567", "parameters": {"revenue": 42}}],
    })
    assert [e["name"] for e in one_flow_mock.events("oneflow_prod_acme")] == ["Order Completed"]
    assert one_flow_mock.requests(path="*/v3/track")[0]["status"] == 200


def test_the_mock_is_reset_between_tests(one_flow_mock):
    assert one_flow_mock.events("oneflow_prod_acme") == []
    assert one_flow_mock.requests() == []


def test_projects_and_faults_helpers(one_flow_mock):
    one_flow_mock.add_project("oneflow_prod_new", "New", region="eu")
    one_flow_mock.add_fault(path="/v3/user", status=503, times=1)
    url = f"{one_flow_mock.base('eu')}/v3/user"
    headers = {"one_flow_key": "oneflow_prod_new"}
    assert requests.post(url, json={"user_id": "d"}, headers=headers).status_code == 503
    assert requests.post(url, json={"user_id": "d"}, headers=headers).status_code == 200
    assert [u["device_ids"] for u in one_flow_mock.users("oneflow_prod_new")] == [["d"]]
