"""Journal entries sent to Redis in batches, off the request path.

A request's journal entry is queued in this process (bounded in bytes) and one thread
sends what is queued as one transaction (:data:`lua.JOURNAL_TRIM`), so a request costs one
round trip to Redis (its operation) instead of two, and a busy instance sends many entries
per call. The entries go in plain HSET/ZADD commands, not as a script's arguments: every
string a Lua script receives or builds is hashed byte by byte, which made the journal a
third of Redis' CPU per request (2 KB an entry on ``/v3/track``). Nothing is lost silently: an entry the full queue cannot take, or one
Redis refused (an outage), is counted, and the count reaches Redis with the next batch
(``lost`` in ``GET /__admin/usage``).

Reads see every write: :meth:`Flusher.flush` waits until what was queued before it is in
Redis, and :class:`Barrier` asks every instance on the same Redis to do the same (Redis
pub/sub; each answers on a list the reader waits on), so ``GET /__admin/requests`` on one
instance shows what another answered a moment ago.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from . import Shared, StoreUnavailable, log, lua

DEFAULT_QUEUE_MAX_BYTES = 32 * 1024 * 1024  # entries waiting to be sent, payload bytes
BATCH_MAX_ENTRIES = 512  # per script call: bounds how long Redis runs one call
LINGER_SECONDS = 0.005  # the thread waits this long for more entries (unless a read waits for them)
CHANNEL = "m1f:jflush"
ACK_PREFIX = "m1f:jack:"
BARRIER_SECONDS = 1.0  # an instance that does not answer by then is not waited for


class Flusher:
    """The queue and the thread that empties it."""

    def __init__(self, shared: Shared, cap: int, max_bytes: int, queue_max_bytes: int = DEFAULT_QUEUE_MAX_BYTES) -> None:
        self.shared = shared
        self.cap, self.max_bytes, self.queue_max_bytes = cap, max_bytes, queue_max_bytes
        self._cond = threading.Condition()
        self._queue: list[tuple[int, int, str, bytes]] = []  # id (0: none yet), size, project, entry
        self.queued_bytes = 0
        self._accepted = 0  # entries queued since start
        self._done = 0  # of those, sent or counted lost
        self.lost_pending = 0  # lost entries Redis has not been told of yet
        self._report = False  # send lost_pending even with no entry queued
        self._urgent = False  # a read waits: send now, do not linger
        self._busy = False  # a batch is on its way
        self._warned = False
        self._thread: threading.Thread | None = None

    def put(self, journal_id: int, size: int, project: str, payload: bytes) -> None:
        """Queue one entry; counted lost when the queue holds ``queue_max_bytes`` already."""
        with self._cond:
            if self.queued_bytes + len(payload) > self.queue_max_bytes:
                self.lost_pending += 1
                return
            self._queue.append((journal_id, size, project, payload))
            self.queued_bytes += len(payload)
            self._accepted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mock-1flow-journal", daemon=True)
                self._thread.start()
            if len(self._queue) == 1 or len(self._queue) >= BATCH_MAX_ENTRIES:
                self._cond.notify()  # the thread waits for a first entry, or lingers for a full batch

    def flush(self, timeout: float = 5.0) -> None:
        """Return once everything queued before this call is in Redis (or counted lost)."""
        with self._cond:
            target = self._accepted
            self._urgent = True
            self._cond.notify_all()
            if self.lost_pending:
                self._report = True
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="mock-1flow-journal", daemon=True)
                    self._thread.start()
                self._cond.notify()
            self._cond.wait_for(lambda: self._done >= target and not self._report and not self._busy, timeout)

    def forget(self) -> None:
        """Drop what is queued (a journal clear): counted done, not lost."""
        with self._cond:
            self._done += len(self._queue)
            self._queue.clear()
            self.queued_bytes = 0
            self.lost_pending = 0
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or self._report)
                # more entries per call, fewer wake-ups: wait a moment unless a read is waiting
                self._cond.wait_for(lambda: self._urgent or len(self._queue) >= BATCH_MAX_ENTRIES, LINGER_SECONDS)
                if len(self._queue) <= BATCH_MAX_ENTRIES:
                    self._urgent = False
                batch = self._queue[:BATCH_MAX_ENTRIES]
                del self._queue[:BATCH_MAX_ENTRIES]
                self.queued_bytes -= sum(len(payload) for _, _, _, payload in batch)
                lost, self.lost_pending, self._report = self.lost_pending, 0, False
                self._busy = True
            try:
                self._send(batch, lost)
                self._warned = False
            except Exception as exc:  # noqa: BLE001 - an outage or a flushed Redis: count, never raise here
                with self._cond:
                    self.lost_pending += lost + len(batch)
                if not self._warned:
                    message = exc.message if isinstance(exc, StoreUnavailable) else repr(exc)
                    log.warning("mock-1flow: %d journal entries could not be written (counted as lost): %s",
                                len(batch), message)
                    self._warned = True
                time.sleep(0.1)  # Redis is not there: do not spin
            with self._cond:
                self._done += len(batch)
                self._busy = False
                self._cond.notify_all()


    def _send(self, batch: list[tuple[int, int, str, bytes]], lost: int) -> None:
        """One batch in one transaction; entries of requests that ran no operation (id 0)
        take their ids from the journal's counter first."""
        shared = self.shared
        unnumbered = sum(1 for entry in batch if not entry[0])
        if unnumbered:
            last = shared.call(shared.client.incrby, "m1f:jseq", unnumbered)
            numbers = iter(range(last - unnumbered + 1, last + 1))
            batch = [(entry[0] or next(numbers), *entry[1:]) for entry in batch]
        commands: list[tuple[Any, ...] | bytes] = []
        if batch:
            commands.append(pack_entries(batch))
            commands.append(("ZADD", "m1f:journal",
                             *[item for jid, size, project, _ in batch for item in (jid, f"{jid}\x1f{size}\x1f{project}")]))
        commands.append(("EVAL", lua.JOURNAL_TRIM, 0, self.cap, self.max_bytes, lost, len(batch),
                         sum(size for _, size, _, _ in batch)))
        shared.transaction(*commands)


def pack_entries(batch: list[tuple[int, int, str, bytes]]) -> bytes:
    """``HSET m1f:jentries id entry ...`` in Redis's protocol, joined here: hiredis's
    pack_command took 5 µs an entry (2 KB entries, batches of 400, measured in-process with
    time.thread_time), this join 0.7-1 µs; the bytes are the same."""
    parts = [b"*%d\r\n$4\r\nHSET\r\n$12\r\nm1f:jentries\r\n" % (2 + 2 * len(batch))]
    for jid, _, _, payload in batch:
        number = b"%d" % jid
        parts.append(b"$%d\r\n%s\r\n$%d\r\n" % (len(number), number, len(payload)))
        parts.append(payload)
        parts.append(b"\r\n")
    return b"".join(parts)


class Barrier:
    """Every instance's queue flushed before a read (pub/sub on :data:`CHANNEL`)."""

    def __init__(self, shared: Shared, flusher: Flusher) -> None:
        self.shared, self.flusher = shared, flusher
        self._thread = threading.Thread(target=self._listen, name="mock-1flow-journal-barrier", daemon=True)
        self._subscribed = threading.Event()
        self._closed = False
        self._thread.start()

    def close(self) -> None:
        """Stop listening (within a second): an app that is done, e.g. at the end of a test."""
        self._closed = True

    def settle(self) -> None:
        """This instance's queue, then every other instance's, written to Redis."""
        self.flusher.flush()
        self._subscribed.wait(BARRIER_SECONDS)
        client = self.shared.client
        token = uuid.uuid4().hex
        key = ACK_PREFIX + token
        answers = self.shared.call(client.publish, CHANNEL, token)  # how many instances heard it (this one too)
        deadline = time.monotonic() + BARRIER_SECONDS
        for _ in range(answers):
            left = deadline - time.monotonic()
            if left <= 0 or self.shared.call(client.blpop, [key], max(left, 0.01)) is None:
                break
        self.shared.call(client.delete, key)

    def _listen(self) -> None:
        while not self._closed:
            pubsub = None
            try:
                pubsub = self.shared.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                self._subscribed.set()
                while not self._closed:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        token = message["data"].decode()
                        self.flusher.flush()
                        pipe = self.shared.client.pipeline(transaction=False)
                        pipe.rpush(ACK_PREFIX + token, 1)
                        pipe.expire(ACK_PREFIX + token, 10)
                        pipe.execute()
            except Exception:  # noqa: BLE001 - Redis gone: subscribe again when it is back
                self._subscribed.clear()
                time.sleep(0.2)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001
                        pass
