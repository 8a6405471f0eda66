"""``mock-1flow send``: run Segment events through the 1Flow destination to a 1Flow API
(the local mock unless ``--url`` says otherwise)."""

from __future__ import annotations

import gc
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import orjson

from ..destination.http_api import client_for, delivery_base
from ..destination.destination import Destination
from ..destination.mapping import MappingError, load_subscriptions
from ..destination.outcomes import FAILED, INTERRUPTED, TRANSPORT_ERROR, UNREACHABLE, Outcome, Report
from ..destination.profiles import DEFAULT_PROFILE, PROFILES
from ..destination.settings import LOCAL_MOCK_URL, Settings
from ..destination.wire import message_id
from ..events.jsonl import read_jsonl
from ..server.spec import regions
from .urls import unreachable

def read_events(path: str) -> list[dict[str, Any]]:
    """The events of a JSON Lines file (``-``: stdin); a bad line is a usage error naming its number."""
    try:
        if path == "-":
            return list(read_jsonl(sys.stdin.buffer, "stdin"))
        return list(read_jsonl(Path(path)))
    except OSError as exc:
        raise click.UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def summary_table(report: Report) -> str:
    """One row per (outcome, reason): sent, dropped by reason, failed by status and 1Flow error code."""
    lines = [f"{'outcome':<10} {'reason':<40} {'events':>8}"]
    lines += [f"{status:<10} {reason or '-':<40} {count:>8}" for status, reason, count in report.rows()]
    lines.append(f"{'total':<10} {'':<40} {len(report):>8}")
    return "\n".join(lines)


def failure_messages(report: Report) -> list[str]:
    """The first message per failure reason, as 1Flow (or the mock) worded it."""
    first: dict[str, str] = {}
    for outcome in report.outcomes:
        if outcome.status == FAILED and outcome.reason not in first:
            first[outcome.reason or "?"] = outcome.detail or ""
    return [f"failed {reason}: {detail}" for reason, detail in first.items()]


def probe(url: str) -> None:
    """Fail fast when nothing listens at ``url``: the URL and the reason, and what to do."""
    reason = unreachable(url)
    if reason is not None:
        hint = " Start the mock with `mock-1flow serve`, or pass --url." if url.startswith(LOCAL_MOCK_URL) else ""
        raise click.ClickException(f"cannot reach {url} ({reason}).{hint}")


class Watchdog:
    """Stops the run when a transport error turns out to be an API that went away (the
    rest then fail ``unreachable`` at once instead of each waiting out its retries)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.reason: str | None = None
        self.destination: Destination | None = None

    def __call__(self, outcome: Outcome) -> None:
        if outcome.reason == TRANSPORT_ERROR and self.reason is None and self.destination is not None:
            self.reason = unreachable(self.url)
            if self.reason is not None:
                self.destination.stop(UNREACHABLE)


def reconcile(events: list[dict[str, Any]], report: Report, reason: str) -> None:
    """Give every event that has no outcome yet (a run stopped midway) a failed one."""
    counts = Counter(o.message_id for o in report.outcomes)
    for event in events:
        mid = message_id(event)
        if counts[mid]:
            counts[mid] -= 1
        else:
            report.add(Outcome(mid, str(event.get("type")), FAILED, reason, detail=f"not sent: {reason}"))


def write_report(path: str, report: Report) -> None:
    with open(path, "wb") as stream:
        for outcome in report.outcomes:
            stream.write(orjson.dumps({
                "message_id": outcome.message_id, "type": outcome.type, "status": outcome.status,
                "reason": outcome.reason, "http_status": outcome.http_status, "error": outcome.error,
                "detail": outcome.detail,
            }) + b"\n")


class Progress:
    """Progress on stderr: a bar on a terminal, else a line every ``every`` seconds."""

    def __init__(self, total: int, mode: bool | None, every: float) -> None:
        self.total, self.every = total, every
        self.counts: Counter = Counter()
        self.bar = None
        self.lines = mode is None and not sys.stderr.isatty()
        if mode or (mode is None and sys.stderr.isatty()):
            self.bar = click.progressbar(length=total, label="sending", file=sys.stderr)
            self.bar.__enter__()
        self.started = self.last = time.monotonic()

    def __call__(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.lines and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.line()

    def line(self) -> None:
        done = sum(self.counts.values())
        click.echo(f"progress: {done}/{self.total} events done (sent {self.counts['sent']}, dropped "
                   f"{self.counts['dropped']}, failed {self.counts['failed']})", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elapsed = time.monotonic() - self.started
        rate = f" ({self.total / elapsed:,.0f} events/s)" if elapsed > 0 else ""
        click.echo(f"done: {sum(self.counts.values())} events in {elapsed:.2f} s{rate}", err=True)


@contextmanager
def fewer_collections(young: int = 20_000) -> Iterator[None]:
    """Rarer garbage collections while sending: the events read and the outcomes kept are
    long-lived, and the default thresholds made CPython walk them again and again (a third of
    the client's CPU on 50,000 events: benchmarks/bench_send.py). The run makes few cycles, so
    little garbage waits longer; the thresholds are restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(young, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


@contextmanager
def sigterm_as_interrupt():
    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding test runner): nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


EXAMPLE = """
\b
Examples:
  mock-1flow serve &
  mock-1flow events generate --count 1000 --seed 42 -o events.jsonl
  mock-1flow send events.jsonl --key oneflow_prod_acme
  mock-1flow send events.jsonl --key oneflow_prod_acme --profile ios --report outcomes.jsonl --deadline 60
  mock-1flow send - --key oneflow_prod_acme --url http://127.0.0.1:9000 < events.jsonl

"""


@click.command(epilog=EXAMPLE)
@click.argument("events_file", metavar="EVENTS.jsonl", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--key", required=True, help="The 1Flow project key (the destination's projectApiKey).")
@click.option("--region", type=click.Choice(regions()), default="us", show_default=True,
              help="Regional Data Hosting of the project.")
@click.option("--url", default=LOCAL_MOCK_URL, show_default=True, envvar="MOCK_1FLOW_URL",
              help="Where to send (env MOCK_1FLOW_URL): a mock's root (then /{region}/api/2021-06-15 is added), or an API base ending "
                   "in /api/2021-06-15. The real 1Flow API needs it spelled out: "
                   "--url https://api-sdk.1flow.app/api/2021-06-15.")
@click.option("--api", type=click.Choice(["sdk", "http"]), default="sdk", show_default=True,
              help="sdk: the SDK API as the 1Flow SDKs call it; http: 1Flow's public HTTP API (api_key, /v1/track, "
                   "/v1/batch up to 500 KB), as a server-side forwarder calls it ({url}/{region}/v1 for a mock's "
                   "root, or a base ending in /v1 such as https://api.1flow.app/v1).")
@click.option("--profile", type=click.Choice(list(PROFILES)), default=DEFAULT_PROFILE, show_default=True,
              help="Whose behaviour to follow: web (1Flow Web (Actions), browser runtime), mobile (the docs' "
                   "screen_/page_ naming), ios / android (the 1Flow Segment plugins), cloud (Segment's validation).")
@click.option("--mappings", "mappings_file", type=click.Path(dir_okay=False),
              help="Mappings in Segment's shape (JSON); the profile's presets by default.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=None,
              help="At most this many events per /v3/track request [default: a device's whole queue, as the SDKs send it].")
@click.option("--concurrency", type=click.IntRange(1, 64), default=16, show_default=True,
              help="Devices whose requests are in flight at once (each device's requests stay in order).")
@click.option("--max-retries", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Retries of a request after a transport error, 429 or 5xx.")
@click.option("--deadline", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Overall deadline: events not sent by then are reported as failed with reason 'deadline'.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, writable=True),
              help="Write each event's outcome to this file (JSON Lines: message_id, type, status, reason, "
                   "http_status, error, detail).")
@click.option("--progress/--no-progress", default=None,
              help="Progress on stderr [default: a bar on a terminal, else a line every --progress-every seconds].")
@click.option("--progress-every", type=click.FloatRange(min=0), default=2.0, show_default=True, metavar="SECONDS",
              help="Seconds between progress lines when stderr is not a terminal.")
def send(events_file: str, key: str, region: str, url: str, api: str, profile: str, mappings_file: str | None,
         batch_size: int | None, concurrency: int, max_retries: int, deadline: float | None,
         report_file: str | None, progress: bool | None, progress_every: float) -> None:
    """Send EVENTS.jsonl (- for stdin) through the 1Flow destination and print what became
    of each event: sent, dropped (by reason) or failed (by HTTP status and 1Flow error code;
    the first message of each failure follows on stderr).

    Exit status: 0 when no event failed, 1 when any did (or the URL cannot be reached: checked
    before sending, and again when a request fails for want of a connection),
    2 for usage errors, 130 on Ctrl-C and 143 on SIGTERM (after a partial summary).
    """
    started = time.monotonic()  # --deadline counts from here: reading the events is part of the run
    try:
        subscriptions = load_subscriptions(mappings_file) if mappings_file else None
    except MappingError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        settings = Settings(key, region, url, profile, api)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if report_file:
        try:
            Path(report_file).open("ab").close()
        except OSError as exc:
            raise click.UsageError(f"--report {report_file}: cannot write ({exc.strerror or exc})") from None
    with sigterm_as_interrupt(), quiet_after_stop():
        try:
            events = read_events(events_file)
        except KeyboardInterrupt as exc:
            if report_file:
                write_report(report_file, Report())
            click.echo(f"interrupted while reading {events_file}: nothing was sent", err=True)
            sys.exit(_exit_status(exc))
        run = _Run(settings, subscriptions, events, max_retries, concurrency, batch_size, progress, progress_every)
        interrupted = None
        try:
            run.start(None if deadline is None else started + deadline)
        except KeyboardInterrupt as exc:
            interrupted = exc
        report = run.finish(interrupted)
        interrupted = interrupted or run.interrupted
        if report_file:
            write_report(report_file, report)
        click.echo(summary_table(report))
        for line in failure_messages(report):
            click.echo(line, err=True)
        if run.watchdog.reason is not None:
            click.echo(f"cannot reach {run.base} ({run.watchdog.reason}): stopped; the events not sent yet are "
                       f"failed 'unreachable'", err=True)
        if run.gave_up:
            click.echo(f"{run.gave_up} event(s) still in flight {STOP_GRACE:g} s after the stop are failed "
                       f"'{run.stop_reason}' (they may have reached the API)", err=True)
        if interrupted is not None:
            click.echo("interrupted: the summary covers the events handled so far; the rest are failed 'interrupted'",
                       err=True)
            sys.exit(_exit_status(interrupted))
        if report.failed:
            sys.exit(1)


#: Seconds a stopped run (Ctrl-C, SIGTERM, --deadline) waits for requests already in flight.
STOP_GRACE = 1.0


def _exit_status(interrupt: KeyboardInterrupt) -> int:
    return 143 if isinstance(interrupt, _Terminated) else 130


class _Run:
    """One ``send``: the destination and what watches it, built and run so that Ctrl-C or
    SIGTERM at any point (even while connecting) still ends in a summary and a report."""

    def __init__(self, settings: Settings, subscriptions: Any, events: list[dict[str, Any]], max_retries: int,
                 concurrency: int, batch_size: int | None, progress: bool | None, progress_every: float) -> None:
        self.settings, self.subscriptions, self.events = settings, subscriptions, events
        self.max_retries, self.concurrency, self.batch_size = max_retries, concurrency, batch_size
        self.progress, self.progress_every = progress, progress_every
        self.base = delivery_base(settings)
        self.watchdog = Watchdog(self.base)
        self.bar: Progress | None = None
        self.destination: Destination | None = None
        self.gave_up = 0
        self.stop_reason: str | None = None
        self.interrupted: KeyboardInterrupt | None = None

    def start(self, deadline_at: float | None) -> None:
        probe(self.base)
        client = client_for(self.settings, max_retries=self.max_retries, pool_size=self.concurrency)
        bar = self.bar = Progress(len(self.events), self.progress, self.progress_every)

        def on_outcome(outcome: Outcome) -> None:
            bar(outcome)
            self.watchdog(outcome)

        self.destination = destination = Destination(
            self.settings, self.subscriptions, client=client, batch_size=self.batch_size, on_outcome=on_outcome,
            concurrency=self.concurrency, deduplicate=True)
        self.watchdog.destination = destination
        if deadline_at is not None:
            destination.set_deadline(deadline_at - time.monotonic())
        with fewer_collections():
            for event in self.events:
                destination.process(event)
            destination.flush()

    def finish(self, interrupted: KeyboardInterrupt | None) -> Report:
        """Stop what is left (at most :data:`STOP_GRACE` seconds for requests in flight; a
        second Ctrl-C cuts it short), then one outcome per event."""
        destination = self.destination
        report = Report()
        if destination is not None:
            if interrupted is not None:
                destination.stop(INTERRUPTED)
            try:
                if not destination.wait(STOP_GRACE):
                    self.stop_reason = destination.stop_reason or INTERRUPTED
            except KeyboardInterrupt as exc:  # a second Ctrl-C: stop waiting
                self.interrupted = interrupted = interrupted or exc
                self.stop_reason = INTERRUPTED
            _ignore_signals()  # the summary and the report are written whatever comes next
            destination.close()
            report = destination.report
            before = len(report)
        else:
            _ignore_signals()
            before = 0
        # One outcome per event, whatever stopped the run (a missing one would be a bug: say so).
        reason = INTERRUPTED if interrupted else (destination.stop_reason if destination else None) or "no_outcome"
        reconcile(self.events, report, reason)
        if self.stop_reason is not None:
            self.gave_up = len(report) - before
        if self.bar is not None:
            self.bar.close()
        return report


def _ignore_signals() -> None:
    """Ctrl-C and SIGTERM are ignored until :func:`quiet_after_stop` ends: the summary and
    the report get written."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except ValueError:  # not the main thread (an embedding test runner)
        pass


@contextmanager
def quiet_after_stop() -> Iterator[None]:
    """Puts back the SIGINT and SIGTERM handlers that :func:`_ignore_signals` replaced."""
    try:
        previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    except ValueError:
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            try:
                signal.signal(signal.SIGINT, previous[0])
                signal.signal(signal.SIGTERM, previous[1])
            except ValueError:
                pass
