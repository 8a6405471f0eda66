"""``serve --store``: what is refused at start (exit 2, naming what to fix), and two
instances on different ports pointed at one Redis being one mock, over real sockets."""

from __future__ import annotations

import subprocess
import sys

from tests.redis.conftest import free_port
from tests.redis.servers import KEY, call, mocks, sdk


def refused(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    import os

    done = subprocess.run([sys.executable, "-m", "mock_1flow", "serve", "--port", "0", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})
    return done.returncode, done.stdout + done.stderr


def test_a_malformed_store_url_is_a_usage_error_showing_the_form():
    code, out = refused("--store", "http://127.0.0.1:6379/0")
    assert code == 2 and "redis://" in out and "Traceback" not in out
    code, out = refused("--store", "redis://127.0.0.1:6379/zero")
    assert code == 2 and "must be a number" in out


def test_an_unreachable_redis_is_a_usage_error_naming_it():
    port = free_port()  # nothing listens there
    code, out = refused("--store", f"redis://127.0.0.1:{port}/0")
    assert code == 2 and f"cannot reach Redis at redis://127.0.0.1:{port}/0" in out and "redis-server" in out


def test_the_store_comes_from_the_environment_too():
    port = free_port()
    code, out = refused(env={"MOCK_1FLOW_STORE": f"redis://127.0.0.1:{port}/0"})
    assert code == 2 and "MOCK_1FLOW_STORE" in out


def test_a_redis_of_another_schema_is_refused_with_the_version_found(redis_server, redis_url):
    redis_server.client().set("m1f:schema", "mock-1flow redis state 0")
    code, out = refused("--store", redis_url)
    assert code == 2 and "schema version 'mock-1flow redis state 0'" in out and "FLUSHDB" in out
    assert redis_server.client().get("m1f:schema") == b"mock-1flow redis state 0"  # left as found


def test_workers_without_a_store_are_refused_saying_why():
    code, out = refused("--workers", "2")
    assert code == 2 and "need --store" in out and "separate mocks" in out


def test_a_state_file_with_a_store_is_refused(tmp_path, redis_url):
    code, out = refused("--store", redis_url, "--state-file", str(tmp_path / "state.jsonl"))
    assert code == 2 and "one or the other" in out


def test_two_instances_on_one_redis_are_one_mock(redis_url):
    with mocks(redis_url, 2) as (first, second):
        # the state: a device registered on one is the same user on the other
        _, one = sdk(first, "/v3/user", {"user_id": "device-1"})
        _, two = sdk(second, "/v3/user", {"user_id": "device-1"})
        assert one["result"]["analytic_user_id"] == two["result"]["analytic_user_id"]
        events = [{"_id": f"{i:024x}", "name": "opened", "time": 1, "plt": "a"} for i in range(3)]
        assert sdk(first, "/v3/track", {"user_id": "u", "events": events})[1]["result"] == {"stored": 3, "duplicates": 0}
        assert sdk(second, "/v3/track", {"user_id": "u", "events": events})[1]["result"] == {"stored": 0, "duplicates": 3}
        assert call(second, "GET", f"/__admin/projects/{KEY}/events")[1]["total"] == 3

        # the journal: a request to either is in the one journal, in order, read from either
        for port in (first, second):
            _, journal = call(port, "GET", "/__admin/requests")
            assert [entry["path"] for entry in journal["requests"]] == ["/us/api/2021-06-15/v3/user"] * 2 + [
                "/us/api/2021-06-15/v3/track"] * 2
            ids = [entry["id"] for entry in journal["requests"]]
            assert ids == sorted(ids) and len(set(ids)) == 4

        # a fault added through one fires on both, and `times` counts across both
        status, added = call(first, "POST", "/__admin/faults", {"path": "/v3/user", "status": 503, "times": 3})
        assert status == 201, added
        statuses = [sdk(port, "/v3/user", {"user_id": "d"})[0] for port in (second, first, second, first)]
        assert statuses == [503, 503, 503, 200]
        _, faults = call(second, "GET", "/__admin/faults")
        assert [(f["hits"], f["seen"]) for f in faults["faults"]] == [(3, 4)]

        # reset through one resets both
        assert call(second, "POST", "/__admin/reset")[0] == 200
        for port in (first, second):
            assert call(port, "GET", "/__admin/requests")[1]["requests"] == []
            assert call(port, "GET", "/__admin/faults")[1]["faults"] == []
            assert call(port, "GET", f"/__admin/projects/{KEY}/users")[1]["users"] == []
        assert sdk(first, "/v3/user", {"user_id": "d"})[0] == 200


def test_stubs_are_numbered_and_counted_across_instances(redis_url):
    stub = {"request": {"path": "/v3/user"}, "response": {"status": 200, "json": {"stubbed": True}}, "times": 3}
    with mocks(redis_url, 2) as (first, second):
        one = call(first, "POST", "/__admin/stubs", stub)[1]
        two = call(second, "POST", "/__admin/stubs", {k: v for k, v in stub.items() if k != "times"})[1]
        ids = [one["id"], two["id"]]
        assert len(set(ids)) == 2  # one counter: no two instances give one id
        # the newer, unlimited stub answers first; removed through the other instance, it answers nowhere
        assert sdk(first, "/v3/user", {"user_id": "d"})[1] == {"stubbed": True}
        assert call(first, "DELETE", f"/__admin/stubs/{ids[1]}")[0] == 200
        answers = [sdk(port, "/v3/user", {"user_id": "d"})[1] for port in (second, first, second, first)]
        assert answers[:3] == [{"stubbed": True}] * 3 and "result" in answers[3]  # times: 3 across both
        for port in (first, second):
            listed = call(port, "GET", "/__admin/stubs")[1]["stubs"]
            assert [(s["id"], s["hits"]) for s in listed] == [(ids[0], 3)]
