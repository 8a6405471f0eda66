"""Calling a WSGI app without a server: an environ from a request's parts, and the app run
to completion. The RSGI front (:mod:`mock_1flow.serving`) hands Flask's routes over this
way, and the Segment ingest calls 1Flow's API in-process through it (werkzeug's test
client costs about a fifth of an ingest call).

The environ keeps the request as the client sent it where WSGI's folding would not:
:data:`RAW_HEADERS` holds the header names as sent, and the key headers 1Flow reads with
underscores are in it only when spelled so (:func:`environ`). :data:`VIA` is the mock's own
provenance, set only by the mock (a client can send any header, not this key)."""

from __future__ import annotations

import io
import sys
from typing import Any, Iterable, Iterator, NamedTuple

RAW_HEADERS = "mock_1flow.raw_headers"
"""environ key: the request's (name, value) pairs, names as sent (``one_flow_key`` and
``one-flow-key`` distinct); under HTTP/2 ``:authority`` first, in place of ``host``."""
VIA = "mock_1flow.via"
"""environ key: which part of the mock made this request in-process (``segment:<write key>``
for the Segment ingest's deliveries); absent on requests from the network."""
KEY_NAMES = ("one_flow_key", "api_key")
"""Headers 1Flow reads only with underscores: the SDK API's key and the HTTP API's key."""


class Outcome(NamedTuple):
    status: int
    reason: str  # the status line's phrase, as the app wrote it
    headers: list[tuple[str, str]]
    body: bytes
    dropped: bool  # the body iterator broke off on purpose (a ``drop_connection`` fault)
    rest: Iterator[bytes] | None = None  # run(stream=True): the chunks after ``body``, still to come


def environ(
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
    *,
    server: tuple[str, str],
    client: str,
    scheme: str = "http",
    protocol: str = "HTTP/1.1",
    authority: str | None = None,
) -> dict[str, Any]:
    """A PEP 3333 environ; header names are folded as WSGI folds them (``HTTP_ONE_FLOW_KEY``),
    except that a :data:`KEY_NAMES` header sent with dashes (``one-flow-key``) is left out:
    it is a near miss the journal warns about, not the key. ``authority`` (HTTP/2's
    ``:authority``, RFC 9113 §8.3.1, or an absolute-form target's, RFC 9112 §3.2.2) becomes
    ``HTTP_HOST`` over any ``Host`` header. A ``body`` the server read whole without a
    Content-Length (chunked, or HTTP/2 without one) is handed over as a Content-Length body
    (its length, no ``Transfer-Encoding``), so the app applies the same limits and errors to
    it; :data:`RAW_HEADERS` still shows what the client sent."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": server[0],
        "SERVER_PORT": server[1],
        "SERVER_PROTOCOL": protocol,
        "REMOTE_ADDR": client,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    env[RAW_HEADERS] = headers = tuple(headers)
    for name, value in headers:
        lowered = name.lower()
        if lowered == "transfer-encoding" and body is not None:
            continue  # de-chunked here: werkzeug would take a chunked body for an unterminated stream
        if lowered == "content-type":
            env["CONTENT_TYPE"] = value
        elif lowered == "content-length":
            env["CONTENT_LENGTH"] = value
        elif not lowered.startswith(":"):  # HTTP/2 pseudo-headers: only in RAW_HEADERS
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in _KEY_ENVIRON and lowered not in KEY_NAMES:
                continue
            env[key] = f"{env[key]},{value}" if key in env else value
    if authority:
        env["HTTP_HOST"] = authority
    if body is not None and "CONTENT_LENGTH" not in env:
        env["CONTENT_LENGTH"] = str(len(body))
    return env


_KEY_ENVIRON = frozenset("HTTP_" + name.upper() for name in KEY_NAMES)


def exact_key_headers(env: dict[str, Any], headers: Iterable[tuple[str, str]]) -> None:
    """Make a server's environ hold the :data:`KEY_NAMES` headers only as spelled with
    underscores (a server folds ``api-key`` onto ``HTTP_API_KEY`` too)."""
    sent: dict[str, list[str]] = {}
    for name, value in headers:
        if name.lower() in KEY_NAMES:
            sent.setdefault("HTTP_" + name.upper(), []).append(value)
    for key in _KEY_ENVIRON:
        if key in sent:
            env[key] = ",".join(sent[key])
        else:
            env.pop(key, None)


def run(app: Any, env: dict[str, Any], stream: bool = False) -> Outcome:
    """Run a WSGI app to completion; with ``stream``, a body of more than one chunk (a
    streamed response, e.g. ``GET /__admin/state``) is returned as its first chunk and the
    ``rest``, which the caller reads (each ``next`` may take a while: off the event loop)."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None

    result = app(env, start_response)
    chunks: list[bytes] = []
    dropped = False
    rest: Iterator[bytes] | None = None
    iterator = iter(result)
    try:
        for chunk in iterator:
            chunks.append(chunk)
            if stream and len(chunks) == 2:
                rest = _rest(iterator, result)
                break
    except ConnectionAbortedError:
        dropped = True
    finally:
        if rest is None:
            _close(result)
    status, headers = started
    code, _, reason = status.partition(" ")
    if rest is not None:
        return Outcome(int(code), reason, headers, chunks[0], dropped, _chain(chunks[1], rest))
    return Outcome(int(code), reason, headers, b"".join(chunks), dropped)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


def _rest(iterator: Iterator[bytes], result: Any) -> Iterator[bytes]:
    try:
        yield from iterator
    finally:
        _close(result)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield first
        yield from rest
    finally:
        rest.close()  # type: ignore[attr-defined]
