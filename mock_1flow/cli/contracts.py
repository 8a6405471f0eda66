"""``mock-1flow contracts``: list the Pact interactions, verify them against a server."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path

import click

from ..paths import CONTRACTS_DIR

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


@contracts.command("verify")
@click.option("--url", help="A running 1Flow-compatible server; by default an in-process mock on a free loopback port.")
@CONTRACTS_OPTION
@click.option("--state-url", help="Provider-state endpoint (default: URL/__admin/provider-states).")
@click.option("--no-states", is_flag=True, help="Send no provider-state changes (a real 1Flow endpoint has none).")
def verify_command(url: str | None, contracts_dir: Path, state_url: str | None, no_states: bool) -> None:
    """Replay every interaction against URL; exit 1 on any failure."""
    from ..contracts.verify import verify_contracts
    from ..testing import MockServer

    with (nullcontext(None) if url else MockServer()) as mock:
        target = url or mock.url
        states = None if no_states else (state_url or f"{target.rstrip('/')}/__admin/provider-states")
        result = verify_contracts(target, contracts_dir, states)
    click.echo(result.output)
    click.echo(("verified: all interactions passed" if result.ok else "verification FAILED") + f" ({target})")
    if not result.ok:
        raise SystemExit(1)
