"""The mock's state behind one interface, with three ways to keep it.

What a mock knows (projects, and per project users, devices, identify merges, events with
their ``_id`` dedup and the event caps, survey responses, push tokens; and whatever
:class:`StatePart` the runtime registers, e.g. per-project content and stubs) changes only
through these operations, each a method of :class:`~mock_1flow.server.store.ProjectState`
or :class:`~mock_1flow.server.store.Store`:

=====================  ==========================================================
``add_device``         ``/v3/user``: one analytic user per device
``identify``           ``/v3/identify`` (and 1Flow's HTTP API, through ``app_user``)
``track``              ``/v3/track``: one stored call, each ``_id`` once
``add_response``       ``/v3/response``
``add_push_token``     ``/v3/user/device/{id}``
``clear`` / ``reset``  a project's data forgotten / everything back to the projects file
``replaced``           the whole state swapped (``PUT /__admin/state``)
``changed``            an admin write: projects or a state part (``Runtime.state_changed``)
=====================  ==========================================================

The three ways to keep it:

1. **Memory** (the default): :class:`~mock_1flow.server.store.Store` with no sink. Each
   operation costs one ``if sink is not None`` beyond today's work.
2. **Memory with a durable log** (``serve --state-file PATH``): the same store with a
   :class:`~mock_1flow.server.state.durable.StateFile` attached as its :class:`StateSink`.
   Every operation is appended to the file as one JSON line (flushed to the OS every
   0.2 s, fsynced every second), and the file is compacted in the background into one
   snapshot followed by the newer lines; start-up replays it
   (:mod:`~mock_1flow.server.state.records`).
3. **Redis** (issue 23, not written yet): a store whose operations above are Redis
   scripts (atomic dedup, one analytic user per device across workers). It implements
   the same method names with the same arguments, including ``at`` (the time the
   operation used, so replays and other workers agree on timestamps), and the reads the
   routes make (``state(key).users``, ``.events``, ...); the state document
   (:mod:`~mock_1flow.server.state.document`) reads through
   :func:`~mock_1flow.server.state.copy.take`, the one place that walks the store.

The state document (``GET``/``PUT /__admin/state``) and the state file carry the same
data; :class:`StateParts` is how other state joins both.
"""

from __future__ import annotations

from typing import Any, Protocol


class StateSink(Protocol):
    """Told every change to the mock's data, in order, with the store's lock held.

    Arguments are exactly what the store's method was given (plus ``at``, the epoch
    seconds it used), so calling the same method again with them gives the same result.
    """

    def add_device(self, key: str, device_id: str, context: dict[str, Any] | None, at: float) -> None: ...

    def identify(self, key: str, anonymous_id: str, app_user_id: str, parameters: dict[str, Any], at: float) -> None: ...

    def track(self, key: str, user_id: str, received: float, rows: bytes) -> None:
        """One stored call: ``rows`` is the packed JSON array of the events kept (duplicates left out)."""

    def add_response(self, key: str, response: dict[str, Any]) -> None: ...

    def add_push_token(self, key: str, analytic_id: str, token: str, at: float) -> None: ...

    def clear(self, key: str) -> None: ...

    def reset(self) -> None: ...

    def replaced(self) -> None:
        """The whole state was swapped for another (``PUT /__admin/state``)."""

    def changed(self) -> None:
        """Projects or a state part changed (``Runtime.state_changed``)."""

    def durable(self) -> bool:
        """Block until every change told so far is kept (a crash now loses none of it);
        False if it could not be. ``PUT /__admin/state`` answers only after this."""


class StatePart(Protocol):
    """State kept beside the store's (per-project content, stubs, ...): carried by the state
    document under ``parts.<name>`` and by the state file.

    ``export`` returns JSON-ready data; ``check`` raises ``ValueError`` (its message says
    what is wrong) for data ``load`` would not take, and changes nothing; ``load`` takes data
    that passed ``check`` (it must not fail); ``reset`` goes back to the start-up state.
    After any change of its own, the part's owner calls ``runtime.state_changed()``.
    """

    def export(self) -> Any: ...

    def check(self, data: Any, projects: set[str] | None = None) -> None:
        """``projects``: the keys of the projects the data comes with, for a part keyed by project."""

    def load(self, data: Any) -> None: ...

    def reset(self) -> None: ...


class StateParts(dict[str, StatePart]):
    """The runtime's registry of :class:`StatePart` by name (``runtime.state_parts``)."""

    def export(self) -> dict[str, Any]:
        return {name: part.export() for name, part in self.items()}

    def check(self, parts: dict[str, Any], projects: set[str] | None = None) -> None:
        """Raises ``ValueError`` naming the part for data one of them refuses, or an unknown name."""
        unknown = sorted(set(parts) - set(self))
        if unknown:
            raise ValueError(f"/parts/{unknown[0]}: unknown state part (this mock has: {', '.join(self) or 'none'})")
        for name, data in parts.items():
            try:
                self[name].check(data, projects)
            except ValueError as exc:  # a message that starts with its pointer is joined to it
                message = str(exc)
                raise ValueError(f"/parts/{name}{message}" if message.startswith("/") else f"/parts/{name}: {message}") from None

    def load(self, parts: dict[str, Any]) -> None:
        """Load checked data; a registered part the data does not mention is reset."""
        for name, part in self.items():
            if name in parts:
                part.load(parts[name])
            else:
                part.reset()

    def reset(self) -> None:
        for part in self.values():
            part.reset()
