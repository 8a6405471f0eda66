"""A JUnit XML report of a contract verification, for CI systems that show test results."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from .verify import VerificationResult


def write_junit(result: VerificationResult, path: Path, suite: str = "pact-verification") -> None:
    """One test case per interaction, its problems as the failure message."""
    failures = sum(not i.ok for i in result.interactions)
    root = ET.Element("testsuites", tests=str(len(result.interactions)), failures=str(failures))
    cases = ET.SubElement(root, "testsuite", name=suite, tests=str(len(result.interactions)), failures=str(failures))
    for item in result.interactions:
        case = ET.SubElement(cases, "testcase", classname=suite, name=item.description)
        if item.states:
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="provider_states", value="; ".join(item.states))
        if not item.ok:
            failure = ET.SubElement(case, "failure", message=(item.problems or ("failed",))[0])
            failure.text = "\n".join(item.problems)
    ET.indent(root)
    Path(path).write_text(ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n", encoding="utf-8")
