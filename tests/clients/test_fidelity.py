"""FIDELITY.md covers the whole spec: every operation and every component schema of
openapi.yaml has a row (its name in backticks in the first column) or an ``x-source`` in
the spec, and every row says its source or that it is the mock's choice. General, so an
operation another area adds passes as soon as it carries either."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT_DIR = Path(__file__).resolve().parents[2]
FIDELITY = ROOT_DIR / "FIDELITY.md"
SPEC = yaml.safe_load((ROOT_DIR / "openapi.yaml").read_text(encoding="utf-8"))
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def table_rows(text: str) -> list[list[str]]:
    """The cells of every markdown table row (header and separator rows left out)."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or re.match(r"^\|\s*-", line):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[:3] in (["what", "behaviour", "source or choice"], ["#", "what", "done"]):
            continue
        rows.append(cells)
    return rows


def covered_names(text: str) -> set[str]:
    return {name for cells in table_rows(text) for name in re.findall(r"`([A-Za-z0-9_]+)`", cells[0])}


def uncovered(spec: dict, names: set[str]) -> list[str]:
    missing = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation and "x-source" not in operation and operation.get("operationId") not in names:
                missing.append(f"operation {operation.get('operationId') or method.upper() + ' ' + path}")
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if "x-source" not in schema and name not in names:
            missing.append(f"schema {name}")
    return missing


def test_every_operation_and_schema_of_the_spec_has_a_row_or_x_source():
    missing = uncovered(SPEC, covered_names(FIDELITY.read_text(encoding="utf-8")))
    assert not missing, "Add a FIDELITY.md row (name in backticks, first column) or an x-source for: " + ", ".join(missing)


def test_every_row_says_its_source_or_choice():
    for cells in table_rows(FIDELITY.read_text(encoding="utf-8")):
        assert len(cells) >= 3 and cells[0] and cells[1], cells
        if cells[0].startswith("A") and cells[0][1:].isdigit():
            continue  # the findings table: "done" and "where"
        assert cells[2], f"row {cells[0]!r} names no source or choice"


def test_every_finding_is_answered():
    text = FIDELITY.read_text(encoding="utf-8")
    done = {cells[0]: cells[2] for cells in table_rows(text) if re.fullmatch(r"A\d+", cells[0])}
    assert sorted(done, key=lambda a: int(a[1:])) == [f"A{i}" for i in range(1, 20)]
    assert all(re.search(r"\*\*(fixed|kept|documented|left|recorded)", what) for what in done.values()), done


@pytest.mark.parametrize("extra, ok", [
    ({"operationId": "newThing", "x-source": "a repo, a file"}, True),
    ({"operationId": "newThing"}, False),
])
def test_the_rule_is_general(extra, ok):
    spec = {"paths": {"/new": {"get": extra}}, "components": {"schemas": {}}}
    assert (uncovered(spec, set()) == []) is ok
    assert uncovered(spec, {"newThing"}) == []
