"""``mock-1flow contracts``: list the Pact interactions, verify them against a server."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import requests

from ..paths import CONTRACTS_DIR

STATE_PATH = "/__admin/provider-states"

CONTRACTS_OPTION = click.option(
    "--contracts", "contracts_dir", type=click.Path(exists=True, path_type=Path),
    default=CONTRACTS_DIR, show_default="the packaged contracts/", help="A Pact file, or a folder of them.")


class BadInput(click.ClickException):
    """Input the user must fix (a file that is not a Pact, a filter that matches nothing): exit 2."""

    exit_code = 2


def _interactions(contracts_dir: Path, description: str | None = None, state: str | None = None) -> list[Any]:
    """The interactions to work on; a malformed Pact file or an empty selection is BadInput."""
    from ..contracts.listing import list_interactions, select

    try:
        chosen = select(list_interactions(contracts_dir), description, state)
    except (FileNotFoundError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    except re.error as exc:
        raise BadInput(f"--description/--state must be regular expressions: {exc}") from None
    if not chosen:
        asked = " and ".join(f"--{name} {value!r}" for name, value in (("description", description), ("state", state)) if value)
        raise BadInput(f"no interaction in {contracts_dir} matches {asked or 'at all'}; 'mock-1flow contracts list' shows them")
    return chosen


@click.group()
def contracts() -> None:
    """Pact contracts between the destination and the 1Flow API.

    \b
    Examples:
      mock-1flow contracts list
      mock-1flow contracts verify --junit pact-junit.xml
    """
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


@contracts.command("list")
@CONTRACTS_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON document (files, their interactions) instead of tables.")
def list_command(contracts_dir: Path, as_json: bool) -> None:
    """Print each Pact file (consumer, provider, Pact version) and its interactions with
    their provider states and expected status.

    \b
    Examples:
      mock-1flow contracts list
      mock-1flow contracts list --json
      mock-1flow contracts list --contracts path/to/my-pact.json
    """
    from ..contracts.listing import list_contracts

    _interactions(contracts_dir)  # a bad file or an empty folder stops here
    found = list_contracts(contracts_dir)
    total = sum(len(c.interactions) for c in found)
    if as_json:
        click.echo(json.dumps({"files": [c.as_json() for c in found], "interactions": total}, indent=2))
        return
    console = rich_console()
    for contract in found:
        console.print(f"[bold]{contract.path.name}[/]  {contract.consumer} -> {contract.provider}  "
                      f"Pact {contract.pact_version}  {len(contract.interactions)} interactions")
        console.print(_interaction_table(contract.interactions))
        console.print()
    console.print(f"{len(found)} files, {total} interactions")


def rich_console() -> Any:
    """A rich console on stdout: the terminal's width, or wide enough that a pipe or a CI
    log gets whole rows."""
    import sys

    from rich.console import Console

    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 240)


def _interaction_table(interactions: Any) -> Any:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("status", "method", "path", "description", "given"):
        table.add_column(column, justify="right" if column == "status" else "left")
    for item in interactions:
        table.add_row(str(item.status), item.method, item.path, item.description, "; ".join(item.states) or "-")
    return table


def is_mock_1flow(url: str) -> bool:
    """Whether ``url`` is a mock-1flow (its admin health answers), so it has the state
    endpoint; a server that does not answer at all is an error worth saying once."""
    try:
        reply = requests.get(f"{url.rstrip('/')}/__admin/health", timeout=5)
    except requests.RequestException as exc:
        raise click.ClickException(f"nothing answers at {url}: {exc}") from None
    try:
        return reply.status_code == 200 and "error_profile" in reply.json()
    except ValueError:
        return False


@contextmanager
def _in_process_mock(error_profile: str) -> Iterator[str]:
    """A mock on a free loopback port, its request log silenced (the summary says it all)."""
    from ..testing import MockServer

    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    try:
        with MockServer(error_profile=error_profile) as mock:
            yield mock.url
    finally:
        werkzeug.setLevel(level)


@contracts.command("verify")
@click.option("--url", help="A running 1Flow-compatible server root (contract paths are /{region}/api/2021-06-15/...). "
                            "Default: an in-process mock on a free loopback port.")
@CONTRACTS_OPTION
@click.option("--state-url", help=f"Provider-state endpoint. Default: URL{STATE_PATH} when URL is a mock-1flow, else none.")
@click.option("--no-states", is_flag=True, help="Send no provider-state changes (a real 1Flow endpoint has none).")
@click.option("--error-profile", type=click.Choice(["docs", "backend"]), default="docs", show_default=True,
              help="Error profile of the in-process mock (not with --url).")
@click.option("--pact-output", is_flag=True, help="Also print Pact's own verification report.")
@click.option("--description", metavar="REGEX", help="Only interactions whose description matches (searched).")
@click.option("--state", metavar="REGEX", help="Only interactions with a provider state whose name matches.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write a JUnit XML report here.")
def verify_command(url: str | None, contracts_dir: Path, state_url: str | None, no_states: bool,
                   error_profile: str, pact_output: bool, description: str | None, state: str | None,
                   junit: Path | None) -> None:
    """Replay every interaction against a server; print each result; exit 1 on any failure.

    \b
    Examples:
      mock-1flow contracts verify
      mock-1flow contracts verify --description 'unknown key' --junit pact-junit.xml
      mock-1flow contracts verify --state 'rate-limited' --contracts contracts/my-pact.json
      mock-1flow contracts verify --url http://127.0.0.1:8080
    """
    try:
        from ..contracts.verify import verify_contracts
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "pact":
            raise
        raise BadInput("verifying needs Pact's core, an extra of mock-1flow: pip install 'mock-1flow[contracts]'") from None

    pact_log = logging.getLogger("pact.ffi")
    if pact_log.level == logging.NOTSET:  # the summary says what Pact's warnings would
        pact_log.setLevel(logging.ERROR)

    if url and error_profile != "docs":
        raise click.UsageError("--error-profile applies to the in-process mock only; drop it or --url.")
    if no_states and state_url:
        raise click.UsageError("--state-url and --no-states contradict each other.")
    _interactions(contracts_dir, description, state)  # a bad file or an empty selection stops here
    with (_remote(url) if url else _in_process_mock(error_profile)) as target:
        states = None if no_states else (state_url or _default_state_url(target, bool(url)))
        result = verify_contracts(target, contracts_dir, states, description=description, state=state)
    if pact_output:
        click.echo(result.output)
    click.echo(result.summary())
    if junit:
        from ..contracts.junit import write_junit

        try:
            write_junit(result, junit)
        except OSError as exc:
            raise BadInput(f"cannot write the JUnit report {junit}: {exc.strerror}") from None
        click.echo(f"JUnit report: {junit}")
    if result.ok:
        click.echo(f"verified: all interactions passed ({target})")
        return
    failed = sum(not i.ok for i in result.interactions)
    click.echo(f"verification FAILED: {failed} of {len(result.interactions)} interactions ({target})")
    raise SystemExit(1)


@contextmanager
def _remote(url: str) -> Iterator[str]:
    yield url.rstrip("/")


def _default_state_url(target: str, remote: bool) -> str | None:
    if not remote or is_mock_1flow(target):
        return target + STATE_PATH
    click.echo(f"{target} is not a mock-1flow (no /__admin/health): verifying without provider states; "
               "pass --state-url if it has a state-change endpoint.", err=True)
    return None
