"""``mock-1flow contracts``: list the Pact interactions, verify them against a server."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import requests

from ..paths import CONTRACTS_DIR
from .params import KeyValue, writable_file
from .urls import require_server, url_option

STATE_PATH = "/__admin/provider-states"

CONTRACTS_OPTION = click.option(
    "--contracts", "contracts_dir", type=click.Path(exists=True, path_type=Path),
    default=CONTRACTS_DIR, show_default="the packaged contracts/", help="A Pact file, or a folder of them.")


class BadInput(click.ClickException):
    """Input the user must fix (a file that is not a Pact, a filter that matches nothing): exit 2."""

    exit_code = 2


def _interactions(contracts_dir: Path, description: str | None = None, state: str | None = None) -> list[Any]:
    """The interactions to work on; a malformed Pact file or an empty selection is BadInput."""
    from ..contracts.listing import list_interactions, select

    try:
        chosen = select(list_interactions(contracts_dir), description, state)
    except (FileNotFoundError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    except re.error as exc:
        raise BadInput(f"--description/--state must be regular expressions: {exc}") from None
    if not chosen:
        asked = " and ".join(f"--{name} {value!r}" for name, value in (("description", description), ("state", state)) if value)
        raise BadInput(f"no interaction in {contracts_dir} matches {asked or 'at all'}; 'mock-1flow contracts list' shows them")
    return chosen


@click.group()
def contracts() -> None:
    """Pact contracts between the destination and the 1Flow API.

    \b
    Examples:
      mock-1flow contracts list
      mock-1flow contracts verify --junit pact-junit.xml
    """
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


@contracts.command("list")
@CONTRACTS_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON document (files, their interactions) instead of tables.")
def list_command(contracts_dir: Path, as_json: bool) -> None:
    """Print each Pact file (consumer, provider, Pact version) and its interactions with
    their provider states and expected status.

    \b
    Examples:
      mock-1flow contracts list
      mock-1flow contracts list --json
      mock-1flow contracts list --contracts path/to/my-pact.json
    """
    from ..contracts.listing import list_contracts

    _interactions(contracts_dir)  # a bad file or an empty folder stops here
    found = list_contracts(contracts_dir)
    total = sum(len(c.interactions) for c in found)
    if as_json:
        click.echo(json.dumps({"files": [c.as_json() for c in found], "interactions": total}, indent=2))
        return
    console = rich_console()
    for contract in found:
        console.print(f"[bold]{contract.path.name}[/]  {contract.consumer} -> {contract.provider}  "
                      f"Pact {contract.pact_version}  {len(contract.interactions)} interactions")
        console.print(_interaction_table(contract.interactions))
        console.print()
    console.print(f"{len(found)} files, {total} interactions")


def rich_console() -> Any:
    """A rich console on stdout: the terminal's width, or wide enough that a pipe or a CI
    log gets whole rows."""
    import sys

    from rich.console import Console

    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 240)


def _interaction_table(interactions: Any) -> Any:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("status", "method", "path", "description", "given"):
        table.add_column(column, justify="right" if column == "status" else "left")
    for item in interactions:
        table.add_row(str(item.status), item.method, item.path, item.description, "; ".join(item.states) or "-")
    return table


def is_mock_1flow(url: str) -> bool:
    """Whether ``url`` is a mock-1flow (its admin health answers), so it has the state
    endpoint; a server that does not answer at all is an error worth saying once."""
    require_server(url)
    try:
        reply = requests.get(f"{url.rstrip('/')}/__admin/health", timeout=5)
    except requests.RequestException as exc:
        raise click.ClickException(f"{url}/__admin/health: no HTTP answer ({type(exc).__name__})") from None
    try:
        return reply.status_code == 200 and "error_profile" in reply.json()
    except ValueError:
        return False


@contextmanager
def _in_process_mock(error_profile: str) -> Iterator[str]:
    """A mock on a free loopback port, its request log silenced (the summary says it all)."""
    from ..testing import MockServer

    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    try:
        with MockServer(error_profile=error_profile) as mock:
            yield mock.url
    finally:
        werkzeug.setLevel(level)


@contracts.command("verify")
@url_option("A running 1Flow-compatible server root, e.g. http://127.0.0.1:8080 (contract paths are "
            "/{region}/api/2021-06-15/...). Default: an in-process mock on a free loopback port.", default=None,
            envvar=None)
@CONTRACTS_OPTION
@click.option("--state-url", help=f"Provider-state endpoint. Default: URL{STATE_PATH} when URL is a mock-1flow, else none.")
@click.option("--no-states", is_flag=True, help="Send no provider-state changes (a real 1Flow endpoint has none).")
@click.option("--error-profile", type=click.Choice(["docs", "backend"]), default="docs", show_default=True,
              help="Error profile of the in-process mock (not with --url).")
@click.option("--pact-output", is_flag=True, help="Also print Pact's own verification report.")
@click.option("--description", metavar="REGEX", help="Only interactions whose description matches (searched).")
@click.option("--state", metavar="REGEX", help="Only interactions with a provider state whose name matches.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file,
              help="Also write a JUnit XML report here (checked before verifying).")
@click.option("--broker-url", envvar="PACT_BROKER_BASE_URL", help="Verify the pacts a Pact Broker selects instead of files (env PACT_BROKER_BASE_URL).")
@click.option("--broker-token", envvar="PACT_BROKER_TOKEN", help="Bearer token (env PACT_BROKER_TOKEN).")
@click.option("--broker-username", envvar="PACT_BROKER_USERNAME", help="Basic auth user (env PACT_BROKER_USERNAME).")
@click.option("--broker-password", envvar="PACT_BROKER_PASSWORD", help="Basic auth password (env PACT_BROKER_PASSWORD).")
@click.option("--provider", default="1flow-api", show_default=True, help="The provider name in the broker.")
@click.option("--provider-app-version", help="The provider version the results are published for.")
@click.option("--provider-branch", help="The provider's branch (recorded with the results; used by matchingBranch).")
@click.option("--consumer-version-selector", "selectors", multiple=True, metavar="JSON",
              help='A consumer version selector, e.g. \'{"mainBranch": true}\' (repeatable).')
@click.option("--enable-pending", is_flag=True, help="Pending pacts: their failures do not fail the verification.")
@click.option("--include-wip-pacts-since", metavar="YYYY-MM-DD", help="Also verify work-in-progress pacts since this date.")
@click.option("--publish-results", is_flag=True, help="Publish the verification results to the broker.")
def verify_command(url: str | None, contracts_dir: Path, state_url: str | None, no_states: bool,
                   error_profile: str, pact_output: bool, description: str | None, state: str | None,
                   junit: Path | None, broker_url: str | None = None, broker_token: str | None = None,
                   broker_username: str | None = None, broker_password: str | None = None,
                   provider: str = "1flow-api", provider_app_version: str | None = None,
                   provider_branch: str | None = None, selectors: tuple[str, ...] = (),
                   enable_pending: bool = False, include_wip_pacts_since: str | None = None,
                   publish_results: bool = False) -> None:
    """Replay every interaction against a server; print each result; exit 1 on any failure.

    \b
    Examples:
      mock-1flow contracts verify
      mock-1flow contracts verify --description 'unknown key' --junit pact-junit.xml
      mock-1flow contracts verify --state 'rate-limited' --contracts contracts/my-pact.json
      mock-1flow contracts verify --url http://127.0.0.1:8080
    """
    try:
        from ..contracts.verify import verify_contracts
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "pact":
            raise
        raise BadInput("verifying needs Pact's core, an extra of mock-1flow: pip install 'mock-1flow[contracts]'") from None

    pact_log = logging.getLogger("pact.ffi")
    if pact_log.level == logging.NOTSET and not pact_log.handlers:
        # INFO so Pact's core forwards its "Results published" events (the publication's
        # outcome is read from them); printed nowhere: the summary says what they would.
        pact_log.setLevel(logging.INFO)
        pact_log.addHandler(logging.NullHandler())

    if url and error_profile != "docs":
        raise click.UsageError("--error-profile applies to the in-process mock only; drop it or --url.")
    if no_states and state_url:
        raise click.UsageError("--state-url and --no-states contradict each other.")
    broker = _broker_source(broker_url, broker_token, broker_username, broker_password, provider,
                            provider_app_version, provider_branch, selectors, enable_pending,
                            include_wip_pacts_since, publish_results)
    if broker is None:
        _interactions(contracts_dir, description, state)  # a bad file or an empty selection stops here
    if url:
        require_server(url)
    with (_remote(url) if url else _in_process_mock(error_profile)) as target:
        states = None if no_states else (state_url or _default_state_url(target, bool(url)))
        if broker is None:
            result = verify_contracts(target, contracts_dir, states, description=description, state=state)
        else:
            from ..contracts.verify import verify_from_broker

            result = verify_from_broker(target, broker, states)
    if pact_output:
        click.echo(result.output)
    if result.load_error:
        raise BadInput(_broker_failure(result.load_error, str(broker_url)))
    click.echo(result.summary())
    if junit:
        from ..contracts.junit import write_junit

        try:
            write_junit(result, junit)
        except OSError as exc:
            raise BadInput(f"cannot write the JUnit report {junit}: {exc.strerror}") from None
        click.echo(f"JUnit report: {junit}")
    failed = sum(not i.ok and not i.pending for i in result.interactions)
    pending = sum(not i.ok and i.pending for i in result.interactions)
    passed = "all interactions passed" + (f" but {pending} in pending pacts" if pending else "")
    click.echo(f"verified: {passed} ({target})" if result.ok else
               f"verification FAILED: {failed} of {len(result.interactions)} interactions ({target})")
    if broker is not None and publish_results:
        if result.publish_error:  # what Pact's core logged: the broker did not take the results
            raise BadInput(f"the results were NOT published to {broker_url}: "
                           f"{_broker_failure(result.publish_error, str(broker_url))}")
        click.echo(f"results published to {broker_url} for {provider} {provider_app_version}"
                   + (f" on branch {provider_branch}" if provider_branch else ""))
    if not result.ok:
        raise SystemExit(1)


def _broker_source(broker_url: str | None, token: str | None, username: str | None, password: str | None,
                   provider: str, version: str | None, branch: str | None, selectors: tuple[str, ...],
                   pending: bool, wip_since: str | None, publish: bool) -> Any:
    """The broker options as a BrokerSource, or None when verifying files; what is wrong is a usage error."""
    asked = selectors or pending or wip_since or publish or version or branch
    if not broker_url:
        if asked:
            raise click.UsageError("--consumer-version-selector, --enable-pending, --include-wip-pacts-since, "
                                   "--publish-results and the provider version options need --broker-url.")
        return None
    if provider != "1flow-api":
        raise click.UsageError("--provider: the mock is the 1flow-api provider; the broker's pacts for it are verified.")
    if token and (username or password):
        raise click.UsageError("pass --broker-token or --broker-username/--broker-password, not both.")
    if publish and not version:
        raise click.UsageError("--publish-results needs --provider-app-version (the version the results are for).")
    if wip_since:
        import datetime

        try:
            datetime.date.fromisoformat(wip_since)
        except ValueError:
            raise click.BadParameter(f"{wip_since!r} is not a date; write YYYY-MM-DD", param_hint="--include-wip-pacts-since") from None
    from ..contracts.verify import SELECTOR_KEYS, BrokerSource

    parsed = []
    for text in selectors:
        try:
            selector = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"{text!r} is not JSON ({exc.msg}); write e.g. '{{\"mainBranch\": true}}'",
                                     param_hint="--consumer-version-selector") from None
        if not isinstance(selector, dict) or not selector or set(selector) - set(SELECTOR_KEYS):
            unknown = sorted(set(selector) - set(SELECTOR_KEYS)) if isinstance(selector, dict) else []
            raise click.BadParameter(f"{text!r}: a selector is a JSON object with keys among {', '.join(sorted(SELECTOR_KEYS))}"
                                     + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
                                     param_hint="--consumer-version-selector")
        parsed.append(selector)
    return BrokerSource(broker_url.rstrip("/"), token, username, password, tuple(parsed), pending, wip_since,
                        version, branch, publish)


def _broker_failure(message: str, url: str) -> str:
    from ..contracts.broker import failure_line

    return failure_line(message, url)


@contextmanager
def _remote(url: str) -> Iterator[str]:
    yield url.rstrip("/")


def _default_state_url(target: str, remote: bool) -> str | None:
    if not remote or is_mock_1flow(target):
        return target + STATE_PATH
    click.echo(f"{target} is not a mock-1flow (no /__admin/health): verifying without provider states; "
               "pass --state-url if it has a state-change endpoint.", err=True)
    return None


BROKER_URL = click.option("--broker-url", envvar="PACT_BROKER_BASE_URL", required=True,
                          help="The Pact Broker's base URL (env PACT_BROKER_BASE_URL).")
BROKER_TOKEN = click.option("--broker-token", envvar="PACT_BROKER_TOKEN", help="Bearer token (env PACT_BROKER_TOKEN).")
BROKER_USER = click.option("--broker-username", envvar="PACT_BROKER_USERNAME", help="Basic auth user (env PACT_BROKER_USERNAME).")
BROKER_PASSWORD = click.option("--broker-password", envvar="PACT_BROKER_PASSWORD", help="Basic auth password (env PACT_BROKER_PASSWORD).")


def _auth(url: str, token: str | None, username: str | None, password: str | None) -> Any:
    from ..contracts.broker import Auth

    if token and (username or password):
        raise click.UsageError("pass --broker-token or --broker-username/--broker-password, not both.")
    return Auth(url.rstrip("/"), token, username, password)


@contextmanager
def _broker_errors() -> Iterator[None]:
    from ..contracts.broker import BrokerError

    try:
        yield
    except BrokerError as exc:
        raise BadInput(str(exc)) from None


@contracts.command("from-recording")
@click.argument("recording", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--consumer", required=True, help="The consumer's name in the Pact (your app, e.g. my-ios-app).")
@click.option("--provider", default="1flow-api", show_default=True, help="The provider's name in the Pact.")
@click.option("--key-map", "key_map", multiple=True, type=KeyValue("PLACEHOLDER", "KEY"), metavar="<key-N>=KEY",
              help="The project key to put for the recording's <key-N> (repeatable). Default: oneflow_prod_acme.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file,
              help="The Pact file to write. Default: CONSUMER-PROVIDER.json here.")
def from_recording_command(recording: Path, consumer: str, provider: str, key_map: tuple[tuple[str, str], ...],
                           output: Path | None) -> None:
    """Turn a recording (mock-1flow proxy --record) into a Pact file like the client contracts:
    requests as sent, answers with matchers (types, ids by regex).

    \b
    Examples:
      mock-1flow contracts from-recording traffic.jsonl --consumer my-ios-app -o pacts/my-ios-app-1flow-api.json
      mock-1flow contracts verify --contracts pacts/
    """
    from ..replay.pact import write_pact
    from ..replay.recording import RecordingError, load_recording

    try:
        exchanges = load_recording(recording)
    except RecordingError as exc:
        raise BadInput(str(exc)) from None
    out = output or Path(f"{consumer}-{provider}.json")
    count = write_pact(exchanges, consumer, out, provider, dict(key_map))
    click.echo(f"wrote {out}: {count} interaction(s) from {len(exchanges)} recorded exchange(s), {consumer} -> {provider}")


@contracts.command("publish")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@BROKER_URL
@click.option("--consumer-app-version", required=True, help="The consumer version these pacts belong to (e.g. the git SHA).")
@click.option("--branch", help="The consumer's git branch.")
@click.option("--tag", "tags", multiple=True, help="A consumer version tag (repeatable).")
@BROKER_TOKEN
@BROKER_USER
@BROKER_PASSWORD
def publish_command(files: tuple[Path, ...], broker_url: str, consumer_app_version: str, branch: str | None,
                    tags: tuple[str, ...], broker_token: str | None, broker_username: str | None,
                    broker_password: str | None) -> None:
    """Publish Pact files to a Pact Broker (default: every packaged contract).

    \b
    Examples:
      mock-1flow contracts publish --broker-url https://broker.example --consumer-app-version $GIT_SHA --branch main
      mock-1flow contracts publish contracts/segment-1flow-destination-1flow-api.json --broker-url ... --consumer-app-version 1.0.0
    """
    from ..contracts.broker import publish
    from ..contracts.listing import contract_files

    if any("," in tag for tag in tags):
        raise click.BadParameter("a tag cannot contain a comma (the pact CLI splits tags on commas)", param_hint="--tag")
    auth = _auth(broker_url, broker_token, broker_username, broker_password)
    chosen = list(files) or contract_files(CONTRACTS_DIR)
    _interactions(chosen[0]) if len(chosen) == 1 else None  # a single bad file says what is wrong
    with _broker_errors():
        click.echo(publish(chosen, auth, consumer_app_version, branch, tags))
    click.echo(f"published {len(chosen)} pact(s) to {auth.url} as version {consumer_app_version}"
               + (f" on branch {branch}" if branch else ""))


@contracts.command("can-i-deploy")
@click.option("--pacticipant", required=True, help="The application to deploy (a consumer or provider name).")
@click.option("--version", required=True, help="Its version.")
@click.option("--to-environment", help="The environment it would be deployed to.")
@click.option("--to", "to_tag", metavar="TAG", help="The tag of the versions it would be deployed with (older brokers).")
@BROKER_URL
@BROKER_TOKEN
@BROKER_USER
@BROKER_PASSWORD
def can_i_deploy_command(pacticipant: str, version: str, to_environment: str | None, to_tag: str | None,
                         broker_url: str, broker_token: str | None, broker_username: str | None,
                         broker_password: str | None) -> None:
    """Ask the broker whether this version may be deployed; print the matrix; exit 1 for no.

    \b
    Examples:
      mock-1flow contracts can-i-deploy --pacticipant segment-1flow-destination --version 1.0.0 --to-environment production --broker-url ...
    """
    from ..contracts.broker import can_i_deploy

    if bool(to_environment) == bool(to_tag):
        raise click.UsageError("pass one of --to-environment ENVIRONMENT or --to TAG.")
    auth = _auth(broker_url, broker_token, broker_username, broker_password)
    with _broker_errors():
        answer = can_i_deploy(auth, pacticipant, version, to_environment, to_tag)
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("consumer", "c.version", "provider", "p.version", "verified"):
        table.add_column(column)
    for row in answer.get("matrix") or []:
        result = row.get("verificationResult") or {}
        verdict = "-" if not result else "yes" if result.get("success") else "NO"
        table.add_row(row["consumer"]["name"], (row["consumer"].get("version") or {}).get("number", "-"),
                      row["provider"]["name"], (row["provider"].get("version") or {}).get("number", "-"), verdict)
    console = rich_console()
    console.print(table)
    summary = answer["summary"]
    target = to_environment or f"tag {to_tag}"
    if summary.get("deployable"):
        click.echo(f"yes: {pacticipant} {version} may be deployed to {target} ({summary.get('reason', '')})")
        return
    click.echo(f"no: {pacticipant} {version} may not be deployed to {target} ({summary.get('reason', '')})")
    raise SystemExit(1)
