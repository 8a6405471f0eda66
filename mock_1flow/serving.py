"""Serving the mock on granian, a production-grade server that keeps ``one_flow_key``.

nginx and gunicorn (>= 22) drop headers with underscores by default; granian passes
them to the WSGI app, so an unmodified SDK's key arrives. The configuration reaches
the worker process through one environment variable (JSON), so workers build the same
app the CLI validated.
"""

from __future__ import annotations

import gc
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import Flask

from .app import create_app
from .server.config import MockConfig

CONFIG_ENV = "MOCK_1FLOW_CONFIG"


def config_to_env(config: MockConfig) -> str:
    data = asdict(config)
    data["projects_file"] = str(config.projects_file) if config.projects_file else None
    data["admin_allow"] = list(config.admin_allow)
    return json.dumps(data)


def config_from_env() -> MockConfig:
    data: dict[str, Any] = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    if data.get("projects_file"):
        data["projects_file"] = Path(data["projects_file"])
    if "admin_allow" in data:
        data["admin_allow"] = tuple(data["admin_allow"])
    return MockConfig(**data)


def app_from_env() -> Flask:
    """The granian target: builds the app from :data:`CONFIG_ENV`.

    The mock keeps every request (journal) and event (store) alive, and those are
    acyclic JSON trees that reference counting frees. With CPython's default GC
    thresholds, the ever-growing heap is rescanned so often that collection costs more
    than the request itself; start-up objects are frozen and young collections made rarer.
    """
    app = create_app(config_from_env())
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    return app


def serve(config: MockConfig, host: str = "127.0.0.1", port: int = 8080, threads: int = 2) -> None:
    """Run until Ctrl-C / SIGTERM (granian handles both and stops cleanly)."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    os.environ[CONFIG_ENV] = config_to_env(config)
    Server(
        "mock_1flow.serving:app_from_env",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=threads,
        factory=True,
        log_level=LogLevels.warning,
        ssl_cert=Path(config.tls_cert) if config.tls_cert else None,
        ssl_key=Path(config.tls_key) if config.tls_key else None,
    ).serve()
