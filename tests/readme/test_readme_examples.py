"""Every README example runs, top to bottom, against a live ``mock-1flow serve``, and what
it prints is checked wherever the README shows output (see ``blocks.py`` for the rules).

Blocks share one working folder (a file an early block writes is read by a later one,
as a reader following the README would), with the repository's ``contracts/``,
``openapi.yaml``, ``fixtures/`` and ``benchmarks/`` linked in. The README's
``127.0.0.1:8080`` (written out, or as ``MOCK_1FLOW_URL``, the default ``--url`` of the
commands) becomes the port of a mock this test starts: a shared one, reset
before each block, or, for a block with a ``mock-1flow serve ... &`` line, one started
with that line's options.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from mock_1flow.testing import ServedMock

from .blocks import Block, parse_blocks

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
LINKED = ("contracts", "openapi.yaml", "fixtures", "benchmarks")
README_PORT = "8080"
SERVE_LINE = re.compile(r"^mock-1flow serve(?P<args>[^&\n]*?)\s*&?\s*$", re.MULTILINE)
BLOCK_TIMEOUT = 300
CHECK = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

BLOCKS = parse_blocks(README)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name)
    for block in BLOCKS:
        if block.file:
            (folder / block.file).write_text(block.text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def shared_mock(workdir: Path):
    with ServedMock(cwd=workdir) as mock:
        yield mock


def _env(url: str) -> dict[str, str]:
    """The commands' environment; ``MOCK_1FLOW_URL`` points the commands' default ``--url``
    (``http://127.0.0.1:8080``) at the test's mock, as the README's port is."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "PACT_DO_NOT_TRACK": "true",
            "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "MOCK_1FLOW_URL": url}


def _serve_args(args: str) -> list[str]:
    """A README serve line's options, less the port (the test picks a free one)."""
    words = shlex.split(args)
    kept = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "--port":
            skip = True
        elif not word.startswith("--port="):
            kept.append(word)
    return kept


def _run(block: Block, workdir: Path, url: str) -> subprocess.CompletedProcess[str]:
    text = block.text.replace(f"http://127.0.0.1:{README_PORT}", url)
    if block.lang == "python" and block.test_file:
        project = workdir / f"project-{block.line}"
        project.mkdir(exist_ok=True)
        (project / block.test_file).write_text(text, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", block.test_file]
        cwd = project
    elif block.lang == "python":
        command, cwd = [sys.executable, "-c", text], workdir
    else:
        command, cwd = ["bash", "-e", "-o", "pipefail", "-c", text], workdir
    return subprocess.run(command, cwd=cwd, env=_env(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=BLOCK_TIMEOUT)


def _label(block: Block) -> str:
    return f"README.md:{block.line}:{block.lang}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.runs], ids=_label)
def test_readme_example(block: Block, workdir: Path, shared_mock: ServedMock) -> None:
    own: ServedMock | None = None
    with ExitStack() as stack:
        serve_lines = list(SERVE_LINE.finditer(block.text)) if block.lang != "python" else []
        if serve_lines:
            own = stack.enter_context(ServedMock(*_serve_args(serve_lines[0].group("args")), cwd=workdir))
            url = own.url
            block = Block(block.line, block.lang, SERVE_LINE.sub("", block.text), output=block.output)
        else:
            requests.post(f"{shared_mock.url}/__admin/reset", headers={"X-Mock-1flow-Admin": "1"}, timeout=10).raise_for_status()
            url = shared_mock.url
        result = _run(block, workdir, url)
    served_output = own.output if own else ""  # read once stopped: everything it printed is in
    shown = f"$ README.md line {block.line}\n{block.text}\n--- printed (exit {result.returncode}) ---\n{result.stdout}"
    assert result.returncode == 0, shown
    if block.output:
        want = "..." + block.output.replace(f"127.0.0.1:{README_PORT}", url.removeprefix("http://")).strip() + "..."
        got = served_output + result.stdout
        checker = doctest.OutputChecker()
        served = f"--- the mock it started printed ---\n{served_output}\n" if own else ""
        assert checker.check_output(want, got, CHECK), shown + served + "\n--- README shows ---\n" + block.output


def test_every_runnable_block_is_found() -> None:
    """The parser sees the README's examples (a broken fence would silently skip them)."""
    runnable = [b for b in BLOCKS if b.runs]
    assert len(runnable) >= 10, [_label(b) for b in BLOCKS]
    assert any(b.test_file for b in runnable)
