"""Answering instead of the mock: the one hook ``mock-1flow proxy`` (forward upstream) and
``serve --replay`` (answer from a recording) plug into, on the hot path and Flask's routes
alike, the way stubs do (:mod:`.stub_hooks`).

An :class:`Answerer` gets every request outside ``/__admin`` and ``/openapi.yaml`` as an
:class:`Exchange` and returns an :class:`Answer`, or None to let the mock answer. The journal
keeps the answer's ``violations`` and ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Exchange:
    """A request as it arrived: header names as sent (``one_flow_key`` keeps its underscore)."""

    method: str
    path: str
    query: str
    headers: Headers
    body: bytes
    host: str


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    violations: list[dict[str, str]] = field(default_factory=list)  # [{"side", "pointer", "reason"}]
    note: str | None = None
    blocking: bool = True  # whether making it may wait on the network (the server runs it off the event loop)


class Answerer(Protocol):
    blocking: bool

    def __call__(self, exchange: Exchange) -> Answer | None: ...


def journal_violations(answer: Answer | None) -> tuple[Any, ...] | None:
    return tuple(answer.violations) if answer is not None and answer.violations else None
