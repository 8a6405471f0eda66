"""``mock-1flow journal`` and ``mock-1flow reset``: look at and clear a running mock
through its admin API (the same calls the page at ``/__admin/`` makes)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
import requests

from ..server.config import ADMIN_WRITE_HEADER
from .urls import url_option

URL_OPTION = url_option("The running mock's root URL, e.g. http://127.0.0.1:8080 (env MOCK_1FLOW_URL).")


class NoMock(click.ClickException):
    """Nothing answers at the URL (refused, reset, timed out): ``--follow`` waits for it."""


def admin_call(url: str, method: str, path: str, **kwargs: Any) -> Any:
    """Call ``url/__admin/path``; a mock that does not answer or refuses is a clear error."""
    target = f"{url.rstrip('/')}/__admin/{path}"
    try:
        headers = {ADMIN_WRITE_HEADER: "1", **kwargs.pop("headers", {})}
        reply = requests.request(method, target, timeout=10, headers=headers, **kwargs)
    except requests.RequestException as exc:
        raise NoMock(f"no mock answers at {url} ({type(exc).__name__}); start one with "
                     "'mock-1flow serve' or pass --url") from None
    try:
        body = reply.json()
    except ValueError:
        raise click.ClickException(f"{method} {target} answered HTTP {reply.status_code}, not JSON: is it a mock-1flow?") from None
    if reply.status_code >= 400:
        raise click.ClickException(f"{method} {target}: HTTP {reply.status_code} {body.get('message', body)}")
    return body


MAX_WAIT = 5.0  # seconds between two tries of --follow while the mock is away


def follow_call(url: str, interval: float, method: str, path: str, quiet: bool = False, **kwargs: Any) -> tuple[Any, bool]:
    """:func:`admin_call` for ``--follow``: while no mock answers, say so once and try again
    (the wait doubling from ``interval`` up to :data:`MAX_WAIT`); returns the answer and
    whether the mock was away meanwhile (restarted: its journal ids begin again)."""
    wait, away = interval, False
    while True:
        try:
            return admin_call(url, method, path, **kwargs), away
        except NoMock:
            if not away and not quiet:  # quiet: the calls that follow a return, part of the same outage
                click.echo(f"waiting for the mock at {url} (it does not answer; Ctrl-C stops)", err=True)
                away = True
        time.sleep(wait)
        wait = min(wait * 2, MAX_WAIT)


def _matches_fault(entry: dict[str, Any], fault: str | None) -> bool:
    return fault is None or (bool(entry.get("fault")) and fault in ("*", entry["fault"]))


def _table(entries: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("id", "time", "method", "path", "status", "key", "region", "ms", "error", "fault", "via"):
        table.add_column(column, justify="right" if column in ("id", "status", "ms") else "left")
    for e in entries:
        style = "green" if 200 <= e["status"] < 300 else "yellow" if 400 <= e["status"] < 500 else "red"
        table.add_row(str(e["id"]), e["time"][11:23], e["method"], e["path"] + (f"?{e['query']}" if e.get("query") else ""),
                      f"[{style}]{e['status']}[/]", e.get("project") or "-", e.get("region") or "-",
                      f"{e.get('duration_ms', 0):.1f}", e.get("error") or "", e.get("fault") or "", e.get("via") or "")
    return table


def _print(entries: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry, ensure_ascii=False))
        return
    from rich.console import Console

    stdout = sys.stdout
    Console(file=stdout, width=None if stdout.isatty() else 240).print(_table(entries))


@click.command()
@URL_OPTION
@click.option("--method", help="Only this HTTP method.")
@click.option("--status", type=int, help="Only this status (0: dropped connections).")
@click.option("--project", metavar="KEY", help="Only requests for this project key.")
@click.option("--region", help="Only this region (us, eu).")
@click.option("--path", metavar="GLOB", help="Only paths matching this glob, e.g. '*/v3/track'.")
@click.option("--fault", metavar="ID", help="Only requests a fault fired on: its id, or '*' for any.")
@click.option("--limit", "-n", type=click.IntRange(1), default=50, show_default=True, help="Most recent entries shown.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new entries as they arrive (Ctrl-C stops).")
@click.option("--interval", type=click.FloatRange(0.1), default=1.0, show_default=True, help="Seconds between polls with --follow.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def journal(url: str, method: str | None, status: int | None, project: str | None, region: str | None,
            path: str | None, fault: str | None, limit: int, follow: bool, interval: float, as_json: bool) -> None:
    """Print a running mock's request journal (oldest first) as a table.

    \b
    Examples:
      mock-1flow journal
      mock-1flow journal --status 404 --project oneflow_prod_acme
      mock-1flow journal --path '*/v3/track' --follow
      mock-1flow journal --fault '*' --json
    """
    criteria: dict[str, Any] = {"method": method, "status": status, "project": project, "region": region, "path": path}
    criteria = {name: value for name, value in criteria.items() if value is not None}
    if fault not in (None, "*"):
        criteria["fault"] = fault  # '*' (any fault) is filtered here: the journal matches ids exactly
    since: int | None = None  # the id of the last entry shown (None: nothing asked yet)
    instance: str | None = None  # the followed mock's (its health says), to tell a restart
    try:
        while True:
            # Later polls ask for everything after the last entry shown (POST .../requests/find
            # with since_id), so a burst larger than --limit between two polls is not skipped.
            query = dict(criteria) if since is None else {**criteria, "since_id": since}
            if since is None and fault != "*":
                query["limit"] = limit
            if not follow:
                reply = admin_call(url, "POST", "requests/find", json=query)
            else:
                if instance is None:
                    instance = admin_call(url, "GET", "health").get("instance")
                reply, away = follow_call(url, interval, "POST", "requests/find", json=query)
                if away:  # back: the same mock (ids go on), or a restarted one (ids begin at 1 again)
                    health, _ = follow_call(url, interval, "GET", "health", quiet=True)
                    if health.get("instance") != instance:
                        instance = health.get("instance")
                        click.echo(f"the mock at {url} restarted: following its new journal", err=True)
                        since = 0
                        reply, _ = follow_call(url, interval, "POST", "requests/find", quiet=True,
                                               json={**criteria, "since_id": 0})
            entries = [e for e in reply["requests"] if _matches_fault(e, fault)]
            if since is None:
                entries = entries[-limit:]
                since = 0
            if entries:
                _print(entries, as_json)
                since = entries[-1]["id"]
            elif not follow:
                click.echo(f"no matching requests ({reply['recorded']} recorded)", err=True)
            if not follow:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        if not follow:
            raise
        return


@click.command()
@URL_OPTION
def reset(url: str) -> None:
    """Forget a running mock's state, journal and runtime faults; projects go back to
    the projects file.

    \b
    Example:
      mock-1flow reset --url http://127.0.0.1:8080
    """
    admin_call(url, "POST", "reset")
    click.echo(f"reset {url}")
