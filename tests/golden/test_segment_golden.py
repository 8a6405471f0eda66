"""The Python engine against Segment's own answers (fixtures/segment-golden/, made by
tools/segment_golden/refresh.py with the pinned npm packages). No Node needed. Test ids name
the directive or FQL form and how many corpus cases it covers; every case must agree."""

from __future__ import annotations

import pytest

from mock_1flow.destination.mapping import MappingError, compile_mapping
from mock_1flow.destination.mapping.directives import interpret
from mock_1flow.destination.mapping.pins import SEGMENT_PACKAGES

from . import corpus

GROUPS = corpus.groups()


def test_corpus_was_made_with_the_pinned_versions():
    header, events, cases = corpus.load()
    assert header["versions"] == SEGMENT_PACKAGES
    assert header["mappings"] >= 20_000 and header["trigger_events"] >= 20_000
    assert sum(case["kind"] == "mapping" for case in cases) == header["mappings"]
    assert sum(len(case["events"]) for case in cases if case["kind"] == "trigger") == header["trigger_events"]


@pytest.mark.parametrize("group", [g for g in GROUPS if g.startswith("mapping ")],
                         ids=lambda g: f"{g.split(' ', 1)[1]}:{len(GROUPS[g])}")
def test_mapping_cases_agree_with_segment(group):
    differences = [(case["id"], corpus.differences()[case["id"]]) for case in GROUPS[group]
                   if case["id"] in corpus.differences()]
    assert not differences, f"{len(differences)}/{len(GROUPS[group])} differ, e.g. {differences[:3]}"


@pytest.mark.parametrize("group", [g for g in GROUPS if g.startswith("trigger ")],
                         ids=lambda g: f"{g.split(' ', 1)[1]}:{len(GROUPS[g])}x{len(GROUPS[g][0]['events'])}")
def test_trigger_cases_agree_with_segment(group):
    differences = [(case["id"], corpus.differences()[case["id"]]) for case in GROUPS[group]
                   if case["id"] in corpus.differences()]
    assert not differences, f"{len(differences)}/{len(GROUPS[group])} differ, e.g. {differences[:3]}"


def test_triggers_the_loader_accepts_evaluate_as_segment():
    triggers = [case for case in corpus.load()[2] if case["kind"] == "trigger"]
    outcomes = [corpus.check_compiled_trigger(case) for case in triggers]
    differences = [(case["id"], diff) for case, (_, diff) in zip(triggers, outcomes) if diff]
    accepted = sum(kind == "accepted" for kind, _ in outcomes)
    print(f"loader: {accepted} of {len(triggers)} corpus triggers accepted, {len(triggers) - accepted} refused at load")
    assert not differences, f"{len(differences)} accepted triggers differ, e.g. {differences[:3]}"
    assert accepted


def test_compiled_mappings_give_what_the_interpreter_gives_and_refuse_only_what_segment_fails():
    """The destination's path (validate at load, compiled mapping) on every corpus case: a
    mapping Segment transforms without error is never refused, and the compiled result is the
    interpreted one (itself checked against Segment above)."""
    refused_but_fine, differences, compared = [], [], 0
    for case in (c for c in corpus.load()[2] if c["kind"] == "mapping"):
        try:
            run = compile_mapping(case["mapping"])
        except MappingError:
            if "result" in case["answer"]:
                refused_but_fine.append(case["id"])
            continue
        outcomes = []
        for way in (run, lambda event: interpret(case["mapping"], event)):
            try:
                outcomes.append(("ok", corpus.encode(way(corpus.event(case["event"])))))
            except MappingError as exc:
                outcomes.append((exc.js_class, str(exc)))
        compared += 1
        if outcomes[0][0] != outcomes[1][0] or not corpus.same(outcomes[0][1], outcomes[1][1]):
            differences.append((case["id"], outcomes))
    assert not refused_but_fine, f"refused at load, though Segment transforms them: {refused_but_fine[:5]}"
    assert not differences, differences[:3]
    assert compared > 10_000
