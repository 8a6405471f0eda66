"""Journal reads: the filters run on raw rows and only returned entries are decoded, with the
same answers (order, totals) as filtering every decoded entry; ``since_id`` on the listing
returns only newer entries, so a poller receives each entry once."""

from __future__ import annotations

import fnmatch
import random

import pytest

from mock_1flow.server import journal as journal_module
from mock_1flow.server.journal import Criteria, Journal, has_fault
from tests.conftest import US_KEY, api

PATHS = ("/us/api/2021-06-15/v3/user", "/us/api/2021-06-15/v3/track", "/eu/api/2021-06-15/v3/survey", "/v1/batch")


def filled(n: int, cap: int = 1000, seed: int = 7) -> tuple[Journal, list[dict]]:
    """A journal of ``n`` varied entries (oldest dropped past ``cap``) and what each was."""
    rng = random.Random(seed)
    journal, made = Journal(cap=cap), []
    for i in range(n):
        entry = {"method": rng.choice(("GET", "POST")), "path": rng.choice(PATHS), "region": rng.choice(("us", "eu", None)),
                 "project": rng.choice((US_KEY, "oneflow_prod_globex", None)), "status": rng.choice((200, 400, 404, 503)),
                 "error": rng.choice((None, "missing_key")), "fault": rng.choice((None, None, "fault-1")),
                 "body": rng.choice((None, b'{"user_id": "d%d"}' % i)), "headers": (("X-Trace", f"run-{i % 3}"),)}
        journal.record(started=1764000000.0 + i, duration_ms=0.1, query="", response=b"{}", method=entry["method"],
                       path=entry["path"], region=entry["region"], project=entry["project"], status=entry["status"],
                       error=entry["error"], fault=entry["fault"], body=entry["body"], request_headers=entry["headers"])
        made.append({**entry, "id": i + 1})
    return journal, made[-cap:]


def expected(made: list[dict], c: Criteria) -> list[int]:
    """The ids the old read (decode everything, then filter) returned, oldest first."""
    return [e["id"] for e in made
            if (c.method is None or e["method"] == c.method.upper()) and (c.path is None or fnmatch.fnmatchcase(e["path"], c.path))
            and (c.region is None or e["region"] == c.region) and (c.project is None or e["project"] == c.project)
            and (c.status is None or e["status"] == c.status) and (c.error is None or e["error"] == c.error)
            and (c.fault is None or e["fault"] == c.fault) and (c.since_id is None or e["id"] > c.since_id)
            and (c.body_contains is None or (e["body"] is not None and c.body_contains.encode() in e["body"]))
            and (c.headers is None or all(fnmatch.fnmatchcase(dict((k.lower(), v) for k, v in e["headers"]).get(k.lower(), "\0"), v)
                                          for k, v in c.headers.items()))]


CRITERIA = [
    Criteria(), Criteria(method="get"), Criteria(path="*/v3/*"), Criteria(region="eu", status=200),
    Criteria(project=US_KEY, method="POST", path="*/v3/track"), Criteria(error="missing_key", fault="fault-1"),
    Criteria(body_contains='"d1'), Criteria(headers={"x-trace": "run-[12]"}), Criteria(since_id=1400),
    Criteria(since_id=1400, status=404), Criteria(since_id=0), Criteria(since_id=5000), Criteria(status=599),
]


@pytest.mark.parametrize("criteria", CRITERIA)
def test_reads_and_counts_answer_as_filtering_every_entry(criteria: Criteria) -> None:
    journal, made = filled(1500)  # 500 dropped: ids start at 501
    want = expected(made, criteria)
    for limit in (None, 1, 20, 10_000):
        entries, total = journal.find(criteria, limit)
        assert total == len(want) and [e["id"] for e in entries] == (want if limit is None else want[-limit:])
    assert journal.count(criteria) == len(want)
    newest, total = journal.select(criteria, 5)
    assert [e.id for e in newest] == want[::-1][:5] and total == len(want)


def test_load_more_pages_back_by_id_without_gaps() -> None:
    journal, made = filled(300)
    seen, before = [], None
    while True:
        page, _ = journal.select(Criteria(status=200), 7, before_id=before)
        if not page:
            break
        seen += [e.id for e in page]
        before = page[-1].id
    assert seen == expected(made, Criteria(status=200))[::-1]
    faulted, total = journal.select(Criteria(), None, where=has_fault)
    assert [e.id for e in faulted][::-1] == [e["id"] for e in made if e["fault"]] and total == len(faulted)


def test_counting_decodes_no_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    journal, made = filled(200)
    monkeypatch.setattr(journal_module, "_entry", lambda row: pytest.fail("an entry was decoded to count it"))
    assert journal.count(Criteria(path="*/v3/*", headers={"X-Trace": "run-1"})) == len(expected(made, Criteria(path="*/v3/*", headers={"X-Trace": "run-1"})))
    assert journal.count() == 200
    assert journal.select(Criteria(status=404), 0)[1] == len(expected(made, Criteria(status=404)))


def test_the_listing_takes_since_id_and_returns_only_newer_entries(client) -> None:
    for n in range(5):
        client.post(api("us", "/v3/user"), json={"user_id": f"d{n}"}, headers={"one_flow_key": US_KEY})
    first = client.get("/__admin/requests?limit=2").json
    last_id = first["requests"][-1]["id"]
    assert client.get(f"/__admin/requests?since_id={last_id}").json["requests"] == []
    client.post(api("us", "/v3/user"), json={"user_id": "d5"}, headers={"one_flow_key": US_KEY})
    newer = client.get(f"/__admin/requests?since_id={last_id}").json
    assert [r["body"]["user_id"] for r in newer["requests"]] == ["d5"] and newer["total"] == 1
    assert client.get(f"/__admin/requests?since_id={last_id - 2}&limit=1").json["total"] == 3
    bad = client.get("/__admin/requests?since_id=-1")
    assert bad.status_code == 400 and bad.json["pointer"] == "/since_id"


def test_the_listing_copies_known_json_bodies_as_they_are_and_shows_the_same_values(app):
    """Bodies the mock parsed (a valid request) or wrote (its answers) go into the admin
    answer as their bytes, unparsed; the values a reader gets are those of a full decode,
    for bodies kept exact (integers past 64 bits), malformed bodies (text) and stubs' text."""
    client = app.test_client()
    track = '{"user_id": "d1", "events": [{"_id": "%s", "name": "n", "time": 1, "plt": "i", "parameters": {"big": %s}}]}'
    headers = {"one_flow_key": US_KEY, "Content-Type": "application/json"}
    assert client.post(api("us", "/v3/track"), data=track % ("a" * 24, "1" * 30), headers=headers).status_code == 200
    assert client.post(api("us", "/v3/track"), data=track % ("b" * 24, "7"), headers=headers).status_code == 200
    assert client.post(api("us", "/v3/track"), data='{"user_id": "d1", "events": [', headers=headers).status_code == 400
    stub = {"request": {"method": "GET", "path": "/v3/survey"}, "response": {"status": 200, "body": "not json {"}}
    assert client.post("/__admin/stubs", json=stub).status_code == 201
    assert client.get(api("us", "/v3/survey"), headers={"one_flow_key": US_KEY}).data == b"not json {"
    journal = app.extensions["mock_1flow"].journal
    rows = list(journal._entries)
    assert [(row[-2], row[-1]) for row in rows] == [(True, True), (True, True), (False, True), (False, False)]
    decoded, _ = journal.find()
    for listed in (client.get("/__admin/requests").json["requests"],
                   client.post("/__admin/requests/find", json={}).json["requests"]):
        assert [(e["body"], e["response"]) for e in listed] == [(e["body"], e["response"]) for e in decoded]
    assert decoded[0]["body"]["events"][0]["parameters"]["big"] == int("1" * 30)  # exact, through the raw copy too
    assert decoded[2]["body"] == '{"user_id": "d1", "events": [' and decoded[3]["response"] == "not json {"
