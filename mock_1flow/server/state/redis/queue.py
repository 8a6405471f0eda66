"""The Segment ingest's ``async`` delivery queue in Redis (``serve --store``): one queue for
every instance, so a batch one instance accepted is delivered (and retried) by whichever
instance is free, and still is when the instance that accepted it stops or dies.

The same interface as :class:`~mock_1flow.ingest.background.BackgroundDelivery` (the queue
in memory), the same byte cap counted across all instances, the same retry schedule.
A job taken for delivery is leased (:data:`LEASE_MS`): if its instance dies before the job
ends, the lease runs out and another instance takes it again (at-least-once; the ledger's
claims keep an event from being delivered twice while its first delivery still runs).

Keys (all removed by a reset, like the rest of the mock's data): ``m1f:queue`` (zset job id
-> due, epoch ms), ``m1f:qwork`` (zset job id -> lease end, epoch ms), ``m1f:qjobs`` (hash
job id -> job JSON), ``m1f:qmeta`` (hash: ``bytes`` held), ``m1f:qseq`` (job ids).
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

import orjson

from ....ingest.background import QUEUE_FULL_RETRY_AFTER, BackgroundDelivery, Job, QueueFull, RetrySchedule, _estimate
from . import Shared, StoreUnavailable

if TYPE_CHECKING:
    from redis.commands.core import Script

log = logging.getLogger("mock_1flow")

LEASE_MS = 120_000  # a delivery outlives no latency fault this long; a dead instance's job comes back after it
POLL_SECONDS = 0.05  # how often an idle worker looks for jobs other instances queued
OUTAGE_PAUSE = 0.5  # a worker that cannot reach Redis tries again after this

# ARGV: max bytes, job bytes, due (ms), job JSON. Returns the job id, or 0 when it does not fit.
PUSH = r"""
local held = tonumber(redis.call('HGET', 'm1f:qmeta', 'bytes') or '0')
local size = tonumber(ARGV[2])
if held > 0 and held + size > tonumber(ARGV[1]) then return 0 end
redis.call('HINCRBY', 'm1f:qmeta', 'bytes', size)
local id = redis.call('INCR', 'm1f:qseq')
redis.call('HSET', 'm1f:qjobs', id, ARGV[4])
redis.call('ZADD', 'm1f:queue', ARGV[3], id)
return id
"""

# ARGV: now (ms), lease (ms). Jobs whose lease ran out go back to the queue first; then the
# first job due is leased. Returns {id, job JSON} or nil.
TAKE = r"""
local now = tonumber(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', 'm1f:qwork', '-inf', now)) do
  redis.call('ZREM', 'm1f:qwork', id)
  redis.call('ZADD', 'm1f:queue', now, id)
end
local due = redis.call('ZRANGEBYSCORE', 'm1f:queue', '-inf', now, 'LIMIT', 0, 1)
if #due == 0 then return nil end
local id = due[1]
redis.call('ZREM', 'm1f:queue', id)
redis.call('ZADD', 'm1f:qwork', now + tonumber(ARGV[2]), id)
return {id, redis.call('HGET', 'm1f:qjobs', id)}
"""

# ARGV: id, then (a retry) due (ms), job JSON. Ends the lease: the job is released (its bytes
# freed) or queued again with its remaining events (the bytes they no longer hold freed).
# Returns 0 when the lease was no longer this worker's (a reset, or it ran out).
FINISH = r"""
local id = ARGV[1]
if redis.call('ZREM', 'm1f:qwork', id) == 0 then return 0 end
local old = cjson.decode(redis.call('HGET', 'm1f:qjobs', id))[3]
if ARGV[2] == nil then
  redis.call('HDEL', 'm1f:qjobs', id)
  redis.call('HINCRBY', 'm1f:qmeta', 'bytes', -old)
  return 1
end
local new = cjson.decode(ARGV[3])[3]
redis.call('HSET', 'm1f:qjobs', id, ARGV[3])
redis.call('HINCRBY', 'm1f:qmeta', 'bytes', new - old)
redis.call('ZADD', 'm1f:queue', ARGV[2], id)
return 1
"""

CLEAR = r"""
redis.call('DEL', 'm1f:queue', 'm1f:qwork', 'm1f:qjobs', 'm1f:qmeta')
return 1
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _encode(job: Job) -> bytes:
    # [write key, events, size, first attempt (epoch s, 0: none yet), retries]; size third: FINISH reads it
    return orjson.dumps([job.write_key, job.events, job.size, job.first, job.retries])


class RedisBackgroundDelivery(BackgroundDelivery):
    """The shared queue and this instance's worker (see the module docstring). ``first``
    of a job is wall-clock time here (instances share no monotonic clock)."""

    def __init__(self, shared: Shared, attempt: Callable[[Job, bool], list[dict[str, Any]]], current: Callable[[], int],
                 schedule: RetrySchedule, max_bytes: int) -> None:
        super().__init__(attempt, current, schedule, max_bytes)
        self.shared = shared
        register = shared.client.register_script
        self._push, self._take, self._finish, self._clear = register(PUSH), register(TAKE), register(FINISH), register(CLEAR)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._start = threading.Lock()

    def _script(self, script: "Script", *args: Any) -> Any:
        return self.shared.call(lambda: script(keys=[], args=list(args)))

    def submit(self, job: Job) -> None:
        """Queue ``job`` in Redis for its first attempt now; :class:`QueueFull` when the shared
        queue's bytes (all instances' jobs) leave no room for it."""
        if not self._script(self._push, self.max_bytes, job.size, _now_ms(), _encode(job)):
            raise QueueFull(QUEUE_FULL_RETRY_AFTER)
        self._ensure_worker()
        self._wake.set()

    def start(self) -> None:
        """Start this instance's worker now (it also takes jobs other instances queued)."""
        self._ensure_worker()

    def stop(self) -> None:
        """Stop this instance's worker (after the job in work, if any): the instance shuts down."""
        self._stop.set()
        self._wake.set()

    def _ensure_worker(self) -> None:
        with self._start:
            if self._stop.is_set():
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mock-1flow-ingest-delivery", daemon=True)
                self._thread.start()

    @property
    def bytes(self) -> int:
        return int(self.shared.call(self.shared.client.hget, "m1f:qmeta", "bytes") or 0)

    @bytes.setter
    def bytes(self, value: int) -> None:
        """The in-memory queue's counter: here Redis keeps it (the base class sets it once)."""

    def busy(self) -> bool:
        """This instance's worker is delivering a job (only its own worker holds this
        instance's delivery locks; jobs queued in Redis are not asked for)."""
        return self._busy > 0

    def pending(self) -> int:
        client = self.shared.client
        return int(self.shared.call(client.zcard, "m1f:queue")) + int(self.shared.call(client.zcard, "m1f:qwork"))

    def clear(self) -> None:
        self._script(self._clear)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                taken = self._script(self._take, _now_ms(), LEASE_MS)
            except StoreUnavailable:
                time.sleep(OUTAGE_PAUSE)
                continue
            if taken is None:
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()
                continue
            job_id, raw = taken
            self._busy = 1
            try:
                self._deliver(int(job_id), raw)
            except Exception:  # a bug, or Redis lost mid-job: the lease runs out and the job comes back
                log.exception("mock-1flow: background delivery failed unexpectedly")
            finally:
                self._busy = 0

    def _deliver(self, job_id: int, raw: builtins.bytes | None) -> None:
        if raw is None:  # gone with a reset between TAKE's two steps on another instance: nothing to do
            return
        write_key, events, size, first, retries = orjson.loads(raw)
        # this instance's generation: a reset here from now on stops the job's later calls
        job = Job(write_key, events, size, self.current(), first, retries)
        now = time.time()
        again, retry_wait = self._try(job, now)
        if not again:
            self._script(self._finish, job_id)
            return
        job.events, job.retries = again, job.retries + 1
        job.size = min(job.size, sum(_estimate(event) for event in again))
        self._script(self._finish, job_id, int((now + retry_wait) * 1000), _encode(job))
