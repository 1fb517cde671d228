"""The webhook channel against a real receiver (the `webhook_receiver` fixture: an HTTP server on
127.0.0.1 that verifies every signature with tdkt.signing): what each answer means for the
delivery, timeouts, redirects, TLS to the resolved address under the original name, and the
targets refused in production (SSRF). No mocks: real sockets, the real resolver."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tdkt import signing
from tdkt.errors import Invalid
from tdkt_localstack.pytest_plugin import WebhookReceiver
from tdkt_notify.adapters.webhooks import Attempt, UnsafeTarget, WebhookSender, backoff_s, check_target

EVENT = "vn.tdkt.awards.nomination.decided.v1"
BODY = json.dumps({"type": EVENT, "data": {"nominee": "Lò Thị Mai", "title": "Lao động tiên tiến"}}, ensure_ascii=False).encode()


@pytest.fixture
def sender() -> WebhookSender:
    return WebhookSender(production=False, timeout_s=2.0)


def send(sender: WebhookSender, receiver: WebhookReceiver, path: str = "/hook", delivery: str = "dlv-1", secret: str | None = None) -> Attempt:
    return sender.send(receiver.url(path), secret or receiver.secret, delivery, EVENT, BODY)


# --- outcomes -----------------------------------------------------------------------------------


def test_a_2xx_is_accepted_and_the_receiver_can_verify_it(sender, webhook_receiver):
    attempt = send(sender, webhook_receiver, "/hook?unit=u-binh-lu")
    assert attempt.accepted and not attempt.retryable and attempt.status_code == 200 and attempt.error is None
    assert 0 <= attempt.latency_ms < 2000
    [(path, headers, body)] = webhook_receiver.received
    assert webhook_receiver.refused == []  # the signature held
    assert path == "/hook?unit=u-binh-lu" and body == BODY
    assert headers["X-TDKT-Event"] == EVENT and headers["x-tdkt-delivery"] == "dlv-1"
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == "tdkt-notify/1"
    assert headers["Host"] == f"127.0.0.1:{webhook_receiver.port}"
    assert signing.verify(webhook_receiver.secret, headers, body) == "dlv-1"


def test_each_answer_is_classified(sender, webhook_receiver):
    webhook_receiver.respond("/hook", [503, 400, 429, 408, 500, 404, 201, 204])
    seen = [send(sender, webhook_receiver, delivery=f"dlv-{i}") for i in range(8)]
    assert [(a.status_code, a.retryable, a.accepted) for a in seen] == [
        (503, True, False),
        (400, False, False),
        (429, True, False),
        (408, True, False),
        (500, True, False),
        (404, False, False),
        (201, False, True),
        (204, False, True),
    ]
    assert all(" / " in a.error and str(a.status_code) in a.error for a in seen if not a.accepted)  # bilingual, naming the status
    assert len(webhook_receiver.received) == 8 and webhook_receiver.refused == []


def test_scripted_retries_end_accepted(sender, webhook_receiver):
    webhook_receiver.respond("/hook", [503, 503, 200])
    outcomes = [send(sender, webhook_receiver) for _ in range(3)]  # a retry sends the same delivery id
    assert [a.status_code for a in outcomes] == [503, 503, 200] and outcomes[-1].accepted
    assert {r.headers["X-TDKT-Delivery"] for r in webhook_receiver.wait_for(3)} == {"dlv-1"}


def test_a_slow_receiver_times_out_as_a_retryable_error(webhook_receiver):
    webhook_receiver.delay("/slow", 3.0)
    attempt = WebhookSender(production=False, timeout_s=0.5).send(webhook_receiver.url("/slow"), webhook_receiver.secret, "dlv-1", EVENT, BODY)
    assert attempt.status_code is None and attempt.retryable and not attempt.accepted
    assert "0.5" in attempt.error and " / " in attempt.error
    assert 450 <= attempt.latency_ms < 1500  # ≈ the timeout, not the receiver's 3 s


def test_a_redirect_is_not_followed_nor_retried(sender, webhook_receiver):
    """Not followed: the Location could point anywhere, the checks were for this URL. Not retried:
    the receiver moved and would say the same again; the subscription's URL must change."""
    webhook_receiver.respond("/old", [(302, {"Location": webhook_receiver.url("/new")})])
    attempt = send(sender, webhook_receiver, "/old")
    assert attempt.status_code == 302 and not attempt.accepted and not attempt.retryable
    assert webhook_receiver.url("/new") in attempt.error
    assert [r.path for r in webhook_receiver.received] == ["/old"]


def test_a_wrong_secret_is_refused_by_the_receiver(sender, webhook_receiver):
    attempt = send(sender, webhook_receiver, secret="not-the-subscription-secret-0123456789")
    assert attempt.status_code == 401 and not attempt.retryable and not attempt.accepted
    assert [reason for _, reason in webhook_receiver.refused] == ["Chữ ký không đúng / the signature does not match"]


def test_a_large_error_body_is_read_only_in_part(sender, webhook_receiver):
    webhook_receiver.respond("/hook", [(500, {"Content-Type": "text/plain"}, b"boom " * 400_000)])  # 2 MB
    attempt = send(sender, webhook_receiver)
    assert attempt.status_code == 500 and attempt.retryable
    assert "boom" in attempt.error and len(attempt.error) < 400  # an excerpt, not the 2 MB


def test_nobody_listening_is_a_retryable_error(sender):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    attempt = sender.send(f"http://127.0.0.1:{port}/hook", "secret", "dlv-1", EVENT, BODY)
    assert attempt.status_code is None and attempt.retryable and not attempt.accepted and " / " in attempt.error


def test_unsendable_deliveries_never_reach_the_receiver(sender, webhook_receiver):
    production = WebhookSender(production=True, timeout_s=2.0)
    refused = [
        production.send(webhook_receiver.url(), webhook_receiver.secret, "dlv-1", EVENT, BODY),  # http, loopback
        production.send(webhook_receiver.url(host="localhost").replace("http:", "https:"), webhook_receiver.secret, "dlv-1", EVENT, BODY),
        sender.send("ftp://127.0.0.1/hook", "secret", "dlv-1", EVENT, BODY),
        sender.send(webhook_receiver.url(), webhook_receiver.secret, "dlv-1\r\nX-Injected: 1", EVENT, BODY),  # header injection
        sender.send(webhook_receiver.url(), webhook_receiver.secret, "dlv-1", "", BODY),
    ]
    for attempt in refused:
        assert attempt.status_code is None and not attempt.retryable and not attempt.accepted and " / " in attempt.error
    assert webhook_receiver.received == []


def test_a_name_that_does_not_resolve_is_retryable(sender):
    attempt = sender.send("https://hooks.example.invalid/tdkt", "secret", "dlv-1", EVENT, BODY)  # .invalid never resolves (RFC 6761)
    assert attempt.status_code is None and attempt.retryable and "hooks.example.invalid" in attempt.error


# --- TLS: connected to the checked address, spoken to as the URL's name --------------------------


def _certificate(tmp_path, name: str) -> tuple[bytes, ssl.SSLContext]:
    """A throwaway CA and a server certificate for `name` signed by it: (CA PEM, server context)."""
    now = dt.datetime.now(dt.UTC)

    def issue(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = issue("tdkt test CA", ca_key, "tdkt test CA", ca_key, ca=True)
    server = issue(name, server_key, "tdkt test CA", ca_key, ca=False)
    chain, key = tmp_path / "server.pem", tmp_path / "server.key"
    chain.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, key)
    return ca.public_bytes(serialization.Encoding.PEM), context


def test_https_goes_to_the_resolved_address_with_the_original_name(tmp_path):
    ca, server_context = _certificate(tmp_path, "localhost")
    names: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    sender = WebhookSender(production=False, timeout_s=2.0)
    sender._tls.load_verify_locations(cadata=ca.decode())  # trust the test CA, as a deployment trusts the system's
    with WebhookReceiver(ssl_context=server_context) as receiver:
        attempt = sender.send(receiver.url(host="localhost"), receiver.secret, "dlv-1", EVENT, BODY)
        assert attempt.accepted, attempt.error
        assert names == ["localhost"]  # SNI: the URL's name, though the socket went to 127.0.0.1
        assert receiver.received[0].headers["Host"] == f"localhost:{receiver.port}"
        # the same server by address: its certificate names "localhost", not 127.0.0.1 — refused, retryable
        wrong = sender.send(receiver.url(host="127.0.0.1"), receiver.secret, "dlv-1", EVENT, BODY)
        assert wrong.status_code is None and wrong.retryable and "TLS" in wrong.error
        assert len(receiver.received) == 1


# --- targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.org/x",
        "https://user:pw@hooks.example.org/x",
        "https://hooks.example.org/x#frag",
        "https:///x",
        "http://hooks.example.org/x",  # production: https only
        "https://127.0.0.1/x",
        "https://127.0.0.1:8443/x",
        "https://localhost/x",
        "https://localhost./x",
        "https://api.localhost/x",
        "https://10.0.0.1/x",
        "https://172.16.5.4/x",
        "https://192.168.1.10/x",
        "https://100.64.0.1/x",  # carrier-grade NAT
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:a9fe:a9fe]/x",  # 169.254.169.254, IPv4-mapped
        "https://[64:ff9b::a00:1]/x",  # 10.0.0.1 behind NAT64
        "https://[fd00:ec2::254]/x",  # unique local (AWS's IPv6 metadata)
        "https://[fe80::1]/x",
        "https://0.0.0.0/x",
        "https://[::]/x",
        "https://224.0.0.1/x",
        "https://240.0.0.1/x",
        "https://127.1/x",  # legacy forms the resolver turns into 127.0.0.1
        "https://2130706433/x",
        "https://0x7f000001/x",
        "https://hooks.example.invalid/x",  # production: a name that does not resolve
        "https://hooks.example.org:99999/x",
        "https://hooks.example.org/a b",
    ],
)
def test_production_refuses(url):
    with pytest.raises(UnsafeTarget) as refused:
        check_target(url, production=True)
    assert isinstance(refused.value, Invalid) and list(refused.value.errors["json"]) == ["url"]
    assert " / " in refused.value.message


def test_production_accepts_public_https():
    check_target("https://93.184.215.14/hooks/tdkt?x=1", production=True)
    check_target("https://[2606:4700:4700::1111]/hooks", production=True)


def test_development_allows_http_and_loopback_only():
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9000/", "http://[::ffff:127.0.0.1]/", "https://hooks.example.invalid/x"):
        check_target(url, production=False)  # .invalid: offline machines cannot resolve anything; send() checks again
    for url in ("http://10.0.0.1/", "http://169.254.169.254/", "http://0.0.0.0:8080/", "http://user:pw@127.0.0.1/", "ftp://127.0.0.1/", "http://[fe80::1%25eth0]/"):
        with pytest.raises(UnsafeTarget):
            check_target(url, production=False)


def test_a_name_is_judged_by_every_address_it_resolves_to():
    # "localhost" is refused by name already; 127.1 is not an address literal, so only the resolver's answer refuses it
    assert ipaddress.ip_address(socket.getaddrinfo("127.1", 443)[0][4][0]).is_loopback
    with pytest.raises(UnsafeTarget) as refused:
        check_target("https://127.1/x", production=True)
    assert "127.0.0.1" in refused.value.message


# --- backoff ------------------------------------------------------------------------------------


def test_backoff_grows_with_full_jitter_and_stays_under_the_cap():
    ceiling = [backoff_s(n, rng=lambda: 1.0) for n in range(1, 15)]  # the top of each interval
    assert ceiling[:5] == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert ceiling == sorted(ceiling) and max(ceiling) == 3600.0
    assert backoff_s(3, rng=lambda: 0.5) == 4.0 and backoff_s(3, rng=lambda: 0.0) == 0.0
    assert backoff_s(10_000, rng=lambda: 1.0) == 3600.0  # no overflow on a very late attempt
    assert backoff_s(0, rng=lambda: 1.0) == 2.0  # attempts count from 1
    assert backoff_s(4, base_s=1.0, cap_s=5.0, rng=lambda: 1.0) == 5.0
    assert all(0.0 <= backoff_s(n) <= 3600.0 for n in range(1, 40))
