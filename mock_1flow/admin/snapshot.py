"""The mock's state as one document, ``GET``/``PUT /__admin/state``, and ``serve --state-file``.

A document holds the projects and what each received (users with their push tokens,
devices, events, survey responses) and the runtime's state parts (``parts``); the journal,
the faults and the ingest's delivery ledger are a run's record, not its state. Both ways
are streamed (:mod:`mock_1flow.server.state.document`): a GET holds the store's lock only
to copy it; a PUT is read piece by piece, checked, and swapped in whole or not at all.
"""

from __future__ import annotations

import logging
import multiprocessing.util
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

from flask import Flask, Response, request

from ..server.errors import ApiError
from ..server.runtime import EXTENSION_KEY, Runtime, current_runtime
from ..server.state.copy import take
from ..server.state.document import DocumentError, export_chunks, load_document
from ..server.state.durable import StateFile, StateFileError
from .routes import _ok, bp

log = logging.getLogger("mock_1flow")
IMPORT_EXTRA_BYTES = 64 * 1024 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # a PUT body past this waits on disk while it is read
COPY_CHUNK = 256 * 1024


def import_cap(runtime: Runtime) -> int:
    """The largest ``PUT /__admin/state`` body: twice the event byte cap plus 64 MiB (the
    events a document may hold are bounded by the caps; users and responses are not)."""
    return 2 * runtime.config.event_max_bytes + IMPORT_EXTRA_BYTES


def spooled_body_cap(runtime: Runtime, method: str, path: str) -> int | None:
    """For the one route whose body may be larger than any other (``PUT /__admin/state``),
    the most the server reads of it (into a file, not memory); None for every other route."""
    return import_cap(runtime) if method == "PUT" and path == "/__admin/state" else None


class _Capped:
    """A body stream that refuses to read past ``cap`` bytes (413)."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self.stream, self.cap, self.read_bytes = stream, cap, 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes the type this way; werkzeug's stream takes it for a disconnect
            return b""
        data = self.stream.read(size if size >= 0 else self.cap + 1)
        self.read_bytes += len(data)
        if self.read_bytes > self.cap:
            raise ApiError(413, "payload_too_large", f"A state document may be at most {self.cap:,} bytes (twice "
                           "--event-max-bytes plus 64 MiB); start the mock with a larger --event-max-bytes.")
        return data


@bp.get("/state", endpoint="adminGetState")
def get_state() -> Any:
    runtime = current_runtime()
    copy = take(runtime.store, runtime.state_parts)
    return Response(export_chunks(copy), content_type="application/json")


@bp.put("/state", endpoint="adminPutState")
def put_state() -> Any:
    runtime = current_runtime()
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_content_type", "Send the state document as Content-Type: application/json.")
    cap = import_cap(runtime)
    request.max_content_length = cap  # this route's own bound, in place of the app's 1 MiB
    if (request.content_length or 0) > cap:
        raise ApiError(413, "payload_too_large", f"A state document may be at most {cap:,} bytes (twice "
                       "--event-max-bytes plus 64 MiB); start the mock with a larger --event-max-bytes.")
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY) as spool:
        shutil.copyfileobj(_Capped(request.stream, cap), spool, COPY_CHUNK)
        spool.seek(0)
        _load(runtime, spool)
    runtime.state_changed()
    sink = runtime.store.sink
    if sink is not None and not sink.durable():  # with --state-file: in the file before the answer
        raise ApiError(503, "state_not_saved", "The state was imported but could not be written to the state file "
                       "(the server's log says why); it is in force until the mock stops.")
    return _ok()


def _load(runtime: Runtime, spool: IO[bytes]) -> None:
    try:
        load_document(spool, runtime.store, runtime.state_parts, runtime.regions)
    except DocumentError as exc:
        raise ApiError(400, "invalid_request", f"Bad state document at {exc}.", location="body",
                       pointer=exc.pointer) from None


def keep_state_in(app: Flask, runtime: Runtime, path: Path) -> StateFile:
    """Load ``path`` now (when it exists) and keep every change there from now on.

    The final flush is a ``multiprocessing`` finalizer: it runs at exit both in a plain
    process (through ``atexit``) and in granian's worker process, which leaves by
    ``os._exit`` after its own cleanup, where plain ``atexit`` hooks never run.
    """
    state_file = StateFile(path, runtime.store, runtime.state_parts, runtime.regions)
    state_file.load()
    state_file.start()

    def close() -> None:
        try:
            state_file.close()
        except OSError as exc:
            log.error("mock-1flow: could not write the state file %s: %s", path, exc)

    multiprocessing.util.Finalize(app, close, exitpriority=10)
    return state_file


def check_state_file(runtime: Runtime, path: Path) -> int:
    """Check ``path`` with ``runtime`` (a throw-away one) to refuse a bad file before start
    (:meth:`StateFile.check`: no replay); returns the lines checked. Raises :class:`StateFileError`."""
    return StateFile(path, runtime.store, runtime.state_parts, runtime.regions).check()


def init_app(app: Flask) -> None:
    """Routes live on the admin blueprint; with ``state_file`` configured, the state is kept there."""
    runtime = app.extensions[EXTENSION_KEY]
    state_file = getattr(runtime.config, "state_file", None)
    if state_file:
        keep_state_in(app, runtime, Path(state_file))


__all__ = ["DocumentError", "StateFileError", "check_state_file", "import_cap", "keep_state_in"]
