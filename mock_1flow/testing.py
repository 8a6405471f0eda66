"""Run a mock on a real loopback socket in a background thread (for tests and tools).

The Flask app is served by werkzeug's threaded server (told to keep headers with
underscores); the app object stays reachable so a test can look at its runtime directly.
``mock-1flow serve`` uses granian instead.
"""

from __future__ import annotations

import threading
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
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
        environ["mock_1flow.raw_headers"] = tuple(self.headers.items())
        return environ


class MockServer:
    """``with MockServer() as mock: requests.post(mock.url + "/us/api/...")``."""

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

    def base(self, region: str = "us") -> str:
        return f"{self.url}/{region}/api/2021-06-15"

    def http_api_base(self, region: str = "us") -> str:
        """1Flow's HTTP API in path form: ``{url}/{region}/v1`` (``/identify``, ``/track``, ``/batch``)."""
        return f"{self.url}/{region}/v1"

    def admin(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        """Call the admin API and return its JSON (raises on HTTP errors)."""
        response = requests.request(method, f"{self.url}/__admin/{path.lstrip('/')}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.admin("reset", "POST")

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
