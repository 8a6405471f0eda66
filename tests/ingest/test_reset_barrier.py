"""A reset waits for the ingest's inner 1Flow calls in flight, and is woken as soon as the
last one ends (not at its timeout); a call of a delivery begun before the reset is refused."""

from __future__ import annotations

import threading

import pytest

from mock_1flow.ingest.pipeline import BARRIER_TIMEOUT, IngestState, StaleDelivery


def test_the_barrier_waits_for_the_call_in_flight_and_wakes_when_it_ends():
    state = IngestState()
    generation = state.current()
    inside, release, order = threading.Event(), threading.Event(), []

    def delivery() -> None:
        with state.call(generation):
            inside.set()
            release.wait(BARRIER_TIMEOUT)
            order.append("call ended")

    def reset() -> None:
        state.barrier()
        order.append("barrier passed")

    caller = threading.Thread(target=delivery)
    caller.start()
    assert inside.wait(10)
    resetter = threading.Thread(target=reset)
    resetter.start()
    # the barrier's generation is taken first; until the call ends it cannot pass
    while state.waiting == 0:
        resetter.join(0.01)
    assert order == []
    release.set()
    caller.join(10)
    resetter.join(BARRIER_TIMEOUT / 4)  # woken by the call's end, long before the barrier's own timeout
    assert not resetter.is_alive() and order == ["call ended", "barrier passed"]
    assert state.active == 0 and state.waiting == 0
    with pytest.raises(StaleDelivery):  # the old delivery's next call
        with state.call(generation):
            pass
    with state.call(state.current()):  # a new delivery's goes through
        assert state.active == 1
    assert state.active == 0
