"""pytest plugin (entry point ``pytest11``): a running 1Flow mock for your tests.

Fixtures:

- ``one_flow_mock`` (function): a mock reset before each test; its URL, journal, state
  and WireMock-style assertions (:class:`~mock_1flow.testing.AdminClient`).
- ``one_flow_mock_server`` (session): the shared :class:`~mock_1flow.testing.MockServer`.
- ``segment_events`` (function): a seeded Segment event factory.

Configured in the ini file (``pytest.ini``, ``[tool.pytest.ini_options]``)::

    one_flow_projects = tests/projects.yaml     # relative to the ini file
    one_flow_error_profile = backend
    one_flow_journal_cap = 500

and per test with ``@pytest.mark.one_flow_mock(error_profile="docs", faults=[...])``,
which gives that test its own mock built with these options over the ini's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from .testing import AdminClient, MockServer

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

MARKER = "one_flow_mock"
INI_OPTIONS = {
    "one_flow_projects": ("paths", "Projects file (YAML) for the mock, relative to the ini file."),
    "one_flow_error_profile": ("string", "Error profile of the mock: docs (404 key errors) or backend (401)."),
    "one_flow_journal_cap": ("string", "Most journal entries the mock keeps."),
}


class MockClient(AdminClient):
    """The ``one_flow_mock`` fixture: the helpers of :class:`AdminClient` on ``server``."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.url = server.url


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (kind, help_text) in INI_OPTIONS.items():
        parser.addini(name, help_text, type=kind)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): give this test its own 1Flow mock, built with these options "
        "(projects_file, error_profile, journal_cap, faults, host_regions) over the ini's.",
    )


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


@pytest.fixture(scope="session")
def one_flow_mock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    server = start_mock(**mock_options(pytestconfig))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def one_flow_mock(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Iterator[MockClient]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        server = request.getfixturevalue("one_flow_mock_server")
        server.reset()
        yield MockClient(server)
        return
    own = start_mock(**{**mock_options(pytestconfig), **marker.kwargs})
    try:
        yield MockClient(own)
    finally:
        own.stop()


@pytest.fixture
def segment_events() -> Any:
    """``segment_events(count, seed=0, **options)`` -> list of Segment events."""
    from .events import generate_events

    return generate_events
