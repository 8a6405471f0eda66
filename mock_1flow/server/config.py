"""How one mock instance is configured; every field has an embedded default."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from .journal import DEFAULT_JOURNAL_CAP

ERROR_PROFILES = ("docs", "backend")
DEFAULT_HOST_REGIONS = {"api-sdk.1flow.app": "us", "dev-sdk.1flow.app": "us"}
DEFAULT_HTTP_API_HOSTS = {"api.1flow.app": "us"}  # 1Flow's HTTP API; /v1/... elsewhere is Segment's
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
MAX_BODY_BYTES = 32 * 1024


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
    faults: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.error_profile not in ERROR_PROFILES:
            raise ValueError(f"error profile must be one of {', '.join(ERROR_PROFILES)}, not {self.error_profile!r}")
        self.admin_networks = tuple(ipaddress.ip_network(net, strict=False) for net in self.admin_allow)

    def admin_allowed(self, address: str | None) -> bool:
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        return any(ip in net for net in self.admin_networks)
