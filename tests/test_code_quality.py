"""The code stays ruff-clean, ruff-formatted, mypy-clean (strict) and inside its layers, as
pyproject.toml says."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "resolvers", "dataloaders")
LINT_IMPORTS = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]

CHECKS = {
    "ruff lint": [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."],
    "mypy": [sys.executable, "-m", "mypy"],
    "import layers": LINT_IMPORTS,
}


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("name", list(CHECKS))
def test_code_passes(name: str) -> None:
    finished = run(CHECKS[name], ROOT)
    assert finished.returncode == 0, f"{name} found problems:\n{finished.stdout}{finished.stderr}"


def test_the_layers_contract_refuses_an_upward_import(tmp_path: Path) -> None:
    # Given a copy of the code where the domain imports the schema above it
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "server" / "domain" / "upward.py").write_text("import resolvers.schema\n")

    # When the layers are checked
    finished = run(LINT_IMPORTS, tmp_path)

    # Then the check fails and names the import
    assert finished.returncode != 0
    assert "Imports only go down the layers BROKEN" in finished.stdout
    assert "server.domain.upward -> resolvers.schema" in finished.stdout


def test_every_package_has_its_place_in_the_layers() -> None:
    # Given the layers contract
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}

    # Then every module and package directly under the root packages is in one layer
    found = {package for package in PACKAGES if package != "server"} | {
        f"server.{path.stem}"
        for path in (ROOT / "server").iterdir()
        if path.name != "__init__.py" and (path.suffix == ".py" or (path / "__init__.py").exists())
    }
    assert found == placed
