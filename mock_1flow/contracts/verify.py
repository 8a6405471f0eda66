"""Verify Pact contracts against a running server with pact-python's ``Verifier``, and say
per interaction what passed and what did not (Pact's own report is kept too)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from pact import Verifier

from .listing import InteractionSummary, contract_files, list_interactions

PROVIDER = "1flow-api"
STATE_FAILED = "One or more of the setup state change handlers has failed"


@dataclass(frozen=True)
class InteractionResult:
    description: str
    states: tuple[str, ...]
    ok: bool
    problems: tuple[str, ...] = ()  # "status: expected 404 but was 401", "$.error: Expected ..."

    def line(self) -> str:
        given = f"  (given {'; '.join(self.states)})" if self.states else ""
        head = f"{'PASS' if self.ok else 'FAIL'}  {self.description}{given}"
        return "\n".join([head, *(f"      {problem}" for problem in self.problems)])


@dataclass
class VerificationResult:
    ok: bool
    interactions: list[InteractionResult]
    output: str  # Pact's report, without colours
    results: Any = field(repr=False, default=None)  # Pact's JSON results

    def summary(self) -> str:
        failed = sum(not i.ok for i in self.interactions)
        lines = [i.line() for i in self.interactions]
        return "\n".join([*lines, f"{len(self.interactions) - failed} passed, {failed} failed"])


def _problems(mismatch: dict[str, Any] | None) -> tuple[str, ...]:
    if not mismatch:
        return ()
    if mismatch.get("type") != "mismatches":
        return (str(mismatch.get("message") or mismatch),)
    found = []
    for item in mismatch.get("mismatches", []):
        kind, text = item.get("type", ""), item.get("mismatch", "")
        if kind == "StatusMismatch":
            found.append(f"status: {text}")
        elif item.get("path"):
            found.append(f"{item['path']}: {text}")
        else:
            found.append(f"{kind}: {text}" if kind else text)
    return tuple(sorted(found))  # Pact's order varies from run to run


def _state_refusal(state_url: str, summary: InteractionSummary | None) -> str | None:
    """Pact reports only that a state change failed; ask the state URL again for its reason."""
    for state in summary.provider_states if summary else ():
        body = {"state": state.name, "params": state.params, "action": "setup"}
        try:
            reply = requests.post(state_url, json=body, timeout=10)
        except requests.RequestException as exc:
            return f"state '{state.name}': {state_url} did not answer ({exc})"
        if reply.status_code >= 300:
            try:
                reason = reply.json().get("message") or reply.text
            except ValueError:
                reason = reply.text[:200]
            return f"state '{state.name}' refused by {state_url}: HTTP {reply.status_code} {reason}"
        requests.post(state_url, json={**body, "action": "teardown"}, timeout=10)
    return None


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Pact's Rust core prints its report straight to file descriptor 1; the report is in
    :attr:`VerificationResult.output` anyway, so callers choose what to print."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def verify_contracts(url: str, contracts_dir: Path, state_url: str | None = None, *,
                     quiet: bool = True, description: str | None = None,
                     state: str | None = None) -> VerificationResult:
    """Replay every interaction of ``contracts_dir`` (a Pact file or a folder of them)
    against ``url`` (a server root: the contracts' paths start with
    ``/{region}/api/2021-06-15``); ``state_url`` receives Pact's provider-state changes
    (setup and teardown, JSON body) around each interaction. ``description`` and ``state``
    (regular expressions) keep only the matching interactions. ``quiet`` keeps Pact's core
    from printing its report itself."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    files = contract_files(contracts_dir)
    verifier = Verifier(PROVIDER, host=urlsplit(url).hostname or "localhost").add_transport(url=url.rstrip("/"))
    if state_url:
        verifier.state_handler(state_url, teardown=True, body=True)
    for path in files:
        verifier.add_source(path)
    if description or state:
        verifier.filter(description, state=state)
    try:
        with _quiet_stdout() if quiet else nullcontext():
            verifier.verify()
        passed = True
    except RuntimeError:
        passed = False  # the per-interaction results say what failed
    results = verifier.results
    known = {item.description: item for item in list_interactions(contracts_dir)}
    interactions = []
    for item in results.get("interactionResults", []):
        problems = _problems(item.get("mismatch"))
        if state_url and problems == (STATE_FAILED,):
            problems = (_state_refusal(state_url, known.get(item["description"])) or STATE_FAILED,)
        states = known[item["description"]].states if item["description"] in known else tuple(item.get("providerStates", []))
        interactions.append(InteractionResult(item["description"], states, item.get("result") == "OK", problems))
    ok = passed and bool(interactions) and all(i.ok for i in interactions)
    return VerificationResult(ok, interactions, verifier.output(strip_ansi=True), results)
