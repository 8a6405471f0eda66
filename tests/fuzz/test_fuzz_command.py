"""``mock-1flow fuzz`` runs schemathesis (all phases, stateful included) against a running mock."""

from __future__ import annotations

from click.testing import CliRunner

from mock_1flow.cli.fuzz import fuzz
from mock_1flow.fuzzing.runner import keys_from_mock
from mock_1flow.testing import MockServer


def test_keys_come_from_the_loaded_projects():
    with MockServer() as mock:
        keys = keys_from_mock(mock.url)
    assert keys == {"us": "oneflow_prod_acme", "eu": "oneflow_prod_globex"}


def run(url, tmp_path, *extra):
    junit = tmp_path / "junit.xml"
    args = ["--url", url, "--seed", "7", "--max-examples", "5", "--junit", str(junit), *extra]
    return CliRunner().invoke(fuzz, args), junit


def test_fuzz_passes_on_the_mock_and_writes_junit(tmp_path):
    with MockServer() as mock:
        result, junit = run(mock.url, tmp_path)
        stateful_calls = [r for r in mock.admin("requests")["requests"] if r["path"].endswith("/v3/identify")]
    assert result.exit_code == 0, result.output
    assert junit.exists() and "<testsuite" in junit.read_text()
    assert stateful_calls, "the stateful phase should follow the addUser -> identifyUser link"


def test_fuzz_fails_when_the_server_breaks_its_spec(tmp_path, monkeypatch):
    from mock_1flow.server.routes import sdk

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(sdk, "check_region", broken)
    with MockServer() as mock:
        result, junit = run(mock.url, tmp_path, "--phases", "examples,coverage,fuzzing")
    assert result.exit_code != 0
    assert "failure" in junit.read_text()


def test_unreachable_url_without_keys_is_a_clear_error(tmp_path):
    result, _ = run("http://127.0.0.1:9", tmp_path)
    assert result.exit_code == 1 and "nothing answers at http://127.0.0.1:9" in result.output
    assert "--region-key" not in result.output  # keys would not help: nothing listens
