"""Talk to a Pact Broker (or PactFlow) through the ``pact`` CLI of ``pact-python-cli`` (the
``[broker]`` extra): publish contracts, ask can-i-deploy. Failures become one line that says
what failed and what to pass, never the CLI's raw report."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

EXTRA = "pip install 'mock-1flow[broker]'"
DOUBLE = Path(__file__).with_name("pact-broker-double.json")  # the tests' broker, served by `pact stub`
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BrokerError(Exception):
    """The broker could not be used as asked: one line for the user."""


class MissingExtra(BrokerError):
    """pact-python-cli is not installed."""


@dataclass(frozen=True)
class Auth:
    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None

    def args(self) -> list[str]:
        found = ["--broker-base-url", self.url]
        if self.token:
            found += ["--broker-token", self.token]
        if self.username:
            found += ["--broker-username", self.username]
        if self.password:
            found += ["--broker-password", self.password]
        return found


def pact_binary() -> Path:
    """The ``pact`` executable the pact-python-cli wheel installs into the scripts folder."""
    try:
        dist = metadata.distribution("pact-python-cli")
        files = dist.files or []
    except metadata.PackageNotFoundError:
        raise MissingExtra(f"the broker commands need the pact CLI, an extra of mock-1flow: {EXTRA}") from None
    for item in files:
        if item.name in ("pact", "pact.exe"):
            return Path(str(dist.locate_file(item))).resolve()
    raise MissingExtra(f"pact-python-cli is installed but has no pact executable; reinstall it: {EXTRA}")


def run_pact(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``pact ARGS`` with tracking off and no retries (a CI log wants the first answer)."""
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "PACT_BROKER_HTTP_RETRIES": os.environ.get("PACT_BROKER_HTTP_RETRIES", "0")}
    try:
        return subprocess.run([str(pact_binary()), *args], env=env, text=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BrokerError(f"the pact CLI did not finish within {timeout:.0f} s: is the broker at the URL answering?") from None


def failure_line(output: str, url: str) -> str:
    """The CLI's report as one line that says what to fix."""
    text = ANSI.sub("", output)
    if "error sending request" in text or "Connection refused" in text or "dns error" in text:
        return f"no Pact Broker answers at {url}: check --broker-url (or PACT_BROKER_BASE_URL)"
    if "401" in text or "403" in text:
        return (f"the Pact Broker at {url} refused the credentials (HTTP {'401' if '401' in text else '403'}): pass "
                "--broker-token or --broker-username/--broker-password (or PACT_BROKER_TOKEN, PACT_BROKER_USERNAME/PASSWORD)")
    if "not found" in text and "Pacticipant" in text:
        name = re.search(r"Pacticipant with name '([^']+)' not found", text)
        return f"the Pact Broker at {url} has no pacticipant {name.group(1) if name else ''!r}: check --pacticipant".replace(" ''", "")
    if "404" in text:
        path = re.search(r"path '([^']+)' failed: 404", text)
        where = path.group(1).removeprefix(url) if path else "a Pact Broker API request"
        return (f"{url} answered 404 Not Found to {where}: check that "
                "--broker-url is a Pact Broker's base URL and the names and versions passed (a broker double "
                "answers 404 to any request its contract does not describe)")
    lines = [line.strip(" ❌⚠️✅📨") for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "fail" in line.lower() or "error" in line.lower()]
    return (errors or lines or ["the pact CLI failed with no output"])[0]


def publish(files: list[Path], auth: Auth, version: str, branch: str | None, tags: tuple[str, ...]) -> str:
    """Publish Pact files with ``pact broker publish``; the CLI's summary lines on success."""
    args = ["broker", "publish", *map(str, files), *auth.args(), "--consumer-app-version", version]
    if branch:
        args += ["--branch", branch]
    if tags:  # the CLI takes --tag once, its values comma-separated
        args += ["--tag", ",".join(tags)]
    result = run_pact(*args)
    output = ANSI.sub("", result.stdout + result.stderr)
    if result.returncode != 0:
        raise BrokerError(failure_line(output, auth.url))
    return "\n".join(line for line in output.splitlines() if "published" in line.lower() and "Warning" not in line)


def can_i_deploy(auth: Auth, pacticipant: str, version: str, environment: str | None, tag: str | None) -> dict[str, Any]:
    """The broker's matrix answer (``summary``, ``matrix`` rows) for this version and target."""
    args = ["broker", "can-i-deploy", *auth.args(), "--pacticipant", pacticipant, "--version", version, "--output", "json"]
    args += ["--to-environment", environment] if environment else ["--to", str(tag)]
    result = run_pact(*args)
    try:
        answer = json.loads(result.stdout)
    except ValueError:
        raise BrokerError(failure_line(result.stdout + result.stderr, auth.url)) from None
    if not isinstance(answer, dict) or not isinstance(answer.get("summary"), dict):
        raise BrokerError(f"the Pact Broker at {auth.url} answered can-i-deploy without a summary")
    return answer
