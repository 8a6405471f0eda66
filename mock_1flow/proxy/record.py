"""``mock-1flow proxy --record FILE``: each exchange as one JSON line, in the shape of a request
of the client corpus (``fixtures/clients/``: id, operation, method, url, headers, body) with
what came back (``response``: status, headers, body), the upstream and the time.

Secrets never reach the file unless asked for: ``one_flow_key``, ``api_key``,
``Authorization`` and cookies become stable placeholders (the same key is ``<key-1>`` on
every line, so a replay can map it back with ``serve --key-map``), unless ``--record-keys``;
push tokens and e-mail addresses are masked wherever they are (values of a ``token``/``email``
field, any string that looks like an address) and at every ``--redact-json-path``.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..server.answers import Exchange
from ..server.validation import json_or_text

KEY_HEADERS = frozenset({"one_flow_key", "one-flow-key", "api_key", "api-key", "authorization", "proxy-authorization"})
COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
SECRET_FIELDS = frozenset({"token", "push_token", "device_token", "email", "$email"})  # masked wherever they are
EMAIL = re.compile(r"[^@\s\"]+@[^@\s\"]+\.[A-Za-z]{2,}")
MASK = "<redacted>"


def _mask(value: Any, paths: tuple[tuple[str, ...], ...], here: tuple[str, ...] = ()) -> Any:
    if here in paths:
        return MASK
    if isinstance(value, dict):
        return {key: MASK if key.lower() in SECRET_FIELDS and value[key] not in (None, "")
                else _mask(child, paths, here + (str(key),)) for key, child in value.items()}
    if isinstance(value, list):
        return [_mask(child, paths, here + ("*",)) for child in value]
    if isinstance(value, str):
        return EMAIL.sub(MASK, value)
    return value


def parse_json_path(text: str) -> tuple[str, ...]:
    """``$.events[*].parameters.email`` / ``/events/*/parameters/email`` -> ("events", "*", ...)."""
    if text.startswith("/"):
        return tuple(part for part in text.split("/") if part)
    text = text.removeprefix("$").replace("[*]", ".*")
    return tuple(part for part in re.split(r"\.", text) if part)


class Recorder:
    """Appends one line per exchange; thread-safe; the placeholders stay stable for the file's life."""

    def __init__(self, path: str, keep_keys: bool = False, redact_json_paths: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.keep_keys = keep_keys
        self.paths = tuple(parse_json_path(item) for item in redact_json_paths)
        self._placeholders: dict[str, str] = {}
        self._lock = threading.Lock()
        self._count = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.open("a", encoding="utf-8").close()  # fails now, not at the first exchange

    def _placeholder(self, secret: str) -> str:
        if secret not in self._placeholders:
            self._placeholders[secret] = f"<key-{len(self._placeholders) + 1}>"
        return self._placeholders[secret]

    def _headers(self, headers: Any) -> dict[str, str]:
        shown: dict[str, str] = {}
        for name, value in headers:
            lower = name.lower()
            if not self.keep_keys and lower in KEY_HEADERS:
                value = self._placeholder(value)
            elif not self.keep_keys and lower in COOKIE_HEADERS:
                value = MASK
            shown[name] = f"{shown[name]}, {value}" if name in shown else value
        return shown

    def write(self, exchange: Exchange, operation: str | None, upstream: str, status: int,
              headers: list[tuple[str, str]], body: bytes, when: float) -> None:
        with self._lock:
            self._count += 1
            line = {
                "id": f"recorded-{self._count}",
                "operation": operation,
                "method": exchange.method,
                "url": upstream.rstrip("/") + exchange.path + (f"?{exchange.query}" if exchange.query else ""),
                "path": exchange.path,
                "query": exchange.query,
                "headers": self._headers(exchange.headers),
                "body": _mask(json_or_text(exchange.body), self.paths),
                "response": {"status": status, "headers": self._headers(headers),
                             "body": _mask(json_or_text(body), self.paths)},
                "upstream": upstream,
                "time": datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
