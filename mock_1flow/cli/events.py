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
from .params import KeyValue, KeyValueList, non_negative

PROGRESS_THRESHOLD = 10_000
CHUNK = 1_000


TYPE_WEIGHTS = KeyValueList(KeyValue("TYPE", "WEIGHT", convert_value=non_negative, default=1.0))


def check_types(ctx: click.Context | None, param: click.Parameter | None, mix: dict[str, float] | None) -> dict[str, float] | None:
    """``--types``: every name an event type, and at least one positive weight."""
    if mix is None:
        return None
    unknown = [name for name in mix if name not in EVENT_TYPES]
    if unknown:
        raise click.BadParameter(f"unknown type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    if not any(mix.values()):
        raise click.BadParameter(f"name at least one type with a positive weight, among: {', '.join(EVENT_TYPES)}")
    return mix


def _locale(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_locale(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.group()
def events() -> None:
    """Generate Segment events (Faker-based, reproducible by seed).

    \b
    Example:
      mock-1flow events generate --count 1000 --seed 42 -o events.jsonl
    """


@events.command()
@click.option("--count", "-n", type=click.IntRange(min=0), default=100, show_default=True, help="Events to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed and options, same bytes.")
@click.option("--types", type=TYPE_WEIGHTS, callback=check_types,
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
    """Write COUNT Segment events as JSON Lines to stdout or --output.

    \b
    Examples:
      mock-1flow events generate --count 1000 --seed 42 -o events.jsonl
      mock-1flow events generate -n 20 --types track=5,screen=2,identify --anonymous-share 0.5
      mock-1flow events generate -n 5000 --edge-cases --locale ja_JP -o edge.jsonl
    """
    generator = EventGenerator(seed, locale=locale, types=types, anonymous_share=anonymous_share,
                               edge_cases=edge_cases)
    if progress is None:
        progress = output != "-" or count >= PROGRESS_THRESHOLD
    stream: IO[bytes]
    try:
        opened = click.open_file(output, "wb")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output}: {exc.strerror}", param_hint="'-o' / '--output'") from None
    with opened as stream:
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
