"""Who may use the admin API: loopback always (IPv4-mapped too), --admin-allow adds."""

from __future__ import annotations

from mock_1flow.app import create_app
from mock_1flow.server.config import MockConfig


def test_ipv4_mapped_loopback_is_loopback():
    config = MockConfig()
    assert config.admin_allowed("::ffff:127.0.0.1") and config.admin_allowed("::1")
    assert not config.admin_allowed("::ffff:192.0.2.10")


def test_admin_allow_adds_to_loopback():
    client = create_app(admin_allow=("192.0.2.0/24",)).test_client()
    for address in ("192.0.2.10", "127.0.0.1", "::ffff:127.0.0.1"):
        assert client.get("/__admin/health", environ_base={"REMOTE_ADDR": address}).status_code == 200, address
    assert client.get("/__admin/health", environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 403
