"""Shared fixtures: the loopback news site, config folders, and running the real CLI."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.server import DEMO_SEED, DEMO_SITE, DemoSite

WIREWATCH = [sys.executable, "-m", "crawler"]


@pytest.fixture(scope="session")
def manifest() -> list[dict[str, Any]]:
    with (DEMO_SITE / "manifest.toml").open("rb") as f:
        return tomllib.load(f)["article"]


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with DemoSite() as server:
        yield server


@dataclass
class Workspace:
    root: Path
    config: Path
    db: Path
    seeds: Path

    def add_seed(self, name: str, text: str) -> None:
        (self.seeds / f"{name}.toml").write_text(text)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_cli("run", "--config", str(self.config), *args, timeout=timeout, cwd=self.root)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command with this workspace's config, e.g. ``cli("alerts", "send")``."""
        return run_cli(*args, "--config", str(self.config), cwd=self.root)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


def run_cli(*args: str, timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command; in ``cwd`` (a test's folder), so files it writes there (the default
    alert outbox) do not land in the repository."""
    return subprocess.run(
        [*WIREWATCH, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ}, cwd=cwd
    )


def demo_seed(base: str) -> str:
    return DEMO_SEED.read_text().replace("{{BASE}}", base)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A config with politeness off and loopback allowed, an empty seeds folder, a fresh db."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    config = tmp_path / "wirewatch.toml"
    config.write_text(
        '[storage]\ndatabase = "test.db"\n'
        '[sources]\npaths = ["seeds"]\n'
        "[crawl]\npolite = false\nallow_private_addresses = true\n"
        'contact = "tests@example.org"\ndownload_timeout = 3\nretry_times = 1\nmax_page_bytes = 1_000_000\n'
        # Extraction in this process: quicker to start. test_run checks the worker pool itself.
        "workers = 1\n"
    )
    return Workspace(tmp_path, config, tmp_path / "test.db", seeds)


@pytest.fixture
def copy_site(tmp_path: Path) -> Path:
    """A private copy of the demo site that a test may change (new stories between runs)."""
    target = tmp_path / "site"
    shutil.copytree(DEMO_SITE, target)
    return target
