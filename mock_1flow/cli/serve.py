"""``mock-1flow serve``: start the mock with embedded defaults."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from ..server.config import (DEFAULT_BODY_TIMEOUT, DEFAULT_INGEST_QUEUE_BYTES, DEFAULT_INGEST_RETRY_SPEEDUP, ERROR_PROFILES,
                             INGEST_DELIVERY_MODES, LOOPBACK_NETWORKS, MockConfig)
from ..server.events import DEFAULT_EVENT_CAP, DEFAULT_EVENT_MAX_BYTES
from ..server.faults import fault_from_text
from ..server.journal import DEFAULT_JOURNAL_BODY_MAX, DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES, DEFAULT_REDACTED_HEADERS
from ..server.projects import ProjectsFileError, load_projects
from ..server.spec import API_VERSION_PATH, regions
from .params import KeyValue

DEFAULT_THREADS = 1  # mock_1flow.serving.DEFAULT_THREADS, not imported: it would load Flask for --help


class FaultParam(click.ParamType):
    """``--fault``: checked at parse time against the same schema and rules as
    ``POST /__admin/faults``, so a bad fault is a usage error (exit 2) before anything starts."""

    name = "fault"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dict:
        if isinstance(value, dict):
            return value
        try:
            return fault_from_text(str(value))
        except ValueError as exc:
            self.fail(f"'{value}': {exc}", param, ctx)


FAULT = FaultParam()


def _check_state_file(config: MockConfig, path: Path) -> str:
    """Replay the state file into a throw-away runtime, so a bad file is refused before start."""
    from ..admin.snapshot import StateFileError, check_state_file
    from ..ingest.sources import check_source_mappings
    from ..server.runtime import Runtime

    if not path.resolve().parent.is_dir():
        raise click.BadParameter(f"{path}: its folder does not exist", param_hint="'--state-file'")
    runtime = Runtime.build(config, check_source=check_source_mappings)
    try:
        if not check_state_file(runtime, path):
            return f"state file: {path} (new; every change is written to it)"
    except StateFileError as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="'--state-file'") from None
    return (f"state file: {path} ({len(runtime.store.projects)} project(s) loaded; "
            "every change is written to it, a crash loses at most the last second)")


def _check_store(url: str | None, workers: int, state_file: Path | None) -> str | None:
    """``--store`` and ``--workers``: a usage error (exit 2) says what to write instead."""
    if not url:
        if workers > 1:
            raise click.BadParameter(
                f"{workers} workers need --store redis://HOST:PORT/DB: each worker is its own process, and without "
                "a shared store each would keep its own projects, users, events and journal (a request would "
                f"land in one of {workers} separate mocks)", param_hint="'--workers'")
        return None
    from ..server.state.redis import StoreURLError, check_url

    if state_file is not None:
        raise click.BadParameter("--state-file keeps the in-memory store on disk; with --store the state is already "
                                 "in Redis (use one or the other)", param_hint="'--state-file'")
    try:
        return check_url(url)
    except StoreURLError as exc:
        raise click.BadParameter(str(exc), param_hint="'--store' / MOCK_1FLOW_STORE") from None


def _open_store(config: MockConfig) -> str:
    """Reach Redis and seed or check it before any worker starts: an unreachable Redis or one
    of another schema is a usage error (exit 2) naming what to fix."""
    from ..ingest.sources import check_source_mappings
    from ..server.runtime import Runtime
    from ..server.state.redis import StoreStartError, shown

    try:
        runtime = Runtime.build(config, check_source=check_source_mappings)
    except StoreStartError as exc:
        raise click.BadParameter(str(exc), param_hint="'--store' / MOCK_1FLOW_STORE") from None
    seeded = runtime.store.seeded  # type: ignore[attr-defined]
    runtime.journal.close()  # type: ignore[attr-defined]
    runtime.store.shared.client.close()  # type: ignore[attr-defined]
    return f"state: Redis at {shown(str(config.store))} ({'seeded from the projects file' if seeded else 'joined the mock it holds'})"


def _read_stubs(path: Path, body_limit: int) -> list[dict]:
    """``--stub FILE``: checked as ``POST /__admin/stubs`` checks each, so a bad file stops the start."""
    from ..server.stubs import StubError, stubs_from_text

    try:
        return stubs_from_text(path.read_bytes(), body_limit)
    except StubError as exc:
        raise click.BadParameter(f"{path} {exc}", param_hint="'--stub'") from None


def _replay(path: Path | None, key_map: dict[str, str], strict: bool) -> tuple[dict | None, int]:
    """``--replay FILE``: read and checked now, so a bad recording stops the start (exit 2) naming its line."""
    if path is None:
        if key_map or strict:
            raise click.UsageError("--key-map and --replay-strict go with --replay FILE")
        return None, 0
    from ..replay.matching import PLACEHOLDER
    from ..replay.recording import RecordingError, load_recording

    for placeholder in key_map:
        if not PLACEHOLDER.match(placeholder):
            raise click.BadParameter(f"{placeholder!r} is not a recording's key placeholder such as <key-1>",
                                     param_hint="'--key-map'")
    try:
        count = len(load_recording(path))
    except RecordingError as exc:
        raise click.BadParameter(str(exc), param_hint="'--replay'") from None
    return {"file": str(path.resolve()), "key_map": key_map, "strict": strict}, count


def _ensure_port_free(host: str, port: int) -> int:
    """granian binds with SO_REUSEPORT, so a second mock on a busy port would silently
    share its traffic; a bind and listen first turn that into a clear error. The probe sets
    SO_REUSEADDR (as granian does) so that connections in TIME_WAIT from a mock that just
    stopped do not block a restart on the same port; a listener on the port still does.
    Port 0 asks the system for a free port, and the one it gives is returned (and printed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen(1)
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}. Pick another --port.") from None
        return probe.getsockname()[1]


def _configure_tls(config: MockConfig, tls: bool, tls_dir: Path | None, cert: Path | None, key: Path | None) -> str:
    """Fill the config's TLS files; the text to print says what the device must trust."""
    if (cert is None) != (key is None):
        raise click.BadParameter("--tls-cert and --tls-key go together")
    if cert is not None:
        if tls:
            raise click.BadParameter("use either --tls (a certificate made for you) or --tls-cert/--tls-key")
        config.tls_cert, config.tls_key = str(cert), str(key)
        return f"TLS: certificate {cert}"
    if not tls:
        return ""
    from ..tls import make_certificates

    try:
        files = make_certificates([*config.host_regions, *config.http_api_hosts], tls_dir)
    except ModuleNotFoundError as exc:
        if exc.name != "trustme":
            raise
        raise click.UsageError("--tls makes its certificates with trustme, an extra of mock-1flow: "
                               "pip install 'mock-1flow[tls]' (or bring your own with --tls-cert/--tls-key)") from None
    config.tls_cert, config.tls_key = str(files.cert), str(files.key)
    return (f"TLS: certificate for {', '.join(files.names)}\n"
            f"  trust this CA on the device or simulator: {files.ca}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on; 0 picks a free one (the banner shows which).")
@click.option(
    "--projects",
    "projects_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Projects file (YAML); the embedded fixtures/projects.yaml by default.",
)
@click.option("--error-profile", type=click.Choice(ERROR_PROFILES), default="docs", show_default=True,
              help="docs: key errors are 404 (Segment's docs); backend: 401 invalid_key.")
@click.option("--host-region", "host_regions", multiple=True, type=KeyValue("HOST", "REGION", values=regions, lower_key=True),
              help="Map a Host header to a region for the host form (repeatable). Adds to api-sdk.1flow.app=us.")
@click.option("--http-api-host", "http_api_hosts", multiple=True,
              type=KeyValue("HOST", "REGION", values=regions, lower_key=True),
              help="Map a Host header to a region of 1Flow's HTTP API: /v1/... on that host is 1Flow's, not "
                   "Segment's (repeatable). Adds to api.1flow.app=us.")
@click.option("--journal-cap", default=DEFAULT_JOURNAL_CAP, show_default=True, type=click.IntRange(1),
              help="Most journal entries kept; older ones are dropped and counted.")
@click.option("--journal-max-bytes", default=DEFAULT_JOURNAL_MAX_BYTES, show_default=True, type=click.IntRange(1),
              help="Most bytes the journal keeps (bodies, responses, headers); older entries are dropped and counted.")
@click.option("--journal-body-max", default=DEFAULT_JOURNAL_BODY_MAX, show_default=True, type=click.IntRange(0),
              help="Request bodies longer than this are journaled truncated (flagged body_truncated).")
@click.option("--journal-redact", multiple=True, metavar="HEADER",
              help=f"A header whose value the journal shows as [redacted] (repeatable); adds to {', '.join(DEFAULT_REDACTED_HEADERS)}.")
@click.option("--event-max-bytes", default=DEFAULT_EVENT_MAX_BYTES, show_default=True, type=click.IntRange(1),
              help="Most bytes the event store keeps (all projects; packed events plus about 150 B each); "
                   "past it the oldest track calls are dropped and counted.")
@click.option("--event-cap", default=DEFAULT_EVENT_CAP, show_default=True, type=click.IntRange(1),
              help="Most events the store keeps (all projects); the oldest track calls are dropped and counted.")
@click.option("--strict-query", is_flag=True, help="Refuse unknown query parameters with 400 (default: accept and note them in the journal).")
@click.option("--body-timeout", default=DEFAULT_BODY_TIMEOUT, show_default=True, type=click.FloatRange(0.1),
              help="Seconds a client has to send a request body; a stalled one gets 408 body_timeout.")
@click.option("--admin-allow", multiple=True, metavar="CIDR",
              help="Networks allowed to use /__admin besides loopback (repeatable).")
@click.option("--fault", "faults", multiple=True, type=FAULT, metavar="SPEC",
              help="Inject a fault: 'path=/v3/track,status=503,probability=0.3' or a JSON object (repeatable).")
@click.option("--stub", "stub_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="Stubs to put in force at start and after each reset: a JSON list of "
                                   "POST /__admin/stubs bodies (repeatable).")
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Keep the state (projects, users, events, responses, tokens) in PATH: loaded at start if it "
                   "exists, every change appended within 0.2 s (a crash loses at most the last second).")
@click.option("--store", "store", envvar="MOCK_1FLOW_STORE", metavar="URL",
              help="Keep the state in Redis (redis://HOST:PORT/DB; also MOCK_1FLOW_STORE): every worker and every "
                   "instance pointed at it is one mock. Default: in memory. Needs the [redis] extra.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes serving the one port; more than 1 needs --store (they share the state in Redis).")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 256),
              help="Threads for the Flask routes (Segment ingest, 1Flow's HTTP API, spec, pages); the SDK API runs on "
              "the event loop, the admin API in a pool of its own, and latency faults sleep on the loop.")
@click.option("--tls", "tls", is_flag=True,
              help="Serve HTTPS with a certificate for every mapped host (api-sdk.1flow.app, ...) from a local CA "
                   "made with trustme and kept in --tls-dir; trust its ca.pem on the device.")
@click.option("--tls-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where --tls keeps its CA and certificate (default: $XDG_DATA_HOME/mock-1flow/tls, "
                   "i.e. ~/.local/share/mock-1flow/tls).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Serve HTTPS with your own certificate chain (PEM); needs --tls-key.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The private key (PEM) of --tls-cert.")
@click.option("--ingest-delivery", type=click.Choice(INGEST_DELIVERY_MODES), default="sync", show_default=True,
              help="Segment ingest: sync delivers before answering (503/429 when a retry can cure a failure); async "
                   "answers 200 once a batch is valid and delivers and retries in the background, as Segment does. "
                   "A source's 'delivery' in the projects file wins.")
@click.option("--ingest-queue-bytes", default=DEFAULT_INGEST_QUEUE_BYTES, show_default=True, type=click.IntRange(1),
              help="async delivery: the most bytes of accepted, undelivered events held; past it a batch gets 429.")
@click.option("--ingest-retry-speedup", default=DEFAULT_INGEST_RETRY_SPEEDUP, show_default=True, type=click.FloatRange(min=1),
              help="async delivery: Segment's four hours of retries divided by this (1: real time).")
@click.option("--access-log", "-v", "access_log", is_flag=True,
              help="Print one line per request on stderr: method, path, status, key, region, duration, fault.")
@click.option("--replay", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Answer each request recorded in FILE (mock-1flow proxy --record) with its recorded response; "
                   "the rest falls to the mock. Opens no network connection.")
@click.option("--key-map", "key_map", multiple=True, type=KeyValue("PLACEHOLDER", "KEY"), metavar="<key-N>=KEY",
              help="With --replay: the recording's <key-N> answers only requests with this key (repeatable).")
@click.option("--replay-strict", is_flag=True, help="With --replay: a request not recorded is 404 not_recorded "
                                                     "naming the closest recording, not the mock's answer.")
def serve(
    host: str,
    port: int,
    projects_file: Path | None,
    error_profile: str,
    host_regions: tuple[tuple[str, str], ...],
    http_api_hosts: tuple[tuple[str, str], ...],
    journal_cap: int,
    journal_max_bytes: int,
    journal_body_max: int,
    journal_redact: tuple[str, ...],
    event_cap: int,
    event_max_bytes: int,
    strict_query: bool,
    body_timeout: float,
    admin_allow: tuple[str, ...],
    faults: tuple[dict, ...],
    stub_files: tuple[Path, ...],
    state_file: Path | None,
    store: str | None,
    workers: int,
    threads: int,
    access_log: bool,
    ingest_delivery: str = "sync",
    ingest_queue_bytes: int = DEFAULT_INGEST_QUEUE_BYTES,
    ingest_retry_speedup: float = DEFAULT_INGEST_RETRY_SPEEDUP,
    tls: bool = False,
    tls_dir: Path | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    replay: Path | None = None,
    key_map: tuple[tuple[str, str], ...] = (),
    replay_strict: bool = False,
) -> None:
    """Start the 1Flow mock (Ctrl-C or SIGTERM stops it).

    \b
    Examples:
      mock-1flow serve
      mock-1flow serve --port 0 --access-log
      mock-1flow serve --projects my-projects.yaml --error-profile backend
      mock-1flow serve --fault 'path=/v3/track,status=503,probability=0.3'
      mock-1flow serve --replay traffic.jsonl --key-map '<key-1>=oneflow_prod_acme'
    """
    from ..ingest.sources import check_source_mappings
    from ..serving import serve as run

    try:
        projects = load_projects(projects_file, check_source_mappings)
        config = MockConfig(
            projects_file=projects_file,
            error_profile=error_profile,
            journal_cap=journal_cap,
            journal_max_bytes=journal_max_bytes,
            journal_body_max=journal_body_max,
            journal_redact=DEFAULT_REDACTED_HEADERS + tuple(name.lower() for name in journal_redact),
            event_cap=event_cap,
            event_max_bytes=event_max_bytes,
            strict_query=strict_query,
            body_timeout=body_timeout,
            admin_allow=LOOPBACK_NETWORKS + tuple(admin_allow),
            faults=list(faults),
            stubs=[spec for path in stub_files for spec in _read_stubs(path, journal_body_max)],
            access_log=access_log,
            state_file=str(state_file.resolve()) if state_file else None,
            ingest_delivery=ingest_delivery,
            ingest_queue_bytes=ingest_queue_bytes,
            ingest_retry_speedup=ingest_retry_speedup,
            store=_check_store(store, workers, state_file),
        )
        config.replay, replayed = _replay(replay, dict(key_map), replay_strict)
        config.host_regions.update(dict(host_regions))
        config.http_api_hosts.update(dict(http_api_hosts))
        snapshot_note = _check_state_file(config, state_file) if state_file else None
        store_note = _open_store(config) if store else None
        tls_note = _configure_tls(config, tls, tls_dir, tls_cert, tls_key)
    except ProjectsFileError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

    port = _ensure_port_free(host, port)
    shown = f"[{host}]" if ":" in host else host
    root = f"{'https' if config.tls_cert else 'http'}://{shown}:{port}"
    click.echo(f"mock-1flow serving on {root} (error profile: {error_profile})")
    for region in regions():
        click.echo(f"  {region}: {root}/{region}{API_VERSION_PATH}")
    for name, region in sorted(config.host_regions.items()):
        click.echo(f"  Host {name} -> {region} ({root}{API_VERSION_PATH})")
    for region in regions():
        click.echo(f"  1Flow HTTP API {region}: {root}/{region}/v1 (header api_key)")
    for name, region in sorted(config.http_api_hosts.items()):
        click.echo(f"  Host {name} -> 1Flow HTTP API {region} ({root}/v1; /v1 on other hosts is Segment's)")
    click.echo(f"  admin: {root}/__admin/  spec: {root}/openapi.yaml")
    click.echo(f"projects ({projects.path}):")
    for project in projects.projects.values():
        click.echo(f"  {project.key}  {project.name}  region={project.region}  plan={project.plan}")
    for fault in faults:
        click.echo(f"fault: {fault}")
    if config.stubs:
        click.echo(f"stubs: {len(config.stubs)} from {', '.join(map(str, stub_files))}")
    if snapshot_note:
        click.echo(snapshot_note)
    if store_note:
        click.echo(f"{store_note}; {workers} worker(s)")
    if config.replay:
        click.echo(f"replaying {replayed} recorded exchange(s) from {replay}"
                   + (" (--replay-strict: the rest is 404 not_recorded)" if replay_strict else " (the rest: the mock)"))
    if tls_note:
        click.echo(tls_note)
    run(config, host=host, port=port, threads=threads, workers=workers)
