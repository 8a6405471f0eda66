"""``mock-1flow contracts``: list the Pact interactions, verify them against a server."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import requests

from ..paths import CONTRACTS_DIR

STATE_PATH = "/__admin/provider-states"

CONTRACTS_OPTION = click.option(
    "--contracts", "contracts_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=CONTRACTS_DIR, show_default="the repository's contracts/", help="Folder of Pact files.")


@click.group()
def contracts() -> None:
    """Pact contracts between the destination and the 1Flow API."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


@contracts.command("list")
@CONTRACTS_OPTION
def list_command(contracts_dir: Path) -> None:
    """Print each interaction with its provider states and expected status."""
    from ..contracts.listing import list_interactions

    try:
        interactions = list_interactions(contracts_dir)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from None
    for item in interactions:
        states = "; ".join(item.states) or "(no state)"
        click.echo(f"{item.status}  {item.method:<5} {item.path:<40} {item.description}\n       given {states}")
    click.echo(f"{len(interactions)} interactions")


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
def verify_command(url: str | None, contracts_dir: Path, state_url: str | None, no_states: bool,
                   error_profile: str, pact_output: bool) -> None:
    """Replay every interaction against a server; print each result; exit 1 on any failure."""
    from ..contracts.verify import verify_contracts

    pact_log = logging.getLogger("pact.ffi")
    if pact_log.level == logging.NOTSET:  # the summary says what Pact's warnings would
        pact_log.setLevel(logging.ERROR)

    if url and error_profile != "docs":
        raise click.UsageError("--error-profile applies to the in-process mock only; drop it or --url.")
    if no_states and state_url:
        raise click.UsageError("--state-url and --no-states contradict each other.")
    with (_remote(url) if url else _in_process_mock(error_profile)) as target:
        states = None if no_states else (state_url or _default_state_url(target, bool(url)))
        try:
            result = verify_contracts(target, contracts_dir, states)
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    if pact_output:
        click.echo(result.output)
    click.echo(result.summary())
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
