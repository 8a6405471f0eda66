"""A requests transport that calls a Flask app in-process.

Segment ingest runs events through the destination's real HTTP client; pointing that
client at the same mock over a socket would need a free worker thread per nested call.
This adapter hands the request to the app directly (a WSGI environ, the app run to
completion), in a fresh ``contextvars`` context so the inner request gets its own Flask app
context and ``g``.
The request carries the mock's provenance (``via``) in the environ key :data:`wsgi.VIA`,
which no client can set, rather than in a header any client could send.
A response the app breaks off (a ``drop_connection`` fault) reaches the client as the
``requests.ConnectionError`` a real dropped socket would be; the largest ``Retry-After``
of a 429 or 5xx is kept in :attr:`InProcessAdapter.retry_after` for the ingest to pass on.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from flask import Flask
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ..server import wsgi

INPROCESS_URL = "http://mock-1flow.inprocess"


class InProcessAdapter(BaseAdapter):
    """``via`` names the part of the mock that makes the calls (journaled, never forgeable);
    ``gate(generation)``, when given, is a context manager around each call: it may refuse
    the call (a ``requests.ConnectionError``), as the ingest's reset barrier does for a
    delivery begun before a reset."""

    def __init__(self, app: Flask, headers: dict[str, str] | None = None, via: str | None = None,
                 gate: Callable[[int], AbstractContextManager[None]] | None = None) -> None:
        super().__init__()
        self.app = app
        self.extra_headers = headers or {}
        self.via = via
        self.retry_after: float | None = None
        self.gate = gate
        self.generation = 0  # the delivery's, set by the ingest before it sends

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = {"Host": "localhost", **dict(request.headers), **self.extra_headers}
        if body and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body))
        env = wsgi.environ(request.method or "GET", unquote(url.path) or "/", url.query, headers.items(), body,
                           server=("localhost", "80"), client="127.0.0.1")
        if self.via is not None:
            env[wsgi.VIA] = self.via
        if self.gate is None:
            outcome = contextvars.Context().run(wsgi.run, self.app, env)
        else:
            with self.gate(self.generation):
                outcome = contextvars.Context().run(wsgi.run, self.app, env)
        if outcome.dropped:  # the app broke the response off: a dropped connection
            raise requests.ConnectionError("connection dropped by the mock", request=request)
        response = requests.Response()
        response.status_code = outcome.status
        response.headers = CaseInsensitiveDict(outcome.headers)
        response._content = outcome.body
        self._note_retry_after(outcome.status, response.headers.get("Retry-After"))
        response.url = request.url
        response.request = request
        response.reason = outcome.reason
        return response

    def _note_retry_after(self, status: int, value: str | None) -> None:
        if value is None or not (status == 429 or status >= 500):
            return
        try:
            seconds = float(value)
        except ValueError:
            return
        if 0 <= seconds <= 86_400 and (self.retry_after is None or seconds > self.retry_after):
            self.retry_after = seconds

    def close(self) -> None:
        """Nothing to release."""


def inprocess_session(app: Flask, headers: dict[str, str] | None = None, via: str | None = None,
                      gate: Callable[[int], AbstractContextManager[None]] | None = None) -> requests.Session:
    """A session whose requests to :data:`INPROCESS_URL` go straight to ``app`` (through
    ``gate``), journaled as made ``via`` the named part of the mock (e.g. ``segment:<write key>``)."""
    session = requests.Session()
    # nothing here goes through a proxy or needs ~/.netrc: without this, requests looks up
    # the proxy variables and stats ~/.netrc on every call (about a tenth of an ingest call)
    session.trust_env = False
    session.mount(INPROCESS_URL, InProcessAdapter(app, headers, via, gate))
    return session
