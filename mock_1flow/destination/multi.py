"""Many client calls in flight at once from one thread, through libcurl's multi interface.

Each *task* is a generator of the client's steps (:data:`.client.Steps`): an
:class:`~.client.Attempt` becomes a request on one of ``limit`` easy handles (keep-alive
connections from the multi's connection cache); its reply, or the transport error, is sent
back into the task; a :class:`~.client.Pause` parks the task until its time (or until the
client is stopped, which ends its waits at once, as in :meth:`OneFlowClient.run`). The
caller's thread does everything, between its own work (:meth:`pump`) or waiting
(:meth:`pump` with ``block``): no sender threads, so no hand-offs and no contention for the
GIL, which cost the thread-per-connection design a third of the client's CPU.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import pycurl

from .client import (Attempt, OneFlowClient, Pause, Reply, TransportError, curl_failure, curl_handle, curl_prepare,
                     curl_reply)

Task = Generator[Attempt | Pause, Reply | None, Any]


def _abandoned() -> TransportError:
    return TransportError("abandoned: the run stopped or its deadline passed", retryable=True)


class MultiSender:
    """Runs tasks for ``client``, at most ``limit`` requests in flight; each task's own steps
    stay in order. ``on_error`` gets what a task raises (a bug, not a delivery failure:
    those are the task's to handle); a ``KeyboardInterrupt`` goes on to the caller."""

    def __init__(self, client: OneFlowClient, limit: int, on_error: Callable[[BaseException], None]) -> None:
        self.client, self.limit, self.on_error = client, limit, on_error
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_MAXCONNECTS, limit)  # keep every connection alive between requests
        self._idle: list[pycurl.Curl] = []
        self._handles = 0
        self._active: dict[pycurl.Curl, tuple[Task, list[bytes]]] = {}
        self._queued: deque[tuple[Task, Attempt]] = deque()  # attempts waiting for a free handle
        self._paused: list[tuple[float, int, Task]] = []  # (due, order, task), a heap
        self._order = itertools.count()
        self._kicked = False  # requests added since libcurl last ran

    @property
    def busy(self) -> bool:
        """Any task not finished (in flight, waiting for a handle, or paused)."""
        return bool(self._active or self._queued or self._paused)

    def start(self, task: Task) -> None:
        """Run ``task`` until its first request or pause."""
        self._advance(task, None, None)

    def pump(self, block: bool = False) -> None:
        """Move every task that can move: start queued requests, take finished ones back to
        their tasks, wake due pauses. With ``block``, first wait (at most a second) for
        something to happen."""
        self._wake_due()
        if self.client.halted:
            return self._abandon()
        if not self._kicked:
            if not self._active:
                if block and self._paused:
                    self.client.sleep(self._wait_for())  # a stop ends it at once
                    self._wake_due()
                return
            if block:
                self.multi.select(self._wait_for())
            elif self.multi.select(0) <= 0 and self.multi.timeout() != 0:
                return
        self._kicked = False
        while self.multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        while True:
            left, succeeded, failed = self.multi.info_read()
            for handle in succeeded:
                self._finish(handle, None)
            for handle, code, message in failed:
                self._finish(handle, curl_failure(code, message))
            if not left:
                break

    def close(self) -> None:
        for handle in list(self._active):
            self.multi.remove_handle(handle)
            handle.close()
        for handle in self._idle:
            handle.close()
        self._active.clear()
        self._idle.clear()
        self.multi.close()

    # -- inside ------------------------------------------------------------------------------

    def _abandon(self) -> None:
        """The client is stopped or past its deadline: end every request in flight or queued
        now (each task then fails with the stop's reason), not when its timeout comes."""
        while self._active or self._queued:
            if self._queued:
                task, _ = self._queued.popleft()
                self._advance(task, None, _abandoned())
                continue
            handle, (task, _) = self._active.popitem()
            self.multi.remove_handle(handle)
            self._idle.append(handle)
            self._advance(task, None, _abandoned())

    def _wait_for(self) -> float:
        """Seconds until libcurl (a request's timeout) or a paused task needs attention, at most 1."""
        wait = 1.0
        curl = self.multi.timeout()
        if curl >= 0:
            wait = min(wait, curl / 1000)
        if self._paused:
            wait = min(wait, max(0.0, self._paused[0][0] - time.monotonic()))
        if self.client.deadline is not None:  # wake at the deadline, to abandon what is in flight
            wait = min(wait, max(0.0, self.client.deadline - time.monotonic()))
        return wait

    def _wake_due(self) -> None:
        stopped = self.client.stopped  # a stop ends every wait
        now = time.monotonic()
        while self._paused and (stopped or self._paused[0][0] <= now):
            _, _, task = heapq.heappop(self._paused)
            self._advance(task, None, None)

    def _finish(self, handle: pycurl.Curl, failure: Exception | None) -> None:
        self.multi.remove_handle(handle)
        task, received = self._active.pop(handle)
        reply = None if failure is not None else curl_reply(handle, received)
        self._idle.append(handle)
        if self._queued:
            self._send(*self._queued.popleft())
        self._advance(task, reply, failure)

    def _send(self, task: Task, attempt: Attempt) -> None:
        if self.client.halted:
            return self._advance(task, None, _abandoned())
        if self.client.deadline is not None:  # an attempt that waited for a connection: only the time left
            attempt = attempt._replace(timeout=min(attempt.timeout, max(0.001, self.client.deadline - time.monotonic())))
        if self._idle:
            handle = self._idle.pop()
        elif self._handles < self.limit:
            handle = curl_handle()
            self._handles += 1
        else:
            self._queued.append((task, attempt))
            return
        received = curl_prepare(handle, attempt)
        self._active[handle] = (task, received)
        self.multi.add_handle(handle)
        self._kicked = True

    def _advance(self, task: Task, value: Reply | None, failure: Exception | None) -> None:
        """Run ``task`` from where it waits to its next request or pause (or its end)."""
        while True:
            try:
                step = task.send(value) if failure is None else task.throw(failure)
            except StopIteration:
                return
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                self.on_error(exc)
                return
            if type(step) is Pause:
                if not self.client.waits_itself:  # an injected sleep (a test's): call it, go on
                    self.client.sleep(step.seconds)
                    value = failure = None
                    continue
                heapq.heappush(self._paused, (time.monotonic() + step.seconds, next(self._order), task))
                return
            return self._send(task, step)
