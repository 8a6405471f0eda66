"""Wires a runtime to Redis: the store, journal and faults in Redis, and the state parts
(stubs, content) shared as one document that every instance reloads when it changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ...routes.common import dumps
from . import Shared

if TYPE_CHECKING:
    from ...runtime import Runtime


class RedisSink:
    """The store's sink in Redis mode: the data operations are already in Redis; an admin
    write (``changed``) publishes the state parts and moves the generation."""

    def __init__(self, runtime: "Runtime", shared: Shared) -> None:
        self.runtime, self.shared = runtime, shared

    def changed(self) -> None:
        self.shared.wrote(self.shared.run("CHANGED", dumps(self.runtime.state_parts.export())))

    def add_device(self, key: str, device_id: str, context: dict[str, Any] | None, at: float) -> None: ...

    def identify(self, key: str, anonymous_id: str, app_user_id: str, parameters: dict[str, Any], at: float) -> None: ...

    def track(self, key: str, user_id: str, received: float, rows: bytes) -> None: ...

    def add_response(self, key: str, response: dict[str, Any]) -> None: ...

    def add_push_token(self, key: str, analytic_id: str, token: str, at: float) -> None: ...

    def clear(self, key: str) -> None: ...

    def reset(self) -> None: ...

    def durable(self) -> bool:
        """Every operation is already in Redis when it returns (Redis' own persistence decides the rest)."""
        return True

    def replaced(self) -> None: ...


def bind(runtime: "Runtime", shared: Shared, seeded: bool) -> None:
    """After :meth:`Runtime.build`: share the parts; the instance that seeded Redis writes its own."""
    runtime.store.sink = RedisSink(runtime, shared)

    def load_parts() -> None:
        raw = shared.call(shared.client.get, "m1f:parts")
        if raw is None:
            runtime.state_parts.reset()
        else:
            runtime.state_parts.load(orjson.loads(raw))

    shared.on_sync.append(load_parts)
    if seeded:
        runtime.state_changed()
    shared.sync()
