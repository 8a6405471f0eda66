"""``--url`` of the commands that talk to a running server (``journal``, ``reset``, ``fuzz``,
``contracts verify``): the server's root, checked once here so each says the same thing.

A URL without a scheme (``127.0.0.1:8080``) is taken as ``http://``; a path is refused with
the root to write instead (``.../__admin`` or ``.../us/api/2021-06-15`` would make every call
miss: the commands add those paths themselves). ``send`` takes an API base too: its own rule
(:class:`~mock_1flow.destination.settings.Settings`).
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import click

PROBE_TIMEOUT = 3.0
DEFAULT_URL = "http://127.0.0.1:8080"


class ServerRoot(click.ParamType):
    """A server root URL: ``http(s)://host[:port]``, no path, query or fragment."""

    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if "://" not in text:
            text = "http://" + text
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - a port that is not a number raises here
        except ValueError as exc:
            self.fail(f"{value!r} is not a URL ({exc}); write the server root, e.g. {DEFAULT_URL}", param, ctx)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(f"{value!r} is not an http(s) URL; write the server root, e.g. {DEFAULT_URL}", param, ctx)
        root = f"{parts.scheme}://{parts.netloc}"
        if parts.path.strip("/") or parts.query or parts.fragment:
            self.fail(f"--url is the server root: write {root} (not {value}); the command adds the paths it calls",
                      param, ctx)
        return root


SERVER_ROOT = ServerRoot()


def url_option(help_text: str, default: str | None = DEFAULT_URL, envvar: str | None = "MOCK_1FLOW_URL") -> Any:
    """The ``--url`` option as a server root."""
    return click.option("--url", type=SERVER_ROOT, default=default, show_default=default is not None,
                        envvar=envvar, help=help_text)


def unreachable(url: str) -> str | None:
    """Why nothing answers at ``url``'s host and port (None: something listens)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=PROBE_TIMEOUT).close()
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    return None


def require_server(url: str, what: str = "server") -> None:
    """One line and exit 1 when nothing listens at ``url`` (not a library's traceback text)."""
    reason = unreachable(url)
    if reason is not None:
        raise click.ClickException(f"nothing answers at {url} ({reason}): start the {what} "
                                   "(the mock: 'mock-1flow serve') or pass --url")
