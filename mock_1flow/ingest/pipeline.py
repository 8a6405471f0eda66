"""From accepted Segment events to the 1Flow mock's state, through the real destination.

One destination per Segment source, kept across requests (as Segment keeps its
destination's device ids), its client pointed at this same app in-process; the 1Flow
calls it makes are journaled like any other, marked with the source they came from.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..destination.client import OneFlowClient
from ..destination.destination import Destination
from ..destination.mapping import load_subscriptions
from ..destination.settings import Settings
from ..paths import DEFAULT_PROJECTS_FILE
from ..server.projects import Source
from ..server.runtime import Runtime
from .inprocess import INPROCESS_URL, inprocess_session
from .sources import mappings_path

VIA_HEADER = "X-Mock-1flow-Via"


EXTENSION_KEY = "mock_1flow.ingest.destinations"


def _destinations(runtime: Runtime) -> dict[str, Destination]:
    """The destinations of this app's sources, emptied when the runtime resets."""
    app = current_app._get_current_object()
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = app.extensions[EXTENSION_KEY] = {}
        runtime.on_reset.append(cache.clear)
    return cache


def destination_for(runtime: Runtime, source: Source) -> Destination:
    destinations = _destinations(runtime)
    destination = destinations.get(source.write_key)
    if destination is None:
        project = runtime.store.projects[source.project]
        settings = Settings(project_api_key=project.key, region=source.region or project.region, url=INPROCESS_URL)
        session = inprocess_session(current_app._get_current_object(), {VIA_HEADER: f"segment:{source.write_key}"})
        client = OneFlowClient(settings, session=session, max_retries=0)
        projects_file = runtime.config.projects_file or DEFAULT_PROJECTS_FILE
        subscriptions = load_subscriptions(mappings_path(source, projects_file.resolve().parent))
        destination = destinations[source.write_key] = Destination(settings, subscriptions, client=client)
    return destination


def deliver(runtime: Runtime, source: Source, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Run ``events`` through the source's destination now; returns the delivery summary."""
    return destination_for(runtime, source).send(events).summary()
