"""``serve --state-file PATH``: the in-memory store with a durable log beside it.

Every change the store makes is told to :class:`StateFile` (a
:class:`~mock_1flow.server.state.StateSink`) as one line (:mod:`.records`), queued in
memory while the request holds the store's lock, and written by a background thread every
:data:`FLUSH_EVERY` seconds and fsynced every :data:`FSYNC_EVERY`. A SIGKILL (or a crash)
so loses at most the lines of the last 0.2 s; the OS keeps what was written even when the
process dies, the fsync covers a machine that goes down.

When the lines written since the last snapshot outgrow it (and 8 MiB), the same thread
compacts: it copies the state (one short hold of the lock), writes the copy as a
snapshot to ``PATH.compacting`` while still appending new lines to the old file, then
appends those lines to the new file and renames it over ``PATH``. A crash at any moment
leaves one complete file. Start-up replays the file; a torn last line (a write the kill
cut short) is dropped and cut off.

Why a log and not SQLite in WAL mode: the store stays in memory either way (SQLite would
only be its journal), a line per operation is one ``deque.append`` on the request's path
where a SQLite insert per request costs several times more, and replaying lines is what
start-up does in both (benchmarks/bench_state.py measures both).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any, Callable

from ..store import Store
from . import StateParts
from .copy import take
from .records import HEADER, RecordError, Replayer, admin_line, line, snapshot_lines, track_line

log = logging.getLogger("mock_1flow")
FLUSH_EVERY = 0.2
FSYNC_EVERY = 1.0
COMPACT_MIN_BYTES = 8 * 1024 * 1024
_MARK = b"\x00compacting\n"  # this very object, in the queue: everything before it is in the copy being compacted


class StateFileError(ValueError):
    """The state file cannot be loaded; the message says where and why."""


class StateFile:
    """The durable log of one store (see the module's docstring)."""

    def __init__(self, path: Path, store: Store, parts: StateParts, regions: tuple[str, ...]) -> None:
        self.path = path
        self.store = store
        self.parts = parts
        self.regions = regions
        self.queue: deque[bytes] = deque()
        self.file: IO[bytes] | None = None
        self.snapshot_bytes = 0  # size of the file right after the last compaction
        self.written = 0  # bytes appended since
        self.compact_now = False
        self.tail: list[bytes] | None = None  # while compacting: lines written after the copy was taken
        self.stopping = threading.Event()
        self.wake = threading.Event()  # a writer round now, not in FLUSH_EVERY (durable() waits for it)
        self.rounds = 0  # writer rounds completed, under self.done
        self.sync_now = False
        self.done = threading.Condition()
        self.thread: threading.Thread | None = None
        self.failed = False

    # -- start and stop ---------------------------------------------------------------

    def load(self) -> int:
        """Replay the file into the store (before :meth:`start`); returns the lines replayed.
        A file holding a ``GET /__admin/state`` document (the format before this one) is
        loaded as such and rewritten at start."""
        return self._read(self._replay)

    def check(self) -> int:
        """What ``serve`` does before it starts, in a fraction of a replay's time: the header,
        every line whole JSON of a kind this version writes, and the projects and state parts
        (the lines that depend on the mock's plans, regions and parts) applied to this
        throw-away store. Data lines are not replayed: the server's own replay is the only one,
        and a line it cannot replay stops the server with the same message.
        Returns the lines checked; raises :class:`StateFileError`."""
        return self._read(self._check_lines)

    def _read(self, lines: Callable[[IO[bytes]], int]) -> int:
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StateFileError(f"cannot read {self.path}: {exc.strerror}") from None
        with handle:
            first = handle.read(1)
            handle.seek(0)
            if first == b"{":
                from .document import DocumentError, load_document

                try:
                    load_document(handle, self.store, self.parts, self.regions)
                except DocumentError as exc:
                    raise StateFileError(str(exc)) from None
                self.compact_now = True
                return 1
            return lines(handle)

    def _check_lines(self, handle: IO[bytes]) -> int:
        self._header(handle)
        replayer = Replayer(self.store, self.parts, self.regions)
        number = 1
        for number, raw in enumerate(handle, start=2):
            if not raw.endswith(b"\n"):
                break  # a torn last line: the replay drops it
            try:
                replayer.check(raw)
            except RecordError as exc:
                raise StateFileError(f"{self.path}, line {number}: {exc}") from None
        return number - 1

    def _header(self, handle: IO[bytes]) -> bytes:
        header = handle.readline()
        if header != HEADER:
            raise StateFileError(f"{self.path} is not a mock-1flow state file (its first line is not {HEADER.decode().strip()})")
        return header

    def _replay(self, handle: IO[bytes]) -> int:
        header = self._header(handle)
        replayer = Replayer(self.store, self.parts, self.regions)
        good = len(header)
        number = 1
        for number, raw in enumerate(handle, start=2):
            if not raw.endswith(b"\n"):
                break  # torn by a crash mid-write: never acknowledged as written, cut off below
            try:
                replayer.apply(raw)
            except RecordError as exc:
                raise StateFileError(f"{self.path}, line {number}: {exc}") from None
            good += len(raw)
        size = handle.seek(0, os.SEEK_END)
        if size != good:
            log.warning("mock-1flow: %s ends in a torn line (a crash mid-write); dropped", self.path)
            os.truncate(self.path, good)
        self.snapshot_bytes = good
        return number - 1

    def start(self) -> None:
        """Attach to the store and start writing; a new file starts as a snapshot."""
        if self.compact_now or not self.path.exists():  # new, or a document to rewrite as lines
            self._write_snapshot_sync()
            self.compact_now = False
        self.file = open(self.path, "ab")
        self.store.attach(self)
        self.thread = threading.Thread(target=self._run, name="mock-1flow-state-file", daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Write what is queued and stop (a clean shutdown: no snapshot, nothing to wait for)."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join()
        self.store.attach(None)
        if self.file is not None:
            self._drain()
            self._sync()
            self.file.close()
            self.file = None

    # -- the sink -------------------------------------------------------------------

    def add_device(self, key: str, device_id: str, context: dict[str, Any] | None, at: float) -> None:
        self.queue.append(line("d", key, device_id, context, at))

    def identify(self, key: str, anonymous_id: str, app_user_id: str, parameters: dict[str, Any], at: float) -> None:
        self.queue.append(line("i", key, anonymous_id, app_user_id, parameters, at))

    def track(self, key: str, user_id: str, received: float, rows: bytes) -> None:
        self.queue.append(track_line(key, user_id, received, rows))

    def add_response(self, key: str, response: dict[str, Any]) -> None:
        self.queue.append(line("r", key, response))

    def add_push_token(self, key: str, analytic_id: str, token: str, at: float) -> None:
        self.queue.append(line("k", key, analytic_id, token, at))

    def clear(self, key: str) -> None:
        self.queue.append(line("x", key))

    def reset(self) -> None:
        self.queue.append(line("z"))

    def replaced(self) -> None:
        self.compact_now = True

    def durable(self, timeout: float = 300.0) -> bool:
        """Return once every change told so far is in the file and fsynced, a compaction asked
        for by :meth:`replaced` included (``PUT /__admin/state`` answers after this, so a crash
        right after the answer keeps the imported state). Two writer rounds: the second began
        after this call. False if the writer stopped or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        with self.done:
            goal = self.rounds + 2
            while self.rounds < goal:
                if self.stopping.is_set() or self.thread is None or time.monotonic() > deadline:
                    return False
                self.sync_now = True
                self.wake.set()
                self.done.wait(0.1)
        return not self.failed

    def changed(self) -> None:
        with self.store.lock:
            projects = [project.as_dict() for project in self.store.projects.values()]
            self.queue.append(admin_line(projects, self.parts.export()))

    # -- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        synced = time.monotonic()
        while True:
            self.wake.wait(FLUSH_EVERY)
            self.wake.clear()
            if self.stopping.is_set():
                break
            self._drain()
            if self.sync_now or time.monotonic() - synced >= FSYNC_EVERY:
                self.sync_now = False
                self._sync()
                synced = time.monotonic()
            if self.compact_now or self.written > max(COMPACT_MIN_BYTES, self.snapshot_bytes):
                self._compact()
                synced = time.monotonic()
            with self.done:
                self.rounds += 1
                self.done.notify_all()

    def _drain(self) -> None:
        queue, file, tail = self.queue, self.file, self.tail
        lines: list[bytes] = []
        while queue:
            piece = queue.popleft()
            if piece is _MARK:
                self.tail = tail = []
                continue
            lines.append(piece)
            if tail is not None:
                tail.append(piece)
        if lines and file is not None:
            data = b"".join(lines)
            self._guard(file.write, data)
            self._guard(file.flush)
            self.written += len(data)

    def _sync(self) -> None:
        if self.file is not None:
            self._guard(os.fsync, self.file.fileno())

    def _guard(self, call: Callable[..., Any], *args: Any) -> None:
        try:
            call(*args)
            self.failed = False
        except OSError as exc:
            if not self.failed:
                log.error("mock-1flow: cannot write the state file %s: %s", self.path, exc)
            self.failed = True

    def _compact(self) -> None:
        """Write a snapshot and the lines since into a new file, renamed over the old one."""
        self.compact_now = False
        with self.store.lock:
            copy = take(self.store, self.parts)
            self.queue.append(_MARK)
        temporary = self.path.with_name(self.path.name + ".compacting")
        try:
            with open(temporary, "wb") as out:
                out.write(HEADER)
                flushed = time.monotonic()
                for chunk in snapshot_lines(copy):
                    out.write(chunk)
                    if time.monotonic() - flushed >= FLUSH_EVERY:
                        self._drain()  # new lines keep reaching the old file meanwhile
                        flushed = time.monotonic()
                self._drain()
                out.write(b"".join(self.tail or ()))
                out.flush()
                os.fsync(out.fileno())
                size = out.tell()
            os.replace(temporary, self.path)
        except OSError as exc:
            log.error("mock-1flow: cannot compact the state file %s: %s", self.path, exc)
            self.tail = None
            return
        old, self.file = self.file, open(self.path, "ab")
        self.tail = None
        if old is not None:
            old.close()
        self.snapshot_bytes, self.written = size, 0

    def _write_snapshot_sync(self) -> None:
        temporary = self.path.with_name(self.path.name + ".compacting")
        with open(temporary, "wb") as out:
            out.write(HEADER)
            for chunk in snapshot_lines(take(self.store, self.parts)):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            self.snapshot_bytes = out.tell()
        os.replace(temporary, self.path)
