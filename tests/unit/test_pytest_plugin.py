"""The installed pytest plugin's fixtures, used the way the README shows."""

from __future__ import annotations

import pytest
import requests

from mock_1flow.testing import MockError, MockServer

pytest_plugins = ["pytester"]


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


def test_assert_tracked_shows_what_was_received_instead(one_flow_mock):
    base = one_flow_mock.base("us")
    headers = {"one_flow_key": "oneflow_prod_acme"}
    user = requests.post(f"{base}/v3/user", json={"user_id": "device-1"}, headers=headers).json()["result"]
    requests.post(f"{base}/v3/track", headers=headers, json={"user_id": user["analytic_user_id"], "events": [
        {"name": "Signed Up", "time": 1764000000, "plt": "w", "_id": "0123456789abcdef01234567"}]}).raise_for_status()
    assert [e["name"] for e in one_flow_mock.assert_tracked("oneflow_prod_acme", name="Signed Up", count=1)] == ["Signed Up"]
    with pytest.raises(AssertionError, match=r"expected 1 event\(s\) named 'Order Completed' in oneflow_prod_acme, "
                                             r"found 0; oneflow_prod_acme received 1: Signed Up x1"):
        one_flow_mock.assert_tracked("oneflow_prod_acme", name="Order Completed", count=1)
    with pytest.raises(AssertionError, match="expected user 'user-1' identified in oneflow_prod_acme; "
                                             "its users: \\(anonymous\\) not identified"):
        one_flow_mock.assert_identified("oneflow_prod_acme", "user-1")
    one_flow_mock.assert_requests(path="*/v3/track", count=1, status=200)
    with pytest.raises(AssertionError, match=r"expected 2 request\(s\) with path=\*/v3/user, found 1; the journal has 2: "
                                             r"POST /us/api/2021-06-15/v3/user 200; POST /us/api/2021-06-15/v3/track 200"):
        one_flow_mock.assert_requests(path="*/v3/user", count=2)


def test_assert_identified_checks_parameters(one_flow_mock):
    base = one_flow_mock.base("us")
    headers = {"one_flow_key": "oneflow_prod_acme"}
    anon = requests.post(f"{base}/v3/user", json={"user_id": "device-1"}, headers=headers).json()["result"]["analytic_user_id"]
    requests.post(f"{base}/v3/identify", headers=headers, json={
        "anonymous_user_id": anon, "user_id": "user-1", "parameters": {"plan": "pro"}}).raise_for_status()
    assert one_flow_mock.assert_identified("oneflow_prod_acme", "user-1", parameters={"plan": "pro"})["user_id"] == "user-1"
    with pytest.raises(AssertionError, match=r"lacks parameters \{'plan': 'free'\}; it has \{'plan': 'pro'\}"):
        one_flow_mock.assert_identified("oneflow_prod_acme", "user-1", parameters={"plan": "free"})


def test_helpers_raise_with_the_mocks_message(one_flow_mock):
    with pytest.raises(MockError, match="HTTP 400 invalid_request: Unknown plan 'platinum'. Known plans: free") as info:
        one_flow_mock.add_project("oneflow_prod_x", "X", plan="platinum")
    assert (info.value.status, info.value.code) == (400, "invalid_request")
    with pytest.raises(MockError, match="HTTP 404 unknown_project: No project with key 'nope'"):
        one_flow_mock.users("nope")


PROJECTS = """\
plans:
  solo: {regions: [eu]}
projects:
  - {key: oneflow_prod_solo, name: Solo, region: eu, plan: solo}
"""


def test_ini_options_and_the_marker_configure_the_mock(pytester):
    pytester.makefile(".yaml", projects=PROJECTS)
    pytester.makeini("[pytest]\none_flow_projects = projects.yaml\none_flow_error_profile = backend\none_flow_journal_cap = 3\n")
    pytester.makepyfile(test_configured='''
        import pytest, requests

        def call(mock, key):
            return requests.post(mock.base("eu") + "/v3/user", json={"user_id": "d"}, headers={"one_flow_key": key})

        def test_ini(one_flow_mock):
            assert call(one_flow_mock, "oneflow_prod_solo").status_code == 200
            assert call(one_flow_mock, "oneflow_prod_acme").json()["error"] == "invalid_key"  # backend profile
            for _ in range(4):
                call(one_flow_mock, "oneflow_prod_solo")
            assert len(one_flow_mock.requests()) == 3  # journal cap

        @pytest.mark.one_flow_mock(error_profile="docs", faults=[{"path": "/v3/user", "status": 503}])
        def test_marker(one_flow_mock):
            assert call(one_flow_mock, "oneflow_prod_nobody").json()["error"] == "injected_fault"
            one_flow_mock.clear_faults()
            assert call(one_flow_mock, "oneflow_prod_nobody").json()["error"] == "unknown_key"  # docs profile
    ''')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_broken_ini_option_errors_with_the_reason(pytester):
    pytester.makeini("[pytest]\none_flow_error_profile = strict\n")
    pytester.makepyfile(test_x="def test_x(one_flow_mock):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mock-1flow cannot start*error profile must be one of docs, backend, not 'strict'*"])


def test_mock_server_outside_pytest():
    with MockServer(error_profile="backend") as mock:
        reply = requests.post(mock.base("us") + "/v3/user", json={"user_id": "d"}, headers={"one_flow_key": "nope"})
        assert reply.status_code == 401
        mock.assert_requests(path="*/v3/user", count=1, status=401)
