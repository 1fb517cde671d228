"""The email channel against real SMTP servers on loopback (aiosmtpd): what is sent arrives
intact, `before_data` marks the last safe moment, and each failure is classed retry-or-not."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tdkt.settings import SettingsError
from tdkt_localstack.mailcatcher import start_catcher
from tdkt_localstack.ports import free_port
from tdkt_notify.adapters.mailer import (
    DEFAULT_MAIL_FROM,
    Mailer,
    PermanentFailure,
    SmtpSettings,
    TemporaryFailure,
    build_message,
    load_smtp_settings,
)

SUBJECT = "Nhắc hạn nộp báo cáo — Xã Bình Lư"
TEXT = "Kính gửi UBND Xã Bình Lư,\nĐề nghị nộp báo cáo sơ kết phong trào thi đua trước ngày 15/6.\n"
HTML = "<p>Kính gửi <b>UBND Xã Bình Lư</b>,</p><p>Đề nghị nộp báo cáo sơ kết trước ngày 15/6.</p>"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ATTACHMENT = ("Quyết định số 12/QĐ-UBND.docx", DOCX, b"PK\x03\x04" + bytes(range(256)) * 4)
USER, PASSWORD = "tdkt-notify", "s3cret-pass"


def settings_for(server, **changes) -> SmtpSettings:
    base = SmtpSettings(host=server.host, port=server.port, starttls=False, username=None, password=None, mail_from=DEFAULT_MAIL_FROM, timeout_s=5)
    return replace(base, **changes)


def message(to: str = "vanthu@binhlu.laichau.gov.vn", **changes):
    fields = {"to": [to], "subject": SUBJECT, "text": TEXT, "html": HTML, "message_id": "dlv-0001", "mail_from": DEFAULT_MAIL_FROM}
    return build_message(**(fields | changes))


# -- round trip -----------------------------------------------------------------------------------
def test_a_message_arrives_with_its_vietnamese_text_html_attachment_and_message_id(smtp_server):
    sent = message(to="Văn thư Xã Bình Lư <vanthu@binhlu.laichau.gov.vn>", attachments=[ATTACHMENT], message_id="6650f1c2a9e4b1d2c3e4f5a6")

    reply = Mailer(settings_for(smtp_server)).send(sent)

    assert reply.startswith("250 ")
    [got] = smtp_server.wait_for(1)
    assert got["Subject"] == SUBJECT
    assert got["Message-ID"] == "<6650f1c2a9e4b1d2c3e4f5a6@tdkt.local>"
    assert got["Date"].datetime is not None
    assert got["From"].addresses[0].display_name == "Hệ thống TĐKT"
    assert got["To"].addresses[0].display_name == "Văn thư Xã Bình Lư"
    assert got["X-Envelope-From"] == "no-reply@tdkt.local"
    assert got["X-Envelope-To"] == "vanthu@binhlu.laichau.gov.vn"
    assert got.get_content_type() == "multipart/mixed"
    assert got.get_body(("plain",)).get_content() == TEXT
    assert got.get_body(("html",)).get_content().strip() == HTML
    [attachment] = got.iter_attachments()
    assert attachment.get_filename() == "Quyết định số 12/QĐ-UBND.docx"
    assert attachment.get_content_type() == DOCX
    assert attachment.get_content() == ATTACHMENT[2]


def test_the_message_is_7bit_clean_with_encoded_headers():
    raw = message(attachments=[ATTACHMENT]).as_bytes()

    raw.decode("ascii")  # no 8-bit byte anywhere: any relay passes it unchanged
    assert b"=?utf-8?" in raw  # RFC 2047 encoded words (Subject, From's name)
    assert b"filename*" in raw  # RFC 2231 parameter (the attachment's name)


def test_without_html_or_attachments_it_is_plain_text(smtp_server):
    Mailer(settings_for(smtp_server)).send(message(html=None, message_id="dlv-plain"))

    [got] = smtp_server.wait_for(1)
    assert got.get_content_type() == "text/plain"
    assert got.get_content() == TEXT


def test_a_message_id_that_cannot_stand_in_the_header_is_refused():
    with pytest.raises(ValueError, match="message_id"):
        message(message_id="two words")


# -- before_data ----------------------------------------------------------------------------------
def test_before_data_runs_once_and_before_the_server_has_the_message(smtp_server):
    seen_then = []

    Mailer(settings_for(smtp_server)).send(message(), before_data=lambda: seen_then.append(len(smtp_server.messages())))

    assert seen_then == [0]
    assert len(smtp_server.wait_for(1)) == 1


def test_when_before_data_fails_nothing_is_sent_and_its_error_is_kept(smtp_server):
    class CannotRecord(Exception):
        pass

    def before_data():
        raise CannotRecord("the store is down")

    with pytest.raises(CannotRecord):
        Mailer(settings_for(smtp_server)).send(message(), before_data=before_data)
    assert smtp_server.messages() == []


# -- refusals -------------------------------------------------------------------------------------
def test_a_refused_recipient_is_permanent_names_the_address_and_commits_nothing(smtp_server):
    calls = []

    with pytest.raises(PermanentFailure, match="khong-co@binhlu.invalid") as failure:
        Mailer(settings_for(smtp_server)).send(message(to="khong-co@binhlu.invalid"), before_data=lambda: calls.append(1))

    assert "550" in str(failure.value)
    assert calls == []
    assert smtp_server.messages() == []


def test_a_deferred_recipient_is_temporary(smtp_server):
    with pytest.raises(TemporaryFailure, match="451"):
        Mailer(settings_for(smtp_server)).send(message(to="vanthu@defer.invalid"))


def test_a_closed_port_is_temporary():
    settings = SmtpSettings("127.0.0.1", free_port(), False, None, None, DEFAULT_MAIL_FROM, 5)

    with pytest.raises(TemporaryFailure, match="127.0.0.1"):
        Mailer(settings).send(message())


def test_a_server_that_never_answers_is_a_temporary_failure_after_the_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = SmtpSettings("127.0.0.1", silent.getsockname()[1], False, None, None, DEFAULT_MAIL_FROM, 0.5)
        with pytest.raises(TemporaryFailure):
            Mailer(settings).send(message())


# -- STARTTLS and AUTH ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tdkt test mail server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file


def _one_user(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    # handled=False: aiosmtpd then answers 535 itself (handled=True would mean "I replied", and it would stay silent)
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(certificate, tmp_path):
    """Like a real submission server: STARTTLS before anything else, then AUTH, then mail."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    catcher = start_catcher(tmp_path / "Maildir", tls_context=context, require_starttls=True, authenticator=_one_user, auth_required=True, auth_require_tls=True)
    try:
        yield catcher
    finally:
        catcher.stop()


def test_starttls_and_login_deliver(tls_server, certificate):
    settings = settings_for(tls_server, starttls=True, username=USER, password=PASSWORD, ca_file=certificate[0])

    reply = Mailer(settings).send(message(attachments=[ATTACHMENT]))

    assert reply.startswith("250 ")
    [got] = tls_server.wait_for(1)
    assert got["Subject"] == SUBJECT


def test_a_wrong_password_is_permanent(tls_server, certificate):
    settings = settings_for(tls_server, starttls=True, username=USER, password="wrong", ca_file=certificate[0])

    with pytest.raises(PermanentFailure, match="535"):
        Mailer(settings).send(message())
    assert tls_server.messages() == []


def test_an_untrusted_certificate_is_refused(tls_server):
    settings = settings_for(tls_server, starttls=True, username=USER, password=PASSWORD)  # the system's CAs only

    with pytest.raises(PermanentFailure, match="certificate"):
        Mailer(settings).send(message())
    assert tls_server.messages() == []


def test_without_starttls_the_tls_server_takes_nothing(tls_server):
    with pytest.raises(PermanentFailure, match="530"):
        Mailer(settings_for(tls_server)).send(message())


def test_starttls_configured_but_not_offered_never_falls_back_to_clear_text(smtp_server):
    calls = []

    with pytest.raises(PermanentFailure, match="STARTTLS"):
        Mailer(settings_for(smtp_server, starttls=True)).send(message(), before_data=lambda: calls.append(1))

    assert calls == []
    assert smtp_server.messages() == []


# -- settings -------------------------------------------------------------------------------------
def test_settings_default_to_the_development_mail_catcher():
    assert load_smtp_settings({}) == SmtpSettings("127.0.0.1", 8025, False, None, None, "Hệ thống TĐKT <no-reply@tdkt.local>", 10.0)


def test_settings_are_read_from_the_environment(certificate):
    environ = {
        "SMTP_HOST": "smtp.laichau.gov.vn",
        "SMTP_PORT": "587",
        "SMTP_STARTTLS": "true",
        "SMTP_USERNAME": USER,
        "SMTP_PASSWORD": PASSWORD,
        "SMTP_CA_FILE": str(certificate[0]),
        "MAIL_FROM": "Phòng Nội vụ <tdkt@laichau.gov.vn>",
        "SMTP_TIMEOUT_S": "2.5",
    }

    assert load_smtp_settings(environ) == SmtpSettings("smtp.laichau.gov.vn", 587, True, USER, PASSWORD, "Phòng Nội vụ <tdkt@laichau.gov.vn>", 2.5, certificate[0])


def test_every_invalid_setting_is_named():
    environ = {"SMTP_PORT": "smtp", "SMTP_STARTTLS": "maybe", "SMTP_TIMEOUT_S": "0", "MAIL_FROM": "nobody", "SMTP_CA_FILE": "/no/such.pem", "SMTP_USERNAME": USER}

    with pytest.raises(SettingsError) as error:
        load_smtp_settings(environ)

    for name in ("SMTP_PORT", "SMTP_STARTTLS", "SMTP_TIMEOUT_S", "MAIL_FROM", "SMTP_CA_FILE", "SMTP_USERNAME"):
        assert name in str(error.value)
