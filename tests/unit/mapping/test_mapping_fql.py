"""FQL triggers, after Segment's destination-subscriptions examples."""

from __future__ import annotations

import pytest

from mock_1flow.destination.mapping import MappingError, compile_trigger

EVENT = {
    "type": "track",
    "event": "Order Completed",
    "name": None,
    "userId": "u-1",
    "properties": {"total": 12, "price": "12", "flag": True, "tags": "sale,new"},
    "traits": {"email": "a@example.com"},
    "context": {"library": {"name": "analytics.js"}},
}


@pytest.mark.parametrize(
    "trigger, expected",
    [
        ('type = "track"', True),
        ('type = "identify"', False),
        ('type != "identify"', True),
        ('event = "Order Completed"', True),
        ('type = "track" and event = "Order Completed"', True),
        ('type = "identify" or event = "Order Completed"', True),
        ('type = "identify" or (type = "track" and event = "Nope")', False),
        ('(type = "identify" or type = "track") and properties.total > 10', True),
        ("properties.total > 10", True),
        ("properties.total >= 12", True),
        ("properties.total < 12", False),
        ("properties.total <= 12", True),
        ("properties.price > 10", False),  # numeric comparisons need numbers
        ('properties.total = "12"', True),  # = compares as strings
        ('properties.flag = "true"', True),
        ('contains(event, "Order")', True),
        ('contains(properties.tags, "new")', True),
        ('contains(properties.total, "1")', False),
        ('match(event, "Order*")', True),
        ('match(event, "*Placed")', False),
        ("userId != null", True),
        ("traits.phone != null", False),
        ("traits.phone = null", True),
        ("name = null", True),
        ('context.library.name = "analytics.js"', True),
        ('traits.email = "a@example.com"', True),
    ],
)
def test_triggers(trigger, expected):
    assert compile_trigger(trigger)(EVENT) is expected


@pytest.mark.parametrize("trigger", ["", "type =", 'type == "x"', '(type = "x"', 'type = "x" andd', 'contains(event)', '= "x"'])
def test_unparseable_triggers_are_refused(trigger):
    with pytest.raises(MappingError):
        compile_trigger(trigger)
