"""The installed package is the product: build the sdist and the wheel as the README says
(``python -m build``), check them with ``twine check``, install each into a fresh
virtualenv, and use it from a folder outside the repository, as a user would.

First the base install: ``serve`` with its defaults answers surveys, announcements and
``/openapi.yaml`` and ``contracts list`` reads the packaged contracts, from the wheel and
from the sdist; ``contracts verify`` says which extra it needs. Then ``[contracts]`` plus
pytest: ``contracts verify`` passes, and a separate project's test uses the plugin.

One build serves every test. The sdist's virtualenv takes its dependencies from the
wheel's (a ``.pth`` file naming that site-packages, the sdist installed with ``--no-deps``
into its own, which comes first on ``sys.path``), so they are not installed twice.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from mock_1flow.testing import ServedMock

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "openapi.yaml", "fixtures", "contracts", "mock_1flow")
KEY = {"one_flow_key": "oneflow_prod_acme"}


def committed_interactions() -> int:
    """How many interactions the repository's committed contracts hold (all consumers)."""
    return sum(len(json.loads(path.read_text(encoding="utf-8"))["interactions"])
               for path in (ROOT / "contracts").glob("*.json"))


def run(*command: str | Path, cwd: Path, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PACT_DO_NOT_TRACK"] = "true"
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stdout}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` on a copy of the sources (the checkout gets no build/ or
    egg-info): the sdist, then the wheel built from that sdist."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, source / name)
    folder = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", folder, source, cwd=source)
    return folder


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("mock_1flow-*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    (built,) = dist.glob("mock_1flow-*.tar.gz")
    return built


def test_twine_check_passes(dist: Path) -> None:
    result = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()), cwd=dist)
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_sdist_carries_what_the_wheel_copies_in(sdist: Path) -> None:
    import tarfile

    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in ("openapi.yaml", "fixtures/projects.yaml", "fixtures/surveys.json", "MANIFEST.in", "setup.py",
                     "mock_1flow/contracts/pact-broker-double.json", "mock_1flow/admin/static/admin.js"):
        assert required in names
    committed = {f"contracts/{path.name}" for path in (ROOT / "contracts").glob("*.json")}
    assert committed and committed <= names


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the repository, where the user runs the commands."""
    return tmp_path_factory.mktemp("user")


@pytest.fixture(scope="module")
def venv(wheel: Path, user_dir: Path) -> Path:
    """A fresh virtualenv with the base install only (pip from this interpreter)."""
    folder = user_dir / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", folder, cwd=user_dir)
    run(sys.executable, "-m", "pip", "--python", folder / "bin" / "python", "install", "-q", wheel, cwd=user_dir)
    return folder


def _site_packages(folder: Path) -> Path:
    (found,) = (folder / "lib").glob("python3*/site-packages")
    return found


@pytest.fixture(scope="module")
def sdist_venv(sdist: Path, venv: Path, user_dir: Path) -> Path:
    """A fresh virtualenv with the sdist installed (pip builds it), dependencies from the wheel's."""
    folder = user_dir / "venv-sdist"
    run(sys.executable, "-m", "venv", "--without-pip", folder, cwd=user_dir)
    (_site_packages(folder) / "dependencies.pth").write_text(f"{_site_packages(venv)}\n", encoding="utf-8")
    run(sys.executable, "-m", "pip", "--python", folder / "bin" / "python", "install", "-q", "--no-deps", sdist, cwd=user_dir)
    where = run(folder / "bin" / "python", "-c", "import mock_1flow; print(mock_1flow.__file__)", cwd=user_dir).stdout
    assert where.startswith(str(_site_packages(folder))), where  # the sdist's own install, not the wheel's
    return folder


@pytest.fixture(params=["wheel", "sdist"])
def installed(request: pytest.FixtureRequest) -> Path:
    """The virtualenv of each install: from the wheel, from the sdist."""
    return Path(request.getfixturevalue("venv" if request.param == "wheel" else "sdist_venv"))


def test_the_wheel_carries_spec_fixtures_and_contracts(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("mock_1flow/data/openapi.yaml", "mock_1flow/data/fixtures/projects.yaml",
                     "mock_1flow/data/fixtures/surveys.json", "mock_1flow/data/fixtures/announcements.json",
                     "mock_1flow/data/contracts/segment-1flow-destination-1flow-api.json",
                     "mock_1flow/admin/templates/admin/page.html", "mock_1flow/admin/static/admin.js",
                     "mock_1flow/web/static/1flow.js"):
        assert required in names
    assert not any("segment-golden" in name for name in names)  # test data, not the product's


def test_serve_with_defaults_outside_the_repository(installed: Path, user_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the installed package, whatever the caller's path says
    with ServedMock(command=[str(installed / "bin" / "mock-1flow")], cwd=user_dir) as mock:
        assert str(_site_packages(installed)) in mock.output  # the packaged projects file, not the checkout's
        surveys = requests.get(f"{mock.base('us')}/v3/survey", headers=KEY, timeout=10)
        announcements = requests.get(f"{mock.base('us')}/v3/announcements", headers=KEY, timeout=10)
        spec = requests.get(f"{mock.url}/openapi.yaml", timeout=10)
        page = requests.get(f"{mock.url}/__admin/", timeout=10)
        web_sdk = requests.get(f"{mock.url}/js/1flow.js", timeout=10)
    assert web_sdk.status_code == 200 and "window._1flow" in web_sdk.text
    assert surveys.status_code == 200 and surveys.json()["result"]
    assert announcements.status_code == 200 and announcements.json()["result"]
    assert spec.status_code == 200 and spec.text == (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    assert page.status_code == 200 and "Journal" in page.text


def test_contracts_list_reads_the_packaged_contracts(installed: Path, user_dir: Path) -> None:
    result = run(installed / "bin" / "mock-1flow", "contracts", "list", cwd=user_dir)
    assert "add a user with an unknown key" in result.stdout
    assert result.stdout.rstrip().endswith(f"{committed_interactions()} interactions")


def test_base_install_has_no_pact_and_says_which_extra(venv: Path, user_dir: Path) -> None:
    result = run(venv / "bin" / "mock-1flow", "contracts", "verify", cwd=user_dir, check=False)
    assert result.returncode == 2 and "pip install 'mock-1flow[contracts]'" in result.stdout
    assert "Traceback" not in result.stdout


def test_base_install_serves_tls_only_with_its_extra(venv: Path, user_dir: Path) -> None:
    result = run(venv / "bin" / "mock-1flow", "serve", "--port", "0", "--tls", "--tls-dir", user_dir / "tls",
                 cwd=user_dir, check=False, timeout=60)
    assert result.returncode == 2 and "pip install 'mock-1flow[tls]'" in result.stdout
    assert "Traceback" not in result.stdout and not (user_dir / "tls" / "ca.pem").exists()


@pytest.fixture(scope="module")
def with_contracts(venv: Path, wheel: Path, user_dir: Path) -> Path:
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
        f"{wheel}[contracts]", "pytest", "requests", cwd=user_dir)
    return venv


def test_contracts_verify_against_the_packaged_mock(with_contracts: Path, user_dir: Path) -> None:
    result = run(with_contracts / "bin" / "mock-1flow", "contracts", "verify", cwd=user_dir)
    assert f"{committed_interactions()} passed, 0 failed" in result.stdout and "verified: all interactions passed" in result.stdout


def test_a_separate_project_uses_the_pytest_plugin(with_contracts: Path, user_dir: Path) -> None:
    project = user_dir / "my-forwarder"
    project.mkdir()
    (project / "test_forwarder.py").write_text(textwrap.dedent('''
        import requests

        def test_track_reaches_the_mock(one_flow_mock):
            base = one_flow_mock.base("us")
            headers = {"one_flow_key": "oneflow_prod_acme"}
            user = requests.post(f"{base}/v3/user", json={"user_id": "device-1"}, headers=headers).json()
            requests.post(f"{base}/v3/track", headers=headers, json={
                "user_id": user["result"]["analytic_user_id"],
                "events": [{"name": "Signed Up", "time": 1764000000, "plt": "w", "_id": "0123456789abcdef01234567"}],
            }).raise_for_status()
            one_flow_mock.assert_tracked("oneflow_prod_acme", name="Signed Up", count=1)
    '''), encoding="utf-8")
    result = run(with_contracts / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert "1 passed" in result.stdout
