"""The ``mock-1flow`` command: one click group, one module per sub-command."""

import os

import click

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mock-1flow")
def main() -> None:
    """Run a faithful 1Flow API locally, generate Segment events, verify contracts."""


def _register() -> None:
    import importlib

    for module, name in (("serve", "serve"), ("events", "events"), ("send", "send"), ("fuzz", "fuzz")):
        try:  # TODO(lead): make strict once every command module exists
            main.add_command(getattr(importlib.import_module(f"{__name__}.{module}"), name))
        except ModuleNotFoundError:
            pass


_register()
