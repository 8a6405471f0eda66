"""At teardown the plugin fails a test whose faults never matched a request, and, in strict
mode, a test whose requests got a 4xx from the mock that it did not assert (run with
pytester, as a user's suite would)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

HELPERS = '''
import pytest, requests

KEY = "oneflow_prod_acme"

def track(mock, body=None):
    return requests.post(mock.base("us") + "/v3/track", headers={"one_flow_key": KEY}, timeout=10,
                         json=body if body is not None else {"user_id": "0123456789abcdef01234567", "events": []})
'''


def run(pytester: pytest.Pytester, source: str, *args: str, ini: str = "") -> pytest.RunResult:
    pytester.makeini("[pytest]\n" + ini)
    pytester.makepyfile(test_user=HELPERS + source)
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "-rA", *args)


def test_a_fault_no_request_matched_fails_the_test_and_names_the_nearest_path(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
def test_typo(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/trak", status=503, times=1)
    track(one_flow_mock)

def test_used(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/track", status=503, times=1)
    assert track(one_flow_mock).status_code == 503

def test_no_requests(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/user", method="GET", latency_ms=5)

@pytest.mark.one_flow_lenient
def test_opted_out(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/trak", status=503)

def test_failed_anyway(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/trak", status=503)
    assert False, "the test's own failure"
''')
    result.assert_outcomes(passed=4, failed=1, errors=2)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_typo*",
        "*mock-1flow: unused fault fault-1: path=/v3/trak status=503 times=1 (no request matched; nearest: /v3/track)*",
    ])
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_no_requests*",
        "*unused fault fault-*: path=/v3/user method=GET latency_ms=5 (no request matched; the test made no requests)*",
    ])
    assert "teardown of test_opted_out" not in result.stdout.str()
    assert "teardown of test_failed_anyway" not in result.stdout.str()


def test_a_fault_that_matched_but_did_not_fire_by_chance_is_not_unused(pytester: pytest.Pytester) -> None:
    # probability 0.001: it matched (its path is right) but, by the seeded draw, fired on none
    run(pytester, '''
def test_rare(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/track", status=503, probability=0.001)
    assert track(one_flow_mock).status_code != 503
''').assert_outcomes(passed=1)


BAD_TRACK = '''
def bad(mock):
    return track(mock, {"events": "not a list"})
'''


def test_strict_mode_fails_a_test_whose_client_got_an_unasserted_4xx(pytester: pytest.Pytester) -> None:
    result = run(pytester, BAD_TRACK + '''
def test_unasserted(one_flow_mock):
    assert bad(one_flow_mock).status_code == 400

def test_asserted(one_flow_mock):
    bad(one_flow_mock)
    one_flow_mock.assert_requests(path="*/v3/track", status=400, count=1)

def test_expected(one_flow_mock):
    one_flow_mock.expect_errors(path="*/v3/track", error="invalid_request")
    bad(one_flow_mock)

def test_expected_elsewhere(one_flow_mock):
    one_flow_mock.expect_errors(path="*/v3/user")
    bad(one_flow_mock)

def test_a_fault_is_not_the_clients_fault(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/track", status=429)
    assert track(one_flow_mock).status_code == 429

@pytest.mark.one_flow_strict(False)
def test_opted_out(one_flow_mock):
    bad(one_flow_mock)
''', ini="one_flow_strict = true\n")
    result.assert_outcomes(passed=6, errors=2)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_unasserted*",
        "*mock-1flow: strict: 1 request(s) got a 4xx the test did not assert*",
        "*POST /us/api/2021-06-15/v3/track -> 400 invalid_request: Invalid request body*",
    ])
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_expected_elsewhere*"])


def test_strict_is_off_unless_asked_and_the_marker_turns_it_on(pytester: pytest.Pytester) -> None:
    result = run(pytester, BAD_TRACK + '''
def test_lenient_by_default(one_flow_mock):
    bad(one_flow_mock)

@pytest.mark.one_flow_strict
def test_strict(one_flow_mock):
    bad(one_flow_mock)
''')
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_strict*", "*strict: 1 request(s) got a 4xx*"])


def test_a_project_of_its_own_is_checked_too(pytester: pytest.Pytester) -> None:
    result = run(pytester, '''
def test_project_typo(one_flow_project):
    one_flow_project.mock.add_fault(path="/v3/user", region="eu", status=503)
    requests.post(one_flow_project.base + "/v3/user", json={"user_id": "d"}, headers=one_flow_project.headers, timeout=10)
''')
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unused fault fault-1: path=/v3/user project=oneflow_test_* region=eu status=503 "
                                 "(no request matched; nearest: /v3/user)*"])
