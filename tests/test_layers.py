"""The tree's dependencies point one way, along the flow: the contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the packages under ``root``, with the project's contracts."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, env={"PYTHONPATH": str(root)}
    )


def test_imports_follow_the_flow():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_against_the_flow_is_caught(tmp_path: Path):
    for name in ("crawler", "pipelines"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "site"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "pipelines/store/shortcut.py").write_text("from pipelines.watch import Watchlist\n")
    result = lint(tmp_path)
    assert result.returncode == 1
    assert "pipelines.store.shortcut -> pipelines.watch" in result.stdout
