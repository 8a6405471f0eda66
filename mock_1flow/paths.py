"""Where the spec, fixtures and committed contracts live, so every module finds them the
same way, installed or in a checkout.

The files are kept once, at the repository root (``openapi.yaml``, ``fixtures/``,
``contracts/``), where users and contributors edit them. Building the wheel copies them
into the package as ``mock_1flow/data/`` (``setup.py``), and an installed mock finds them
there with :mod:`importlib.resources`; a source checkout (``pip install -e .``) has no
``data/`` and reads the root files directly.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(str(files("mock_1flow")))
_PACKAGED = PACKAGE_DIR / "data"
_CHECKOUT = PACKAGE_DIR.parent

#: ``mock_1flow/data`` in an installed wheel, the repository root in a checkout.
DATA_DIR = _PACKAGED if (_PACKAGED / "openapi.yaml").is_file() else _CHECKOUT
SPEC_PATH = DATA_DIR / "openapi.yaml"
FIXTURES_DIR = DATA_DIR / "fixtures"
DEFAULT_PROJECTS_FILE = FIXTURES_DIR / "projects.yaml"
CONTRACTS_DIR = DATA_DIR / "contracts"

