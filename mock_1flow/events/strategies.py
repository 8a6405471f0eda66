"""A hypothesis strategy for Segment events, built on the seeded ``EventGenerator``.

Hypothesis draws the generator's seed and options, not the event's fields, so a failing
example shrinks to a small seed and simple options, and the failure report carries the
exact ``mock-1flow events generate`` command that prints the event.
"""

from __future__ import annotations

from typing import Any

from hypothesis import note
from hypothesis import strategies as st

from .generator import EventGenerator, TypeMix, normalize_types

LOCALES = ("en_US", "de_DE", "fr_FR", "ja_JP", "pt_BR")
ANONYMOUS_SHARES = (0.2, 0.0, 1.0)
MAX_SEED = 2**32 - 1


def reproduce_command(seed: int, *, locale: str = "en_US", types: dict[str, float] | None = None,
                      anonymous_share: float = 0.2, edge_cases: bool = False, count: int = 1) -> str:
    """The CLI command that prints the same events."""
    parts = ["mock-1flow", "events", "generate", "--seed", str(seed), "--count", str(count), "--locale", locale,
             "--anonymous-share", repr(anonymous_share)]
    if types is not None:
        parts += ["--types", ",".join(f"{name}={weight!r}" for name, weight in types.items())]
    if edge_cases:
        parts.append("--edge-cases")
    return " ".join(parts)


def segment_events(types: TypeMix = None, edge_cases: bool = False, *,
                   locales: tuple[str, ...] = LOCALES) -> st.SearchStrategy[dict[str, Any]]:
    """Events of the given type mix (default: realistic traffic), each the first of a seeded stream.

    ``edge_cases=True`` draws from edge-case mode (which includes a few deliberately
    invalid events, see ``edge_cases.py``). Shrinks towards seed 0, en_US, 20% anonymous.
    """
    mix = None if types is None else normalize_types(types)

    @st.composite
    def events(draw: st.DrawFn) -> dict[str, Any]:
        seed = draw(st.integers(0, MAX_SEED), label="seed")
        locale = draw(st.sampled_from(locales), label="locale")
        share = draw(st.sampled_from(ANONYMOUS_SHARES), label="anonymous_share")
        note("reproduce with: " + reproduce_command(seed, locale=locale, types=mix, anonymous_share=share,
                                                   edge_cases=edge_cases))
        generator = EventGenerator(seed, locale=locale, types=mix, anonymous_share=share, edge_cases=edge_cases)
        return generator.next_event()

    return events()
