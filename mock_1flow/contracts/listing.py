"""Read Pact files (V4 JSON, with the json module) to list interactions, their provider
states and expected status: what a reviewer needs without a Pact library."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProviderState:
    name: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return self.name + (f" {json.dumps(self.params, sort_keys=True)}" if self.params else "")


@dataclass(frozen=True)
class InteractionSummary:
    contract: str
    description: str
    states: tuple[str, ...]  # each state as text: name and its params as JSON
    method: str
    path: str
    status: int
    provider_states: tuple[ProviderState, ...] = ()


def contract_files(source: Path) -> list[Path]:
    """``source`` itself when it is a file, else the Pact files (``*.json``) of the folder;
    an empty folder is an error, not a silent pass."""
    source = Path(source)
    if source.is_file():
        return [source]
    files = sorted(source.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no Pact files (*.json) in {source}")
    return files


@dataclass(frozen=True)
class ContractFile:
    """One Pact file: who it is between, its specification version and its interactions."""

    path: Path
    consumer: str
    provider: str
    pact_version: str  # metadata.pactSpecification.version, e.g. "4.0"
    interactions: tuple[InteractionSummary, ...]

    def as_json(self) -> dict[str, Any]:
        return {"file": self.path.name, "consumer": self.consumer, "provider": self.provider,
                "pact_version": self.pact_version,
                "interactions": [{"description": i.description, "states": list(i.states), "method": i.method,
                                  "path": i.path, "status": i.status} for i in self.interactions]}


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name} is not JSON: {exc}") from None
    return data


def _name(data: dict[str, Any], role: str) -> str:
    value = data.get(role)
    return str(value.get("name", "?")) if isinstance(value, dict) else "?"


def _interactions(path: Path, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The interactions of one Pact file; a file that is not a Pact says what to fix."""
    data = _load(path) if data is None else data
    interactions = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(interactions, list):
        raise ValueError(f"{path.name} is not a Pact file: it needs a top-level 'interactions' list")
    for number, item in enumerate(interactions):
        if not isinstance(item, dict) or not isinstance(item.get("description"), str) or not item["description"]:
            raise ValueError(f"{path.name}: interaction {number} has no 'description'; "
                             "Pact requires one (a sentence naming what the interaction does)")
    return interactions


def _summary(path: Path, item: dict[str, Any]) -> InteractionSummary:
    states = tuple(ProviderState(s["name"], dict(s.get("params") or {}))
                   for s in item.get("providerStates", []) if isinstance(s, dict) and "name" in s)
    request, response = item.get("request") or {}, item.get("response") or {}
    return InteractionSummary(path.name, item["description"], tuple(map(str, states)), request.get("method", "?"),
                              request.get("path", "?"), int(response.get("status", 0)), states)


def list_contracts(source: Path) -> list[ContractFile]:
    """Every Pact file in ``source`` (a file or folder) with its consumer, provider, Pact
    specification version and interactions, in file order."""
    found = []
    for path in contract_files(source):
        data = _load(path)
        items = _interactions(path, data)
        metadata = data.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
        spec = metadata.get("pactSpecification") or metadata.get("pact-specification") or {}
        version = str(spec.get("version", "?")) if isinstance(spec, dict) else "?"
        found.append(ContractFile(path, _name(data, "consumer"), _name(data, "provider"), version,
                                  tuple(_summary(path, item) for item in items)))
    return found


def list_interactions(source: Path) -> list[InteractionSummary]:
    """Every interaction of every Pact file in ``source`` (a file or folder), in file order."""
    return [item for contract in list_contracts(source) for item in contract.interactions]


def select(interactions: list[InteractionSummary], description: str | None = None,
           state: str | None = None) -> list[InteractionSummary]:
    """The interactions whose description and provider-state names match these regular
    expressions (searched, as Pact's verifier filter does)."""
    def state_matches(item: InteractionSummary) -> bool:
        return any(re.search(state, s.name) for s in item.provider_states) if state else True
    return [i for i in interactions if (not description or re.search(description, i.description)) and state_matches(i)]
