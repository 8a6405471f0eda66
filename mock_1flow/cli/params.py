"""One click parameter type for the ``KEY=VALUE`` options (``--host-region HOST=REGION``,
``fuzz --region-key REGION=KEY``, ``events generate --types TYPE[=WEIGHT],...``), so each
says the same way what it expects. Allowed names come from the spec (regions) or the
event types, never restated here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click


class KeyValue(click.ParamType):
    """``KEY=VALUE`` into a ``(key, value)`` pair.

    ``keys`` / ``values``: allowed names (a callable is asked when parsing, so the spec is
    read only when the option is used); ``convert_value`` turns the text into its type;
    ``default`` makes ``=VALUE`` optional.
    """

    def __init__(self, key: str, value: str, *, keys: Callable[[], Sequence[str]] | None = None,
                 values: Callable[[], Sequence[str]] | None = None, convert_value: Callable[[str], Any] = str,
                 default: Any = None, lower_key: bool = False) -> None:
        self.key_name, self.value_name = key, value
        self.keys, self.values, self.convert_value, self.default, self.lower_key = keys, values, convert_value, default, lower_key
        self.name = f"{key}={value}" if default is None else f"{key}[={value}]"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, sep, text = str(value).partition("=")
        key, text = key.strip(), text.strip()
        if self.lower_key:
            key = key.lower()
        if not key or (not sep and self.default is None) or (sep and not text):
            self.fail(f"{value!r} must be {self.name}", param, ctx)
        if self.keys is not None and key not in self.keys():
            self.fail(f"{value!r}: {self.key_name} must be one of {', '.join(self.keys())}", param, ctx)
        if not sep:
            return key, self.default
        if self.values is not None and text not in self.values():
            self.fail(f"{value!r}: {self.value_name} must be one of {', '.join(self.values())}", param, ctx)
        try:
            return key, self.convert_value(text)
        except ValueError as exc:
            self.fail(f"{value!r}: {self.value_name} {exc}", param, ctx)


class KeyValueList(click.ParamType):
    """A comma-separated list of :class:`KeyValue` items, into a dict."""

    def __init__(self, item: KeyValue) -> None:
        self.item = item
        self.name = f"{item.name},..."

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        pairs = [self.item.convert(part, param, ctx) for part in str(value).split(",") if part.strip()]
        if not pairs:
            self.fail(f"name at least one {self.item.key_name}", param, ctx)
        return dict(pairs)


def non_negative(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"must be a number, not {text!r}") from None
    if number < 0:
        raise ValueError("must not be negative")
    return number


def writable_file(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A click callback for a report path (``--junit``): refused at once (exit 2) when it
    cannot be written, not after the run it reports on. Nothing is left behind by the check."""
    if value is None:
        return value
    path = Path(value)
    existed = path.exists()
    try:
        path.open("ab").close()
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path} ({exc.strerror or exc})") from None
    if not existed:
        path.unlink()
    return value
