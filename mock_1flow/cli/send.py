"""``mock-1flow send``: run Segment events through the 1Flow destination to a 1Flow API."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import IO, Any

import click
import orjson

from ..destination.http_api import client_for
from ..destination.destination import Destination
from ..destination.mapping import MappingError, load_subscriptions
from ..destination.outcomes import Report
from ..destination.settings import DEFAULT_URL, Settings
from ..server.spec import regions


def read_events(path: str) -> list[dict[str, Any]]:
    """The events of a JSON Lines file (``-``: stdin); a bad line is a usage error naming its number."""
    try:
        if path == "-":
            return _parse(sys.stdin.buffer, "stdin")
        with open(Path(path), "rb") as stream:
            return _parse(stream, path)
    except OSError as exc:
        raise click.UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _parse(stream: IO[bytes], name: str) -> list[dict[str, Any]]:
    events = []
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise click.UsageError(f"{name}: line {number}: not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(event, dict):
            raise click.UsageError(f"{name}: line {number}: a Segment event must be a JSON object")
        events.append(event)
    return events


def summary_table(report: Report) -> str:
    """One row per (outcome, reason): sent, dropped by reason, failed by status and 1Flow error code."""
    lines = [f"{'outcome':<10} {'reason':<40} {'events':>8}"]
    lines += [f"{status:<10} {reason or '-':<40} {count:>8}" for status, reason, count in report.rows()]
    lines.append(f"{'total':<10} {'':<40} {len(report):>8}")
    return "\n".join(lines)


@click.command()
@click.argument("events_file", metavar="EVENTS.jsonl", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--key", required=True, help="The 1Flow project key (projectApiKey).")
@click.option("--region", type=click.Choice(regions()), default="us", show_default=True,
              help="Regional Data Hosting of the project.")
@click.option("--url", default=DEFAULT_URL, show_default=True,
              help="1Flow API base (ends in /api/2021-06-15), or a mock's root such as http://127.0.0.1:8080 "
                   "(then /{region}/api/2021-06-15 is added).")
@click.option("--api", type=click.Choice(["sdk", "http"]), default="sdk", show_default=True,
              help="sdk: the SDK API as the 1Flow SDKs call it; http: 1Flow's public HTTP API (api_key, /v1/track and "
                   "/v1/batch up to 500 KB), as a server-side forwarder calls it (base https://api.1flow.app/v1, or "
                   "{url}/{region}/v1 for a mock's root).")
@click.option("--mappings", "mappings_file", type=click.Path(dir_okay=False),
              help="Mappings in Segment's shape (JSON); the presets by default.")
@click.option("--batch-size", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Events per /v3/track (or, with --api http, /v1/batch) request, per user.")
@click.option("--max-retries", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Retries of a request after a transport error, 429 or 5xx.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
def send(events_file: str, key: str, region: str, url: str, api: str, mappings_file: str | None, batch_size: int,
         max_retries: int, progress: bool | None) -> None:
    """Send EVENTS.jsonl (- for stdin) through the destination and print what became of each
    event: sent, dropped (by reason) or failed (by HTTP status and 1Flow error code).

    Exit status: 0 when no event failed, 1 when any did, 2 for usage errors.
    """
    try:
        subscriptions = load_subscriptions(mappings_file)
    except MappingError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        settings = Settings(key, region, url, api)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    events = read_events(events_file)
    client = client_for(settings, max_retries=max_retries)
    show = sys.stderr.isatty() if progress is None else progress
    with click.progressbar(length=len(events), label="sending", file=sys.stderr if show else io.StringIO()) as bar:
        destination = Destination(settings, subscriptions, client=client, batch_size=batch_size,
                                  on_outcome=lambda outcome: bar.update(1))
        report = destination.send(events)
    click.echo(summary_table(report))
    if report.failed:
        sys.exit(1)
