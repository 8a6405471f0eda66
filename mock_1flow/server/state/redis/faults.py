"""Faults shared by every worker and instance: the rules in Redis (each instance keeps a
copy, reloaded when an admin write anywhere moves the generation), and each fire counted
by a script, so ``times`` and the hit counts hold across all of them."""

from __future__ import annotations

import random
import threading
from typing import Any

import orjson

from ...faults import Fault, FaultSet, parse_fault
from ...store import StaleView
from . import Shared, StoreUnavailable


class RedisFaultSet(FaultSet):
    def __init__(self, shared: Shared, seed: int = 0) -> None:
        self.shared = shared
        self.seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._faults: list[Fault] = []
        shared.on_sync.append(self.load)

    def _read(self) -> list[Fault]:
        raw = self.shared.call(self.shared.client.lrange, "m1f:faults", 0, -1)
        faults = []
        for entry in raw:
            fault_id, spec = orjson.loads(entry)
            faults.append(parse_fault(orjson.loads(spec), fault_id))
        return faults

    def load(self) -> None:
        self._faults = self._read()

    @property
    def faults(self) -> list[Fault]:  # type: ignore[override]
        """The copy as of the last sync (admin routes sync first; an SDK request's scripts check
        it is current); empty while Redis is lost (the request then answers 503)."""
        return self._faults if self.shared.broken is None else []

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = parse_fault(spec, "check")  # refused before anything is written
        fault_id, gen = self.shared.run("FAULT_ADD", orjson.dumps(spec))
        fault.id = fault_id.decode() if isinstance(fault_id, bytes) else fault_id
        self._faults = [*self._faults, fault]
        self.shared.wrote(gen)
        return fault

    def remove(self, fault_id: str) -> bool:
        gone = self.shared.run("FAULT_REMOVE", fault_id)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return bool(gone)

    def clear(self) -> None:
        self.shared.wrote(self.shared.run("FAULTS_CLEAR"))
        self._faults = []
        self._rng = random.Random(self.seed)

    def forget_project(self, key: str) -> None:
        self.shared.run("FAULTS_FORGET", key)
        self._faults = [f for f in self._faults if f.project != key]

    def list(self) -> list[dict[str, Any]]:
        faults = self._read()
        pipe = self.shared.client.pipeline(transaction=False)
        pipe.hgetall("m1f:fhits")
        pipe.hgetall("m1f:fseen")
        hits, seen = self.shared.call(pipe.execute)
        for fault in faults:
            fault.hits = int(hits.get(fault.id.encode(), 0))
            fault.seen = int(seen.get(fault.id.encode(), 0))
        return [fault.as_dict() for fault in faults]

    def pick(self, method: str, api_path: str, full_path: str, project: str | None, region: str | None) -> tuple[Fault, float] | None:
        """The first fault that fires, counted in Redis (``seen``, ``hits`` and ``times`` across instances)."""
        local = self.shared.local
        restart = getattr(local, "restart", False)
        local.restart = True  # a stale copy: reloaded, and the new rules walked from the first
        try:
            for _ in range(8):
                try:
                    return self._pick(method, api_path, full_path, project, region)
                except StaleView:
                    continue
                except StoreUnavailable:
                    return None  # the operation answers 503
            return None
        finally:
            local.restart = restart

    def _pick(self, method: str, api_path: str, full_path: str, project: str | None, region: str | None) -> tuple[Fault, float] | None:
        for fault in self._faults:
            if not fault.matches(method, api_path, full_path, project, region):
                continue
            with self._lock:
                roll = fault.probability >= 1.0 or self._rng.random() < fault.probability
            fired = self.shared.fresh("FAULT_HIT", fault.id, "" if fault.times is None else fault.times, "1" if roll else "0")
            if fired:
                with self._lock:
                    return fault, fault.latency_seconds(self._rng)
        return None
