"""Which operation of ``openapi.yaml`` a request is, found from the spec's own paths and servers.

The mock routes by its own tables (:mod:`.hotpath`, Flask); this resolver is for traffic
the mock does not answer itself (``mock-1flow proxy``, recordings, the drift report): it
reads the URL a client called, host form (``https://api-sdk.1flow.app/api/2021-06-15/v3/user``,
a path item with its own ``servers``) or path form (``/us/api/2021-06-15/v3/user``), and
names the operation whose schemas apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from .spec import load_spec
from .validation import HTTP_METHODS


@dataclass(frozen=True)
class Resolved:
    """An operation of the spec and the path parameters read from the request's path."""

    operation_id: str
    path_form: str  # the path-form operation with the same schemas (itself for a path-form one)
    template: str  # the path as the spec writes it, with the server's base path in front
    params: dict[str, str]


@dataclass(frozen=True)
class _Route:
    host: str | None  # None: any host (the spec's root servers)
    template: str
    pattern: re.Pattern[str]
    method: str
    operation_id: str
    path_form: str
    params: int


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


@lru_cache(maxsize=1)
def _routes() -> tuple[_Route, ...]:
    routes = []
    for path, item in load_spec()["paths"].items():
        servers = [urlsplit(server["url"]) for server in item.get("servers", [])]
        bases = [(url.hostname, url.path.rstrip("/")) for url in servers if url.hostname] or [(None, "")]
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not operation:
                continue
            for host, base in bases:
                template = base + path
                routes.append(_Route(host, template, _pattern(template), method.upper(), operation["operationId"],
                                     operation.get("x-path-form", operation["operationId"]), template.count("{")))
    # the host's own paths first, then concrete before templated (OpenAPI's matching rule)
    return tuple(sorted(routes, key=lambda route: (route.host is None, route.params)))


def resolve(method: str, path: str, host: str | None = None) -> Resolved | None:
    """The operation serving ``method path`` on ``host`` (a host-form path item applies only on
    one of its servers' hosts), or None when the spec has none."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    host = host.lower().split(":")[0] if host else None
    for route in _routes():
        if route.method != method or (route.host is not None and route.host != host):
            continue
        found = route.pattern.match(path)
        if found:
            return Resolved(route.operation_id, route.path_form, route.template, found.groupdict())
    return None


def operation(operation_id: str) -> dict[str, Any]:
    """The operation object of the spec with this ``operationId``."""
    for item in load_spec()["paths"].values():
        for method in HTTP_METHODS:
            if item.get(method, {}).get("operationId") == operation_id:
                return item[method]
    raise KeyError(operation_id)
