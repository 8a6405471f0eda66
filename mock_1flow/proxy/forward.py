"""``mock-1flow proxy``: each request forwarded to the real 1Flow (or any upstream), each
request and answer checked against ``openapi.yaml`` on the way.

The proxy is the mock's own server (serving stack, journal, admin API and page) whose
answers come from the upstream: a :class:`Forwarder` is the runtime's answerer
(:mod:`mock_1flow.server.answers`). Headers travel as sent (``one_flow_key`` keeps its
underscore), minus the hop-by-hop ones (RFC 9110 §7.6.1) and ``Host``, which names the
upstream. One urllib3 pool serves every request; a refused connection, a TLS failure or a
timeout is a 502/504 that says what failed, never a hang.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import urllib3

from ..server.answers import Answer, Exchange
from ..server.errors import ApiError, envelope
from ..server.operations import Resolved, resolve
from ..server.response_check import off_spec
from ..server.routes.common import dumps
from ..server.validation import operation_validators
from .record import Recorder

DEFAULT_UPSTREAM = "https://api-sdk.1flow.app"
DEFAULT_HTTP_API_UPSTREAM = "https://api.1flow.app"
SDK_HOST = "api-sdk.1flow.app"  # the spec's host of the SDK API's host form (openapi.yaml servers)
HTTP_API_HOST = "api.1flow.app"  # and of 1Flow's HTTP API
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "host", ":authority", "content-length"})
# urllib3 decodes gzip/deflate/br for the checks; the body passed on is the decoded one
RESPONSE_DROPPED = HOP_BY_HOP | {"content-encoding"}
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class ProxyConfig:
    upstream: str = DEFAULT_UPSTREAM
    http_api_upstream: str = DEFAULT_HTTP_API_UPSTREAM
    upstream_ca: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    errors: bool = False
    record: str | None = None
    record_keys: bool = False
    redact_json_paths: tuple[str, ...] = ()
    access_log: bool = False  # one stderr line per violation, beside the access log's line per request


def is_http_api(path: str) -> bool:
    """1Flow's HTTP API: ``/v1/...`` (host form) or ``/{region}/v1/...``; the rest is the SDK API."""
    parts = path.split("/", 3)
    return len(parts) > 2 and (parts[1] == "v1" or parts[2] == "v1")


def spec_operation(method: str, path: str) -> Resolved | None:
    """The operation of ``openapi.yaml`` a proxied request is (host form on 1Flow's hosts, or path form)."""
    return resolve(method, path, HTTP_API_HOST if is_http_api(path) else SDK_HOST)


def request_violations(found: Resolved | None, method: str, path: str, query: str, headers: Any,
                       body: bytes) -> list[dict[str, str]]:
    """Where the request breaks ``openapi.yaml``, by the mock's own validators (the first violation)."""
    if found is None:
        return [{"side": "request", "pointer": "", "reason": f"no operation in openapi.yaml serves {method} {path}"}]
    validator = operation_validators()[found.operation_id]
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    try:
        validator.validate_parameters(dict(parse_qsl(query, keep_blank_values=True)), found.params)
        validator.validate_body(body, content_type.split(";")[0].strip().lower())
    except ApiError as error:
        pointer = str(error.extra.get("pointer", ""))
        location = error.extra.get("location")
        where = f"{location}:{pointer}" if location and location != "body" else pointer
        return [{"side": "request", "pointer": where, "reason": error.message}]
    return []


def response_violations(found: Resolved | None, method: str, path: str, status: int, body: bytes) -> list[dict[str, str]]:
    """Where the answer breaks the response schema the spec declares for its operation and status."""
    if found is None:
        return []
    broken = off_spec(found.operation_id, method, path, status, body)
    return [] if broken is None else [{"side": "response", "pointer": broken[0], "reason": broken[1]}]


def _error(status: int, code: str, message: str, **extra: Any) -> Answer:
    body = dumps(envelope(status, message, None, error=code, **extra))
    return Answer(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body)


class Forwarder:
    """The proxy's answerer: forward, check, record."""

    blocking = True

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.pool = urllib3.PoolManager(
            num_pools=4, maxsize=8, block=False, retries=False,
            timeout=urllib3.Timeout(connect=min(config.timeout, 10.0), read=config.timeout),
            ca_certs=config.upstream_ca,
        )
        self.recorder = Recorder(config.record, config.record_keys, config.redact_json_paths) if config.record else None

    def __call__(self, exchange: Exchange) -> Answer:
        upstream = self.config.http_api_upstream if is_http_api(exchange.path) else self.config.upstream
        url = upstream.rstrip("/") + exchange.path + (f"?{exchange.query}" if exchange.query else "")
        sent = [(name, value) for name, value in exchange.headers if name.lower() not in HOP_BY_HOP]
        found = spec_operation(exchange.method, exchange.path)
        violations = request_violations(found, exchange.method, exchange.path, exchange.query, exchange.headers, exchange.body)
        try:
            reply = self.pool.request(exchange.method, url, body=exchange.body or None, headers=urllib3.HTTPHeaderDict(sent),
                                      preload_content=False, redirect=False, assert_same_host=False)
            try:
                data = reply.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
                if len(data) > MAX_RESPONSE_BYTES:
                    return _error(502, "upstream_too_large",
                                  f"{upstream} answered more than {MAX_RESPONSE_BYTES} bytes; the proxy keeps at most that.")
            finally:
                reply.release_conn()
        except urllib3.exceptions.SSLError as exc:
            return _error(502, "upstream_tls_error", f"TLS with {upstream} failed ({_reason(exc)}); give its CA with --upstream-ca.")
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError) as exc:  # before:
            # urllib3 makes a refused connection a subclass of ConnectTimeoutError
            return _error(502, "upstream_unreachable", f"{upstream} could not be reached ({_reason(exc)}).")
        except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError) as exc:
            return _error(504, "upstream_timeout", f"{upstream} did not answer within {self.config.timeout:g} s ({_reason(exc)}).")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return _error(502, "upstream_unreachable", f"{upstream} could not be reached ({_reason(exc)}).")
        headers = [(name, value) for name, value in reply.headers.items() if name.lower() not in RESPONSE_DROPPED]
        violations += response_violations(found, exchange.method, exchange.path, reply.status, data)
        if violations and self.config.access_log:
            for item in violations:
                sys.stderr.write(f"{time.strftime('%H:%M:%S')} off-spec {exchange.method} {exchange.path} "
                                 f"{item['side']} {item['pointer'] or '(root)'}: {item['reason']}\n")
            sys.stderr.flush()
        if self.recorder is not None:
            self.recorder.write(exchange, found.path_form if found else None, upstream, reply.status, headers, data, time.time())
        if violations and self.config.errors:
            first = violations[0]
            answer = _error(502, "upstream_off_spec",
                            f"The {first['side']} breaks openapi.yaml at {first['pointer'] or '(root)'}: {first['reason']}",
                            violations=violations)
            answer.violations = violations
            return answer
        headers.append(("Content-Length", str(len(data))))
        return Answer(reply.status, headers, data, violations)


def _reason(exc: BaseException) -> str:
    """The innermost cause of a urllib3 error, which says what failed (refused, certificate, ...)."""
    reason: object = getattr(exc, "reason", None)
    while isinstance(reason, BaseException) and getattr(reason, "reason", None) is not None:
        reason = getattr(reason, "reason")
    text = str(reason or exc)
    return text[:300]


def check_upstream(url: str, option: str) -> str | None:
    """Why ``url`` cannot be an upstream (not http(s), no host, a host that does not resolve), or None."""
    import socket

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{option} {url!r} is not an http:// or https:// URL with a host"
    if parts.path not in ("", "/") or parts.query:
        return f"{option} {url!r}: give the server root (e.g. {DEFAULT_UPSTREAM}), without a path"
    try:
        socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        return f"{option} {url!r}: the host {parts.hostname} does not resolve ({exc})"
    return None
