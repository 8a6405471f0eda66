"""The composition root: one call builds a mock with its own state.

It mounts the mock's core (``server``: SDK API, spec, journal, faults), the admin API
(``admin``) and Segment's ingest (``ingest``), and wires the ingest's check of a
source's mappings into project loading, so the core never imports the destination.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from .server.config import MockConfig
from .server.core import init_core
from .server.runtime import Runtime, attach


def create_app(config: MockConfig | None = None, **options: Any) -> Flask:
    """Build a mock. ``options`` are :class:`MockConfig` fields (``projects_file``,
    ``error_profile``, ``host_regions``, ``journal_cap``, ``admin_allow``, ``faults``)."""
    from .admin import content, deliveries, faults, journal, page, provider_states, routes, snapshot, stubs, usage
    from .admin.access_log import enable_access_log
    from .ingest import segment_api
    from .ingest.sources import check_source_mappings
    from .web import routes as web_routes

    if config is None:
        if options.get("projects_file") is not None:
            options["projects_file"] = Path(options["projects_file"])
        config = MockConfig(**options)
    app = Flask("mock_1flow")
    runtime = Runtime.build(config, check_source=check_source_mappings)
    attach(app, runtime)
    init_core(app, runtime)
    for module in (routes, content, faults, stubs, journal, provider_states, deliveries, snapshot, usage, segment_api, page):
        module.init_app(app)
    if config.proxy is not None:
        from .proxy.forward import Forwarder, ProxyConfig

        settings = dict(config.proxy)
        settings["redact_json_paths"] = tuple(settings.get("redact_json_paths") or ())
        runtime.answerer = Forwarder(ProxyConfig(**settings))
    web_routes.init_app(app)  # the web SDK double: /js/1flow.js and the calls it reports
    if config.store:  # admin routes see other instances' writes too (the SDK API syncs in its fault check)
        shared = runtime.store.shared  # type: ignore[attr-defined]
        app.before_request(shared.before_flask_request)
        app.teardown_request(shared.after_flask_request)
    if config.replay is not None:
        from .replay.answer import Replayer

        runtime.answerer = Replayer(**config.replay)
    if config.access_log:
        enable_access_log(app, runtime)
    return app
