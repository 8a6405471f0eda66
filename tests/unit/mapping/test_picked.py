"""The presets' fast path (``directives.picked``, used by ``Profile.call``) gives what the
interpreter gives, on Faker-generated events, the golden corpus' events and edge cases: a
user relies on the ingest's 1Flow calls being exactly those of Segment's mapping engine."""

from __future__ import annotations

import json

import pytest

from mock_1flow.destination.mapping import MappingError, load_subscriptions
from mock_1flow.destination.mapping.directives import interpret, picked, top_level_fields
from mock_1flow.destination.profiles import PROFILES
from mock_1flow.events import generate_events
from tests.golden import corpus

EDGE_EVENTS = [
    {"type": "track"},
    {"type": "track", "event": None, "properties": None, "userId": None, "anonymousId": None},
    {"type": "track", "event": "E", "properties": {"__proto__": {"x": 1}, "a": 1}, "anonymousId": "a"},
    {"type": "track", "event": "E", "properties": {"nested": [{"__proto__": 1}]}, "anonymousId": "a"},
    {"type": "track", "event": 5, "properties": [1, {"b": [True, None, 2.5]}], "userId": "u"},
    {"type": "identify", "userId": "u", "traits": "a string"},
    {"type": "identify", "userId": ["not", "a", "string"], "traits": {"plan": {"tier": "gold", "seats": 10**30}}},
    {"type": "track", "event": "E", "properties": {"when": object()}, "anonymousId": "a"},  # not JSON: the slow path's
    {"type": "track", "event": "E", "constructor": "c", "properties": {}, "anonymousId": "a"},
]


def preset_subscriptions():
    seen, out = set(), []
    for profile in PROFILES.values():
        for subscription in profile.subscriptions():
            if subscription.fields is not None and json.dumps(subscription.mapping) not in seen:
                seen.add(json.dumps(subscription.mapping))
                out.append(subscription)
    return out


def events():
    pool = [json.loads(text) for text in corpus.load()[1]]  # the golden events, as parse_json gives them
    return generate_events(2000, seed=22) + [e for e in pool if isinstance(e, dict)] + EDGE_EVENTS


def test_the_presets_track_and_identify_take_the_fast_path():
    names = {s.name for s in preset_subscriptions()}
    assert {"Track Event", "Identify User"} <= names
    assert top_level_fields({"a": {"@path": "$.a.b"}}) is None  # a nested path: the compiled function's
    assert top_level_fields({"a": {"@template": "{{a}}"}}) is None


@pytest.mark.parametrize("subscription", preset_subscriptions(), ids=lambda s: s.name)
def test_picked_gives_what_the_interpreter_gives(subscription):
    fast = 0
    for event in events():
        result = picked(subscription.fields, event)
        try:
            expected = interpret(subscription.mapping, event)
        except MappingError:
            assert result is None
            continue
        if result is not None:
            fast += 1
            assert result == expected, event
    assert fast >= 2000  # the generated events all go the fast way


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_makes_the_same_sdk_calls_with_and_without_the_fast_path(name):
    profile = PROFILES[name]
    fast_subscriptions = profile.subscriptions()
    slow_subscriptions = load_subscriptions([{"name": s.name, "subscribe": s.subscribe, "partnerAction": s.partner_action,
                                              "mapping": s.mapping} for s in fast_subscriptions])
    for subscription in slow_subscriptions:
        object.__setattr__(subscription, "fields", None)  # the interpreter's way, as before the fast path
    for event in events():
        for fast, slow in zip(fast_subscriptions, slow_subscriptions):
            if not fast.matches(event):
                continue
            outcomes = []
            for subscription in (fast, slow):
                try:
                    outcomes.append(profile.call(subscription, event))
                except Exception as error:  # the same error either way (invalid payload, mapping error)
                    outcomes.append((type(error), str(error)))
            assert outcomes[0] == outcomes[1], (name, fast.name, event)
