"""Build and run the schemathesis command line for ``mock-1flow fuzz``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import requests

from ..paths import SPEC_PATH

KEYS_ENV = "MOCK_1FLOW_FUZZ_KEYS"  # the keys by region, for the hooks (here: this module must not import schemathesis)

PHASES = ("examples", "coverage", "fuzzing", "stateful")
# Admin operations that change what every other operation sees (delete the projects,
# inject faults, wipe state): fuzzing them mid-run would turn the rest of the run into
# 404s and injected 5xx. They are left out unless asked for.
STATE_CHANGING_ADMIN = (
    "adminReset",
    "adminCreateProject",
    "adminDeleteProject",
    "adminAddFault",
    "adminClearFaults",
    "adminRemoveFault",
    "adminClearRequests",
    "adminProviderState",
    "adminPutState",
    "adminPutProjectSurveys",
    "adminPutProjectAnnouncements",
    "adminResetProject",
    "adminAddStub",
    "adminClearStubs",
    "adminRemoveStub",
)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "negative_data_rejection",
)


def keys_from_mock(url: str, timeout: float = 5.0) -> dict[str, str]:
    """For each region, a loaded project homed there whose plan includes it."""
    listing = requests.get(f"{url.rstrip('/')}/__admin/projects", timeout=timeout)
    listing.raise_for_status()
    body = listing.json()
    keys: dict[str, str] = {}
    for project in body["projects"]:
        regions = body["plans"].get(project["plan"], {}).get("regions", [])
        if project["region"] in regions:
            keys.setdefault(project["region"], project["key"])
    return keys


def host_form_operations(spec: Path = SPEC_PATH) -> list[str]:
    """The spec's host-form operations (``x-path-form``): 1Flow's own URLs, which a mock at
    ``--url`` serves only to a client that sends a mapped ``Host``; their path-form twins
    have the same request and answers and are fuzzed instead."""
    import yaml

    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    return [operation["operationId"] for item in document["paths"].values() for operation in item.values()
            if isinstance(operation, dict) and "x-path-form" in operation]


def schemathesis_command(
    url: str,
    *,
    spec: Path = SPEC_PATH,
    phases: Sequence[str] = PHASES,
    seed: int | None = None,
    max_examples: int | None = None,
    junit: Path | None = None,
    workers: int = 1,
    include_admin_writes: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(spec),
        "--url", url.rstrip("/"),
        "--phases", ",".join(phases),
        "--checks", ",".join(CHECKS),
        "--workers", str(workers),
        "--no-color",
    ]
    if not include_admin_writes:
        for operation_id in STATE_CHANGING_ADMIN:
            command += ["--exclude-operation-id", operation_id]
    for operation_id in host_form_operations(spec):
        command += ["--exclude-operation-id", operation_id]
    if seed is not None:
        command += ["--seed", str(seed)]
    if max_examples is not None:
        command += ["--max-examples", str(max_examples)]
    if junit is not None:
        command += ["--report", "junit", "--report-junit-path", str(junit)]
    return command + list(extra)


def run_fuzz(command: list[str], keys: dict[str, str]) -> int:
    """Run schemathesis with the key hook; returns its exit status."""
    env = dict(os.environ)
    env["SCHEMATHESIS_HOOKS"] = "mock_1flow.fuzzing.hooks"
    env[KEYS_ENV] = json.dumps(keys)
    return subprocess.call(command, env=env)
