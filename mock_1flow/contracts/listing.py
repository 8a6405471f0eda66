"""Read Pact files (V4 JSON, with the json module) to list interactions, their provider
states and expected status: what a reviewer needs without a Pact library."""

from __future__ import annotations

import json
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


def contract_files(folder: Path) -> list[Path]:
    """The Pact files of ``folder``; an empty folder is an error, not a silent pass."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no Pact files (*.json) in {folder}")
    return files


def list_interactions(contracts_dir: Path) -> list[InteractionSummary]:
    """Every interaction of every Pact file in ``contracts_dir``, in file order."""
    found = []
    for path in contract_files(contracts_dir):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{path.name} is not JSON: {exc}") from None
        for item in data.get("interactions", []):
            states = tuple(ProviderState(s["name"], dict(s.get("params") or {})) for s in item.get("providerStates", []))
            request, response = item.get("request", {}), item.get("response", {})
            found.append(InteractionSummary(path.name, item["description"], tuple(map(str, states)),
                                            request.get("method", "?"), request.get("path", "?"),
                                            int(response.get("status", 0)), states))
    return found
