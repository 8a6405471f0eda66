"""README.md's fenced code blocks, with the HTML-comment markers that say how to run them.

- Every ```bash / ```sh / ```python block runs, unless preceded by
  ``<!-- not-run: reason -->``.
- ``<!-- file: NAME -->`` before a block writes its text to NAME in the examples'
  working folder (a mappings file, a projects file) instead of running it.
- A ```text block right after a block that runs is that block's output: it must appear
  in what the block printed (``...`` stands for anything, whitespace runs are equal).
- A ```python block whose first line is ``# test_*.py ...`` is a test file: it is
  written to a separate project and run with pytest (the installed plugin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

RUN_LANGUAGES = {"bash", "sh", "shell", "python"}
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
MARKER = re.compile(r"<!--\s*(?P<kind>not-run|file):\s*(?P<value>.*?)\s*-->")


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    not_run: str | None = None  # the reason
    file: str | None = None
    output: str | None = None  # the ```text block that follows

    @property
    def runs(self) -> bool:
        return self.lang in RUN_LANGUAGES and self.not_run is None and self.file is None

    @property
    def test_file(self) -> str | None:
        match = re.match(r"#\s*(test_\w+\.py)\b", self.text)
        return match.group(1) if self.lang == "python" and match else None


def parse_blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    pending: dict[str, str] = {}
    previous_end = -1  # index of the closing fence of the previous block
    index = 0
    while index < len(lines):
        marker = MARKER.search(lines[index])
        if marker:
            pending[marker.group("kind")] = marker.group("value")
        fence = FENCE.match(lines[index])
        if not fence or not fence.group("lang"):
            if lines[index].strip() and not marker:
                previous_end = -1  # prose between blocks: a text block after it is not output
            index += 1
            continue
        indent = len(fence.group("indent"))
        body = []
        start = index
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][indent:])
            index += 1
        text = "\n".join(body) + "\n"
        lang = fence.group("lang")
        if lang == "text" and previous_end >= 0 and blocks and blocks[-1].runs:
            blocks[-1].output = text
        else:
            blocks.append(Block(start + 1, lang, text, pending.get("not-run"), pending.get("file")))
        pending = {}
        previous_end = index
        index += 1
    return blocks
