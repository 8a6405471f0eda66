"""CORS as 1Flow's services answer it, so a web page can call the mock from another origin.

1Flow's services enable CORS for every origin (manavAt1flow/1flow-aggregators ``src/main.ts``:
``app.enableCors({})`` on NestJS's Fastify adapter, i.e. ``@fastify/cors`` with its defaults:
``Access-Control-Allow-Origin: *`` on every answer, a preflight answered 204 with an empty
body). Every browser call to the SDK API is preflighted: ``one_flow_key`` is not a
CORS-safelisted header (nor is ``api_key``, nor ``Content-Type: application/json``).

A preflight is answered before faults and stubs, as ``@fastify/cors`` answers it in its
``onRequest`` hook before any route: a fault meant for the next track call is not used up by
the browser's preflight for it.

The SDK API (hot path), 1Flow's HTTP API and the web-SDK double use this module; the admin
API never does (it refuses foreign origins, ``mock_1flow/admin/routes.py``).
"""

from __future__ import annotations

from typing import Iterable

ALLOW_ORIGIN = ("Access-Control-Allow-Origin", "*")
# What the mock's APIs read from a browser: the SDK API's key, the HTTP API's key, a JSON body.
ALLOWED_HEADERS = "one_flow_key, api_key, content-type"
REQUEST_METHOD = "access-control-request-method"
REQUEST_PRIVATE_NETWORK = "access-control-request-private-network"
PREFLIGHT_STATUS = 204  # @fastify/cors optionsSuccessStatus


def is_preflight(method: str, headers: Iterable[tuple[str, str]]) -> bool:
    """An ``OPTIONS`` carrying ``Access-Control-Request-Method`` (Fetch standard, CORS-preflight
    request); a plain ``OPTIONS`` keeps its 200 with ``Allow``."""
    return method == "OPTIONS" and any(name.lower() == REQUEST_METHOD for name, _ in headers)


def preflight_headers(allowed: Iterable[str], headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The answer's headers for a preflight (``Access-Control-Allow-Origin`` aside: every
    answer gets it) of a path whose methods are ``allowed``.

    A page served from a public origin that calls the mock on loopback is a private-network
    request to Chromium, which asks first (``Access-Control-Request-Private-Network``); the
    mock says yes: it exists to be called from test pages (the mock's choice; 1Flow's hosts
    are public and are never asked)."""
    out = [
        ("Access-Control-Allow-Methods", ", ".join(allowed)),
        ("Access-Control-Allow-Headers", ALLOWED_HEADERS),
        ("Content-Length", "0"),
    ]
    if any(name.lower() == REQUEST_PRIVATE_NETWORK for name, _ in headers):
        out.append(("Access-Control-Allow-Private-Network", "true"))
    return out


def has_allow_origin(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether ``headers`` (a stub's, say) already say which origins may read the answer."""
    return any(name.lower() == "access-control-allow-origin" for name, _ in headers)
