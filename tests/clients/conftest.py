"""Shared helpers for the real-client tests: send a corpus request to an in-process mock."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mock_1flow.contracts.corpus import ClientRequest


def send(client: FlaskClient, request: ClientRequest, form: str = "host", body: Any = None,
         path: str | None = None) -> TestResponse:
    """Send ``request`` as the client does: host form (``Host: api-sdk.1flow.app``, no region
    prefix) or path form (``/us/api/...``). ``body`` replaces the corpus body's JSON value."""
    data = request.data() if body is None else request.__class__(**{**request.__dict__, "body": body}).data()
    target = path or (request.path if form == "host" else request.path_form())
    headers = dict(request.headers)
    base = f"https://{request.host}" if form == "host" else "http://127.0.0.1"
    return client.open(target, method=request.method, query_string=request.query, headers=headers, data=data,
                       base_url=base)
