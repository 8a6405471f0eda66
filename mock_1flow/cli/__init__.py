"""The ``mock-1flow`` command: one click group, one module per sub-command.

Sub-commands are imported only when they run (their modules pull in Flask, Faker, Pact
or schemathesis), so ``mock-1flow --help`` stays fast; the group's help lists them from
the short descriptions below.
"""

from __future__ import annotations

import importlib
import os

import click

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

#: name -> (module under mock_1flow.cli, attribute, short help for the group's listing)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("serve", "serve", "Start the 1Flow mock."),
    "journal": ("journal", "journal", "Print a running mock's request journal as a table."),
    "reset": ("journal", "reset", "Forget a running mock's state, journal and runtime faults."),
    "events": ("events", "events", "Generate Segment events (Faker-based, reproducible by seed)."),
    "send": ("send", "send", "Send Segment events through the 1Flow destination."),
    "fuzz": ("fuzz", "fuzz", "Fuzz a server with schemathesis and openapi.yaml."),
    "contracts": ("contracts", "contracts", "Pact contracts: list and verify."),
    "proxy": ("proxy", "proxy", "Forward to the real 1Flow, checking and recording each exchange."),
    "drift": ("drift", "drift", "Where the mock answers a recording's requests unlike the real 1Flow did."),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mock-1flow")
def main() -> None:
    """Run a faithful 1Flow API locally, generate Segment events, verify contracts.

    \b
    Example:
      mock-1flow serve &
      mock-1flow events generate --count 100 -o events.jsonl
      mock-1flow send events.jsonl --key oneflow_prod_acme --url http://127.0.0.1:8080
      mock-1flow journal --status 200
    """
