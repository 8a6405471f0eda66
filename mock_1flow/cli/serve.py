"""``mock-1flow serve``: start the mock with embedded defaults."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click

from ..server.config import ERROR_PROFILES, LOOPBACK_NETWORKS, MockConfig
from ..server.faults import parse_fault_option
from ..server.journal import DEFAULT_JOURNAL_CAP
from ..server.projects import ProjectsFileError, load_projects
from ..server.spec import API_VERSION_PATH, regions


def _host_region(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    known = regions()
    for value in values:
        host, sep, region = value.partition("=")
        if not sep or not host or region not in known:
            raise click.BadParameter(f"'{value}' must be HOST=REGION with REGION one of {', '.join(known)}")
        mapping[host.lower()] = region
    return mapping


def _faults(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[dict]:
    specs = []
    for value in values:
        try:
            specs.append(json.loads(value) if value.lstrip().startswith("{") else parse_fault_option(value))
        except ValueError as exc:
            raise click.BadParameter(f"'{value}': {exc}") from None
    return specs


def _ensure_port_free(host: str, port: int) -> None:
    """granian binds with SO_REUSEPORT, so a second mock on a busy port would silently
    share its traffic; a plain bind first turns that into a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}. Pick another --port.") from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--projects",
    "projects_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Projects file (YAML); the embedded fixtures/projects.yaml by default.",
)
@click.option("--error-profile", type=click.Choice(ERROR_PROFILES), default="docs", show_default=True,
              help="docs: key errors are 404 (Segment's docs); backend: 401 invalid_key.")
@click.option("--host-region", "host_regions", multiple=True, callback=_host_region, metavar="HOST=REGION",
              help="Map a Host header to a region for the host form (repeatable). Adds to api-sdk.1flow.app=us.")
@click.option("--http-api-host", "http_api_hosts", multiple=True, callback=_host_region, metavar="HOST=REGION",
              help="Map a Host header to a region of 1Flow's HTTP API: /v1/... on that host is 1Flow's, not "
                   "Segment's (repeatable). Adds to api.1flow.app=us.")
@click.option("--journal-cap", default=DEFAULT_JOURNAL_CAP, show_default=True, type=click.IntRange(1),
              help="Most journal entries kept; older ones are dropped and counted.")
@click.option("--admin-allow", multiple=True, metavar="CIDR",
              help="Networks allowed to use /__admin (repeatable). Loopback only by default.")
@click.option("--fault", "faults", multiple=True, callback=_faults, metavar="SPEC",
              help="Inject a fault: 'path=/v3/track,status=503,probability=0.3' or a JSON object (repeatable).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads (more helps with latency faults).")
def serve(
    host: str,
    port: int,
    projects_file: Path | None,
    error_profile: str,
    host_regions: dict[str, str],
    http_api_hosts: dict[str, str],
    journal_cap: int,
    admin_allow: tuple[str, ...],
    faults: list[dict],
    threads: int,
) -> None:
    """Start the 1Flow mock (Ctrl-C or SIGTERM stops it)."""
    from ..ingest.sources import check_source_mappings
    from ..serving import serve as run

    try:
        projects = load_projects(projects_file, check_source_mappings)
        config = MockConfig(
            projects_file=projects_file,
            error_profile=error_profile,
            journal_cap=journal_cap,
            admin_allow=tuple(admin_allow) or LOOPBACK_NETWORKS,
            faults=faults,
        )
        config.host_regions.update(host_regions)
        config.http_api_hosts.update(http_api_hosts)
    except ProjectsFileError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

    _ensure_port_free(host, port)
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{port}"
    click.echo(f"mock-1flow serving on {root} (error profile: {error_profile})")
    for region in regions():
        click.echo(f"  {region}: {root}/{region}{API_VERSION_PATH}")
    for name, region in sorted(config.host_regions.items()):
        click.echo(f"  Host {name} -> {region} ({root}{API_VERSION_PATH})")
    for region in regions():
        click.echo(f"  1Flow HTTP API {region}: {root}/{region}/v1 (header api_key)")
    for name, region in sorted(config.http_api_hosts.items()):
        click.echo(f"  Host {name} -> 1Flow HTTP API {region} ({root}/v1; /v1 on other hosts is Segment's)")
    click.echo(f"  admin: {root}/__admin  spec: {root}/openapi.yaml")
    click.echo(f"projects ({projects.path}):")
    for project in projects.projects.values():
        click.echo(f"  {project.key}  {project.name}  region={project.region}  plan={project.plan}")
    for fault in faults:
        click.echo(f"fault: {fault}")
    run(config, host=host, port=port, threads=threads)
