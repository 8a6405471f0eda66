"""The package is typed (``py.typed``) and mypy, configured in pyproject.toml's ``[tool.mypy]``
(the public API with every function annotated), finds nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_ships_py_typed() -> None:
    assert (ROOT / "mock_1flow" / "py.typed").is_file()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_mypy_finds_nothing(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert result.returncode == 0, result.stdout
    assert "Success: no issues found" in result.stdout, result.stdout
