"""Segment's delivery semantics at the ingest (``delivery: async``): answer 200 once a batch
is valid, deliver in the background, retry failed deliveries on Segment's schedule.

Segment "retr[ies] failed destination API calls for four hours with a randomized
exponential backoff after each attempt" (segment-docs
``src/connections/destinations/index.md``, "Retries between Segment and destinations").
The docs give the window and the shape, not the waits: the first wait (60 s), its doubling
and the jitter (x0.5 to x1.5) are the mock's choice. The whole schedule is compressed by
``speedup`` (3600 by default: four hours become four seconds, the first retry comes after
about 17 ms), so a test sees the final state quickly.

Bounded: the queue holds at most ``max_bytes`` of accepted events (their JSON size) until
they end ``sent``, ``dropped`` or ``failed``, retries included; a batch that does not fit is
refused (the caller answers 429 with ``Retry-After``), never accepted and dropped. One
worker thread delivers, off the event loop and off the Flask pool, one job at a time.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger("mock_1flow")

RETRY_WINDOW = 4 * 3600.0  # seconds, as Segment documents it
FIRST_WAIT = 60.0  # the mock's choice (see the module docstring)
DEFAULT_SPEEDUP = 3600.0
DEFAULT_QUEUE_BYTES = 16 * 1024 * 1024
QUEUE_FULL_RETRY_AFTER = 1  # seconds: the worker drains a full queue's head within that (the mock's choice)


@dataclass(frozen=True)
class RetrySchedule:
    """Waits ``FIRST_WAIT * 2**(n-1)`` randomized x0.5-x1.5, until ``RETRY_WINDOW`` after the
    first attempt; every figure divided by ``speedup``."""

    speedup: float = DEFAULT_SPEEDUP
    rng: random.Random = field(default_factory=lambda: random.Random(0), compare=False)

    def __post_init__(self) -> None:
        if not self.speedup > 0:
            raise ValueError("the retry speed-up must be a positive number (1: Segment's real four hours)")

    @property
    def window(self) -> float:
        return RETRY_WINDOW / self.speedup

    def wait(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1-based)."""
        return FIRST_WAIT * 2 ** (retry - 1) * (0.5 + self.rng.random()) / self.speedup


@dataclass
class Job:
    """Accepted events of one source still to deliver; ``size`` is held in the queue's bytes
    until the job ends."""

    write_key: str
    events: list[dict[str, Any]]
    size: int
    generation: int
    first: float = 0.0  # time.monotonic() of the first attempt
    retries: int = 0


class QueueFull(Exception):
    """The background queue cannot take this batch now; ``retry_after`` seconds is a fair wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the ingest's delivery queue is full; retry after {retry_after} s")
        self.retry_after = retry_after


class BackgroundDelivery:
    """The queue and its worker. ``attempt(job)`` delivers a job's events once and returns the
    events to retry (those whose failure a later attempt can cure); ``give_up(job)`` records
    the last failures as final; ``current()`` is the generation a job must still be in."""

    def __init__(self, attempt: Callable[[Job, bool], list[dict[str, Any]]], current: Callable[[], int],
                 schedule: RetrySchedule, max_bytes: int = DEFAULT_QUEUE_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError("the ingest queue's byte cap must be at least 1")
        self.attempt = attempt
        self.current = current
        self.schedule = schedule
        self.max_bytes = max_bytes
        self.bytes = 0
        self._due: list[tuple[float, int, Job]] = []  # (time.monotonic() due, order, job)
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        """Queue ``job`` for its first attempt now; :class:`QueueFull` when it does not fit."""
        with self._cond:
            if self.bytes + job.size > self.max_bytes and self.bytes > 0:
                raise QueueFull(QUEUE_FULL_RETRY_AFTER)
            self.bytes += job.size
            heapq.heappush(self._due, (time.monotonic(), next(self._order), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mock-1flow-ingest-delivery", daemon=True)
                self._thread.start()
            self._cond.notify()

    def start(self) -> None:
        """Nothing to start ahead of time: the worker starts with the first job (the queue in
        Redis starts its worker here, to take other instances' jobs)."""

    def busy(self) -> bool:
        """Whether this instance's worker has work, so may hold a source's delivery lock now
        or soon (asked on every Segment request: no I/O)."""
        return self.pending() > 0

    def pending(self) -> int:
        """Jobs queued, waiting for a retry or in work."""
        with self._cond:
            return len(self._due) + self._busy

    def clear(self) -> None:
        """A reset: forget every queued job (a job in work is the reset barrier's to stop)."""
        with self._cond:
            for _, _, job in self._due:
                self.bytes -= job.size
            self._due.clear()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._cond.wait(None if not self._due else self._due[0][0] - time.monotonic())
                _, _, job = heapq.heappop(self._due)
                self._busy += 1
            try:
                self._work(job)
            except Exception:  # a bug: the job's events keep their last recorded state
                log.exception("mock-1flow: background delivery failed unexpectedly")
                self._release(job)
            finally:
                with self._cond:
                    self._busy -= 1

    def _work(self, job: Job) -> None:
        if job.generation != self.current():
            return self._release(job)  # accepted before a reset: forgotten with everything else
        now = time.monotonic()
        again, retry_wait = self._try(job, now)
        if not again:
            return self._release(job)
        size = min(job.size, sum(_estimate(event) for event in again))
        with self._cond:
            self.bytes -= job.size - size
            job.events, job.size, job.retries = again, size, job.retries + 1
            heapq.heappush(self._due, (now + retry_wait, next(self._order), job))
            self._cond.notify()

    def _try(self, job: Job, now: float) -> tuple[list[dict[str, Any]], float]:
        """One attempt of ``job`` at ``now`` (on the queue's clock): the events to retry after
        the returned wait, none when the job ends (delivered, or its window is over)."""
        if not job.first:
            job.first = now
        retry_wait = self.schedule.wait(job.retries + 1)
        last = now + retry_wait - job.first > self.schedule.window
        again = self.attempt(job, last)
        return ([] if last else again), retry_wait

    def _release(self, job: Job) -> None:
        with self._cond:
            self.bytes -= job.size


def _estimate(event: dict[str, Any]) -> int:
    """An event's share of the queue's bytes on a retry (its JSON size, as counted at accept)."""
    from ..server.routes.common import dumps

    return len(dumps(event))
