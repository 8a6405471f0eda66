"""The hypothesis strategy: valid events, reproducible from the noted command."""

from __future__ import annotations

import shlex

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_1flow.cli.events import events as events_command
from mock_1flow.events import EVENT_TYPES, EventGenerator, dumps_event, edge_case_kinds, minimum_problems
from mock_1flow.events.edge_cases import INVALID_KINDS
from mock_1flow.events.strategies import reproduce_command, segment_events


@settings(max_examples=60, deadline=None)
@given(segment_events())
def test_events_meet_segments_minimum(event):
    assert event["type"] in EVENT_TYPES
    assert minimum_problems(event) == []
    assert edge_case_kinds(event) == set()


@settings(max_examples=30, deadline=None)
@given(segment_events(types=["identify"]))
def test_type_restriction(event):
    assert event["type"] == "identify" and "traits" in event


@settings(max_examples=60, deadline=None)
@given(segment_events(edge_cases=True))
def test_edge_case_events_are_valid_unless_documented(event):
    if not edge_case_kinds(event) & set(INVALID_KINDS):
        assert minimum_problems(event) == []


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_noted_command_reproduces_the_event(data):
    types = data.draw(st.sampled_from([None, {"track": 2.0, "page": 1.0}]))
    edge_cases = data.draw(st.booleans())
    seed = data.draw(st.integers(0, 2**32 - 1))
    share = data.draw(st.sampled_from([0.0, 0.2, 1.0]))
    command = reproduce_command(seed, locale="de_DE", types=types, anonymous_share=share, edge_cases=edge_cases)
    arguments = shlex.split(command)
    assert arguments[:3] == ["mock-1flow", "events", "generate"]
    output = CliRunner().invoke(events_command, arguments[2:], catch_exceptions=False).stdout_bytes
    expected = EventGenerator(seed, locale="de_DE", types=types, anonymous_share=share, edge_cases=edge_cases)
    assert output == (dumps_event(expected.next_event()) + "\n").encode()


def test_a_failure_prints_how_to_reproduce_it():
    @settings(max_examples=200, deadline=None, database=None)
    @given(segment_events(types=["track", "identify"]))
    def never_identify(event):
        assert event["type"] != "identify"

    try:
        never_identify()
    except AssertionError as error:
        notes = "\n".join(getattr(error, "__notes__", []))
    else:
        raise AssertionError("hypothesis found no identify")
    assert "reproduce with: mock-1flow events generate --seed " in notes
    assert "--count 1" in notes and "--types identify=1.0,track=1.0" in notes
