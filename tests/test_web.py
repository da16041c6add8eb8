"""`wirewatch serve`: Datasette on the database, read-only, with the shipped metadata."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request

from conftest import CHROMIUM, WIREWATCH, demo_seed, not_blank, screenshot


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_shows_the_database_read_only_with_metadata(site, workspace):
    workspace.add_seed("demo", demo_seed(site.base))
    assert workspace.run().returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [*WIREWATCH, "serve", "--config", str(workspace.config), "--port", str(port)],
        cwd=workspace.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(f"{base}/-/versions.json")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {server.communicate()}") from None
                time.sleep(0.2)
        assert status == 200

        meta = json.loads(_get(f"{base}/-/metadata.json")[1])
        tables = meta["databases"]["test"]["tables"]
        assert "one page of one outlet" in tables["articles"]["description"].lower()
        assert tables["story_bands"] == {"hidden": True}

        flags = workspace.query("SELECT count(*) FROM flags WHERE flagged_at >= datetime('now', '-7 days')")[
            0
        ][0]
        status, body = _get(f"{base}/test/flagged_this_week.json?_shape=array")
        assert status == 200 and len(json.loads(body)) == flags > 0
        story = json.loads(body)[0]["story_id"]
        status, body = _get(f"{base}/test/story.json?story_id={story}&_shape=array")
        assert status == 200 and json.loads(body)
        status, body = _get(f"{base}/test/search.json?query=Besham&_shape=array")
        assert status == 200 and any("Besham" in row["title"] for row in json.loads(body))
        status, body = _get(f"{base}/test/source_health.json?_shape=array")
        assert json.loads(body)[0]["source"] == "demo"

        status, body = _get(f"{base}/test/articles.json")
        assert set(json.loads(body)["facet_results"]) >= {"source", "language"}
        url = workspace.query("SELECT url FROM articles LIMIT 1")[0][0]
        assert f'href="{url}"'.encode() in _get(f"{base}/test/articles")[1]  # linked to the original

        status, body = _get(f"{base}/test/failed_alerts.json?_shape=array")
        assert status == 200 and json.loads(body) == []
        status, body = _get(f"{base}/")
        assert status == 200 and b"wirewatch" in body  # the front page
        if CHROMIUM is not None:  # looked at as a person would
            assert not_blank(screenshot(f"{base}/", workspace.root / "front.png"))

        status, body = _get(f"{base}/test.json?sql=delete+from+articles")
        assert status == 400 and b"must be a SELECT" in body
        assert workspace.query("SELECT count(*) FROM articles")[0][0] > 0
    finally:
        server.terminate()
        server.wait(timeout=30)
