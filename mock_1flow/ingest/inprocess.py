"""Calling the mock in-process: the ingest's transport (function calls into the hot path),
and a ``requests`` adapter that runs a Flask app through WSGI (kept for tests that drive a
``requests`` session).

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
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import requests
from flask import Flask
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ..destination.client import Reply, TransportError
from ..server import wsgi
from ..server.hotpath import REASONS, Request

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


class HotPathTransport:
    """The ingest destination client's transport: each request a function call into the SDK
    API's hot path (:class:`~mock_1flow.server.hotpath.HotPath`: route, fault, stubs, gate,
    validation, store, journal), no ``requests`` and no WSGI round trip. The journal entry,
    its ``via`` link, faults (a latency fault sleeps this thread, a dropped connection is a
    retryable :class:`~mock_1flow.destination.client.TransportError`) are those of a request
    over a socket. A path the hot path does not serve goes to the Flask app as before.

    ``gate(generation)``, when given, is a context manager around each call that may refuse
    it (the ingest's reset barrier, for a delivery begun before a reset)."""

    def __init__(self, hot: Any, via: str, gate: Callable[[int], AbstractContextManager[None]] | None = None) -> None:
        self.hot = hot
        self.via = via
        self.gate = gate
        self.generation = 0  # the delivery's, set by the ingest before it sends
        self.retry_after: float | None = None

    def __call__(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
                 params: dict[str, str] | None, timeout: float) -> Reply:
        if self.gate is None:
            return self._call(method, url, data, headers, params)
        with self.gate(self.generation):
            return self._call(method, url, data, headers, params)

    def _call(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
              params: dict[str, str] | None) -> Reply:
        target = url[len(INPROCESS_URL):] if url.startswith(INPROCESS_URL) else urlsplit(url).path
        path, _, query = target.partition("?")
        if params:
            query = urlencode(params)
        path = unquote(path) or "/"
        sent = [("host", "localhost"), *((name.lower(), value) for name, value in headers.items())]
        if data:
            sent.append(("content-length", str(len(data))))
        hot = self.hot
        match = hot.route(method, path)
        if match is None:
            return self._fallback(method, path, query, sent, data)
        started = time.perf_counter()
        request = Request(method=method, path=path, query_string=query, headers=tuple(sent),
                          key=headers.get(match.api.key_header) or None, host="localhost",
                          content_type=headers.get("Content-Type", ""),
                          content_length=len(data) if data is not None else None, raw_names=True,
                          via=self.via, body=data or None)
        fired = hot.pick_fault(request, match)
        if fired is not None and fired[1]:
            time.sleep(fired[1])
        reply = hot.respond(request, match, fired, started)
        if reply.dropped:
            raise TransportError("connection dropped by the mock", retryable=True)
        fields = dict(reply.headers)
        self._note_retry_after(reply.status, fields.get("Retry-After"))
        return Reply(reply.status, fields, reply.body, REASONS.get(reply.status, ""))

    def _fallback(self, method: str, path: str, query: str, sent: list[tuple[str, str]], data: bytes | None) -> Reply:
        env = wsgi.environ(method, path, query, sent, data, server=("localhost", "80"), client="127.0.0.1")
        env[wsgi.VIA] = self.via
        outcome = contextvars.Context().run(wsgi.run, self.hot.fallback, env)
        if outcome.dropped:
            raise TransportError("connection dropped by the mock", retryable=True)
        fields = {name: value for name, value in outcome.headers}
        self._note_retry_after(outcome.status, fields.get("Retry-After"))
        return Reply(outcome.status, fields, outcome.body, outcome.reason)

    def _note_retry_after(self, status: int, value: str | None) -> None:
        InProcessAdapter._note_retry_after(self, status, value)  # type: ignore[arg-type]  # same fields
