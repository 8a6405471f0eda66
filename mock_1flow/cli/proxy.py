"""``mock-1flow proxy``: the mock's server in front of an upstream 1Flow, validating each
exchange against openapi.yaml and recording it on request."""

from __future__ import annotations

from pathlib import Path

import click

from ..server.config import MockConfig
from .serve import _configure_tls, _ensure_port_free

DEFAULT_UPSTREAM = "https://api-sdk.1flow.app"  # mock_1flow.proxy.forward's, not imported: --help stays fast
DEFAULT_HTTP_API_UPSTREAM = "https://api.1flow.app"


def _upstream(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from ..proxy.forward import check_upstream

    problem = check_upstream(value, f"--{param.name.replace('_', '-')}" if param.name else "--upstream")
    if problem:
        raise click.BadParameter(problem)
    return value.rstrip("/")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one.")
@click.option("--upstream", default=DEFAULT_UPSTREAM, show_default=True, callback=_upstream,
              help="Where the SDK API goes (host form /api/2021-06-15/... and path form /{region}/api/...).")
@click.option("--http-api-upstream", default=DEFAULT_HTTP_API_UPSTREAM, show_default=True, callback=_upstream,
              help="Where 1Flow's HTTP API goes (/v1/... and /{region}/v1/...).")
@click.option("--upstream-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CA bundle (PEM) to trust for the upstreams instead of the system's.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds to wait for the upstream (connect at most 10); past it the client gets 504 upstream_timeout.")
@click.option("--errors", is_flag=True, help="Answer an exchange that breaks openapi.yaml with 502 upstream_off_spec (Prism's --errors).")
@click.option("--record", "record", type=click.Path(dir_okay=False, path_type=Path),
              help="Append each exchange to FILE as one JSON line (keys replaced by <key-N>, tokens and e-mails masked).")
@click.option("--record-keys", is_flag=True, help="Keep keys, Authorization and cookies in the recording as sent.")
@click.option("--redact-json-path", "redact_json_paths", multiple=True, metavar="PATH",
              help="Also mask this JSON path in recorded bodies, e.g. '$.events[*].parameters.phone' (repeatable).")
@click.option("--tls", "tls", is_flag=True, help="Serve HTTPS with a certificate from a local CA (as serve --tls).")
@click.option("--tls-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where --tls keeps its CA.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Serve HTTPS with your own certificate chain (PEM); needs --tls-key.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The private key (PEM) of --tls-cert.")
@click.option("--access-log", "-v", "access_log", is_flag=True,
              help="Print one line per request on stderr, and one per spec violation.")
def proxy(host: str, port: int, upstream: str, http_api_upstream: str, upstream_ca: Path | None, timeout: float,
          errors: bool, record: Path | None, record_keys: bool, redact_json_paths: tuple[str, ...], tls: bool,
          tls_dir: Path | None, tls_cert: Path | None, tls_key: Path | None, access_log: bool) -> None:
    """Forward the SDK API and 1Flow's HTTP API to an upstream, checking both ways against openapi.yaml.

    Violations are in the journal (GET /__admin/requests, field `violations`) and the admin page.

    \b
    Examples:
      mock-1flow proxy --port 8081 --access-log
      mock-1flow proxy --upstream http://127.0.0.1:8080 --http-api-upstream http://127.0.0.1:8080 --errors
      mock-1flow proxy --record traffic.jsonl --redact-json-path '$.parameters.phone'
    """
    from ..serving import serve as run

    if record is not None and not record.resolve().parent.is_dir():
        raise click.BadParameter(f"{record}: its folder does not exist", param_hint="'--record'")
    config = MockConfig(access_log=access_log, proxy={
        "upstream": upstream, "http_api_upstream": http_api_upstream,
        "upstream_ca": str(upstream_ca.resolve()) if upstream_ca else None, "timeout": timeout, "errors": errors,
        "record": str(record.resolve()) if record else None, "record_keys": record_keys,
        "redact_json_paths": list(redact_json_paths), "access_log": access_log,
    })
    tls_note = _configure_tls(config, tls, tls_dir, tls_cert, tls_key)
    port = _ensure_port_free(host, port)
    shown = f"[{host}]" if ":" in host else host
    root = f"{'https' if config.tls_cert else 'http'}://{shown}:{port}"
    click.echo(f"mock-1flow proxy on {root}{' (--errors: off-spec exchanges answer 502)' if errors else ''}")
    click.echo(f"  SDK API -> {upstream}  (host form {root}/api/2021-06-15/..., path form {root}/us/api/2021-06-15/...)")
    click.echo(f"  1Flow HTTP API -> {http_api_upstream}  ({root}/v1/..., {root}/us/v1/...)")
    click.echo(f"  admin: {root}/__admin/  (journal with violations: {root}/__admin/requests)")
    if record is not None:
        click.echo(f"  recording to {record}{' (keys kept)' if record_keys else ' (keys replaced by <key-N>)'}")
    if tls_note:
        click.echo(tls_note)
    run(config, host=host, port=port)
