"""Alert emails against a real SMTP server (aiosmtpd) on loopback: content, faults, exactly once."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from conftest import WIREWATCH, Handler, demo_seed, free_port

from pipelines import flow
from pipelines.core.records import Article, Verdict
from pipelines.store import Store

RECIPIENTS = ["desk@example.org", "duty@example.org"]


def configure(workspace, port: int, extra: str = "") -> None:
    routes = f'routes = [{{ watchlist = "cpec-security", to = {RECIPIENTS!r}, tiers = ["core", "mention"] }}]'
    workspace.config.write_text(
        workspace.config.read_text()
        + f'[alerts]\n{routes.replace(chr(39), chr(34))}\nretry_backoff = "1s"\nsender = "wirewatch <alerts@example.org>"\n'
        + extra
        + f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 5\n'
    )


def subjects(handler: Handler) -> list[str]:
    return [r.message["Subject"] for r in handler.received]


def test_run_sends_one_email_per_core_story_and_recipient(site, workspace, smtp, manifest):
    handler, controller = smtp
    workspace.add_seed("demo", demo_seed(site.base))
    configure(workspace, controller.port)
    result = workspace.run()
    assert result.returncode == 0, result.stderr
    core = [a for a in manifest if a["expect"] == "core" and a["hours_ago"] < 48]
    assert len(handler.received) == len(core) * len(RECIPIENTS)
    for item in handler.received:
        assert len(item.rcpt) == 1 and item.rcpt[0] in RECIPIENTS
        message = item.message
        assert message["Subject"].startswith("[wirewatch] cpec-security CORE: ")
        assert message["From"] == "wirewatch <alerts@example.org>"
        assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
        plain = message.get_body(("plain",)).get_content()
        rich = message.get_body(("html",)).get_content()
        assert "Why it was flagged:" in plain and "Link: http://127.0.0.1:" in plain
        assert "PKT" in plain  # the analyst's time zone
        assert "<mark style=" in rich and '<a href="http://127.0.0.1:' in rich
        article = int(plain.split("wirewatch explain ", 1)[1].split()[0])  # the id, and how to label it
        assert f"wirewatch label {article} not" in plain and f"wirewatch label {article} core" in plain
        assert f"<code>wirewatch label {article} not</code>" in rich
    titles = {a["title"] for a in core}
    assert {s.split(": ", 1)[1] for s in subjects(handler)} == titles
    rows = workspace.query("SELECT status, kind, count(*) AS n FROM alerts GROUP BY status, kind")
    assert {(r["status"], r["kind"]): r["n"] for r in rows}[("sent", "core")] == len(handler.received)

    # A rerun and a rescore flag the same stories again: nobody gets a second email.
    assert workspace.run().returncode == 0
    assert workspace.cli("rescore").returncode == 0
    assert workspace.cli("alerts", "send").returncode == 0
    assert len(handler.received) == len(core) * len(RECIPIENTS)


def test_digest_lists_the_mentions_once(site, workspace, smtp, manifest):
    handler, controller = smtp
    workspace.add_seed("demo", demo_seed(site.base))
    configure(workspace, controller.port)
    assert workspace.run().returncode == 0
    before = len(handler.received)
    waiting = workspace.query("SELECT count(*) FROM alerts WHERE kind = 'digest' AND status = 'pending'")[0][
        0
    ]
    assert (
        waiting
        == len(RECIPIENTS) * workspace.query("SELECT count(*) FROM flags WHERE tier = 'mention'")[0][0]
        > 0
    )
    assert workspace.cli("alerts", "digest").returncode == 0
    digests = handler.received[before:]
    assert sorted(r.rcpt[0] for r in digests) == sorted(RECIPIENTS)
    mention_titles = [
        r["title"]
        for r in workspace.query(
            "SELECT a.title FROM flags f JOIN articles a ON a.id = f.article_id WHERE f.tier = 'mention'"
        )
    ]
    for item in digests:
        assert item.message["Subject"].startswith("[wirewatch] digest: ")
        plain = item.message.get_body(("plain",)).get_content()
        assert all(title in plain for title in mention_titles)
        for (article,) in workspace.query("SELECT article_id FROM flags WHERE tier = 'mention'"):
            assert (
                f"article {article}: wirewatch label {article} not | wirewatch label {article} core" in plain
            )
    assert workspace.cli("alerts", "digest").returncode == 0
    assert len(handler.received) == before + len(RECIPIENTS)


def _story(title: str, text: str) -> Article:
    return Article(
        url=f"https://news.example/{abs(hash(title))}/",
        title=title,
        author=None,
        published_at=datetime.now(UTC) - timedelta(hours=1),
        date_source="page",
        language="en",
        text=text,
        content_hash=str(abs(hash(text))),
    )


def _flag(store: Store, workspace, title: str, text: str) -> None:
    from crawler.config.wirewatch import load_config

    config = load_config(workspace.config)
    verdict = Verdict(
        True,
        "core",
        "incident",
        9.0,
        [
            {
                "rule": "attack-on-chinese",
                "score": 9.0,
                "units": 1,
                "terms": ["attacked", "Chinese engineers"],
                "entities": [],
                "sentences": [text],
            }
        ],
    )
    flow.keep(
        store,
        "demo",
        _story(title, text),
        {"cpec-security": verdict},
        datetime.now(UTC),
        "https://news.example/x",
        config.alerts,
    )


def test_hostile_headline_and_non_ascii_text_are_safe(workspace, smtp):
    handler, controller = smtp
    configure(workspace, controller.port)
    store = Store(workspace.db)
    hostile = "Convoy attacked\r\nBcc: victim@evil.example\r\nX-Injected: yes <script>alert(1)</script>"
    _flag(store, workspace, hostile, "Gunmen attacked Chinese engineers <b>near</b> the site & fled.")
    _flag(
        store,
        workspace,
        "Gwādar: «Chinese engineers» attacked — ہنگامی",
        "Gunmen attacked Chinese engineers in Gwādar — تصدیق.",
    )
    store.close()
    assert workspace.cli("alerts", "send").returncode == 0
    assert len(handler.received) == 2 * len(RECIPIENTS)
    for item in handler.received:
        assert item.rcpt[0] in RECIPIENTS  # no smuggled recipient
        message = item.message
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
        rich = message.get_body(("html",)).get_content()
        assert "<script>" not in rich and "<b>near</b>" not in rich
    hostile_mail = next(r.message for r in handler.received if "Convoy" in r.message["Subject"])
    assert "Bcc: victim@evil.example" in hostile_mail["Subject"]  # kept as text, on one line
    assert "&lt;script&gt;" in hostile_mail.get_body(("html",)).get_content()
    unicode_mail = next(r.message for r in handler.received if "Gwādar" in r.message["Subject"])
    assert "ہنگامی" in unicode_mail["Subject"]
    assert "تصدیق" in unicode_mail.get_body(("plain",)).get_content()


def test_server_down_then_up_delivers_each_alert_exactly_once(workspace):
    handler, port = Handler(), free_port()
    configure(workspace, port)
    store = Store(workspace.db)
    _flag(store, workspace, "Chinese engineers attacked", "Gunmen attacked Chinese engineers.")
    store.close()
    down = workspace.cli("alerts", "send")  # nothing listens on the port yet
    assert down.returncode == 4
    assert f"cannot reach SMTP server 127.0.0.1:{port}" in down.stderr
    rows = workspace.query("SELECT status, attempts, last_error FROM alerts")
    assert {r["status"] for r in rows} == {"pending"}
    assert rows[0]["attempts"] == 1 and "cannot reach" in rows[0]["last_error"]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        time.sleep(1.1)  # the backoff (1 s in this config)
        assert workspace.cli("alerts", "send").returncode == 0
        assert workspace.cli("alerts", "send").returncode == 0
    finally:
        controller.stop()
    assert sorted(r.rcpt[0] for r in handler.received) == sorted(RECIPIENTS)


def test_421_then_success(workspace, smtp):
    handler, controller = smtp
    handler.busy_once = True
    configure(workspace, controller.port)
    store = Store(workspace.db)
    _flag(store, workspace, "Chinese engineers attacked", "Gunmen attacked Chinese engineers.")
    store.close()
    first = workspace.cli("alerts", "send")
    assert "421" in first.stderr
    time.sleep(1.1)
    assert workspace.cli("alerts", "send").returncode == 0
    assert sorted(r.rcpt[0] for r in handler.received) == sorted(RECIPIENTS)
    assert {r["status"] for r in workspace.query("SELECT status FROM alerts")} == {"sent"}


def test_550_for_one_recipient_fails_only_that_one_and_retry_requeues_it(workspace, smtp):
    handler, controller = smtp
    handler.refuse = {"duty@example.org"}
    configure(workspace, controller.port)
    store = Store(workspace.db)
    _flag(store, workspace, "Chinese engineers attacked", "Gunmen attacked Chinese engineers.")
    store.close()
    workspace.cli("alerts", "send")
    assert [r.rcpt[0] for r in handler.received] == ["desk@example.org"]
    failed = workspace.cli("alerts", "list", "--failed")
    assert "duty@example.org" in failed.stdout and "550" in failed.stdout
    handler.refuse = set()
    assert "1 alert(s) queued again" in workspace.cli("alerts", "retry").stdout
    assert workspace.cli("alerts", "send").returncode == 0
    assert sorted(r.rcpt[0] for r in handler.received) == sorted(RECIPIENTS)


def test_killed_between_send_and_commit_loses_nothing_and_resends_with_the_same_id(workspace, smtp):
    handler, controller = smtp
    configure(workspace, controller.port)
    store = Store(workspace.db)
    _flag(store, workspace, "Chinese engineers attacked", "Gunmen attacked Chinese engineers.")
    store.close()
    process = subprocess.Popen(
        [*WIREWATCH, "alerts", "send", "--config", str(workspace.config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    handler.kill_pid = process.pid
    process.wait(30)
    assert process.returncode == -signal.SIGKILL
    assert len(handler.received) == 1  # accepted by the server, never marked sent
    assert workspace.cli("alerts", "send").returncode == 0
    by_recipient: dict[str, list[str]] = {}
    for item in handler.received:
        by_recipient.setdefault(item.rcpt[0], []).append(item.message["Message-ID"])
    assert sorted(by_recipient) == sorted(RECIPIENTS)
    for ids in by_recipient.values():
        assert len(set(ids)) == 1  # a duplicate, if any, carries the same Message-ID
    assert {r["status"] for r in workspace.query("SELECT status FROM alerts")} == {"sent"}


def test_no_smtp_writes_eml_files(workspace):
    workspace.config.write_text(workspace.config.read_text() + '[alerts]\noutbox_dir = "outbox"\n')
    store = Store(workspace.db)
    _flag(store, workspace, "Chinese engineers attacked", "Gunmen attacked Chinese engineers.")
    store.close()
    assert workspace.cli("alerts", "send").returncode == 0
    files = sorted((workspace.root / "outbox").glob("*.eml"))
    assert len(files) == 1  # the bundled route: one recipient
    message = email.message_from_bytes(files[0].read_bytes(), policy=email_policy.default)
    assert message["To"] == "security-desk@localhost"
    assert message.get_body(("html",)) is not None


def test_password_comes_from_the_environment_and_never_reaches_the_output(workspace):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[str] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"s3cret-Pa55")
        logins.append("ok" if ok else "refused")
        return AuthResult(success=ok)

    handler, port = Handler(), free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        configure(workspace, port)
        workspace.config.write_text(
            workspace.config.read_text().replace('security = "none"', 'security = "none"\nusername = "bot"')
        )
        store = Store(workspace.db)
        _flag(store, workspace, "Chinese engineers attacked", "Gunmen attacked Chinese engineers.")
        store.close()
        result = workspace.cli("alerts", "send")  # WIREWATCH_SMTP_PASSWORD is not set
        assert result.returncode == 4 and "WIREWATCH_SMTP_PASSWORD is not set" in result.stderr
        assert not handler.received and not logins
        env = {
            **os.environ,
            "WIREWATCH_SMTP_PASSWORD": "s3cret-Pa55",
            "WIREWATCH_CONFIG": str(workspace.config),
        }
        time.sleep(1.1)
        result = subprocess.run([*WIREWATCH, "alerts", "send"], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
    finally:
        controller.stop()
    assert logins == ["ok"]
    assert sorted(r.rcpt[0] for r in handler.received) == sorted(RECIPIENTS)
    assert "s3cret-Pa55" not in result.stdout + result.stderr
    assert "s3cret-Pa55" not in Path(workspace.config).read_text()
