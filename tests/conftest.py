"""Shared fixtures: the loopback news site, config folders, and running the real CLI."""

from __future__ import annotations

import email
import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

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


def runs_stored(db: Path, source: str, base: str, times: list[datetime]) -> None:
    """A source's history as its runs stored it: an article published and fetched at each of
    ``times``, then a run that crawled the source without an error."""
    from crawler.runtime.run import SourceResult
    from pipelines import flow
    from pipelines.core.records import Article
    from pipelines.store import Store

    store = Store(db)
    try:
        for n, at in enumerate(times):
            text = f"Paragraph about event {n}. " * 40
            digest = hashlib.sha256(text.encode()).hexdigest()
            article = Article(f"{base}/old/{n}/", f"Old {n}", None, at, "page", "en", text, digest)
            flow.keep(store, source, article, {}, at, article.url)
        run_id = store.start_run("cron", [source])
        store.finish_run(run_id, "ok", [asdict(SourceResult(source, "ok"))], 1.0)
    finally:
        store.close()


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


# -- a real SMTP server on loopback (aiosmtpd) ------------------------------------------------


@dataclass
class Received:
    rcpt: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """Records every message; faults are switched on by the tests."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    busy_once: bool = False  # answer the first DATA with 421
    kill_pid: int | None = None  # kill this process after accepting a message, before replying

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy_once:
            self.busy_once = False
            return "421 4.3.2 try again later"
        message = email.message_from_bytes(envelope.content, policy=email_policy.default)
        self.received.append(Received(list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        if self.kill_pid:
            os.kill(self.kill_pid, signal.SIGKILL)
            self.kill_pid = None
            time.sleep(0.2)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller
    controller.stop()


# -- looking at pages as a person would: headless Chromium ----------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


def screenshot(url: str, out: Path, size: str = "900,1200") -> Path:
    """A PNG of ``url`` as headless Chromium renders it, with a fresh profile, nothing fetched
    from outside (the flags the build machines need)."""
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={out.parent / (out.stem + '-profile')}",
            f"--window-size={size}",
            f"--screenshot={out}",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return out


def not_blank(png: Path) -> bool:
    """More than one colour over a fair part of the image: something was drawn."""
    from matplotlib import image

    pixels = image.imread(png)
    return bool(pixels.std() > 0.02 and (abs(pixels - pixels[0, 0]).sum(axis=-1) > 0.1).mean() > 0.01)
