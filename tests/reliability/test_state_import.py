"""``PUT /__admin/state`` takes back anything ``GET`` gave, of any size up to the documented
bound, and refuses a document that breaks the store's invariants with 400 and a pointer,
changing nothing."""

from __future__ import annotations

import http.client
import json

import pytest

from mock_1flow.app import create_app
from mock_1flow.server.config import MockConfig

from ..conftest import US_KEY
from ..unit.test_serve import free_port, start, stop, wait_ready
from .test_state_snapshot import fill

DEVICE_USER = "0123456789abcdef01234567"


def events(count: int, user: str = DEVICE_USER) -> list[dict]:
    return [{"_id": f"{n:024x}", "name": "Opened", "time": 1764000000, "parameters": {"n": n, "text": "x" * 80},
             "plt": "a", "user_id": user, "received_at": "2026-01-01T00:00:00.000Z"} for n in range(count)]


def request(port: int, method: str, path: str, body: bytes | None = None, chunked: bool = False) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if chunked:
        connection.request(method, path, body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                           headers=headers, encode_chunked=True)
    else:
        connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize("chunked", [False, True])
def test_a_document_of_many_megabytes_goes_back_in_over_a_real_socket(tmp_path, chunked):
    client = create_app().test_client()
    fill(client)
    document = client.get("/__admin/state").json
    document["state"][US_KEY]["events"] += events(30_000)  # about 6 MB: far past the old 1 MiB cap
    raw = json.dumps(document).encode()
    assert len(raw) > 4 * 1024 * 1024
    port = free_port()
    process = start("--port", str(port))
    try:
        wait_ready(port, process)
        status, body = request(port, "PUT", "/__admin/state", raw, chunked)
        assert (status, json.loads(body)) == (200, {"ok": True})
        status, body = request(port, "GET", "/__admin/state")
        assert status == 200
        assert json.loads(body) == document
    finally:
        stop(process)


def _user(analytic: str, devices: list[str], **extra) -> dict:
    return {"analytic_user_id": analytic, "system_id": "S", "device_ids": devices, "user_id": None, "identified": False,
            "anonymous_ids": [], "parameters": {}, "context": None, "push_tokens": [], **extra}


def _base() -> dict:
    return {"version": 1, "projects": [{"key": US_KEY, "name": "Acme", "region": "us", "plan": "free"}],
            "state": {US_KEY: {"users": [_user(DEVICE_USER, ["d1"])], "devices": {"d1": DEVICE_USER},
                               "app_users": {}, "events": events(3), "responses": [], "sessions": 0}}}


def _data(doc: dict) -> dict:
    return doc["state"][US_KEY]


@pytest.mark.parametrize("change, pointer, says", [
    (lambda d: d["projects"].append(dict(d["projects"][0])), "/projects/1/key", "listed twice"),
    (lambda d: (_data(d)["users"].append(_user("fedcba9876543210fedcba98", ["d1"]))),
     "/state/oneflow_prod_acme/users/1/device_ids/0", "also belongs to user"),
    (lambda d: _data(d)["users"].append(_user("NOT-HEX", [], system_id="other")),
     "/state/oneflow_prod_acme/users/1/analytic_user_id", "24 lowercase hex"),
    (lambda d: _data(d)["users"].append(dict(_data(d)["users"][0])),
     "/state/oneflow_prod_acme/users/1/analytic_user_id", "listed twice"),
    (lambda d: _data(d)["devices"].update(d2="fedcba9876543210fedcba98"), "/state/oneflow_prod_acme/devices/d2",
     "does not list"),
    (lambda d: _data(d)["devices"].pop("d1"), "/state/oneflow_prod_acme/users/0/device_ids", "not in 'devices'"),
    (lambda d: _data(d)["app_users"].update(u1=DEVICE_USER), "/state/oneflow_prod_acme/app_users/u1",
     "not listed as identified"),
    (lambda d: _data(d)["users"][0].update(identified=True, user_id="u1"), "/state/oneflow_prod_acme/users/0/user_id",
     "not in 'app_users'"),
    (lambda d: _data(d)["events"].append(dict(_data(d)["events"][0])), "/state/oneflow_prod_acme/events/3/_id",
     "listed twice"),
    (lambda d: _data(d)["events"].extend(events(20)[3:]), "/state/oneflow_prod_acme/events/10", "--event-cap 10"),
    (lambda d: d["state"].update(nobody={}), "/state/nobody", "does not list"),
    (lambda d: _data(d).update(extra=1), "/state/oneflow_prod_acme/extra", "unknown field"),
    (lambda d: _data(d)["events"][1].pop("_id"), "/state/oneflow_prod_acme/events/1", "_id"),
    (lambda d: d.pop("projects"), "", "'projects' is a required property"),
    (lambda d: d.update(projects="nope"), "/projects", "'projects' is a list"),
    (lambda d: d.update(projects=None), "/projects", "'projects' is a list"),
    (lambda d: d.update(state="nope"), "/state", "'state' is an object"),
    (lambda d: d.update(parts={"surveys": []}), "/parts/surveys", "unknown state part"),
])
def test_a_document_that_breaks_an_invariant_is_refused_with_a_pointer(change, pointer, says):
    client = create_app(MockConfig(event_cap=10)).test_client()
    assert client.put("/__admin/state", json=_base()).status_code == 200
    before = client.get("/__admin/state").json
    bad = _base()
    change(bad)
    response = client.put("/__admin/state", json=bad)
    assert (response.status_code, response.json["error"], response.json["pointer"]) == (400, "invalid_request", pointer)
    assert says in response.json["message"]
    assert client.get("/__admin/state").json == before, "nothing half-applied"


def test_a_push_token_user_with_an_id_the_mock_never_gave_goes_back_in():
    """``/v3/user/device/{id}`` accepts any id; the document it leads to must import."""
    client = create_app().test_client()
    headers = {"one_flow_key": US_KEY}
    assert client.post(f"/us/api/2021-06-15/v3/user/device/not-hex", json={"token": "t"}, headers=headers).status_code == 200
    document = client.get("/__admin/state").json
    assert client.put("/__admin/state", json=document).status_code == 200
    assert client.get("/__admin/state").json == document


def test_a_document_past_the_bound_is_refused_with_413():
    client = create_app(MockConfig(event_max_bytes=1)).test_client()
    raw = b'{"projects": [], "pad": "' + b"x" * (64 * 1024 * 1024 + 16) + b'"}'
    response = client.put("/__admin/state", data=raw, content_type="application/json")
    assert (response.status_code, response.json["error"]) == (413, "payload_too_large")
    assert "--event-max-bytes" in response.json["message"]
