"""One shared ``mock-1flow serve``, many tests at once: with ``--one-flow-url`` each test gets
a project of its own (``one_flow_project``) and sees only that project's events, requests
and faults, even with pytest-xdist workers writing at the same time."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from mock_1flow.testing import ServedMock

pytest_plugins = ["pytester"]

WORKERS = 4
TESTS_PER_FILE = 3
# pytest plugins the suite does not use: each worker would import them (5x the run's time on 2 busy cores)
UNUSED_PLUGINS = ("schemathesis", "hypothesispytest", "pact", "anyio", "faker")

# Each file runs on one worker (--dist loadfile); its first test waits until every worker
# holds a project, so the four write at the same time.
TEST_FILE = '''
import uuid

import requests

WORKERS = {workers}


def all_workers_in(project):
    deadline = __import__("time").monotonic() + 120
    while __import__("time").monotonic() < deadline:
        keys = [p["key"] for p in project.mock.admin("projects")["projects"]]
        if sum(key.startswith("oneflow_test_") for key in keys) >= WORKERS:
            return
        __import__("time").sleep(0.05)
    raise AssertionError("the other workers never created their projects")


def write(project, calls, events_per_call):
    user = requests.post(project.base + "/v3/user", json={{"user_id": "device-1"}}, headers=project.headers, timeout=30)
    analytic_id = user.json()["result"]["analytic_user_id"]
    statuses = []
    for _ in range(calls):
        events = [{{"name": "Order Completed", "time": 1764000000, "plt": "w", "_id": uuid.uuid4().hex[:24]}}
                  for _ in range(events_per_call)]
        reply = requests.post(project.base + "/v3/track", json={{"user_id": analytic_id, "events": events}},
                              headers=project.headers, timeout=30)
        statuses.append(reply.status_code)
        with open("track-calls.txt", "a", encoding="utf-8") as log:  # when each call was answered, by project
            log.write(f"{{__import__('time').time()!r}} {{project.key}}" + chr(10))
    return statuses


def check(project, calls, events_per_call):
    # a fault of this project's: only its own first track call gets it, whatever the others send
    project.mock.add_fault(path="/v3/track", status=503, times=1)
    statuses = write(project, calls + 1, events_per_call)
    assert statuses == [503] + [200] * calls
    project.mock.assert_tracked(name="Order Completed", count=calls * events_per_call, timeout=5)
    project.mock.assert_requests(path="*/v3/track", count=calls, status=200)
    project.mock.assert_requests(path="*/v3/track", count=1, status=503)
    assert project.mock.count(path="*/v3/*") == calls + 2
    assert {{e["project"] for e in project.mock.find()}} == {{project.key}}
    assert [f["hits"] for f in project.mock.faults()] == [1]
{tests}
'''
TEST = '''

def test_{index}(one_flow_project):
    {wait}check(one_flow_project, calls={calls}, events_per_call={per_call})
'''


def write_suite(folder: Path) -> int:
    for worker in range(WORKERS):
        tests = "".join(
            TEST.format(index=index, calls=2 + worker + index, per_call=1 + (worker + index) % 3,
                        wait="all_workers_in(one_flow_project)\n    " if index == 0 else "")
            for index in range(TESTS_PER_FILE))
        (folder / f"test_worker_{worker}.py").write_text(TEST_FILE.format(workers=WORKERS, tests=tests), encoding="utf-8")
    return WORKERS * TESTS_PER_FILE


def test_xdist_workers_on_one_shared_mock_see_only_their_own_project(tmp_path: Path) -> None:
    expected = write_suite(tmp_path)
    with ServedMock(cwd=tmp_path) as mock:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *(f"-pno:{name}" for name in UNUSED_PLUGINS), "-n", str(WORKERS), "--dist", "loadfile",
             "--one-flow-url", mock.url, "-q"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        took = time.monotonic() - started
        shown = f"{result.stdout}\n(took {took:.1f} s)"
        assert result.returncode == 0, shown
        assert f"{expected} passed" in result.stdout, shown
        # each test's project, faults included, is gone; the shared mock's own projects stay
        keys = [p["key"] for p in mock.admin("projects")["projects"]]
        assert keys and not [k for k in keys if k.startswith("oneflow_test_")], keys
        assert mock.faults() == []
        # the workers' track calls interleaved (they wrote at the same time); read from the tests'
        # own log, since each project's reset at teardown forgets its journal entries
        assert mock.requests(path="*/v3/track") == []
        answered = sorted(line.split() for line in (tmp_path / "track-calls.txt").read_text().splitlines())
        projects = [key for _, key in sorted((float(at), key) for at, key in answered)]
        switches = sum(1 for a, b in zip(projects, projects[1:]) if a != b)
        assert len(set(projects)) == expected and switches > expected, projects


def test_shared_mode_in_process(pytester: pytest.Pytester) -> None:
    """--one-flow-url over the ini's one_flow_url; one_flow_mock is not reset there; the
    project's region and plan come from the ini; the session server is not started."""
    with ServedMock() as mock:
        requests.post(mock.base("us") + "/v3/user", json={"user_id": "someone-else"},
                      headers={"one_flow_key": "oneflow_prod_acme"}, timeout=10).raise_for_status()
        pytester.makeini("[pytest]\none_flow_url = http://127.0.0.1:9\none_flow_project_region = eu\n"
                         "one_flow_project_plan = enterprise\n")
        pytester.makepyfile(test_shared=f'''
            import pytest, requests

            def test_project(one_flow_project, one_flow_mock):
                assert one_flow_project.url == one_flow_mock.url == "{mock.url}"
                assert one_flow_project.base == "{mock.url}/eu/api/2021-06-15"
                assert one_flow_project.mock.admin("projects/" + one_flow_project.key)["project"]["region"] == "eu"
                assert one_flow_mock.count(path="*/v3/user", project="oneflow_prod_acme") == 1  # not reset
                assert one_flow_project.mock.requests() == []

            def test_no_own_server(request):
                with pytest.raises(pytest.UsageError, match="use one_flow_project"):
                    request.getfixturevalue("one_flow_mock_server")
        ''')
        result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "--one-flow-url", mock.url)
        result.assert_outcomes(passed=2)


def test_a_project_the_shared_mock_refuses_errors_with_the_reason(pytester: pytest.Pytester) -> None:
    with ServedMock() as mock:
        pytester.makeini(f"[pytest]\none_flow_url = {mock.url}\none_flow_project_plan = platinum\n")
        pytester.makepyfile(test_x="def test_x(one_flow_project):\n    pass\n")
        result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*mock-1flow: cannot create project oneflow_test_* (us, plan platinum) on http://127.0.0.1:*"
                                     "Unknown plan 'platinum'*"])
