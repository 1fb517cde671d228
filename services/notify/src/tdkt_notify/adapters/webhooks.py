"""The webhook channel: who may be called (SSRF protection), how a call is signed and sent, and what
its answer means for the delivery (accepted, retry later, give up).

Targets (`check_target`, when a subscription is saved, and again inside `send`): http or https
only, a host, no `user:password@`, no `#fragment`. In production (`TDKT_ENV=production`): https
only, and the host must be public — "localhost" (and `*.localhost`) and every address the name
resolves to must not be loopback, private (RFC 1918, fc00::/7, 100.64/10), link-local
(169.254/16 with the cloud metadata address, fe80::/10), multicast, reserved or unspecified
(0.0.0.0, ::), nor an IPv6 form wrapping one of those (::ffff:a.b.c.d, 6to4, NAT64). Outside
production (development, test) http and loopback are allowed, so tests and a developer can use a
local receiver; every other rule holds, and a name that does not resolve is let through (offline
machines; the send re-checks it), while production refuses it.

Sending (`WebhookSender.send`): POST of the JSON body with the platform's signature headers
(`tdkt.signing`: X-TDKT-Timestamp, X-TDKT-Delivery, X-TDKT-Signature) and X-TDKT-Event.
DNS rebinding: a name could resolve to a public address when checked and to 127.0.0.1 when
connected. So `send` resolves once, refuses the target when any address is unsafe, and connects
to that resolved address itself, while the request carries the original Host header and TLS the
original name (SNI and certificate check). Chosen means: the standard library's `http.client`,
with the connection's `connect()` opening the socket to the checked address and wrapping it with
`server_hostname=<original name>` — no third-party transport to bend, no proxy variables
(`HTTPS_PROXY` would route around the check), never a redirect followed. TLS trusts the system's
CA store (`ssl.create_default_context()`). The addresses are tried in the resolver's order when a
connection is refused.

Outcomes (an `Attempt`, never an exception): 2xx accepted; 408, 429 and 5xx retryable;
connection errors, TLS errors, timeouts and a name that does not resolve retryable; other 4xx
not retryable; a redirect (3xx) is not followed and not retried — the receiver moved and the
subscription's URL must be changed, retrying would get the same answer; an unsafe target or an
unsendable delivery id is not retryable. `timeout_s` bounds the whole attempt (connect, send,
the answer's headers); at most 64 KB of an answer's body is read, and only until that deadline.
"""

from __future__ import annotations

import http.client
import ipaddress
import random
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tdkt import signing
from tdkt.errors import Invalid

MAX_URL_CHARS = 2048
MAX_BODY_READ = 64 * 1024
EXCERPT_CHARS = 200  # of a refusing answer's body, kept in the attempt's error for whoever debugs it
EVENT_HEADER = "X-TDKT-Event"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges the `ipaddress` flags miss or that 3.11 patch releases judge differently: named here so
# that the rule does not depend on the interpreter's version.
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: someone's private network
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # wraps an IPv4 address in its last 32 bits
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


class UnsafeTarget(Invalid):
    """A webhook URL we will not call; `message` is bilingual. An `Invalid` on the field "url",
    so an API answers it as a 422 naming that field."""

    def __init__(self, message: str):
        super().__init__("url", message)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA), without brackets
    port: int
    path: str  # path and query, as sent in the request line


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    latency_ms: int
    error: str | None
    retryable: bool
    accepted: bool  # a 2xx answer


# --- the target ---------------------------------------------------------------------------------


def check_target(url: str, *, production: bool) -> None:
    """Raise UnsafeTarget (an Invalid on "url") unless `url` may receive webhooks (module doc)."""
    target = parse_target(url, production=production)
    try:
        addresses = resolve(target.host, target.port)
    except OSError:
        if production:
            raise UnsafeTarget(f"Không tìm thấy máy chủ {target.host} / {target.host} does not resolve") from None
        return  # development and tests run offline; `send` resolves and checks again
    check_addresses(target.host, addresses, production=production)


def parse_target(url: str, *, production: bool) -> Target:
    """The static rules: everything that can be judged without asking DNS."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        raise UnsafeTarget(f"URL phải có 1–{MAX_URL_CHARS} ký tự / the URL must have 1–{MAX_URL_CHARS} characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeTarget("URL không được chứa khoảng trắng hay ký tự điều khiển / the URL must not contain spaces or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("Chỉ nhận URL http hoặc https / only http and https URLs are accepted")
    if production and scheme != "https":
        raise UnsafeTarget("Môi trường chính thức chỉ gửi qua https / in production only https URLs are accepted")
    if "@" in parts.netloc:  # credentials would travel in clear in logs and the subscription list
        raise UnsafeTarget("URL không được chứa tên và mật khẩu (user:password@) / the URL must not contain credentials (user:password@)")
    if "#" in url:
        raise UnsafeTarget("URL không được có phần #fragment / the URL must not have a #fragment")
    host = _ascii_host(parts.hostname or "")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("Cổng (port) trong URL không hợp lệ / the URL's port is not valid") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not path.isascii():
        raise UnsafeTarget("Đường dẫn phải mã hóa %XX các ký tự ngoài ASCII / the path must percent-encode non-ASCII characters")
    _refuse_named_local(host, production)
    literal = _literal(host)
    if literal is not None:
        check_addresses(host, [literal], production=production)
    return Target(scheme, host, port, path)


def _ascii_host(hostname: str) -> str:
    host = hostname.rstrip(".")
    if not host:
        raise UnsafeTarget("URL thiếu tên máy chủ / the URL has no host")
    if "%" in host:  # an IPv6 zone (fe80::1%eth0) names an interface of ours
        raise UnsafeTarget("Không nhận địa chỉ IPv6 có zone (%) / IPv6 addresses with a zone (%) are not accepted")
    try:
        return host.encode("idna").decode("ascii")  # what DNS and the Host header carry
    except UnicodeError:
        raise UnsafeTarget(f"Tên máy chủ {hostname!r} không hợp lệ / the host name {hostname!r} is not valid") from None


def _refuse_named_local(host: str, production: bool) -> None:
    if production and (host == "localhost" or host.endswith(".localhost")):  # RFC 6761: always this machine
        raise UnsafeTarget(f"Không gửi tới máy nội bộ ({host}) / {host} is this machine: not a webhook target")


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None  # a name (or a legacy form like 127.1, which the resolver turns into an address we check)


def resolve(host: str, port: int) -> list[Address]:
    """Every address the name has (OSError, e.g. socket.gaierror, when it has none)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_addresses(host: str, addresses: list[Address], *, production: bool) -> None:
    """All of them must be safe: an attacker controls which one a resolver hands out."""
    for address in addresses:
        kind = unsafe_kind(address, allow_loopback=not production)
        if kind is not None:
            effective = _embedded_ipv4(address) or address  # name what it really reaches: ::ffff:a9fe:a9fe is 169.254.169.254
            shown = host if str(effective) == host else f"{host} ({effective})"
            raise UnsafeTarget(f"Không gửi tới địa chỉ {kind[0]}: {shown} / {shown}: {kind[1]} address, not a webhook target")


def unsafe_kind(address: Address, *, allow_loopback: bool) -> tuple[str, str] | None:
    """(Vietnamese, English) name of why `address` must not be called, or None when it may."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return unsafe_kind(inner, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else ("loopback", "loopback")
    if address.is_unspecified:
        return ("không xác định", "unspecified")
    if address.is_link_local:
        return ("link-local (kể cả metadata của cloud)", "link-local (cloud metadata included)")
    if address.is_multicast:
        return ("multicast", "multicast")
    if address.is_reserved:  # before "private": Python counts 240.0.0.0/4 as both
        return ("dành riêng", "reserved")
    if address.is_private or address in SHARED or (address.version == 6 and address in UNIQUE_LOCAL):
        return ("nội bộ", "private")
    if not address.is_global:  # whatever else IANA does not route publicly
        return ("không công khai", "non-public")
    return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped ::ffff:a.b.c.d, 6to4, NAT64): judged as itself."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


# --- sending ------------------------------------------------------------------------------------


class _Refused(Exception):
    """Internal: the attempt ends without a request, retryable or not."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.message, self.retryable = message, retryable


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Speaks to `host` (Host header) but connects to `address`, the one we checked."""

    def __init__(self, host: str, port: int, address: Address, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = str(address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """As above, then TLS for the original name: SNI and the certificate check use `host`."""

    default_port = 443

    def __init__(self, host: str, port: int, address: Address, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, address, timeout)
        self._context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class WebhookSender:
    """One attempt per `send`; thread-safe (nothing shared but the TLS context, which is)."""

    def __init__(self, *, production: bool, timeout_s: float = 5.0, user_agent: str = "tdkt-notify/1"):
        self.production = production
        self.timeout_s = timeout_s
        self.user_agent = user_agent
        self._tls = ssl.create_default_context()  # CERT_REQUIRED, hostname checked, system CAs

    def send(self, url: str, secret: str, delivery_id: str, event_type: str, body: bytes) -> Attempt:
        """POST `body`, signed; the outcome classified (module doc). Never raises."""
        started = time.monotonic()
        deadline = started + self.timeout_s
        try:
            headers = self._headers(secret, delivery_id, event_type, body)
            target = parse_target(url, production=self.production)
            addresses = self._checked_addresses(target)
            status, excerpt, location = self._post_to_first(target, addresses, headers, body, deadline)
        except _Refused as refused:
            return Attempt(None, _ms_since(started), refused.message, refused.retryable, False)
        except UnsafeTarget as unsafe:
            return Attempt(None, _ms_since(started), unsafe.message, False, False)
        except Exception as exc:  # the dispatcher must get an outcome, whatever broke
            return Attempt(None, _ms_since(started), _describe(exc, self.timeout_s), True, False)
        return _classified(status, excerpt, location, _ms_since(started))

    def _headers(self, secret: str, delivery_id: str, event_type: str, body: bytes) -> dict[str, str]:
        for name, value in (("delivery id", delivery_id), ("event type", event_type)):
            if not isinstance(value, str) or not signing.DELIVERY.fullmatch(value):  # it goes into a header: no CR/LF, no spaces
                raise _Refused(f"{name} phải là 1–200 ký tự ASCII in được / the {name} must be 1–200 printable ASCII characters", False)
        return {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            "Connection": "close",
            EVENT_HEADER: event_type,
            **signing.headers(secret, delivery_id, body),
        }

    def _checked_addresses(self, target: Target) -> list[Address]:
        """Resolved now, right before connecting, and checked: what we check is what we call."""
        try:
            addresses = resolve(target.host, target.port)
        except OSError as exc:
            raise _Refused(f"Không phân giải được {target.host} / {target.host} does not resolve: {exc}", True) from None
        check_addresses(target.host, addresses, production=self.production)
        return addresses

    def _post_to_first(self, target: Target, addresses: list[Address], headers: dict[str, str], body: bytes, deadline: float) -> tuple[int, str, str | None]:
        """Addresses in the resolver's order; the next only when one refuses the connection."""
        for i, address in enumerate(addresses):
            try:
                return self._post(target, address, headers, body, deadline)
            except ConnectionRefusedError:
                if i == len(addresses) - 1 or time.monotonic() >= deadline:
                    raise
        raise AssertionError("not reached: resolve() returns at least one address")

    def _post(self, target: Target, address: Address, headers: dict[str, str], body: bytes, deadline: float) -> tuple[int, str, str | None]:
        connection = self._connection(target, address, _remaining(deadline))
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            sock = connection.sock  # kept: getresponse() hands the socket to the response when the receiver closes
            sock.settimeout(_remaining(deadline))  # the answer's headers within what is left
            response = connection.getresponse()
            return response.status, _read_excerpt(response, sock, deadline), response.getheader("Location")
        finally:
            connection.close()

    def _connection(self, target: Target, address: Address, timeout: float) -> _PinnedHTTPConnection:
        if target.scheme == "https":
            return _PinnedHTTPSConnection(target.host, target.port, address, timeout, self._tls)
        return _PinnedHTTPConnection(target.host, target.port, address, timeout)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _read_excerpt(response: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> str:
    """At most 64 KB, and only until the deadline: the status already decided the outcome, the
    body only helps whoever reads the error. A receiver that drips bytes cannot hold us."""
    chunks, size = [], 0
    try:
        while size < MAX_BODY_READ:
            sock.settimeout(_remaining(deadline))
            chunk = response.read1(MAX_BODY_READ - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, http.client.HTTPException):
        pass  # a late or broken body does not change the answer we already have
    text = b"".join(chunks)[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    return " ".join(text.split())[:EXCERPT_CHARS]


def _classified(status: int, excerpt: str, location: str | None, latency_ms: int) -> Attempt:
    if 200 <= status < 300:
        return Attempt(status, latency_ms, None, False, True)
    if 300 <= status < 400:
        where = f" → {location}" if location else ""
        error = f"Máy nhận chuyển hướng (HTTP {status}{where}), không đi theo: hãy sửa URL / the receiver redirects (HTTP {status}{where}), not followed: update the URL"
        return Attempt(status, latency_ms, error, False, False)
    retryable = status in (408, 429) or status >= 500
    error = f"Máy nhận trả lời HTTP {status} / the receiver answered HTTP {status}" + (f": {excerpt}" if excerpt else "")
    return Attempt(status, latency_ms, error, retryable, False)


def _describe(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError):  # socket.timeout is an alias
        return f"Quá thời gian chờ {timeout_s:g} giây / timed out after {timeout_s:g} s"
    if isinstance(exc, ssl.SSLError):  # certificate errors included
        return f"Lỗi TLS / TLS failed: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "Máy nhận từ chối kết nối / the receiver refused the connection"
    if isinstance(exc, OSError | http.client.HTTPException):
        return f"Lỗi kết nối / connection failed: {type(exc).__name__}: {exc}"
    return f"Lỗi không lường trước / unexpected error: {type(exc).__name__}: {exc}"


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def backoff_s(attempt: int, *, base_s: float = 2.0, cap_s: float = 3600.0, rng=random.random) -> float:
    """How long to wait before attempt `attempt + 1`, after `attempt` failures (1, 2, …):
    exponential backoff with full jitter — uniform(0, min(cap, base · 2^(attempt-1))).

    Why full jitter: when a receiver is down, every delivery to it fails at about the same time;
    waits spread over the whole interval keep their retries from arriving together when it comes
    back (the least total work among the usual schemes, per AWS's "Exponential Backoff and
    Jitter"). A wait can be near zero; the retry-for limit (NOTIFY_RETRY_FOR_S), not this, bounds
    how long a delivery is tried."""
    exponent = min(max(attempt, 1) - 1, 64)  # 2**64 · base is far past any cap: no float overflow
    return rng() * min(cap_s, base_s * 2**exponent)
