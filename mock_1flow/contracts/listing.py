"""Read Pact files (V4 JSON) to list interactions, their provider states and expected status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InteractionSummary:
    contract: str
    description: str
    states: tuple[str, ...]
    method: str
    path: str
    status: int


def contract_files(folder: Path) -> list[Path]:
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no Pact files (*.json) in {folder}")
    return files


def list_interactions(folder: Path) -> list[InteractionSummary]:
    found = []
    for path in contract_files(folder):
        data = json.loads(path.read_text(encoding="utf-8"))
        for item in data.get("interactions", []):
            states = tuple(
                state["name"] + (f" {json.dumps(state['params'], sort_keys=True)}" if state.get("params") else "")
                for state in item.get("providerStates", [])
            )
            request, response = item.get("request", {}), item.get("response", {})
            found.append(InteractionSummary(path.name, item["description"], states, request.get("method", "?"),
                                            request.get("path", "?"), int(response.get("status", 0))))
    return found
