"""Run a mock on a real loopback socket in a background thread (for tests and tools).

The Flask app is served by werkzeug's threaded server (told to keep headers with
underscores); the app object stays reachable so a test can look at its runtime directly.
``mock-1flow serve`` uses granian instead.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import requests
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from . import content
from .app import create_app
from .server.config import ADMIN_WRITE_HEADER
from .server import wsgi
from .server.runtime import Runtime, current_runtime


class UnderscoreHeadersHandler(WSGIRequestHandler):
    """werkzeug's server drops headers whose names have underscores (as nginx and
    gunicorn do); 1Flow's key travels in ``one_flow_key``, so keep them."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                environ["HTTP_" + key.upper().replace("-", "_")] = value.replace("\r\n", "")
        # the names as sent, so the journal shows them and 'one-flow-key' is not taken for 'one_flow_key'
        environ[wsgi.RAW_HEADERS] = tuple(self.headers.items())
        wsgi.exact_key_headers(environ, environ[wsgi.RAW_HEADERS])
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: the journal (``/__admin/requests``, ``mock-1flow journal``) has every request."""


class MockError(Exception):
    """The mock refused an admin call; carries its status, error code and message."""

    def __init__(self, method: str, url: str, status: int, code: str | None, message: str) -> None:
        super().__init__(f"{method} {url}: HTTP {status} {code or ''}: {message}".replace("  ", " "))
        self.status, self.code, self.message = status, code, message


def _names(items: list[dict[str, Any]], field: str) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[str(item.get(field))] = counts.get(str(item.get(field)), 0) + 1
    return ", ".join(f"{name} x{count}" for name, count in counts.items()) or "nothing"


T = TypeVar("T")
FIRST_POLL = 0.01  # seconds; doubled after each miss up to LAST_POLL
LAST_POLL = 0.25


def eventually(check: Callable[[], T], timeout: float = 0) -> T:
    """``check()``'s result once it stops raising ``AssertionError``, polling for up to
    ``timeout`` seconds (short intervals first, then longer ones); after that the last
    failure is raised, saying how long it waited. ``timeout=0`` checks once."""
    deadline = time.monotonic() + timeout
    delay = FIRST_POLL
    while True:
        try:
            return check()
        except AssertionError as error:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if timeout > 0:
                    raise AssertionError(f"{error} (still so after waiting {timeout:g} s)") from None
                raise
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, LAST_POLL)


class StubBuilder:
    """What :meth:`AdminClient.stub` returns: one ``respond_with_*`` call adds the stub."""

    def __init__(self, client: "AdminClient", request: dict[str, Any], options: dict[str, Any]) -> None:
        self.client, self.request, self.options = client, request, options

    def _respond(self, response: dict[str, Any], headers: dict[str, str] | None) -> dict[str, Any]:
        if headers:
            response["headers"] = headers
        return self.client.add_stub(response, self.request, **self.options)

    def respond_with_json(self, json: Any, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return self._respond({"status": status, "json": json}, headers)

    def respond_with_body(self, body: str, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Text as the body (a malformed document, HTML from a proxy...)."""
        return self._respond({"status": status, "body": body}, headers)

    def respond_with_status(self, status: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return self._respond({"status": status}, headers)

    def drop_connection(self) -> dict[str, Any]:
        return self._respond({"drop_connection": True}, None)


class AdminClient:
    """What a test needs from a running mock (``self.url``): its journal and state through
    the admin API, and WireMock-style assertions whose failures show what was received.

    Bound to a project (``project`` set, as the plugin's ``one_flow_project`` client is),
    journal queries and assertions see only that project's requests, faults are added for
    it, ``reset`` forgets only it, and the ``key`` arguments default to it: tests sharing
    one mock do not see each other.
    """

    url: str
    project: str | None = None

    def base(self, region: str = "us") -> str:
        """The API base of ``region``, e.g. ``http://127.0.0.1:PORT/us/api/2021-06-15``."""
        return f"{self.url}/{region}/api/2021-06-15"

    def http_api_base(self, region: str = "us") -> str:
        """1Flow's HTTP API of ``region`` in path form (``api_key`` header): ``{url}/{region}/v1``."""
        return f"{self.url}/{region}/v1"

    def admin(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        """Call the admin API and return its JSON; a refusal raises :class:`MockError`
        with the mock's own message."""
        url = f"{self.url}/__admin/{path.lstrip('/')}"
        headers = {ADMIN_WRITE_HEADER: "1", **kwargs.pop("headers", {})}
        response = requests.request(method, url, timeout=10, headers=headers, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else response.text[:300]
            code = body.get("error") if isinstance(body, dict) else None
            raise MockError(method, url, response.status_code, code, message or response.reason)
        return body

    def _key(self, key: str | None) -> str:
        if key is not None:
            return key
        if self.project is None:
            raise TypeError("pass the project key: this client is not bound to a project")
        return self.project

    def _scoped(self, filters: dict[str, Any]) -> dict[str, Any]:
        """``filters`` without the unset ones, limited to the bound project."""
        if self.project is not None and filters.get("project") is None:
            filters = {**filters, "project": self.project}
        return {k: v for k, v in filters.items() if v is not None}

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries, oldest first; filters: method, path (glob), region, project, status, limit."""
        entries: list[dict[str, Any]] = self.admin("requests", params=self._scoped(filters))["requests"]
        return entries

    def find(self, **criteria: Any) -> list[dict[str, Any]]:
        """Journal entries matching ``criteria`` (``POST /__admin/requests/find``: method,
        path, region, project, status, error, fault, headers, body_contains, since_id, limit)."""
        entries: list[dict[str, Any]] = self.admin("requests/find", "POST", json=self._scoped(criteria))["requests"]
        return entries

    def web_sdk_calls(self, key: str | None = None) -> list[dict[str, Any]]:
        """The ``_1flow(method, ...args)`` calls pages made through the web SDK double, oldest
        first, as ``{method, args, error, project}`` (``error``: why the double did not send it)."""
        entries = self.requests(path="/js/1flow/calls", method="POST", project=key)
        return [{"method": e["body"]["method"], "args": e["body"]["args"], "error": e["error"], "project": e["project"]}
                for e in entries if e["status"] == 200]

    def count(self, **criteria: Any) -> int:
        """How many journal entries match (``GET /__admin/requests/count``; criteria as :meth:`find`, no headers)."""
        return int(self.admin("requests/count", params=self._scoped(criteria))["count"])

    def users(self, key: str | None = None) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = self.admin(f"projects/{self._key(key)}/users")["users"]
        return users

    def events(self, key: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Events a project stored; filters: user_id, name."""
        params = {k: v for k, v in filters.items() if v is not None}
        events: list[dict[str, Any]] = self.admin(f"projects/{self._key(key)}/events", params=params)["events"]
        return events

    def responses(self, key: str | None = None) -> list[dict[str, Any]]:
        responses: list[dict[str, Any]] = self.admin(f"projects/{self._key(key)}/responses")["responses"]
        return responses

    def add_project(self, key: str, name: str | None = None, region: str = "us", plan: str = "enterprise") -> dict[str, Any]:
        body = {"key": key, "name": name or key, "region": region, "plan": plan}
        project: dict[str, Any] = self.admin("projects", "POST", json=body)["project"]
        return project

    def delete_project(self, key: str) -> None:
        self.admin(f"projects/{key}", "DELETE")

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """``add_fault(path="/v3/track", status=503, times=1)``; fields as ``POST /__admin/faults``
        (a bound client adds ``project``)."""
        fault: dict[str, Any] = self.admin("faults", "POST", json=self._scoped(spec))["fault"]
        return fault

    def faults(self) -> list[dict[str, Any]]:
        """The faults in force with their counters (``hits``: fired, ``seen``: matched); a
        bound client lists its project's only."""
        faults: list[dict[str, Any]] = self.admin("faults")["faults"]
        return [f for f in faults if self.project is None or f["rule"].get("project") == self.project]

    def clear_faults(self) -> None:
        """Remove the faults (a bound client: its project's, one by one; the others stay)."""
        if self.project is None:
            self.admin("faults", "DELETE")
            return
        for fault in self.faults():
            try:
                self.admin(f"faults/{fault['id']}", "DELETE")
            except MockError as error:
                if error.code != "unknown_fault":  # removed meanwhile
                    raise

    # -- stubs: answers of your own (POST /__admin/stubs) ------------------------------

    def add_stub(self, response: dict[str, Any], request: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        """``add_stub({"status": 401, "json": {...}}, {"path": "/v3/track"}, times=1)``: the stub
        with its id. ``options``: ``times``, ``priority``, ``after_gate``."""
        stub: dict[str, Any] = self.admin("stubs", "POST", json={"request": self._scoped(dict(request or {})), "response": response, **options})
        return stub

    def stub(self, method: str | None = None, path: str | None = None, *, times: int | None = None,
             priority: int | None = None, after_gate: bool = False, **match: Any) -> "StubBuilder":
        """pytest-httpserver style: ``mock.stub(path="/v3/track").respond_with_json({...}, status=400)``.
        ``match``: ``project``, ``region``, ``headers``, ``query``, ``json`` (as ``StubRequest``)."""
        request = {name: value for name, value in {"method": method, "path": path, **match}.items() if value is not None}
        options = {name: value for name, value in {"times": times, "priority": priority}.items() if value is not None}
        return StubBuilder(self, request, {**options, **({"after_gate": True} if after_gate else {})})

    def stubs(self) -> list[dict[str, Any]]:
        """The stubs in force, in match order, with their hit counts; a bound client lists
        its project's only."""
        stubs: list[dict[str, Any]] = self.admin("stubs")["stubs"]
        return [s for s in stubs if self.project is None or s["request"].get("project") == self.project]

    def remove_stub(self, stub_id: str) -> None:
        self.admin(f"stubs/{stub_id}", "DELETE")

    def clear_stubs(self) -> None:
        """Remove the stubs (a bound client: its project's, one by one; the others stay)."""
        if self.project is None:
            self.admin("stubs", "DELETE")
            return
        for stub in self.stubs():
            try:
                self.admin(f"stubs/{stub['id']}", "DELETE")
            except MockError as error:
                if error.code != "unknown_stub":  # removed meanwhile
                    raise

    def reset(self) -> None:
        """Forget all state, the journal, runtime faults and stubs (those of serve --fault/--stub come back); a bound client forgets only
        its project's (``POST /__admin/projects/{key}/reset``)."""
        if self.project is not None:
            self.admin(f"projects/{self.project}/reset", "POST")
        else:
            self.admin("reset", "POST")

    # -- per-project content (issue 17); bodies built with mock_1flow.content --

    def set_surveys(self, key: str, surveys: Sequence[dict[str, Any]], throttling: dict[str, Any] | None = None) -> None:
        """Serve ``surveys`` (and ``throttling``, by default off) to project ``key`` until a reset.
        Content a real SDK could not decode raises :class:`MockError` naming client, model and field."""
        self.admin(f"projects/{key}/surveys", "PUT", json=content.surveys_document(surveys, throttling))

    def set_announcements(self, key: str, announcements: Sequence[content.Announcement] | dict[str, Any],
                          details: Sequence[dict[str, Any]] | None = None, theme: dict[str, Any] | None = None) -> None:
        """Serve announcements to project ``key``: built ones (:func:`mock_1flow.content.announcement`,
        their details included), or an ``{"inbox": [...], "inApp": [...]}`` object with ``details``."""
        body: dict[str, Any]
        if isinstance(announcements, dict):
            body = {"announcements": announcements, "theme": dict(theme or content.DEFAULT_THEME), "details": list(details or [])}
        else:
            body = content.announcements_document(announcements, theme)
            body["details"] += list(details or [])
        self.admin(f"projects/{key}/announcements", "PUT", json=body)

    def surveys(self, key: str) -> dict[str, Any]:
        """What project ``key`` serves on ``/v3/survey``: ``{"surveys", "throttlingMobileSDKConfig"}``."""
        surveys: dict[str, Any] = self.admin(f"projects/{key}/surveys")
        return surveys

    def announcements(self, key: str) -> dict[str, Any]:
        """What project ``key`` serves on ``/v3/announcements`` (+ inbox): ``{"announcements", "theme", "details"}``."""
        announcements: dict[str, Any] = self.admin(f"projects/{key}/announcements")
        return announcements

    def reset_project(self, key: str) -> None:
        """Forget project ``key``'s users, events, responses, content, faults and journal entries only."""
        self.admin(f"projects/{key}/reset", "POST")

    def assert_tracked(self, key: str | None = None, name: str | None = None, count: int | None = None,
                       user_id: str | None = None, timeout: float = 0) -> list[dict[str, Any]]:
        """Project ``key`` stored events named ``name`` (for ``user_id``): exactly ``count``
        of them, or at least one, within ``timeout`` seconds. Returns them."""
        key = self._key(key)

        def check() -> list[dict[str, Any]]:
            received = self.events(key)
            found = [e for e in received if (name is None or e["name"] == name) and (user_id is None or e["user_id"] == user_id)]
            if (count is None and not found) or (count is not None and len(found) != count):
                wanted = f"{'at least 1' if count is None else count} event(s)" + (f" named {name!r}" if name else "") + (
                    f" for user {user_id!r}" if user_id else "")
                raise AssertionError(f"expected {wanted} in {key}, found {len(found)}; "
                                     f"{key} received {len(received)}: {_names(received, 'name')}")
            return found

        return eventually(check, timeout)

    def assert_identified(self, key: str | None = None, user_id: str | None = None,
                          parameters: dict[str, Any] | None = None, timeout: float = 0) -> dict[str, Any]:
        """Project ``key`` has identified app user ``user_id`` (with these ``parameters``
        among its own), within ``timeout`` seconds. Returns the user."""
        if user_id is None:
            raise TypeError("assert_identified needs the user_id")
        key = self._key(key)

        def check() -> dict[str, Any]:
            users = self.users(key)
            for user in users:
                if user.get("user_id") == user_id and user.get("identified"):
                    missing = {k: v for k, v in (parameters or {}).items() if user.get("parameters", {}).get(k) != v}
                    if missing:
                        raise AssertionError(f"user {user_id!r} of {key} lacks parameters {missing}; it has {user.get('parameters')}")
                    return user
            known = ", ".join(f"{u.get('user_id') or '(anonymous)'} {'identified' if u.get('identified') else 'not identified'}"
                              for u in users) or "none"
            raise AssertionError(f"expected user {user_id!r} identified in {key}; its users: {known}")

        return eventually(check, timeout)

    def assert_requests(self, path: str | None = None, count: int | None = None, timeout: float = 0,
                        **filters: Any) -> list[dict[str, Any]]:
        """The journal has requests matching ``path`` (a glob) and ``filters`` (the criteria
        of :meth:`find`: method, region, project, status, error, ...): exactly ``count``, or
        at least one, within ``timeout`` seconds. Returns them."""

        def check() -> list[dict[str, Any]]:
            found = self.find(path=path, **filters)
            if (count is None and not found) or (count is not None and len(found) != count):
                asked = ", ".join(f"{k}={v}" for k, v in {"path": path, **filters}.items() if v is not None) or "any"
                received = self.requests()
                lines = "; ".join(f"{e['method']} {e['path']} {e['status']}" for e in received[-20:]) or "nothing"
                raise AssertionError(f"expected {'at least 1' if count is None else count} request(s) with {asked}, "
                                     f"found {len(found)}; the journal has {len(received)}: {lines}")
            return found

        return eventually(check, timeout)


class MockServer(AdminClient):
    """An in-process mock on a real loopback socket, for tests and scripts outside pytest::

        with MockServer(error_profile="backend") as mock:
            requests.post(mock.base("us") + "/v3/user", json={...}, headers={"one_flow_key": ...})
            mock.assert_requests(path="*/v3/user", count=1)

    ``options`` are :class:`~mock_1flow.server.config.MockConfig` fields (``projects_file``,
    ``error_profile``, ``journal_cap``, ``faults``, ...).
    """

    def __init__(self, app: Flask | None = None, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self.app = app or create_app(**options)
        self._server = make_server(host, port, self.app, threaded=True, request_handler=UnderscoreHeadersHandler)
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="mock-1flow", daemon=True)

    @property
    def runtime(self) -> Runtime:
        with self.app.app_context():
            return current_runtime()

    def start(self) -> "MockServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


BANNER = re.compile(r"mock-1flow serving on (\S+)")


class ServedMock(AdminClient):
    """``mock-1flow serve`` in a subprocess (granian, as users run it), on a free port.

    ``with ServedMock("--access-log") as mock: requests.get(mock.url + "/__admin/health")``.
    Its output (banner, access log) is collected in :attr:`output`; ``command`` is the
    executable to run (another virtualenv's ``mock-1flow``, for instance).
    """

    def __init__(self, *args: str, command: Sequence[str] | None = None, cwd: str | Path | None = None,
                 env: dict[str, str] | None = None, timeout: float = 60) -> None:
        self.args = [*(command or [sys.executable, "-m", "mock_1flow"]), "serve", "--port", "0", *args]
        self.cwd, self.env, self.timeout = cwd, env, timeout
        self.lines: list[str] = []
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._banner = threading.Event()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def line_with(self, text: str, timeout: float = 10.0) -> str:
        """The first line of the server's output that contains ``text``, waiting up to
        ``timeout`` seconds for it: the access log line of a request is printed by the
        server after it answered, and reaches :attr:`output` a moment later."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((line.rstrip("\n") for line in list(self.lines) if text in line), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"mock-1flow serve printed no line with {text!r} in {timeout:g} s:\n{self.output}")
            time.sleep(0.01)

    def _drain(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line)
            match = BANNER.search(line)
            if match and not self.url:
                self.url = match.group(1)
                self._banner.set()
        self._banner.set()

    def start(self) -> "ServedMock":
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(self.env or {})}
        self._process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         cwd=self.cwd, env=env)
        self._reader = threading.Thread(target=self._drain, name="mock-1flow-output", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.timeout
        self._banner.wait(self.timeout)
        while time.monotonic() < deadline and self.url and self._process.poll() is None:
            try:
                if requests.get(f"{self.url}/__admin/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"mock-1flow serve did not start ({' '.join(self.args)}):\n{self.output}")

    def stop(self) -> None:
        """SIGTERM lets granian stop its worker too; SIGKILL would orphan it. Returns once
        everything the server printed is in :attr:`output`."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._reader.join(timeout=5)

    def __enter__(self) -> "ServedMock":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
