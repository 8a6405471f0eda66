"""Four workers (``serve --workers 4 --store``) raced on the same event ids, devices and
users: each ``_id`` is stored once, each device has one analytic user, identify merges are
whole, and the counts are exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.redis.servers import KEY, call, mocks, sdk

CLIENTS = 8
DEVICES = [f"device-{i}" for i in range(12)]
EVENT_IDS = [f"{i:024x}" for i in range(40)]


def test_four_workers_racing_on_the_same_ids_and_devices(redis_url):
    with mocks(redis_url, 1, "--workers", "4") as (port,):
        def register(_: int) -> dict[str, str]:
            return {device: sdk(port, "/v3/user", {"user_id": device})[1]["result"]["analytic_user_id"] for device in DEVICES}

        def track(_: int) -> tuple[int, int]:
            stored = duplicates = 0
            for start in range(0, len(EVENT_IDS), 10):
                events = [{"_id": i, "name": "e", "time": 1, "plt": "a"} for i in EVENT_IDS[start:start + 10]]
                status, answer = sdk(port, "/v3/track", {"user_id": "u", "events": events})
                assert status == 200, answer
                stored += answer["result"]["stored"]
                duplicates += answer["result"]["duplicates"]
            return stored, duplicates

        with ThreadPoolExecutor(CLIENTS) as pool:
            seen = list(pool.map(register, range(CLIENTS)))
            counts = list(pool.map(track, range(CLIENTS)))

        assert all(answer == seen[0] for answer in seen)  # one analytic user per device, whoever asked
        users = call(port, "GET", f"/__admin/projects/{KEY}/users")[1]["users"]
        assert sorted(user["analytic_user_id"] for user in users) == sorted(seen[0].values())
        assert all(len(user["device_ids"]) == 1 for user in users)
        assert sum(stored for stored, _ in counts) == len(EVENT_IDS)
        assert sum(duplicates for _, duplicates in counts) == (CLIENTS - 1) * len(EVENT_IDS)
        assert call(port, "GET", f"/__admin/projects/{KEY}/events")[1]["total"] == len(EVENT_IDS)

        # every client identifies every device's user as the same app user at once: one user, all merged
        def identify(_: int) -> set[str]:
            found = set()
            for device in DEVICES:
                body = {"anonymous_user_id": seen[0][device], "user_id": "alice", "parameters": {"plan": "pro"}}
                status, answer = sdk(port, "/v3/identify", body)
                assert status == 200, answer
                found.add(answer["result"]["analytic_user_id"])
            return found

        with ThreadPoolExecutor(CLIENTS) as pool:
            identified = set().union(*pool.map(identify, range(CLIENTS)))
        assert len(identified) == 1
        users = call(port, "GET", f"/__admin/projects/{KEY}/users")[1]["users"]
        assert len(users) == 1 and users[0]["user_id"] == "alice" and users[0]["identified"] is True
        assert sorted(users[0]["device_ids"]) == sorted(DEVICES)
        assert sorted(users[0]["anonymous_ids"]) == sorted(seen[0].values())
        assert users[0]["parameters"] == {"plan": "pro"}
        journal = call(port, "GET", "/__admin/requests?limit=1")[1]
        assert journal["recorded"] == CLIENTS * (len(DEVICES) * 2 + len(EVENT_IDS) // 10)


def test_the_caps_hold_across_workers(redis_url):
    """--event-cap and --journal-cap count every worker's calls: the oldest go, counted."""
    with mocks(redis_url, 1, "--workers", "2", "--event-cap", "25", "--journal-cap", "10") as (port,):
        def track(client: int) -> None:
            for call_no in range(5):
                events = [{"_id": f"{client:08x}{call_no:08x}{i:08x}", "name": "e", "time": 1, "plt": "a"} for i in range(5)]
                assert sdk(port, "/v3/track", {"user_id": "u", "events": events})[0] == 200

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(track, range(4)))
        assert call(port, "GET", f"/__admin/projects/{KEY}/events")[1]["total"] == 25
        usage = call(port, "GET", "/__admin/usage")[1]
        assert (usage["events"]["stored"], usage["events"]["dropped"]) == (25, 75)
        journal = call(port, "GET", "/__admin/requests")[1]
        assert (len(journal["requests"]), journal["recorded"], journal["dropped"]) == (10, 20, 10)
        assert usage["journal"]["entries"] == 10
