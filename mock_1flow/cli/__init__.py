"""The ``mock-1flow`` command: one click group, one module per sub-command."""

import os

import click

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mock-1flow")
def main() -> None:
    """Run a faithful 1Flow API locally, generate Segment events, verify contracts."""


def _register() -> None:
    from .contracts import contracts
    from .events import events
    from .fuzz import fuzz
    from .send import send
    from .serve import serve

    for command in (serve, events, send, fuzz, contracts):
        main.add_command(command)


_register()
