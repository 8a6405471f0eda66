"""``mock-1flow fuzz``: schemathesis (all phases, stateful included) against a running mock."""

from __future__ import annotations

from pathlib import Path

import click
import requests

from ..fuzzing.runner import PHASES, keys_from_mock, run_fuzz, schemathesis_command
from ..paths import SPEC_PATH
from ..server.spec import regions


def _keys(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    keys = {}
    for value in values:
        region, sep, key = value.partition("=")
        if not sep or region not in regions() or not key:
            raise click.BadParameter(f"'{value}' must be REGION=KEY with REGION one of {', '.join(regions())}")
        keys[region] = key
    return keys


@click.command()
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="The server root to fuzz.")
@click.option("--spec", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=SPEC_PATH,
              show_default="the packaged openapi.yaml")
@click.option("--key", "keys", multiple=True, callback=_keys, metavar="REGION=KEY",
              help="A valid key per region; by default read from the mock's /__admin/projects.")
@click.option("--phases", default=",".join(PHASES), show_default=True, help="Comma-separated schemathesis phases.")
@click.option("--seed", type=int, help="Seed, to reproduce a run.")
@click.option("--max-examples", type=click.IntRange(1), help="Examples per operation and phase.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report here.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--include-admin-writes", is_flag=True,
              help="Also fuzz admin operations that reset state, delete projects or inject faults.")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def fuzz(url: str, spec: Path, keys: dict[str, str], phases: str, seed: int | None, max_examples: int | None,
         junit: Path | None, workers: int, include_admin_writes: bool, extra: tuple[str, ...]) -> None:
    """Fuzz URL with schemathesis and openapi.yaml; exits non-zero on any failure.

    Arguments after -- go to `schemathesis run` unchanged.
    """
    unknown = set(filter(None, phases.split(","))) - set(PHASES)
    if unknown:
        raise click.BadParameter(f"unknown phase(s) {', '.join(sorted(unknown))}; known: {', '.join(PHASES)}")
    if not keys:
        try:
            keys = keys_from_mock(url)
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise click.ClickException(
                f"cannot read projects from {url}/__admin/projects ({exc}); pass --key REGION=KEY for each region"
            ) from None
    click.echo(f"fuzzing {url} with keys: " + ", ".join(f"{r}={k}" for r, k in sorted(keys.items())), err=True)
    command = schemathesis_command(
        url, spec=spec, phases=phases.split(","), seed=seed, max_examples=max_examples, junit=junit,
        workers=workers, include_admin_writes=include_admin_writes, extra=extra,
    )
    raise SystemExit(run_fuzz(command, keys))
