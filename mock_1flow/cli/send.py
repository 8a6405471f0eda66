"""``mock-1flow send``: run Segment events through the 1Flow destination to a 1Flow API."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from ..destination.destination import Destination
from ..destination.mapping import load_subscriptions
from ..destination.outcomes import FAILED
from ..destination.settings import DEFAULT_URL, Settings
from ..events.jsonl import read_jsonl
from ..spec import regions


def _load(path: str) -> list[dict]:
    try:
        events = list(read_jsonl(sys.stdin.buffer if path == "-" else Path(path)))
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"{path}: {exc}") from None
    for number, event in enumerate(events, 1):
        if not isinstance(event, dict):
            raise click.UsageError(f"{path}: line {number}: a Segment event must be a JSON object")
    return events


@click.command()
@click.argument("events_file", metavar="EVENTS.jsonl", type=click.Path(allow_dash=True))
@click.option("--key", required=True, help="The 1Flow project key (projectApiKey).")
@click.option("--region", type=click.Choice(regions()), default="us", show_default=True)
@click.option("--url", default=DEFAULT_URL, show_default=True,
              help="1Flow API base, or a mock's root (e.g. http://127.0.0.1:8080: the region is added).")
@click.option("--mappings", "mappings_file", type=click.Path(dir_okay=False),
              help="Mappings in Segment's shape (JSON); the presets by default.")
@click.option("--batch-size", type=click.IntRange(1, 500), default=20, show_default=True, help="Events per /v3/track.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
def send(events_file: str, key: str, region: str, url: str, mappings_file: str | None, batch_size: int,
         progress: bool | None) -> None:
    """Send EVENTS.jsonl (- for stdin) through the destination; exit 1 if any event failed."""
    try:
        subscriptions = load_subscriptions(mappings_file)
        destination = Destination(Settings(key, region, url), subscriptions, batch_size=batch_size)
    except ValueError as exc:  # MappingError is a ValueError
        raise click.UsageError(str(exc)) from None
    events = _load(events_file)
    show = sys.stderr.isatty() if progress is None else progress
    with click.progressbar(length=len(events), label="sending", file=sys.stderr if show else io.StringIO()) as bar:
        destination.on_outcome = lambda outcome: bar.update(1)
        report = destination.send(events)
    rows = sorted(report.counts().items(), key=lambda item: (item[0][0], str(item[0][1])))
    click.echo(f"{'outcome':<10} {'reason':<40} {'events':>8}")
    for (status, reason), count in rows:
        click.echo(f"{status:<10} {reason or '-':<40} {count:>8}")
    click.echo(f"{'total':<10} {'':<40} {len(report.outcomes):>8}")
    if any(status == FAILED for status, _ in report.counts()):
        raise SystemExit(1)
