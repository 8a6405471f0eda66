"""The admin API: health, journal (filters, cap), reset, projects, state, loopback-only."""

from __future__ import annotations

from tests.conftest import US_KEY, api
from mock_1flow.app import create_app

H = {"one_flow_key": US_KEY}


def test_health(client):
    body = client.get("/__admin/health").json
    assert body["status"] == "ok" and body["error_profile"] == "docs" and body["projects"] == 4
    assert body["regions"] == {"us": "/us/api/2021-06-15", "eu": "/eu/api/2021-06-15"}


def test_journal_records_each_api_request_with_its_outcome(client):
    client.post(api("us", "/v3/user"), json={"user_id": "d1"}, headers=H)
    client.post(api("eu", "/v3/user"), json={"user_id": "d2"}, headers=H)
    client.get("/__admin/health")  # admin calls are not journaled
    body = client.get("/__admin/requests").json
    assert body["total"] == 2 and body["recorded"] == 2 and body["dropped"] == 0
    ok, refused = body["requests"]
    assert (ok["method"], ok["path"], ok["region"], ok["project"], ok["status"]) == (
        "POST", "/us/api/2021-06-15/v3/user", "us", US_KEY, 200)
    assert ok["body"] == {"user_id": "d1"} and ok["response"]["result"]["analytic_user_id"]
    assert ok["time"].endswith("Z") and ok["duration_ms"] >= 0
    assert (refused["status"], refused["error"], refused["region"]) == (404, "region_not_in_plan", "eu")


def test_journal_filters(client):
    client.post(api("us", "/v3/user"), json={"user_id": "d1"}, headers=H)
    client.get(api("us", "/v3/survey"), headers=H)
    client.post(api("eu", "/v3/user"), json={"user_id": "d2"}, headers={"one_flow_key": "oneflow_prod_globex"})
    client.post(api("us", "/v3/user"), json={"user_id": "d3"}, headers=H)
    get = lambda q: client.get(f"/__admin/requests?{q}").json  # noqa: E731
    assert get("method=get")["total"] == 1
    assert get("path=*/v3/user")["total"] == 3
    assert get("region=eu")["total"] == 1
    assert get(f"project={US_KEY}")["total"] == 3
    assert get("status=200")["total"] == 4
    limited = get("path=*/v3/user&limit=2")
    assert limited["total"] == 3 and [r["body"]["user_id"] for r in limited["requests"]] == ["d2", "d3"]
    bad = client.get("/__admin/requests?status=abc")
    assert bad.status_code == 400 and bad.json["pointer"] == "/status"


def test_journal_cap_drops_oldest_and_counts_them():
    client = create_app(journal_cap=3).test_client()
    for n in range(5):
        client.post(api("us", "/v3/user"), json={"user_id": f"d{n}"}, headers=H)
    body = client.get("/__admin/requests").json
    assert body["total"] == 3 and body["dropped"] == 2 and body["recorded"] == 5 and body["cap"] == 3
    assert [r["body"]["user_id"] for r in body["requests"]] == ["d2", "d3", "d4"]


def test_reset_forgets_state_and_journal_and_restores_projects(client):
    client.post(api("us", "/v3/user"), json={"user_id": "d1"}, headers=H)
    client.delete(f"/__admin/projects/{US_KEY}")
    client.post("/__admin/projects", json={"key": "oneflow_new", "name": "New", "region": "us", "plan": "free"})
    assert client.post("/__admin/reset", headers={"X-Mock-1flow-Admin": "1"}).json == {"ok": True}
    assert client.get("/__admin/requests").json["total"] == 0
    keys = {p["key"] for p in client.get("/__admin/projects").json["projects"]}
    assert US_KEY in keys and "oneflow_new" not in keys
    assert client.get(f"/__admin/projects/{US_KEY}/users").json["total"] == 0


def test_clear_journal_keeps_state(client):
    client.post(api("us", "/v3/user"), json={"user_id": "d1"}, headers=H)
    client.delete("/__admin/requests")
    assert client.get("/__admin/requests").json["total"] == 0
    assert client.get(f"/__admin/projects/{US_KEY}/users").json["total"] == 1


def test_projects_crud(client):
    listing = client.get("/__admin/projects").json
    assert listing["plans"]["enterprise"] == {"regions": ["us", "eu"]}
    created = client.post("/__admin/projects", json={"key": "oneflow_prod_new", "name": "New", "region": "eu", "plan": "enterprise"})
    assert created.status_code == 201 and created.json["project"]["region"] == "eu"
    headers = {"one_flow_key": "oneflow_prod_new"}
    assert client.post(api("eu", "/v3/user"), json={"user_id": "d"}, headers=headers).status_code == 200
    assert client.get("/__admin/projects/oneflow_prod_new").json["project"]["name"] == "New"
    assert client.delete("/__admin/projects/oneflow_prod_new").json == {"ok": True}
    gone = client.post(api("eu", "/v3/user"), json={"user_id": "d"}, headers=headers)
    assert gone.json["error"] == "unknown_key"
    missing = client.get("/__admin/projects/oneflow_prod_new/users")
    assert (missing.status_code, missing.json["error"]) == (404, "unknown_project")


def test_project_body_is_validated(client):
    unknown_plan = client.post("/__admin/projects", json={"key": "k", "name": "N", "region": "us", "plan": "gold"})
    assert unknown_plan.status_code == 400 and unknown_plan.json["pointer"] == "/plan"
    bad_region = client.post("/__admin/projects", json={"key": "k", "name": "N", "region": "ap", "plan": "free"})
    assert bad_region.status_code == 400 and bad_region.json["pointer"] == "/region"


def test_admin_answers_loopback_only(app):
    client = app.test_client()
    remote = client.get("/__admin/health", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert remote.status_code == 403 and remote.json["error"] == "admin_forbidden"
    assert client.get("/__admin/health", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    opened = create_app(admin_allow=("192.0.2.0/24",)).test_client()
    assert opened.get("/__admin/health", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 200


def test_faults_are_listed_fired_journaled_and_cleared(client):
    fault = client.post("/__admin/faults", json={"path": "/v3/user", "status": 429, "retry_after": 2, "times": 1}).json["fault"]
    assert fault["rule"]["status"] == 429 and fault["id"]
    first = client.post(api("us", "/v3/user"), json={"user_id": "d"}, headers=H)
    assert first.status_code == 429 and first.headers["Retry-After"] == "2" and first.json["error"] == "rate_limited"
    assert client.post(api("us", "/v3/user"), json={"user_id": "d"}, headers=H).status_code == 200
    journal = client.get("/__admin/requests").json["requests"]
    assert journal[0]["fault"] == fault["id"] and journal[1]["fault"] is None
    assert client.get("/__admin/faults").json["faults"][0]["hits"] == 1
    assert client.delete(f"/__admin/faults/{fault['id']}").json == {"ok": True}
    assert client.delete(f"/__admin/faults/{fault['id']}").status_code == 404
    bad = client.post("/__admin/faults", json={"path": "/v3/user", "status": 302})
    assert bad.status_code == 400


def test_unexpected_errors_are_enveloped_500s(app, monkeypatch):
    from mock_1flow.server.store import ProjectState

    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(ProjectState, "add_device", boom)
    response = app.test_client().post(api("us", "/v3/user"), json={"user_id": "d"}, headers=H)
    assert response.status_code == 500 and response.json["error"] == "internal_error"
    assert "Traceback" not in response.get_data(as_text=True)


def test_usage_counts_stored_events_and_journal_bytes(client):
    """``/__admin/usage`` reads the stores as they hold their data (a fuzz run found it 500
    once a project had events)."""
    events = [{"name": "a", "time": 1, "plt": "w", "_id": f"{i:024x}"} for i in range(3)]
    assert client.post(api("us", "/v3/track"), json={"user_id": "u", "events": events}, headers=H).status_code == 200
    usage = client.get("/__admin/usage").json
    assert usage["events"]["stored"] == 3 and usage["events"]["bytes"] > 0
    assert usage["events"]["cap"] >= 3 and usage["events"]["dropped"] == 0
    assert usage["journal"]["entries"] == 1 and 0 < usage["journal"]["bytes"] <= usage["journal"]["max_bytes"]
