"""Where the embedded spec and fixtures live, so every module resolves them the same way."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
SPEC_PATH = DATA_DIR / "openapi.yaml"
FIXTURES_DIR = (DATA_DIR / "fixtures").resolve()
DEFAULT_PROJECTS_FILE = FIXTURES_DIR / "projects.yaml"
CONTRACTS_DIR = (PACKAGE_DIR.parent / "contracts").resolve()
