"""``mock-1flow fuzz``: schemathesis (all phases, stateful included) against a running mock."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click
import requests

from ..fuzzing.runner import PHASES, keys_from_mock, run_fuzz, schemathesis_command
from ..paths import SPEC_PATH
from ..server.spec import regions
from .params import KeyValue, writable_file
from .urls import require_server, url_option


@click.command()
@url_option("The server root to fuzz, e.g. http://127.0.0.1:8080 (env MOCK_1FLOW_URL).")
@click.option("--spec", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=SPEC_PATH,
              show_default="the packaged openapi.yaml", help="The OpenAPI document to fuzz against.")
@click.option("--region-key", "keys", multiple=True, type=KeyValue("REGION", "KEY", keys=regions),
              help="A valid project key for a region (repeatable); by default read from the mock's /__admin/projects.")
@click.option("--phases", show_default=",".join(PHASES),
              help="Comma-separated schemathesis phases. Default: all; without stateful when arguments after -- "
                   "filter operations (its linked operations would be filtered out).")
@click.option("--seed", type=int, help="Seed, to reproduce a run.")
@click.option("--max-examples", type=click.IntRange(1), help="Examples per operation and phase.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file,
              help="Write a JUnit XML report here (checked before fuzzing).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Concurrent schemathesis workers.")
@click.option("--include-admin-writes", is_flag=True,
              help="Also fuzz admin operations that reset state, delete projects or inject faults.")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def fuzz(url: str, spec: Path, keys: tuple[tuple[str, str], ...], phases: str | None, seed: int | None, max_examples: int | None,
         junit: Path | None, workers: int, include_admin_writes: bool, extra: tuple[str, ...]) -> None:
    """Fuzz URL with schemathesis and openapi.yaml; exits non-zero on any failure.

    Arguments after -- go to `schemathesis run` unchanged.

    \b
    Examples:
      mock-1flow fuzz --url http://127.0.0.1:8080 --seed 42 --max-examples 10
      mock-1flow fuzz --phases examples,fuzzing --junit fuzz-junit.xml
      mock-1flow fuzz -- --include-operation-id trackEvents
    """
    if importlib.util.find_spec("schemathesis") is None:
        raise click.UsageError("fuzzing needs schemathesis, an extra of mock-1flow: pip install 'mock-1flow[fuzz]'")
    if phases is None:
        filtered = any(arg.startswith(("--include-", "--exclude-")) for arg in extra)
        phases = ",".join(p for p in PHASES if not (filtered and p == "stateful"))
        if filtered:
            click.echo("stateful phase left out: it follows links between operations that the filter after -- "
                       "excludes (pass --phases to run it anyway)", err=True)
    unknown = set(filter(None, phases.split(","))) - set(PHASES)
    if unknown:
        raise click.BadParameter(f"unknown phase(s) {', '.join(sorted(unknown))}; known: {', '.join(PHASES)}")
    require_server(url)
    keys_by_region = dict(keys)
    if not keys_by_region:
        try:
            keys_by_region = keys_from_mock(url)
        except requests.RequestException as exc:
            raise click.ClickException(
                f"cannot read projects from {url}/__admin/projects ({type(exc).__name__}): is it a mock-1flow? "
                "Pass --region-key REGION=KEY for each region") from None
        except (ValueError, KeyError):
            raise click.ClickException(
                f"{url}/__admin/projects is not a mock-1flow's project list; pass --region-key REGION=KEY for each region"
            ) from None
    click.echo(f"fuzzing {url} with keys: " + ", ".join(f"{r}={k}" for r, k in sorted(keys_by_region.items())), err=True)
    command = schemathesis_command(
        url, spec=spec, phases=phases.split(","), seed=seed, max_examples=max_examples, junit=junit,
        workers=workers, include_admin_writes=include_admin_writes, extra=extra,
    )
    raise SystemExit(run_fuzz(command, keys_by_region))
