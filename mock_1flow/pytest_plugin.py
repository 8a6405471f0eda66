"""pytest plugin (entry point ``pytest11``): a running 1Flow mock for your tests.

Fixtures:

- ``one_flow_mock`` (function): a mock reset before each test; its URL, journal, state
  and WireMock-style assertions (:class:`MockClient`).
- ``one_flow_project`` (function): a fresh project of this test's own (:class:`OneFlowProject`),
  deleted after it; with ``--one-flow-url`` on a shared ``mock-1flow serve``.
- ``one_flow_mock_server`` (session): the plugin's own :class:`~mock_1flow.testing.MockServer`.
- ``segment_events`` (function): a seeded Segment event factory.

Configured in the ini file (``pytest.ini``, ``[tool.pytest.ini_options]``)::

    one_flow_projects = tests/projects.yaml     # relative to the ini file
    one_flow_error_profile = backend
    one_flow_journal_cap = 500
    one_flow_url = http://mock.internal:8080    # a shared mock instead of the plugin's own
    one_flow_project_region = eu
    one_flow_project_plan = enterprise
    one_flow_strict = true                      # unasserted 4xx answers fail the test

and per test with ``@pytest.mark.one_flow_mock(error_profile="docs", faults=[...])``,
which gives that test its own mock built with these options over the ini's.

At teardown a test fails (an error at teardown) when a fault or stub of its own never
matched a request, and, in strict mode, when the mock answered one of its requests with a
4xx that the test did not assert (:mod:`mock_1flow.teardown_checks`).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Iterator

import pytest

from .teardown_checks import Expectations, strict_failures, unused_failures
from .testing import AdminClient, MockError, MockServer

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

MARKER = "one_flow_mock"
STRICT_MARKER = "one_flow_strict"
LENIENT_MARKER = "one_flow_lenient"
INI_OPTIONS = {
    "one_flow_projects": ("paths", "Projects file (YAML) for the mock, relative to the ini file."),
    "one_flow_error_profile": ("string", "Error profile of the mock: docs (404 key errors) or backend (401)."),
    "one_flow_journal_cap": ("string", "Most journal entries the mock keeps."),
    "one_flow_url": ("string", "URL of a running mock-1flow serve to share instead of starting one (--one-flow-url)."),
    "one_flow_project_region": ("string", "Region of the one_flow_project fixture's projects (default us)."),
    "one_flow_project_plan": ("string", "Plan of the one_flow_project fixture's projects (default enterprise)."),
    "one_flow_strict": ("bool", "Fail a test whose requests got a 4xx from the mock that it did not assert."),
}
PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
EXPECTATIONS = pytest.StashKey[Expectations]()


class MockClient(AdminClient):
    """The ``one_flow_mock`` fixture (and ``one_flow_project.mock``): the helpers of
    :class:`AdminClient` on a mock, bound to ``project`` when given, and what the test
    asserted, for the strict-mode check at teardown."""

    def __init__(self, url: "str | MockServer", project: str | None = None, server: MockServer | None = None,
                 expectations: Expectations | None = None) -> None:
        if not isinstance(url, str):  # MockClient(server), as before the shared-mock mode
            server, url = server or url, url.url
        self.url = url
        self.project = project
        self.server = server
        self.expectations = expectations if expectations is not None else Expectations()

    def assert_requests(self, path: str | None = None, count: int | None = None, timeout: float = 0,
                        **filters: Any) -> list[dict[str, Any]]:
        found = super().assert_requests(path, count, timeout, **filters)
        if filters.get("status") is not None or filters.get("error") is not None:
            self.expectations.asserted.update(entry["id"] for entry in found)
        return found

    def expect_errors(self, path: str | None = None, status: int | None = None, error: str | None = None) -> None:
        """Declare 4xx answers this test provokes on purpose (all of them, with no argument),
        so strict mode does not fail it; ``path`` is a glob on the full path."""
        self.expectations.expected.append({"path": path, "status": status, "error": error})


@dataclass
class OneFlowProject:
    """The ``one_flow_project`` fixture: a project of this test alone, on the shared mock
    (``--one-flow-url``) or the plugin's own. ``mock`` is bound to it: its journal
    queries, ``assert_*``, faults and reset see this project only."""

    key: str
    region: str
    plan: str
    mock: MockClient
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"one_flow_key": self.key}

    @property
    def url(self) -> str:
        return self.mock.url

    @property
    def base(self) -> str:
        """The SDK API base of the project's region (``{url}/{region}/api/2021-06-15``)."""
        return self.mock.base(self.region)

    @property
    def http_api_base(self) -> str:
        """1Flow's HTTP API of the project's region (``{url}/{region}/v1``, ``api_key`` header)."""
        return self.mock.http_api_base(self.region)


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (kind, help_text) in INI_OPTIONS.items():
        parser.addini(name, help_text, type=kind)  # type: ignore[arg-type]
    parser.getgroup("mock-1flow").addoption(
        "--one-flow-url", dest="one_flow_url", default=None, metavar="URL",
        help="Use this running mock-1flow serve (shared between tests and workers) instead of starting one.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): give this test its own 1Flow mock, built with these options "
        "(projects_file, error_profile, journal_cap, faults, host_regions) over the ini's.",
    )
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}(on=True): fail this test at teardown when the mock answered one of its requests "
        "with a 4xx it did not assert (assert_requests(status=...) or expect_errors()); False turns the ini's off.",
    )
    config.addinivalue_line(
        "markers",
        f"{LENIENT_MARKER}: skip mock-1flow's teardown checks (unused faults and stubs, strict mode) for this test.",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report, so the teardown checks stay quiet after a failed test."""
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


def shared_url(config: pytest.Config) -> str | None:
    """The shared mock's URL (``--one-flow-url`` over the ini's ``one_flow_url``), or None."""
    url = config.getoption("one_flow_url") or config.getini("one_flow_url")
    return str(url).rstrip("/") if url else None


def mock_options(config: pytest.Config) -> dict[str, Any]:
    """The mock's options from the ini file; a value the mock cannot use stops the run
    with the reason (not a failure in every test)."""
    options: dict[str, Any] = {}
    projects = config.getini("one_flow_projects")
    if projects:
        options["projects_file"] = Path(projects[0])
    if config.getini("one_flow_error_profile"):
        options["error_profile"] = config.getini("one_flow_error_profile")
    cap = config.getini("one_flow_journal_cap")
    if cap:
        try:
            options["journal_cap"] = int(cap)
        except ValueError:
            raise pytest.UsageError(f"one_flow_journal_cap must be a whole number, not {cap!r}") from None
    return options


def start_mock(**options: Any) -> MockServer:
    """A started mock; bad options (unknown profile, a broken projects file) are a usage error."""
    try:
        return MockServer(**options).start()
    except (ValueError, TypeError, OSError) as exc:
        raise pytest.UsageError(f"mock-1flow cannot start with {options}: {exc}") from None


def _expectations(request: pytest.FixtureRequest) -> Expectations:
    """One per test, shared by its clients (``one_flow_mock`` and ``one_flow_project.mock``)."""
    expectations: Expectations = request.node.stash.setdefault(EXPECTATIONS, Expectations())
    return expectations


def _strict(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker(STRICT_MARKER)
    if marker is not None:
        return bool(marker.args[0]) if marker.args else bool(marker.kwargs.get("on", True))
    return bool(request.config.getini("one_flow_strict"))


def check_at_teardown(request: pytest.FixtureRequest, client: MockClient) -> None:
    """Fail the test (at teardown) for faults or stubs of its own that never matched and, in
    strict mode, for 4xx answers it did not assert. Quiet when the test already failed or
    is marked ``one_flow_lenient``."""
    if request.node.get_closest_marker(LENIENT_MARKER) is not None:
        return
    reports = request.node.stash.get(PHASE_REPORTS, {})
    if any(report.failed or report.skipped for report in reports.values()):
        return
    problems = unused_failures(client)
    if _strict(request):
        problems += strict_failures(client, client.expectations)
    if problems:
        pytest.fail("mock-1flow: " + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def one_flow_mock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The plugin's own mock for the session (not with ``--one-flow-url``: use ``one_flow_project``)."""
    url = shared_url(pytestconfig)
    if url:
        raise pytest.UsageError(f"one_flow_mock_server is the plugin's own mock; with --one-flow-url {url} "
                                "use one_flow_project (or one_flow_mock) instead")
    server = start_mock(**mock_options(pytestconfig))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def one_flow_mock(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Iterator[MockClient]:
    """A mock reset before the test (or one of its own, with the ``one_flow_mock`` marker).
    On a shared mock (``--one-flow-url``) nothing is reset: the other tests' state is there too."""
    expectations = _expectations(request)
    marker = request.node.get_closest_marker(MARKER)
    url = shared_url(pytestconfig)
    if marker is None and url:
        yield MockClient(url, expectations=expectations)
        return
    if marker is None:
        server = request.getfixturevalue("one_flow_mock_server")
        server.reset()
        client = MockClient(server.url, server=server, expectations=expectations)
        yield client
        check_at_teardown(request, client)
        return
    own = start_mock(**{**mock_options(pytestconfig), **marker.kwargs})
    try:
        client = MockClient(own.url, server=own, expectations=expectations)
        yield client
        check_at_teardown(request, client)
    finally:
        own.stop()


@pytest.fixture
def one_flow_project(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Iterator[OneFlowProject]:
    """A project of this test alone: a fresh key in the ini's region and plan, created
    before the test and deleted after it, with its faults. On the plugin's own mock the
    ``one_flow_mock`` checks cover it; on a shared one its own checks run here."""
    region = pytestconfig.getini("one_flow_project_region") or "us"
    plan = pytestconfig.getini("one_flow_project_plan") or "enterprise"
    key = f"oneflow_test_{uuid.uuid4().hex[:16]}"
    url = shared_url(pytestconfig)
    if url and request.node.get_closest_marker(MARKER) is None:
        local = None
    else:
        local = request.getfixturevalue("one_flow_mock")
        url = local.url
    assert url is not None
    client = MockClient(url, project=key, expectations=_expectations(request))
    try:
        client.add_project(key, f"test {request.node.name}"[:200], region=region, plan=plan)
    except (MockError, OSError) as exc:
        pytest.fail(f"mock-1flow: cannot create project {key} ({region}, plan {plan}) on {url}: {exc}", pytrace=False)
    if local is not None:  # the plugin's own mock: one_flow_mock checks the test and resets before the next
        yield OneFlowProject(key, region, plan, client)
        return
    try:
        yield OneFlowProject(key, region, plan, client)
        check_at_teardown(request, client)
    finally:
        _forget(client)


def _forget(client: MockClient) -> None:
    """Remove a test's project from a shared mock: its journal entries when the mock can
    forget them (``POST /__admin/projects/{key}/reset``), its faults, then the project."""
    try:
        client.reset()
    except MockError as error:
        if error.code != "unknown_endpoint":  # a mock without per-project reset
            raise
    client.clear_faults()
    client.delete_project(client._key(None))


@pytest.fixture
def segment_events() -> Callable[..., list[dict[str, Any]]]:
    """``segment_events(count, seed=0, **options)`` -> list of Segment events."""
    from .events import generate_events

    return generate_events
