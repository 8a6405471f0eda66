"""``mock-1flow events generate``: seeded Segment events as JSON Lines."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import islice
from typing import IO, Any

import click
import orjson

from ..events import EVENT_TYPES, EventGenerator
from ..events.generator import check_locale

PROGRESS_THRESHOLD = 10_000
CHUNK = 1_000


def parse_types(ctx: click.Context | None, param: click.Parameter | None, value: str | None) -> dict[str, float] | None:
    """``track,identify`` (equal weights) or ``track=5,page=2`` into {type: weight}."""
    if value is None:
        return None
    mix: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, weight = item.partition("=")
        name = name.strip()
        try:
            mix[name] = float(weight) if sep else 1.0
        except ValueError:
            raise click.BadParameter(f"weight of {name!r} must be a number, not {weight!r}") from None
        if mix[name] < 0:
            raise click.BadParameter(f"weight of {name!r} must not be negative")
    unknown = [name for name in mix if name not in EVENT_TYPES]
    if unknown:
        raise click.BadParameter(f"unknown type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    if not mix or not any(mix.values()):
        raise click.BadParameter(f"name at least one type with a positive weight, among: {', '.join(EVENT_TYPES)}")
    return mix


def _locale(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_locale(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.group()
def events() -> None:
    """Generate Segment events (Faker-based, reproducible by seed)."""


@events.command()
@click.option("--count", "-n", type=click.IntRange(min=0), default=100, show_default=True, help="Events to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed and options, same bytes.")
@click.option("--types", callback=parse_types, metavar="TYPE[=WEIGHT],...",
              help=f"Type mix, e.g. 'track,identify' or 'track=5,page=2'; types: {', '.join(EVENT_TYPES)}. "
                   "Default: a realistic mix, mostly track.")
@click.option("--anonymous-share", type=click.FloatRange(0, 1), default=0.2, show_default=True,
              help="Share of events with an anonymousId and no userId.")
@click.option("--locale", callback=_locale, default="en_US", show_default=True, help="Faker locale.")
@click.option("--edge-cases", is_flag=True,
              help="Mix in unicode, nulls, deep nesting, ~32 KB events, missing fields, a few invalid events.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True), default="-",
              show_default="stdout", help="JSON Lines file to write.")
@click.option("--progress/--no-progress", default=None,
              help=f"Progress bar on stderr; default: on for a file or {PROGRESS_THRESHOLD:,}+ events.")
def generate(count: int, seed: int, types: dict[str, float] | None, anonymous_share: float, locale: str,
             edge_cases: bool, output: str, progress: bool | None) -> None:
    """Write COUNT Segment events as JSON Lines to stdout or --output."""
    generator = EventGenerator(seed, locale=locale, types=types, anonymous_share=anonymous_share,
                               edge_cases=edge_cases)
    if progress is None:
        progress = output != "-" or count >= PROGRESS_THRESHOLD
    stream: IO[bytes]
    with click.open_file(output, "wb") as stream:
        if not progress:
            for chunk in _chunks(generator.events(count)):
                _write(chunk, stream)
            return
        label = f"{count:,} events -> {'stdout' if output == '-' else output}"
        with click.progressbar(length=count, label=label, file=sys.stderr) as bar:
            for chunk in _chunks(generator.events(count)):
                _write(chunk, stream)
                bar.update(len(chunk))
    if output != "-":
        click.echo(f"wrote {count:,} events to {output} (seed {seed})", err=True)


def _chunks(events: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(islice(events, CHUNK)):
        yield chunk


def _write(events: list[dict[str, Any]], stream: IO[bytes]) -> None:
    dumps = orjson.dumps
    stream.write(b"".join([dumps(event) + b"\n" for event in events]))
