"""Verify Pact contracts against a running server with pact-python's ``Verifier``, and say
per interaction what passed and what did not (Pact's own report is kept too)."""

from __future__ import annotations

import logging
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
# Pact's core says whether each result reached the broker only in its log (pact_verifier's
# publish_result logs at INFO on success, at ERROR on failure); pact-python forwards that
# log to the `pact.ffi` logger (pact.logging), so that is where the outcome is read.
PUBLISHED = "Results published to Pact Broker"
PUBLISH_FAILED = "Publishing of verification results failed with an error: "


@dataclass(frozen=True)
class InteractionResult:
    description: str
    states: tuple[str, ...]
    ok: bool
    problems: tuple[str, ...] = ()  # "status: expected 404 but was 401", "$.error: Expected ..."
    pending: bool = False  # from a pending pact: a failure does not fail the verification

    def line(self) -> str:
        given = f"  (given {'; '.join(self.states)})" if self.states else ""
        verdict = "PASS" if self.ok else "FAIL (pending)" if self.pending else "FAIL"
        head = f"{verdict}  {self.description}{given}"
        return "\n".join([head, *(f"      {problem}" for problem in self.problems)])


@dataclass
class VerificationResult:
    ok: bool
    interactions: list[InteractionResult]
    output: str  # Pact's report, without colours
    results: Any = field(repr=False, default=None)  # Pact's JSON results
    publish_error: str | None = None  # why the results did not reach the broker
    load_error: str | None = None  # why no pact could be loaded (an unreachable or refusing broker)

    def summary(self) -> str:
        failed = sum(not i.ok and not i.pending for i in self.interactions)
        pending = sum(not i.ok and i.pending for i in self.interactions)
        lines = [i.line() for i in self.interactions]
        tail = f", {pending} failed in pending pacts" if pending else ""
        return "\n".join([*lines, f"{len(self.interactions) - failed - pending} passed, {failed} failed{tail}"])


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
    return _run(verifier, list_interactions(contracts_dir), state_url, quiet)


@dataclass(frozen=True)
class BrokerSource:
    """Where and how to fetch the pacts to verify from a Pact Broker, and how to publish."""

    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    selectors: tuple[dict[str, Any], ...] = ()  # consumer version selectors, as the broker's API names them
    pending: bool = False
    wip_since: str | None = None  # YYYY-MM-DD
    provider_version: str | None = None
    provider_branch: str | None = None
    publish: bool = False


SELECTOR_KEYS = {"consumer": "consumer", "tag": "tag", "fallbackTag": "fallback_tag", "latest": "latest",
                 "deployedOrReleased": "deployed_or_released", "deployed": "deployed", "released": "released",
                 "environment": "environment", "mainBranch": "main_branch", "branch": "branch",
                 "matchingBranch": "matching_branch", "fallbackBranch": "fallback_branch"}


def verify_from_broker(url: str, broker: BrokerSource, state_url: str | None = None, *,
                       quiet: bool = True) -> VerificationResult:
    """Verify the pacts the broker selects for the provider (``Verifier.broker_source``),
    with pending and WIP pacts as asked; publish the results when ``broker.publish``."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    verifier = Verifier(PROVIDER, host=urlsplit(url).hostname or "localhost").add_transport(url=url.rstrip("/"))
    if state_url:
        verifier.state_handler(state_url, teardown=True, body=True)
    if broker.username:
        builder = verifier.broker_source(broker.url, username=broker.username, password=broker.password, selector=True)
    else:
        builder = verifier.broker_source(broker.url, token=broker.token, selector=True)
    for selector in broker.selectors:
        builder.consumer_version(**{SELECTOR_KEYS[key]: value for key, value in selector.items()})
    if broker.pending:
        builder.include_pending()
    if broker.wip_since:
        builder.include_wip_since(broker.wip_since)
    if broker.provider_branch:
        builder.provider_branch(broker.provider_branch)
    builder.build()
    if broker.publish:
        verifier.set_publish_options(version=str(broker.provider_version), branch=broker.provider_branch)
    with _pact_events() as events:
        result = _run(verifier, [], state_url, quiet)
    if broker.publish and result.interactions:
        result.publish_error = _publication_error(events.records)
    return result


class _PactEvents(logging.Handler):
    """Keeps the verifier's own log events (``log_id`` ``verify:<provider>``)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(getattr(record, "log_id", None) or "").startswith("verify:"):
            self.records.append((record.levelno, record.getMessage()))


@contextmanager
def _pact_events() -> Iterator[_PactEvents]:
    """Listen to Pact's core while the block runs. It logs INFO events only when the
    ``pact.ffi`` logger's level allows them (the CLI sets INFO); errors always."""
    handler = _PactEvents()
    log = logging.getLogger("pact.ffi")
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)


def _publication_error(records: list[tuple[int, str]]) -> str | None:
    """Why the results did not reach the broker, or None when every publication succeeded
    (a failure is logged per pact; a success is visible only when INFO events are forwarded)."""
    failures = [message.split(PUBLISH_FAILED, 1)[1] for level, message in records
                if level >= logging.ERROR and PUBLISH_FAILED in message]
    if failures:
        return failures[0]
    if any(level == logging.INFO for level, _ in records) and not any(message == PUBLISHED for _, message in records):
        return "Pact's core published no verification result (it logged no publication)"
    return None


def _run(verifier: Verifier, known_items: list[InteractionSummary], state_url: str | None,
         quiet: bool) -> VerificationResult:
    try:
        with _quiet_stdout() if quiet else nullcontext():
            verifier.verify()
        passed = True
    except RuntimeError:
        passed = False  # the per-interaction results say what failed
    results = verifier.results
    known = {item.description: item for item in known_items}
    interactions = []
    for item in results.get("interactionResults", []):
        problems = _problems(item.get("mismatch"))
        if state_url and problems == (STATE_FAILED,):
            problems = (_state_refusal(state_url, known.get(item["description"])) or STATE_FAILED,)
        states = known[item["description"]].states if item["description"] in known else tuple(item.get("providerStates", []))
        interactions.append(InteractionResult(item["description"], states, item.get("result") == "OK", problems,
                                              bool(item.get("pending"))))
    output = verifier.output(strip_ansi=True)
    ok = passed and bool(interactions) and all(i.ok or i.pending for i in interactions)
    errors = [e.get("mismatch", {}).get("message", "") for e in results.get("errors", []) if not interactions]
    return VerificationResult(ok, interactions, output, results) if not errors else \
        VerificationResult(False, [], output, results, None, errors[0])
