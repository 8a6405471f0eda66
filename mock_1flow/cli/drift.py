"""``mock-1flow drift FILE``: where the mock answers a recording's requests differently from
the real 1Flow that was recorded."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .contracts import BadInput, rich_console
from .params import KeyValue


@click.command()
@click.argument("recording", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key-map", "key_map", multiple=True, type=KeyValue("PLACEHOLDER", "KEY"), metavar="<key-N>=KEY",
              help="Send the recording's <key-N> as this mock project key (repeatable). Default: the mock's first project.")
@click.option("--error-profile", type=click.Choice(["docs", "backend"]), default="docs", show_default=True,
              help="The mock's error profile (backend answers key errors 401 invalid_key, as 1Flow's backend).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of the table.")
def drift(recording: Path, key_map: tuple[tuple[str, str], ...], error_profile: str, as_json: bool) -> None:
    """Replay RECORDING's requests against the mock (in this process) and show, per operation,
    where the recorded answers and the mock's differ: status, envelope, fields, types.
    Exit 1 when they differ.

    \b
    Examples:
      mock-1flow proxy --record traffic.jsonl      # then run the app against it
      mock-1flow drift traffic.jsonl
      mock-1flow drift traffic.jsonl --json --key-map '<key-2>=oneflow_prod_globex'
    """
    from ..replay import drift as report
    from ..replay.recording import RecordingError, load_recording

    try:
        exchanges = load_recording(recording)
    except RecordingError as exc:
        raise BadInput(str(exc)) from None
    operations = report.drift(exchanges, dict(key_map), error_profile)
    differing = [o for o in operations if o.differences]
    if as_json:
        click.echo(json.dumps(report.as_json(str(recording), operations), indent=2))
    else:
        from rich.table import Table

        table = Table(box=None, header_style="bold", pad_edge=False)
        for column in ("operation", "exchanges", "what", "where", "real", "mock", "lines"):
            table.add_column(column, justify="right" if column == "exchanges" else "left")
        for item in operations:
            if not item.differences:
                table.add_row(item.operation, str(item.exchanges), "same", "-", "-", "-", "-")
            for index, found in enumerate(item.differences):
                table.add_row(item.operation if index == 0 else "", str(item.exchanges) if index == 0 else "",
                              found.kind, found.where, found.real, found.mock, ",".join(map(str, found.lines)))
        console = rich_console()
        console.print(table)
        total = sum(len(o.differences) for o in operations)
        exchanged = sum(o.exchanges for o in operations)
        console.print(f"drift: {total} difference(s) in {len(differing)} of {len(operations)} operation(s), "
                      f"{exchanged} exchange(s) from {recording}" if differing else
                      f"no drift: {len(operations)} operation(s), {exchanged} exchange(s) from {recording} answered alike")
    if differing:
        raise SystemExit(1)
