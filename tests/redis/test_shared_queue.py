"""The ingest's ``async`` queue in Redis: one queue for every instance, its byte cap counted
across them, and a job whose instance died mid-delivery delivered by another once its lease
ran out (each instance here is a :class:`RedisBackgroundDelivery` on its own connection)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from mock_1flow.ingest.background import Job, QueueFull, RetrySchedule
from mock_1flow.server.state.redis import connect
from mock_1flow.server.state.redis import queue as queue_module
from mock_1flow.server.state.redis.queue import RedisBackgroundDelivery


INSTANCES: list["Instance"] = []


@pytest.fixture(autouse=True)
def stop_workers():
    """Each test's instances stop polling at its end (else they would take the next test's jobs)."""
    yield
    while INSTANCES:
        INSTANCES.pop().queue.stop()


class Instance:
    """One instance's queue: what its worker delivered, and a switch that stalls its
    deliveries (an instance that hangs, or dies, holding a job)."""

    def __init__(self, url: str, max_bytes: int = 1 << 20, fail_first: bool = False) -> None:
        self.delivered: list[list[str]] = []
        self.attempts = 0
        self.stall = threading.Event()
        self.stalled = threading.Event()
        self.fail_first = fail_first
        self.queue = RedisBackgroundDelivery(connect(url), self.attempt, lambda: 0, RetrySchedule(3600.0), max_bytes)
        INSTANCES.append(self)

    def attempt(self, job: Job, last: bool) -> list[dict[str, Any]]:
        self.attempts += 1
        if self.stall.is_set():
            self.stalled.set()
            time.sleep(3600)  # never returns within the test: the instance is as good as dead
        if self.fail_first and self.attempts == 1:
            return job.events  # all to retry
        self.delivered.append([event["messageId"] for event in job.events])
        return []


def job(name: str, size: int = 10) -> Job:
    return Job("wk", [{"messageId": f"{name}-{n}", "type": "track"} for n in range(2)], size, 0)


def wait_for(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_batch_one_instance_accepted_is_delivered_once_and_the_bytes_come_back(redis_url):
    first, second = Instance(redis_url), Instance(redis_url)
    second.queue.start()
    for n in range(10):
        first.queue.submit(job(f"b{n}"))
    wait_for(lambda: first.queue.pending() == 0)
    delivered = sorted(m for batch in first.delivered + second.delivered for m in batch)
    assert delivered == sorted(f"b{n}-{i}" for n in range(10) for i in range(2))  # each once, by either
    assert first.queue.bytes == second.queue.bytes == 0


def test_the_byte_cap_holds_across_instances(redis_url):
    first, second = Instance(redis_url, max_bytes=100), Instance(redis_url, max_bytes=100)
    first.stall.set()  # the first job stays in work, its bytes held
    first.queue.submit(job("a", 60))
    assert first.stalled.wait(10)
    with pytest.raises(QueueFull):
        second.queue.submit(job("b", 60))  # 60 + 60 > 100, whichever instance is asked
    assert second.queue.bytes == 60


def test_a_job_whose_instance_died_mid_delivery_is_delivered_by_another(redis_url, monkeypatch):
    monkeypatch.setattr(queue_module, "LEASE_MS", 300)
    first, second = Instance(redis_url), Instance(redis_url)
    first.stall.set()
    first.queue.submit(job("orphan"))
    assert first.stalled.wait(10)  # the first instance holds the job and never finishes it
    second.queue.start()
    wait_for(lambda: second.delivered == [["orphan-0", "orphan-1"]])
    wait_for(lambda: second.queue.pending() == 0)
    assert second.queue.bytes == 0


def test_a_retry_is_queued_in_redis_and_taken_again(redis_url):
    first = Instance(redis_url, fail_first=True)
    first.queue.submit(job("r"))
    wait_for(lambda: first.delivered == [["r-0", "r-1"]])
    assert first.attempts == 2
    wait_for(lambda: first.queue.pending() == 0)
    assert first.queue.bytes == 0


def test_a_reset_empties_the_shared_queue(redis_url):
    first = Instance(redis_url, max_bytes=100)
    first.stall.set()
    first.queue.submit(job("x", 60))
    assert first.stalled.wait(10)
    first.queue.clear()
    assert (first.queue.pending(), first.queue.bytes) == (0, 0)
    first.queue.submit(job("y", 60))  # room again
