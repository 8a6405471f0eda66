"""Stubs with the state in Redis: the rules travel in the shared parts document, as before;
ids come from one Redis counter (two instances adding stubs at once never give one id
twice), and hits are counted in Redis by the script that lets a stub answer, so ``times``
holds across every worker and instance (as faults' do)."""

from __future__ import annotations

from typing import Any, Sequence

from ...stubs import Stub, StubSet
from . import Shared

HITS = "m1f:shits"


class _RedisIds:
    """``next()`` gives the next stub number from Redis (``m1f:sseq``)."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def __next__(self) -> int:
        return int(self.shared.call(self.shared.client.incr, "m1f:sseq"))


class RedisStubSet(StubSet):
    def __init__(self, shared: Shared, body_limit: int) -> None:
        super().__init__(body_limit)
        self.shared = shared
        self._ids = _RedisIds(shared)  # type: ignore[assignment]

    def _take(self, stub: Stub) -> bool:
        """The hit counted in Redis (a ``times`` spent on any instance: False, the next stub)."""
        hits = self.shared.fresh("STUB_HIT", stub.id, "" if stub.times is None else stub.times)
        if not hits:
            return False
        stub.hits = int(hits)
        return True

    def list(self) -> list[dict[str, Any]]:
        hits = self.shared.call(self.shared.client.hgetall, HITS)
        listed = super().list()
        for item in listed:
            item["hits"] = int(hits.get(item["id"].encode(), 0))
        return listed

    def remove(self, stub_id: str) -> bool:
        removed = super().remove(stub_id)
        self.shared.call(self.shared.client.hdel, HITS, stub_id)
        return removed

    def clear(self, project: str | None = None) -> None:
        gone = [stub.id for stub in self._stubs if project is None or stub.project == project]
        super().clear(project)
        if gone:
            self.shared.call(self.shared.client.hdel, HITS, *gone)

    def replace(self, stubs: Sequence[Stub]) -> None:
        """A document's stubs (a reload after an admin write anywhere, or PUT /__admin/state):
        a stub Redis counts already keeps its count; a new one starts from the document's."""
        super().replace(stubs)
        self._ids = _RedisIds(self.shared)  # type: ignore[assignment]
        if stubs:
            pipe = self.shared.client.pipeline(transaction=False)
            for stub in stubs:
                pipe.hsetnx(HITS, stub.id, stub.hits)
            self.shared.call(pipe.execute)
