"""Fault injection (WireMock-style): latency, error statuses and dropped connections
for requests matching a path pattern, project and region, with a probability or for
the first N matching requests.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_STATUSES = range(400, 600)  # any 4xx or 5xx: a 400, 401 or 418 is as much a fault to test as a 503
MAX_LATENCY_MS = 60_000  # the spec's FaultSpec maximum: a longer sleep only ties up a worker
MAX_RETRY_AFTER = 86_400  # a day; larger values are typos, and 10^14 s overflows clients' clocks


@dataclass
class Fault:
    """One rule. ``path`` is a glob on the request path after the API base
    (``/v3/track``; ``/v1/track`` for 1Flow's HTTP API), or on the full path when it starts
    with another prefix (``/v1/batch``, ``/us/api/...``)."""

    id: str
    path: str = "*"
    method: str | None = None
    project: str | None = None
    region: str | None = None
    status: int | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    latency_max_ms: int | None = None
    drop_connection: bool = False
    probability: float = 1.0
    times: int | None = None
    hits: int = 0
    seen: int = 0

    def as_dict(self) -> dict[str, Any]:
        rule = asdict(self)
        counters = {name: rule.pop(name) for name in ("id", "hits", "seen")}
        return {**counters, "rule": rule}

    def matches(self, method: str, api_path: str, full_path: str, project: str | None, region: str | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (fnmatch.fnmatchcase(api_path, self.path) or fnmatch.fnmatchcase(full_path, self.path))
            and (self.project is None or self.project == project)
            and (self.region is None or self.region == region)
        )

    def latency_seconds(self, rng: random.Random) -> float:
        if self.latency_max_ms is not None and self.latency_max_ms > self.latency_ms:
            return rng.uniform(self.latency_ms, self.latency_max_ms) / 1000
        return self.latency_ms / 1000


def parse_fault(spec: dict[str, Any], fault_id: str) -> Fault:
    """Build a fault from its JSON/CLI form; raises ``ValueError`` naming the bad field.

    The same checks for ``POST /__admin/faults``, ``--fault`` and provider states, so a
    fault the server would refuse is refused before it starts.
    """
    if not isinstance(spec, dict):
        raise ValueError("a fault is a JSON object of rule fields")
    allowed = set(Fault.__dataclass_fields__) - {"id", "hits", "seen"}
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(allowed))})")
    _check_types(spec)
    fault = Fault(id=fault_id, **spec)
    if fault.status is not None and fault.status not in FAULT_STATUSES:
        raise ValueError(f"status must be a 4xx or 5xx (400-599), not {fault.status}; a stub (POST /__admin/stubs) answers other statuses")
    if not 0.0 < fault.probability <= 1.0:
        raise ValueError("probability must be in (0, 1]")
    if fault.times is not None and fault.times < 1:
        raise ValueError("times must be at least 1")
    if fault.latency_ms < 0 or (fault.latency_max_ms is not None and fault.latency_max_ms < fault.latency_ms):
        raise ValueError("latency_ms must be >= 0 and latency_max_ms >= latency_ms")
    if max(fault.latency_ms, fault.latency_max_ms or 0) > MAX_LATENCY_MS:
        raise ValueError(f"latency_ms and latency_max_ms must be at most {MAX_LATENCY_MS} ({MAX_LATENCY_MS // 1000} s)")
    if fault.status is None and not fault.drop_connection and not fault.latency_ms and not fault.latency_max_ms:
        raise ValueError("a fault needs a status, drop_connection or latency_ms")
    if fault.retry_after is not None and not 0 <= fault.retry_after <= MAX_RETRY_AFTER:
        raise ValueError(f"retry_after must be between 0 and {MAX_RETRY_AFTER} seconds")
    return fault


_INT_FIELDS = ("status", "retry_after", "latency_ms", "latency_max_ms", "times")
_TEXT_FIELDS = ("path", "method", "project", "region")


def _check_types(spec: dict[str, Any]) -> None:
    """Whole numbers stay ints (``1e23`` would reach ``Retry-After`` as ``1e+23``), texts stay texts."""
    for name in _INT_FIELDS:
        value = spec.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be a whole number, not {value!r}")
    for name in _TEXT_FIELDS:
        value = spec.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    if "drop_connection" in spec and not isinstance(spec["drop_connection"], bool):
        raise ValueError(f"drop_connection must be true or false, not {spec['drop_connection']!r}")
    probability = spec.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)):
        raise ValueError(f"probability must be a number, not {probability!r}")


def fault_from_text(text: str) -> dict[str, Any]:
    """A ``--fault`` value (``NAME=VALUE,...`` or a JSON object) checked exactly as the admin
    API checks a posted fault; returns the spec. Raises ``ValueError`` saying what to fix."""
    from .validation import MalformedJson, operation_validators, parse_json

    if text.lstrip().startswith("{"):
        try:
            spec = parse_json(text)
        except MalformedJson as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
    else:
        spec = parse_fault_option(text)
    validator = operation_validators()["adminAddFault"].body_validator
    assert validator is not None  # the spec gives adminAddFault a body
    error = next(iter(validator.iter_errors(spec)), None)
    if error is not None:
        where = "".join(f"/{part}" for part in error.instance_path) or "(root)"
        raise ValueError(f"{where}: {error.message}")
    parse_fault(spec, "check")
    return spec


def parse_fault_option(text: str) -> dict[str, Any]:
    """``path=/v3/track,status=503,probability=0.3`` (the ``--fault`` form) -> a fault spec."""
    spec: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"'{part}' is not NAME=VALUE")
        name = name.strip()
        kind = Fault.__dataclass_fields__.get(name)
        if kind is None or name in ("id", "hits", "seen"):
            raise ValueError(f"unknown fault field '{name}'")
        spec[name] = _convert(name, value.strip(), str(kind.type))
    return spec


def _convert(name: str, value: str, kind: str) -> Any:
    try:
        if "bool" in kind:
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return value.lower() in ("true", "1", "yes")
        if "float" in kind:
            return float(value)
        if "int" in kind:
            return int(value)
    except ValueError:
        raise ValueError(f"fault field '{name}' has a bad value '{value}'") from None
    return value


@dataclass
class FaultSet:
    """The active faults; thread-safe, seeded so a run with faults is reproducible."""

    seed: int = 0
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._rng = random.Random(self.seed)

    def add(self, spec: dict[str, Any]) -> Fault:
        with self._lock:
            fault = parse_fault(spec, f"fault-{next(self._ids)}")
            self.faults.append(fault)
            return fault

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self.faults)
            self.faults = [f for f in self.faults if f.id != fault_id]
            return len(self.faults) != before

    def clear(self) -> None:
        with self._lock:
            self.faults = []
            self._rng = random.Random(self.seed)

    def forget_project(self, key: str) -> None:
        """Remove the faults scoped to project ``key`` (``POST /__admin/projects/{key}/reset``)."""
        with self._lock:
            self.faults = [f for f in self.faults if f.project != key]

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self.faults]

    def pick(self, method: str, api_path: str, full_path: str, project: str | None, region: str | None) -> tuple[Fault, float] | None:
        """The first fault that fires for this request, with its latency in seconds."""
        if not self.faults:
            return None
        with self._lock:
            for fault in self.faults:
                if not fault.matches(method, api_path, full_path, project, region):
                    continue
                fault.seen += 1
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                return fault, fault.latency_seconds(self._rng)
        return None
