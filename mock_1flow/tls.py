"""TLS for the host form: the SDKs hard-code ``https://`` (iOS ``EndPoints.url``, Android
``OFRetroBaseService``), so an unmodified SDK pointed at the mock (hosts file, DNS or proxy)
needs a certificate for 1Flow's hosts that its device trusts.

``trustme`` makes a local CA and a leaf certificate for every host the mock maps (the SDK
API's ``--host-region`` and the HTTP API's ``--http-api-host`` hosts, plus loopback). The CA is kept in one folder and reused, so a device or simulator trusts it once;
the leaf is reissued at each start, so new ``--host-region`` names are always covered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def default_tls_dir() -> Path:
    """``$XDG_DATA_HOME/mock-1flow/tls`` (``~/.local/share/mock-1flow/tls`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "mock-1flow" / "tls"


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # trust this on the device / simulator / emulator
    cert: Path  # the server's certificate chain (PEM)
    key: Path  # the server's private key (PEM)
    names: tuple[str, ...]


def make_certificates(hosts: Iterable[str], directory: Path | None = None) -> TlsFiles:
    """Write (or reuse) the CA and issue a server certificate for ``hosts`` and loopback."""
    import trustme

    folder = Path(directory) if directory is not None else default_tls_dir()
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem, ca_key = folder / "ca.pem", folder / "ca-key.pem"
    if ca_pem.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(ca_pem.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="mock-1flow local CA")
        ca.cert_pem.write_to_path(str(ca_pem))
        ca.private_key_pem.write_to_path(str(ca_key))
        ca_key.chmod(0o600)
    names = tuple(dict.fromkeys([*(h.lower() for h in hosts), *LOOPBACK_NAMES]))
    leaf = ca.issue_cert(*names, common_name=names[0])
    cert, key = folder / "server.pem", folder / "server-key.pem"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    return TlsFiles(ca_pem, cert, key, names)
