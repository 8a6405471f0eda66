"""Build step: copy the repository's ``openapi.yaml``, ``fixtures/`` and ``contracts/``
into the wheel as ``mock_1flow/data/`` (package data that ``importlib.resources`` finds).

The files stay at the repository root, where they are edited and reviewed; a symlink
into the package would not be followed by setuptools' package-data, nor survive a
checkout without symlinks. Everything else is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGED_FROM_ROOT = ("openapi.yaml", "fixtures", "contracts")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # a checkout reads the root files directly
            return
        target = Path(self.build_lib) / "mock_1flow" / "data"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in PACKAGED_FROM_ROOT:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".*", "__pycache__"))
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithData})
