"""Calling a WSGI app without a server: an environ from a request's parts, and the app run
to completion. The RSGI front (:mod:`mock_1flow.serving`) hands Flask's routes over this
way, and the Segment ingest calls 1Flow's API in-process through it (werkzeug's test
client costs about a fifth of an ingest call)."""

from __future__ import annotations

import io
import sys
from typing import Any, Iterable, Iterator, NamedTuple


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
) -> dict[str, Any]:
    """A PEP 3333 environ; header names are folded as WSGI folds them (``HTTP_ONE_FLOW_KEY``)."""
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
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-type":
            env["CONTENT_TYPE"] = value
        elif lowered == "content-length":
            env["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            env[key] = f"{env[key]},{value}" if key in env else value
    return env


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
