"""Events/s through Segment's two 1Flow presets (Track Event, Identify User): trigger, mapping
and payload check, on generated Segment events, no HTTP.

    python benchmarks/bench_mapping.py --events 50000

"compiled": a subscription compiles its trigger and its mapping once, when it is loaded;
"picked" is what the destination runs for the presets (their members are all top-level
``@path``s: one lookup each, the compiled function when a value needs cleaning);
"interpreted" is the reference measured in the same run: Segment's AST evaluated by
``fql.validate`` and the mapping walked by ``directives.interpret`` for every event, as the
engine did before it compiled them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from mock_1flow.destination.actions import validate_payload
from mock_1flow.destination.errors import PayloadValidationError
from mock_1flow.destination.mapping import load_presets
from mock_1flow.destination.mapping.directives import interpret, picked
from mock_1flow.destination.mapping.fql import validate
from mock_1flow.events import generate_events

PRESETS = ("Track Event", "Identify User")


def compiled(subscription: Any) -> tuple[Callable[[Any], bool], Callable[[Any], Any]]:
    return subscription.matches, subscription.payload


def fast(subscription: Any) -> tuple[Callable[[Any], bool], Callable[[Any], Any]]:
    """What ``Profile.call`` runs: the presets' top-level @path members picked in one pass
    (``directives.picked``), the compiled function when a value needs cleaning."""
    fields, compiled_payload = subscription.fields, subscription.payload

    def payload(event: Any) -> Any:
        result = picked(fields, event) if fields is not None and type(event) is dict else None
        return compiled_payload(event) if result is None else result

    return subscription.matches, payload


def interpreted(subscription: Any) -> tuple[Callable[[Any], bool], Callable[[Any], Any]]:
    ast, mapping = subscription.trigger.ast, subscription.mapping
    return (lambda event: validate(ast, event)), (lambda event: interpret(mapping, event))


def rate(events: list[dict[str, Any]], way: Callable[[Any], Any], rounds: int, check: bool) -> tuple[float, int]:
    """Best of ``rounds`` passes: events/s, and how many payloads were made (the same either way).
    ``check``: also run the action's payload check (``actions.validate_payload``)."""
    steps = [(subscription.partner_action, *way(subscription)) for subscription in load_presets()
             if subscription.name in PRESETS]
    best, made = 0.0, 0
    for _ in range(rounds):
        made = 0
        started = time.perf_counter()
        for event in events:
            for action, matches, payload in steps:
                if matches(event):
                    result = payload(event)
                    if check:
                        try:
                            validate_payload(action, result)
                        except PayloadValidationError:
                            continue
                    made += 1
        best = max(best, len(events) / (time.perf_counter() - started))
    return best, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    events = generate_events(args.events, seed=1)
    print(f"presets {', '.join(PRESETS)}, {args.events:,} generated events, best of {args.rounds}")
    for label, check in (("trigger + mapping -> payload", False), ("... + the action's payload check", True)):
        reference, made_reference = rate(events, interpreted, args.rounds, check)
        compiled_rate, made = rate(events, compiled, args.rounds, check)
        picked_rate, made_picked = rate(events, fast, args.rounds, check)
        assert made == made_reference == made_picked, (made, made_reference, made_picked)
        print(f"{label} ({made:,} payloads): interpreted (reference) {reference:,.0f} events/s, "
              f"compiled {compiled_rate:,.0f} events/s ({compiled_rate / reference:.1f}x), "
              f"picked {picked_rate:,.0f} events/s ({picked_rate / reference:.1f}x)")


if __name__ == "__main__":
    main()
