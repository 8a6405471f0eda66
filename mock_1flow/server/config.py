"""How one mock instance is configured; every field has an embedded default."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from .events import DEFAULT_EVENT_CAP, DEFAULT_EVENT_MAX_BYTES
from .journal import DEFAULT_JOURNAL_BODY_MAX, DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES, DEFAULT_REDACTED_HEADERS

ERROR_PROFILES = ("docs", "backend")
# The hosts the SDKs hard-code (iOS EndPoints.url; Android OFRetroBaseService: prod, beta, dev),
# and the hosts Segment's 1Flow Web (Actions) loads the web SDK from (1flow.app since
# 2023-12-11, cdn-development.1flow.ai before), so --tls covers them (mock_1flow/web/).
DEFAULT_HOST_REGIONS = {"api-sdk.1flow.app": "us", "beta-sdk.1flow.app": "us", "dev-sdk.1flow.app": "us",
                        "1flow.app": "us", "cdn-development.1flow.ai": "us"}
DEFAULT_HTTP_API_HOSTS = {"api.1flow.app": "us"}  # 1Flow's HTTP API; /v1/... elsewhere is Segment's
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
ADMIN_WRITE_HEADER = "X-Mock-1flow-Admin"
"""A state-changing admin call carries this header (any value) or a JSON body: either makes it
a request a web page cannot send cross-site without a CORS preflight, which the mock never
grants (FIDELITY.md, "Admin API security")."""
# The SDK API's body limit. 32 KB is a figure of 1Flow's public HTTP API, not of the SDK
# API: both SDKs send their whole queue in one /v3/track body and resend it, growing, after
# a failure, so the default lets a backlog of tens of thousands of events through; the hard
# bound keeps one request's memory bounded whatever is configured.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_BODY_BYTES_BOUND = 64 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 10.0
INGEST_DELIVERY_MODES = ("sync", "async")  # mock_1flow/ingest/pipeline.py
DEFAULT_INGEST_QUEUE_BYTES = 16 * 1024 * 1024  # mock_1flow/ingest/background.py
DEFAULT_INGEST_RETRY_SPEEDUP = 3600.0  # Segment's four hours of retries become four seconds


@dataclass
class MockConfig:
    """``error_profile``: ``docs`` answers key errors with 404 as Segment documents;
    ``backend`` with 401 ``invalid_key`` as 1Flow's backend does."""

    projects_file: Path | None = None
    error_profile: str = "docs"
    host_regions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_HOST_REGIONS))
    http_api_hosts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_HTTP_API_HOSTS))
    journal_cap: int = DEFAULT_JOURNAL_CAP
    admin_allow: tuple[str, ...] = LOOPBACK_NETWORKS
    max_body_bytes: int = MAX_BODY_BYTES
    tls_cert: str | None = None  # PEM chain; with tls_key, `serve` speaks HTTPS (the SDKs hard-code https://)
    tls_key: str | None = None
    faults: list[dict] = field(default_factory=list)
    stubs: list[dict] = field(default_factory=list)  # serve --stub FILE: POST /__admin/stubs bodies (server/stubs.py)
    journal_max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES
    journal_body_max: int = DEFAULT_JOURNAL_BODY_MAX
    journal_redact: tuple[str, ...] = DEFAULT_REDACTED_HEADERS
    event_cap: int = DEFAULT_EVENT_CAP
    event_max_bytes: int = DEFAULT_EVENT_MAX_BYTES
    strict_query: bool = False
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    state_file: str | None = None  # serve --state-file: loaded at start, written at shutdown (admin/snapshot.py)
    access_log: bool = False  # one line per request on stderr (serve --access-log)
    proxy: dict | None = None  # mock-1flow proxy: mock_1flow.proxy.forward.ProxyConfig fields
    ingest_delivery: str = "sync"  # serve --ingest-delivery: a source's ``delivery`` when it names none
    ingest_queue_bytes: int = DEFAULT_INGEST_QUEUE_BYTES  # async delivery: accepted events held at most
    ingest_retry_speedup: float = DEFAULT_INGEST_RETRY_SPEEDUP  # async delivery: Segment's schedule compressed
    store: str | None = None  # serve --store redis://HOST:PORT/DB: the state in Redis (server/state/redis)
    replay: dict | None = None  # serve --replay: mock_1flow.replay.answer.Replayer arguments (file, key_map, strict)

    def __post_init__(self) -> None:
        if self.error_profile not in ERROR_PROFILES:
            raise ValueError(f"error profile must be one of {', '.join(ERROR_PROFILES)}, not {self.error_profile!r}")
        check_body_limit(self.max_body_bytes)
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate and its key (--tls-cert and --tls-key)")
        # --admin-allow adds to loopback: loopback always reaches the admin API
        self.admin_allow = tuple(dict.fromkeys((*LOOPBACK_NETWORKS, *self.admin_allow)))
        self.admin_networks = tuple(ipaddress.ip_network(net, strict=False) for net in self.admin_allow)
        if self.body_timeout <= 0:
            raise ValueError("the body timeout must be positive")
        if self.ingest_delivery not in INGEST_DELIVERY_MODES:
            raise ValueError(f"the ingest delivery must be one of {', '.join(INGEST_DELIVERY_MODES)}, not {self.ingest_delivery!r}")
        if isinstance(self.ingest_queue_bytes, bool) or not isinstance(self.ingest_queue_bytes, int) or self.ingest_queue_bytes < 1:
            raise ValueError(f"the ingest queue's byte cap must be a whole number of bytes, at least 1, not {self.ingest_queue_bytes!r}")
        if not self.ingest_retry_speedup > 0:
            raise ValueError(f"the ingest retry speed-up must be positive (1: Segment's real schedule), not {self.ingest_retry_speedup!r}")

    def admin_allowed(self, address: str | None) -> bool:
        """Whether ``address`` may use /__admin; IPv4-mapped IPv6 (``::ffff:127.0.0.1``,
        what a dual-stack ``--host ::`` sees) counts as the IPv4 address it carries."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        mapped = getattr(ip, "ipv4_mapped", None)
        return any(ip in net or (mapped is not None and mapped in net) for net in self.admin_networks)

    def admin_host_allowed(self, host: str | None) -> bool:
        """Whether a ``Host`` header names this mock: ``localhost``, an address ``admin_allowed``
        lets in, or a host mapped to a region (``host_regions``, ``http_api_hosts``). Any other
        name is what a DNS-rebinding page sends. No ``Host`` at all (HTTP/1.0) is allowed: a
        browser always sends one."""
        if not host:
            return True
        name = host_name(host)
        if name == "localhost" or name.endswith(".localhost"):
            return True
        if name in self.host_regions or name in self.http_api_hosts:
            return True
        return self.admin_allowed(name)


def host_name(host: str) -> str:
    """The name in a ``Host`` header or an origin's authority: no port, no brackets around an
    IPv6 address, no trailing dot, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def check_body_limit(limit: int) -> int:
    """A body limit between 1 byte and :data:`MAX_BODY_BYTES_BOUND`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_BODY_BYTES_BOUND:
        raise ValueError(f"the body limit must be a whole number of bytes from 1 to {MAX_BODY_BYTES_BOUND} "
                         f"({MAX_BODY_BYTES_BOUND // (1024 * 1024)} MB), not {limit!r}")
    return limit
