"""The mock's state as one document: ``GET /__admin/state``, ``PUT /__admin/state``, and
``serve --state-file PATH`` (loaded at start, written when the worker shuts down).

A snapshot holds the projects and what each received (users with their push tokens,
devices, events, survey responses); the journal, the faults and the ingest's delivery
ledger are a run's record, not its state, and are not part of it. A PUT replaces the
projects and their data whole, after checking the document against the spec's
``StateSnapshot``.
"""

from __future__ import annotations

import logging
import multiprocessing.util
import os
from pathlib import Path
from typing import Any

from flask import Flask

from ..server.errors import ApiError
from ..server.routes.common import dumps, json_response, validated
from ..server.content import export_content, prepare_content
from ..server.runtime import Runtime, current_runtime
from ..server.store import export_state, import_state
from ..server.validation import MalformedJson, operation_validators, parse_json
from .routes import _ok, bp

log = logging.getLogger("mock_1flow")
MAX_SNAPSHOT_BYTES = 1024 * 1024  # over HTTP; a state file has no limit


class SnapshotError(ValueError):
    """The snapshot cannot be loaded: the message says where and why."""


def check_snapshot(runtime: Runtime, snapshot: Any) -> None:
    """The spec's ``StateSnapshot`` shape, and regions this mock serves; raises :class:`SnapshotError`."""
    validator = operation_validators()["adminPutState"].body_validator
    error = next(iter(validator.iter_errors(snapshot)), None)
    if error is not None:
        where = "".join(f"/{part}" for part in error.instance_path) or "(root)"
        raise SnapshotError(f"{where}: {error.message}")
    for index, project in enumerate(snapshot["projects"]):
        if project["region"] not in runtime.regions:
            raise SnapshotError(f"/projects/{index}/region: unknown region '{project['region']}' "
                                f"(this mock has: {', '.join(runtime.regions)})")


def load_snapshot(runtime: Runtime, snapshot: Any) -> None:
    check_snapshot(runtime, snapshot)
    try:
        apply_content = prepare_content(runtime, snapshot)
        import_state(runtime.store, snapshot)
    except ValueError as exc:
        raise SnapshotError(str(exc)) from None
    apply_content()


@bp.get("/state", endpoint="adminGetState")
def get_state() -> Any:
    return json_response({**export_state(current_runtime().store), **export_content(current_runtime())})


@bp.put("/state", endpoint="adminPutState")
def put_state() -> Any:
    runtime = current_runtime()
    body = validated("adminPutState", {}, MAX_SNAPSHOT_BYTES)
    try:
        load_snapshot(runtime, body)
    except SnapshotError as exc:
        raise ApiError(400, "invalid_request", f"Bad snapshot: {exc}.", location="body", pointer="") from None
    return _ok()


def read_state_file(path: Path) -> Any:
    """The snapshot in ``path`` (None when the file does not exist yet); raises :class:`SnapshotError`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_json(raw)
    except MalformedJson as exc:
        raise SnapshotError(f"{path} is not valid JSON ({exc})") from None


def write_state_file(runtime: Runtime, path: Path) -> None:
    """Write atomically (a temporary file renamed over the old one), so a crash mid-write
    leaves the previous snapshot."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(dumps({**export_state(runtime.store), **export_content(runtime)}))
    os.replace(temporary, path)


def keep_state_in(app: Flask, runtime: Runtime, path: Path) -> None:
    """Load ``path`` now (when it exists) and write the state back when this process exits.

    The write is a ``multiprocessing`` finalizer: it runs at exit both in a plain process
    (through ``atexit``) and in granian's worker process, which leaves by ``os._exit`` after
    its own cleanup, where plain ``atexit`` hooks never run.
    """
    snapshot = read_state_file(path)
    if snapshot is not None:
        load_snapshot(runtime, snapshot)

    def save() -> None:
        try:
            write_state_file(runtime, path)
        except OSError as exc:
            log.error("mock-1flow: could not write the state file %s: %s", path, exc)

    multiprocessing.util.Finalize(app, save, exitpriority=10)


def init_app(app: Flask) -> None:
    """Routes live on the admin blueprint; with ``state_file`` configured, the state is kept there."""
    runtime = current_runtime_of(app)
    state_file = getattr(runtime.config, "state_file", None)
    if state_file:
        keep_state_in(app, runtime, Path(state_file))


def current_runtime_of(app: Flask) -> Runtime:
    from ..server.runtime import EXTENSION_KEY

    return app.extensions[EXTENSION_KEY]
