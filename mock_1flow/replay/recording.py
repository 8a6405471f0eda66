"""Reading a recording (``mock-1flow proxy --record FILE``): one exchange per JSON line, each
checked as it is read, so a bad file is refused with its name and line before anything uses it.

The shape is the one :mod:`mock_1flow.proxy.record` writes: ``method``, ``path``, ``query``,
``headers``, ``body`` as sent, ``response`` (``status``, ``headers``, ``body``) as received.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..server.validation import MalformedJson, parse_json

MAX_RECORDING_BYTES = 64 * 1024 * 1024  # the most a recording may hold: it is read whole into memory
KEY_HEADERS = ("one_flow_key", "api_key")  # the headers that name the project (SDK API, 1Flow's HTTP API)


class RecordingError(ValueError):
    """A recording that cannot be used: the message names the file and the line."""


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange; ``line`` is its 1-based line in ``file``."""

    file: str
    line: int
    id: str
    operation: str | None
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    status: int
    response_headers: dict[str, str]
    response_body: Any

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def key(self) -> str | None:
        """The project key the request sent (as recorded: a ``<key-N>`` placeholder or the key)."""
        return header(self.headers, *KEY_HEADERS)

    def response_bytes(self) -> bytes:
        """The recorded answer's body as bytes: JSON compact, text as UTF-8, nothing as empty."""
        return body_bytes(self.response_body)


def header(headers: dict[str, str], *names: str) -> str | None:
    """The first of ``names`` in ``headers``, names compared without case."""
    folded = {name.lower(): value for name, value in headers.items()}
    return next((folded[name] for name in names if name in folded), None)


def body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _field(item: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = item.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ValueError(f"'{name}' must be {what}, not {json.dumps(value)[:80]}")
    return value


def _headers(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"'{name}' must be an object of header names to strings")
    return value


def _exchange(file: str, line: int, item: Any) -> Recorded:
    if not isinstance(item, dict):
        raise ValueError("each line must be a JSON object (one exchange)")
    method = _field(item, "method", str, "an HTTP method such as \"POST\"").upper()
    path = _field(item, "path", str, "a path starting with /")
    query = item.get("query") or ""
    if not isinstance(query, str):
        raise ValueError("'query' must be a string such as \"a=1&b=2\"")
    if not path.startswith("/"):
        raise ValueError(f"'path' must start with /, not {path[:80]!r}")
    response = _field(item, "response", dict, "an object with status, headers and body")
    status = _field(response, "status", int, "an HTTP status (100-599)")
    if not 100 <= status <= 599:
        raise ValueError(f"'response.status' must be an HTTP status (100-599), not {status}")
    return Recorded(file, line, str(item.get("id") or f"line-{line}"), item.get("operation") if isinstance(item.get("operation"), str) else None,
                    method, path, query, _headers(item.get("headers", {}), "headers"), item.get("body"), status,
                    _headers(response.get("headers", {}), "response.headers"), response.get("body"))


def load_recording(path: Path | str) -> list[Recorded]:
    """Every exchange of the recording at ``path`` in file order; blank lines are skipped.

    Raises :class:`RecordingError` naming the file and the line for a file that cannot be
    read, a line that is not JSON, or one without what an exchange needs; and for an empty
    file (there would be nothing to answer with)."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_RECORDING_BYTES:
            raise RecordingError(f"{file}: {size} bytes, over the {MAX_RECORDING_BYTES // (1024 * 1024)} MB a recording "
                                 "may hold; split it (each line is one exchange)")
        raw = file.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    exchanges = []
    for number, text in enumerate(raw.split(b"\n"), start=1):
        if not text.strip():
            continue
        try:
            exchanges.append(_exchange(str(file), number, parse_json(text)))
        except (MalformedJson, UnicodeDecodeError) as exc:
            raise RecordingError(f"{file}:{number}: not a JSON line ({exc})") from None
        except ValueError as exc:
            raise RecordingError(f"{file}:{number}: {exc}") from None
    if not exchanges:
        raise RecordingError(f"{file}: no exchange in it (record one with mock-1flow proxy --record {file})")
    return exchanges
