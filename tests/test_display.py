"""The run's live display: per-source lines on a terminal (a pseudo-terminal here), none when
standard error is a file (cron, systemd)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
import time

from conftest import WIREWATCH, demo_seed

from crawler.demo.server import DemoSite


def test_a_run_on_a_terminal_shows_each_source_live(workspace):
    # Slow pages keep the run on screen for a few redraws; the slow lane serves them one at a
    # time, so a loaded machine must not turn the queue into time-outs.
    workspace.config.write_text(
        workspace.config.read_text().replace("download_timeout = 3", "download_timeout = 30")
    )
    with DemoSite(page_delay=0.3) as slow:
        workspace.add_seed("demo", demo_seed(slow.base))
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        process = subprocess.Popen(
            [*WIREWATCH, "run", "--config", str(workspace.config)],
            stdout=subprocess.PIPE,
            stderr=slave,
            cwd=workspace.root,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"},
        )
        os.close(slave)
        screen = b""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed: the run is over
                break
            if not chunk:
                break
            screen += chunk
        os.close(master)
        summary = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, screen.decode(errors="replace")
    text = screen.decode(errors="replace")
    assert "source" in text and "requests" in text and "flagged" in text  # the display's header
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.lstrip().startswith("demo ")]
    assert any(("fetching" in line or "waiting" in line or "working" in line) for line in lines), text
    assert "\x1b[" in text  # drawn and redrawn with terminal codes
    assert "run 1: ok" in summary  # the summary still goes to standard output


def test_a_run_with_stderr_to_a_file_shows_no_display(workspace, site):
    workspace.add_seed("demo", demo_seed(site.base))
    log = workspace.root / "stderr.log"
    with log.open("w") as stderr:
        result = subprocess.run(
            [*WIREWATCH, "run", "--config", str(workspace.config)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=workspace.root,
            env={**os.environ, "TERM": "xterm-256color"},
            timeout=120,
        )
    assert result.returncode == 0
    text = log.read_text()
    assert "run 1 started" in text  # the log lines, as ever
    assert "\x1b[" not in text and "fetching" not in text and "waiting (delay" not in text
