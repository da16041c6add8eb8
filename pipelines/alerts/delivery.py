"""Sending the outbox: over SMTP (STARTTLS, implicit TLS or plain, with login), or into a
folder of .eml files when no SMTP server is configured.

Each message is claimed, sent, and marked in its own transaction. A temporary failure
(no connection, timeout, a 4xx reply) leaves it pending with a backoff; a permanent one (a
5xx reply, a refused recipient) marks it failed with the server's reply. A process killed
after the server accepted a message but before the mark is committed sends it again on the
next run, with the same Message-ID.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipelines.alerts import outbox
from pipelines.alerts.compose import compose_alert, compose_digest, compose_notice, compose_report

if TYPE_CHECKING:
    from pipelines.store import Store
from pipelines.alerts.policy import AlertPolicy, SmtpSettings

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    def __init__(self, message: str, temporary: bool, connection: bool = False):
        super().__init__(message)
        self.temporary = temporary
        self.connection = connection  # the server is unusable: stop this round


class Transport(Protocol):
    def send(self, message: EmailMessage, recipient: str) -> None: ...

    def close(self) -> None: ...


class FolderTransport:
    """Writes each message as ``<folder>/<message id>.eml``; a resend replaces the same file."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: EmailMessage, recipient: str) -> None:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"]).strip("<>"))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.folder / f".{name}.tmp"
            temporary.write_bytes(message.as_bytes(policy=email_policy.SMTP))
            os.replace(temporary, self.folder / f"{name}.eml")
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to {self.folder}: {exc}", temporary=True, connection=True
            ) from exc

    def close(self) -> None:
        pass


class SmtpTransport:
    def __init__(self, settings: SmtpSettings, sender_address: str):
        self.settings = settings
        self.sender_address = sender_address
        self.conn: smtplib.SMTP | None = None

    @property
    def server(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        password = os.environ.get(s.password_env, "") if s.username else ""
        if s.username and not password:
            raise DeliveryError(
                f"SMTP login for {s.username} at {self.server}: the environment variable {s.password_env} "
                "is not set",
                temporary=True,
                connection=True,
            )
        try:
            if s.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            if s.username:
                conn.login(s.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP login for {s.username} at {self.server} refused: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}",
                temporary=True,
                connection=True,
            ) from None
        except OSError as exc:
            raise DeliveryError(
                f"cannot reach SMTP server {self.server}: {exc}", temporary=True, connection=True
            ) from None
        except smtplib.SMTPException as exc:
            raise DeliveryError(
                f"SMTP server {self.server}: {exc}", temporary=True, connection=True
            ) from None
        return conn

    def send(self, message: EmailMessage, recipient: str) -> None:
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.send_message(message, from_addr=self.sender_address, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (550, b"refused"))
            raise DeliveryError(
                f"{self.server} refused {recipient}: {code} {_text(reply)}", 400 <= code < 500
            ) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:
                self.conn = None  # the server is closing the connection
            raise DeliveryError(
                f"{self.server} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                temporary=400 <= exc.smtp_code < 500,
                connection=exc.smtp_code == 421,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.conn = None
            raise DeliveryError(
                f"lost the SMTP server {self.server}: {exc}", temporary=True, connection=True
            ) from None

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.conn.quit()
            self.conn = None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def transport_for(policy: AlertPolicy, base: Path) -> Transport:
    if policy.smtp.host:
        return SmtpTransport(policy.smtp, policy.sender_address)
    folder = Path(policy.outbox_dir)
    return FolderTransport(folder if folder.is_absolute() else base / folder)


@dataclass
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def deliver(
    store: Store, policy: AlertPolicy, transport: Transport, source_titles: dict[str, str]
) -> Delivery:
    """Send every due core alert and digest once."""
    result = Delivery()
    outbox.release_stale_claims(store)
    jobs = [("alerts", row) for row in store.due_alerts()]
    jobs += [("digests", row) for row in store.due_digests()]
    jobs += [("reports", row) for row in store.due_reports()]
    jobs += [("notices", row) for row in store.due_notices()]
    try:
        for table, row in jobs:
            if not store.claim(table, row["id"], outbox.me()):
                continue
            if table == "alerts":
                message = compose_alert(
                    row, policy, source_titles.get(row["source"], row["source"]), source_titles
                )
            elif table == "digests":
                message = compose_digest(row, policy, source_titles)
            elif table == "reports":
                message = compose_report(row, policy)
            else:
                message = compose_notice(row, policy)
            try:
                transport.send(message, row["recipient"])
            except DeliveryError as exc:
                status = outbox.failed(store, table, row["id"], str(exc), exc.temporary, policy)
                result.failed += status == "failed"
                result.retrying += status == "pending"
                result.errors.append(f"{table[:-1]} {row['id']} to {row['recipient']}: {exc}")
                logger.error("alert delivery: %s %s to %s: %s", table[:-1], row["id"], row["recipient"], exc)
                if exc.connection:
                    break  # the rest stay pending, untouched, for the next round
                continue
            store.mark_sent(table, row["id"])
            result.sent += 1
    finally:
        transport.close()
    return result
