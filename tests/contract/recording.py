"""What every Pact consumer test here does with its contract: record each interaction into a
fresh file, and compare that file with the committed one (``MOCK_1FLOW_UPDATE_CONTRACTS=1``
writes it instead), so a change of expectations shows as a diff in review."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pact import Pact

from mock_1flow.paths import CONTRACTS_DIR

UPDATE = "MOCK_1FLOW_UPDATE_CONTRACTS"


@dataclass
class Interaction:
    """One request/response pair of the contract, its provider state and the client call
    (``exercise(url)`` drives the real client against the Pact mock server at ``url``)."""

    description: str
    state: str
    params: dict[str, Any]
    method: str
    path: str
    request: Any
    status: int
    response: Any
    exercise: Callable[[str], None]
    query: dict[str, Any] = field(default_factory=dict)
    response_headers: dict[str, Any] = field(default_factory=dict)


def record_interaction(interaction: Interaction, folder: Path, consumer: str, provider: str, key_header: str) -> None:
    """Serve one interaction on its own Pact mock server, run the client against it, and
    merge it into the contract in ``folder`` (Pact fails on any unmatched or missing request).
    The request carries the state's project key in ``key_header``."""
    pact = Pact(consumer, provider).with_specification("V4")
    request = (pact.upon_receiving(interaction.description)
               .given(interaction.state, **interaction.params)
               .with_request(interaction.method, interaction.path)
               .with_header(key_header, interaction.params["key"]))
    if interaction.request is not None:
        request.with_body(interaction.request, content_type="application/json")
    for name, value in interaction.query.items():
        request.with_query_parameter(name, value)
    response = request.will_respond_with(interaction.status)
    for name, value in interaction.response_headers.items():
        response.with_header(name, value)
    response.with_body(interaction.response, content_type="application/json")
    with pact.serve() as server:
        interaction.exercise(str(server.url).rstrip("/"))
    pact.write_file(folder, overwrite=False)


def normalised(path: Path) -> list[str]:
    """The contract as comparable text, without what Pact changes by itself (its own library
    versions in ``metadata``); interactions in a stable order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    metadata = data.get("metadata", {})
    for name in [n for n in metadata if n.startswith("pact") and n != "pactSpecification"]:
        metadata.pop(name)
    data["interactions"] = sorted(data.get("interactions", []), key=lambda i: i["description"])
    return json.dumps(data, indent=2, sort_keys=True).splitlines()


def record_all(interactions: Sequence[Any], record: Callable[[Any, Path], None], folder: Path, contract: str) -> Path:
    """Record every interaction (``record(interaction, folder)``) into ``folder/contract``."""
    for interaction in interactions:
        try:
            record(interaction, folder)
        except Exception as exc:
            raise AssertionError(f"interaction '{interaction.description}': {exc}") from exc
    return folder / contract


def check_committed(fresh: Path, contract: str, consumer: str, tests: str) -> None:
    """The committed ``contracts/<contract>`` must equal the fresh one; ``tests`` is the pytest
    path that rewrites it."""
    committed = CONTRACTS_DIR / contract
    if os.environ.get(UPDATE) == "1":
        CONTRACTS_DIR.mkdir(exist_ok=True)
        committed.write_text(fresh.read_text(encoding="utf-8"), encoding="utf-8")
    assert committed.exists(), f"contracts/{contract} is missing; write it with: {UPDATE}=1 pytest {tests}"
    diff = "\n".join(difflib.unified_diff(normalised(committed), normalised(fresh),
                                         f"contracts/{contract} (committed)", f"what {consumer} now expects", lineterm=""))
    assert not diff, (
        f"The expectations of {consumer} changed. If that is intended, update the contract, review "
        f"`git diff contracts/` and commit it:\n    {UPDATE}=1 pytest {tests}\n\n{diff}")
