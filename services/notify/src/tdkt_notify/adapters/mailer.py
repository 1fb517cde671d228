"""The email channel: build a MIME message and hand it to an SMTP server, step by step.

Sending is split at the one point that matters for "exactly once": everything before the DATA
command (connect, EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO) can fail or crash without anything
being delivered, so a resend is safe; once DATA is sent the server may accept the message even if
we never hear its reply. `Mailer.send` calls `before_data()` right before DATA so the caller can
record that it is committing; only a crash after that point leaves a delivery in doubt.

Settings (environment, all optional):
SMTP_HOST (127.0.0.1), SMTP_PORT (8025, the development mail catcher of `make up`),
SMTP_STARTTLS (false), SMTP_USERNAME / SMTP_PASSWORD (AUTH only when a username is set),
SMTP_CA_FILE (a PEM of certificates to trust instead of the system's, e.g. a test CA),
MAIL_FROM ("Hệ thống TĐKT <no-reply@tdkt.local>"), SMTP_TIMEOUT_S (10, per network operation).
"""

from __future__ import annotations

import copy
import email.policy
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path

from tdkt.settings import SettingsError

DEFAULT_MAIL_FROM = "Hệ thống TĐKT <no-reply@tdkt.local>"
MESSAGE_ID_DOMAIN = "tdkt.local"

# 7-bit clean: bodies are base64 or quoted-printable and headers RFC 2047/2231 encoded, so the
# message passes any relay unchanged, whether or not it offers 8BITMIME or SMTPUTF8.
POLICY = email.policy.default.clone(cte_type="7bit")
WIRE_POLICY = POLICY.clone(linesep="\r\n")

# RFC 5322 dot-atom: what may stand left of the "@" in a Message-ID without quoting.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


# -- settings ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    username: str | None
    password: str | None
    mail_from: str
    timeout_s: float
    ca_file: Path | None = None  # trust these certificates instead of the system's (tests, a private CA)


def load_smtp_settings(environ: Mapping[str, str] = os.environ) -> SmtpSettings:
    """Read and validate the SMTP variables; raise SettingsError naming every bad one at once."""
    errors: list[str] = []
    settings = SmtpSettings(
        host=environ.get("SMTP_HOST", "").strip() or "127.0.0.1",
        port=_port(environ, errors),
        starttls=_flag(environ, "SMTP_STARTTLS", errors),
        username=environ.get("SMTP_USERNAME") or None,
        password=environ.get("SMTP_PASSWORD") or None,
        mail_from=_mail_from(environ, errors),
        timeout_s=_timeout(environ, errors),
        ca_file=_ca_file(environ, errors),
    )
    if settings.password and not settings.username:
        errors.append("SMTP_PASSWORD: set without SMTP_USERNAME (AUTH needs both)")
    if settings.username and not settings.password:
        errors.append("SMTP_USERNAME: set without SMTP_PASSWORD (AUTH needs both)")
    if errors:
        raise SettingsError("invalid environment: " + " | ".join(errors))
    return settings


def _port(environ: Mapping[str, str], errors: list[str]) -> int:
    value = environ.get("SMTP_PORT", "8025").strip()
    if not value.isdigit() or not 0 < int(value) < 65536:
        errors.append(f"SMTP_PORT: {value!r} is not a port number (1–65535)")
        return 8025
    return int(value)


def _flag(environ: Mapping[str, str], name: str, errors: list[str]) -> bool:
    value = environ.get(name, "false").strip().lower()
    if value not in _TRUE | _FALSE:
        errors.append(f"{name}: {value!r} is not a boolean (true/false)")
    return value in _TRUE


def _mail_from(environ: Mapping[str, str], errors: list[str]) -> str:
    value = environ.get("MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM
    if "@" not in parseaddr(value)[1]:
        errors.append(f'MAIL_FROM: {value!r} is not an address (e.g. "Hệ thống TĐKT <no-reply@example.gov.vn>")')
    return value


def _timeout(environ: Mapping[str, str], errors: list[str]) -> float:
    value = environ.get("SMTP_TIMEOUT_S", "10").strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        errors.append(f"SMTP_TIMEOUT_S: {value!r} is not a number of seconds between 0 and 600")
        return 10.0
    return seconds


def _ca_file(environ: Mapping[str, str], errors: list[str]) -> Path | None:
    value = environ.get("SMTP_CA_FILE", "").strip()
    if not value:
        return None
    if not Path(value).is_file():
        errors.append(f"SMTP_CA_FILE: no such file: {value}")
    return Path(value)


# -- message -------------------------------------------------------------------------------------
def build_message(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    mail_from: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A UTF-8 message: text (+ html as an alternative) (+ attachments as multipart/mixed).

    `message_id` is the delivery's id, so a resend of the same delivery carries the same
    Message-ID and a receiving system can drop the duplicate.
    """
    if not to:
        raise ValueError("a message needs at least one recipient")
    if not _DOT_ATOM.fullmatch(message_id):
        raise ValueError(f"message_id {message_id!r} cannot stand in a Message-ID (letters, digits, . _ - and the like)")
    message = EmailMessage(policy=POLICY)
    message["Subject"] = subject
    message["From"] = mail_from
    message["To"] = [_address(recipient) for recipient in to]
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{message_id}@{MESSAGE_ID_DOMAIN}>"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return message


def _address(text: str) -> Address:
    name, addr = parseaddr(text)
    if "@" not in addr:
        raise ValueError(f"{text!r} is not an email address")
    return Address(display_name=name, addr_spec=addr)


# -- sending -------------------------------------------------------------------------------------
class TemporaryFailure(Exception):
    """The server or the network said "not now" (4xx, refused, reset, timeout): retry later."""


class PermanentFailure(Exception):
    """The server said "never" (5xx: unknown mailbox, bad credentials, no STARTTLS): do not retry."""


class Mailer:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def send(self, message: EmailMessage, *, before_data: Callable[[], None] = lambda: None) -> str:
        """Deliver `message` to its To/Cc/Bcc recipients; return the server's final reply
        (e.g. "250 2.0.0 Ok: queued as …"). `before_data()` runs once, right before DATA, only
        when every recipient has been accepted; if it raises, nothing is sent and its error
        propagates unchanged."""
        sender, recipients, payload = _envelope(message, self.settings.mail_from)
        try:
            smtp = smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.settings.timeout_s)
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc, self._where(), committing=False) from exc
        try:
            try:
                self._greet(smtp)
                self._secure(smtp)
                self._authenticate(smtp)
                self._address(smtp, sender, recipients)
            except (smtplib.SMTPException, OSError) as exc:
                raise _classify(exc, self._where(), committing=False) from exc
            before_data()  # outside the classification: the caller's own error stays its own
            try:
                code, reply = smtp.data(payload)
            except (smtplib.SMTPException, OSError) as exc:
                raise _classify(exc, self._where(), committing=True) from exc
            return f"{code} {reply.decode('utf-8', 'replace')}"
        finally:
            _close(smtp)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _greet(self, smtp: smtplib.SMTP) -> None:
        code, reply = smtp.ehlo()
        if code != 250:
            raise smtplib.SMTPHeloError(code, reply)

    def _secure(self, smtp: smtplib.SMTP) -> None:
        if not self.settings.starttls:
            return
        # starttls() raises SMTPNotSupportedError when the server does not offer it: we never
        # fall back to clear text once TLS is configured (that is how a downgrade attack works).
        smtp.starttls(context=self._tls_context())
        self._greet(smtp)  # the capabilities (AUTH among them) may differ once encrypted

    def _tls_context(self) -> ssl.SSLContext:
        # Verification stays on: with SMTP_CA_FILE we trust that CA instead of the system's.
        ca_file = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=ca_file)

    def _authenticate(self, smtp: smtplib.SMTP) -> None:
        if self.settings.username:
            smtp.login(self.settings.username, self.settings.password or "")

    def _address(self, smtp: smtplib.SMTP, sender: str, recipients: list[str]) -> None:
        code, reply = smtp.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


def _envelope(message: EmailMessage, default_sender: str) -> tuple[str, list[str], bytes]:
    """The envelope (sender, recipients) from the headers, and the bytes to send (without Bcc)."""
    sender = parseaddr(str(message["From"] or default_sender))[1]
    fields = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    recipients = list(dict.fromkeys(addr for _, addr in getaddresses(fields) if addr))
    if not recipients:
        raise ValueError("the message has no recipient (To, Cc or Bcc)")
    if message["Bcc"] is not None:
        message = copy.deepcopy(message)
        del message["Bcc"]
    return sender, recipients, message.as_bytes(policy=WIRE_POLICY)


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; a connection that is already broken is just closed. Never raises: once DATA
    was accepted, a failing QUIT must not turn a delivered message into a failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _classify(exc: Exception, where: str, committing: bool) -> TemporaryFailure | PermanentFailure:
    """Map what smtplib or the network raised to retry-or-not, with a message an officer can read.

    A clear 4xx/5xx reply to DATA means the server did not take the message; only a broken
    connection or a timeout after DATA began leaves it in doubt, and the message says so."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refused_recipients(exc.recipients)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentFailure(f"Máy chủ thư {where} không hỗ trợ / the mail server {where} does not support it: {exc} Không gửi thư không mã hóa / not sending in clear text.")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentFailure(f"Chứng chỉ TLS của máy chủ thư {where} không đáng tin / the mail server's TLS certificate is not trusted: {exc.verify_message}")
    if isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 600:
        return _by_code(exc.smtp_code, exc.smtp_error, where)
    doubt = " (sau lệnh DATA: thư có thể đã được nhận / after DATA: the message may have been delivered)" if committing else ""
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPResponseException | OSError):
        # a dropped connection, a read timeout (smtplib turns it into SMTPServerDisconnected),
        # a refused or reset connection, or a reply that is no reply (code -1): try again later
        return TemporaryFailure(f"Không liên lạc được máy chủ thư {where} / cannot talk to the mail server {where}: {exc or type(exc).__name__}{doubt}")
    # what is left is smtplib's own verdicts, such as "no suitable authentication method"
    return PermanentFailure(f"Không gửi được qua máy chủ thư {where} / cannot send through the mail server {where}: {exc}")


def _by_code(code: int, reply: bytes | str, where: str) -> TemporaryFailure | PermanentFailure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    if code < 500:
        return TemporaryFailure(f"Máy chủ thư {where} tạm từ chối, sẽ thử lại / the mail server {where} deferred: {code} {text}")
    return PermanentFailure(f"Máy chủ thư {where} từ chối / the mail server {where} refused: {code} {text}")


def _refused_recipients(refused: dict[str, tuple[int, bytes]]) -> TemporaryFailure | PermanentFailure:
    details = "; ".join(f"{addr}: {code} {reply.decode('utf-8', 'replace')}" for addr, (code, reply) in refused.items())
    # one address the server will never accept makes the whole delivery permanent: a retry
    # would fail the same way
    if any(500 <= code < 600 for code, _ in refused.values()):
        return PermanentFailure(f"Địa chỉ nhận bị từ chối / recipient refused: {details}")
    return TemporaryFailure(f"Địa chỉ nhận tạm bị từ chối, sẽ thử lại / recipient deferred: {details}")
