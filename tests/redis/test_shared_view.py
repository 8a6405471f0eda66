"""What one instance's admin writes do on another at its very next request (the check folded
into each operation's script, tests the restart), and the journal's batches: nothing lost
silently when Redis is gone or the queue is full."""

from __future__ import annotations

from mock_1flow.app import create_app
from mock_1flow.server.runtime import EXTENSION_KEY
from tests.redis.servers import KEY, call, mocks, sdk

NEW = {"key": "oneflow_prod_new", "name": "New", "region": "us", "plan": "free"}


def test_admin_writes_through_one_instance_hold_on_the_other_at_once(redis_url):
    with mocks(redis_url, 2) as (first, second):
        assert sdk(second, "/v3/user", {"user_id": "d"})[0] == 200  # the second's copy is current, then:
        assert call(first, "POST", "/__admin/projects", NEW)[0] == 201
        status, answer = sdk(second, "/v3/user", {"user_id": "d"}, key=NEW["key"])
        assert status == 200, answer  # not the 401 of its outdated copy
        fault = call(first, "POST", "/__admin/faults", {"path": "/v3/track", "status": 500})[1]
        events = {"user_id": "u", "events": [{"_id": "b" * 24, "name": "e", "time": 1, "plt": "a"}]}
        assert sdk(second, "/v3/track", events)[0] == 500
        assert call(first, "DELETE", f"/__admin/faults/{fault['fault']['id']}")[0] == 200
        assert sdk(second, "/v3/track", events)[1]["result"] == {"stored": 1, "duplicates": 0}
        # each request above is journaled once, in order, whichever instance answered it
        paths = [e["path"].rsplit("/", 1)[-1] for e in call(first, "GET", "/__admin/requests")[1]["requests"]]
        assert paths == ["user", "user", "track", "track"]


def test_journal_entries_redis_never_got_are_counted_lost(redis_server, redis_url):
    with mocks(redis_url, 1) as (port,):
        assert sdk(port, "/v3/user", {"user_id": "d"})[0] == 200
        redis_server.stop(save=True)
        try:
            for _ in range(3):
                assert sdk(port, "/v3/user", {"user_id": "d"})[0] == 503
        finally:
            redis_server.start()
        usage = call(port, "GET", "/__admin/usage")[1]["journal"]
        journaled = call(port, "GET", "/__admin/requests")[1]["requests"]
        assert usage["lost"] + len(journaled) == 4 and usage["recorded"] == len(journaled)  # each one or the other


def test_a_full_journal_queue_counts_what_it_could_not_take(redis_url):
    app = create_app(store=redis_url)
    journal = app.extensions[EXTENSION_KEY].journal
    journal.flusher.queue_max_bytes = 1  # no entry fits
    client = app.test_client()
    for _ in range(5):
        assert client.post("/us/api/2021-06-15/v3/user", json={"user_id": "d"},
                           headers={"one_flow_key": "oneflow_prod_acme"}).status_code == 200
    usage = client.get("/__admin/usage").json["journal"]
    assert (usage["lost"], usage["recorded"], usage["entries"]) == (5, 0, 0)
    journal.flusher.queue_max_bytes = 1 << 20
    client.post("/us/api/2021-06-15/v3/user", json={"user_id": "d"}, headers={"one_flow_key": "oneflow_prod_acme"})
    usage = client.get("/__admin/usage").json["journal"]
    assert (usage["lost"], usage["recorded"], usage["entries"]) == (5, 1, 1)


def test_an_id_twice_in_one_call_is_stored_once_as_in_memory(app):
    events = [{"_id": "a" * 24, "name": "x", "time": 1, "plt": "a"}, {"_id": "a" * 24, "name": "y", "time": 1, "plt": "a"},
              {"_id": "b" * 24, "name": "z", "time": 1, "plt": "a"}]
    client = app.test_client()
    answer = client.post("/us/api/2021-06-15/v3/track", json={"user_id": "u", "events": events},
                         headers={"one_flow_key": "oneflow_prod_acme"}).json
    assert answer["result"] == {"stored": 2, "duplicates": 1}
    stored = client.get("/__admin/projects/oneflow_prod_acme/events").json["events"]
    assert [event["name"] for event in stored] == ["x", "z"]


def test_admin_writes_racing_through_two_instances_all_hold(redis_url):
    """Stubs and content travel in one shared document: two instances changing it at once
    must not lose either's change (each admin write holds the shared admin lock from its
    sync to its publication)."""
    from concurrent.futures import ThreadPoolExecutor

    per_instance = 15
    with mocks(redis_url, 2) as ports:
        def add_stubs(port: int) -> list[int]:
            return [call(port, "POST", "/__admin/stubs",
                         {"request": {"method": "GET", "path": f"/v3/survey/s-{port}-{n}"}, "response": {"status": 200, "json": {"n": n}}})[0]
                    for n in range(per_instance)]

        def put_content(port: int, project: str) -> int:
            doc = call(port, "GET", f"/__admin/projects/{KEY}/surveys")[1]
            doc["surveys"][0]["name"] = f"Race {project}"
            return call(port, "PUT", f"/__admin/projects/{project}/surveys", doc)[0]

        with ThreadPoolExecutor(4) as pool:
            added = list(pool.map(add_stubs, ports))
        assert all(status == 201 for statuses in added for status in statuses), added
        for port in ports:
            listed = call(port, "GET", "/__admin/stubs")[1]["stubs"]
            assert len(listed) == 2 * per_instance and len({stub["id"] for stub in listed}) == 2 * per_instance
        second = {"key": "oneflow_prod_second", "name": "Second", "region": "us", "plan": "free"}
        assert call(ports[0], "POST", "/__admin/projects", second)[0] == 201
        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(put_content, ports, [KEY, second["key"]]))
        assert statuses == [200, 200]
        for port in ports:
            for project in (KEY, second["key"]):
                assert call(port, "GET", f"/__admin/projects/{project}/surveys")[1]["surveys"][0]["name"] == f"Race {project}"
