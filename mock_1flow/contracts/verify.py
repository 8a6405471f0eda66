"""Verify Pact contracts against a running server with pact-python's ``Verifier``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pact import Verifier

PROVIDER = "1flow-api"


@dataclass
class VerificationResult:
    ok: bool
    output: str
    results: Any


def verify_contracts(url: str, contracts_dir: Path, state_url: str | None = None) -> VerificationResult:
    """Replay every interaction of ``contracts_dir`` against ``url``; ``state_url`` receives
    Pact's provider-state changes (setup and teardown) before and after each."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    host = urlsplit(url).hostname or "localhost"
    verifier = Verifier(PROVIDER, host=host).add_transport(url=url.rstrip("/"))
    if state_url:
        verifier.state_handler(state_url, teardown=True, body=True)
    for path in sorted(Path(contracts_dir).glob("*.json")):
        verifier.add_source(path)
    try:
        verifier.verify()
        ok = True
    except RuntimeError:
        ok = False
    return VerificationResult(ok, verifier.output(strip_ansi=True), verifier.results)
