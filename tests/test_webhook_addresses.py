"""Webhooks reach only the public internet: a host name is resolved at each delivery, a name with
any internal address is refused before anything connects (SSRF through DNS), and the POST goes to
the checked address while TLS still verifies the name (no second lookup to rebind). The local
demo's plain http to 127.0.0.1 keeps working. DNS is always faked here: there is no network."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.helpers import DAY, NOW
from verifier.core.crew import terms
from verifier.core.crew.worker import RosterWorker
from verifier.core.errors import InvalidInput
from verifier.crew import check, delivery, webhooks
from verifier.crew.notifier import Notifier, NotifierSettings, http_post
from verifier.store import projects, revocation
from verifier.store.models import WebhookMessage

NAME = "hooks.example.test"
BODY = b'{"type":"credential.revoked"}'
HEADERS = {"Content-Type": "application/json", "webhook-id": "msg_1", "webhook-signature": "v1,x"}


# --- fake DNS, and no connection at all ---------------------------------------------------------


def resolves_to(monkeypatch: pytest.MonkeyPatch, *answers: list[str]) -> list[str]:
    """``socket.getaddrinfo`` answers NAME with ``answers[0]``, then ``answers[1]``, ... (a
    rebinding DNS); other hosts must be address literals. Returns the names asked, in order."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, *rest: Any) -> Any:
        if host != NAME:  # only literals: never real DNS
            return real(host, port, family, type, 0, socket.AI_NUMERICHOST)
        asked.append(host)
        if len(asked) > len(answers):
            raise socket.gaierror(socket.EAI_NONAME, "resolved again")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in answers[len(asked) - 1]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    def create_connection(*args: Any, **kwargs: Any) -> socket.socket:
        pytest.fail(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", create_connection)


# --- refused before connecting ------------------------------------------------------------------


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.5"],
        ["127.0.0.1"],
        ["169.254.169.254"],  # cloud metadata
        ["192.168.1.1"],
        ["::1"],
        ["fd00::1"],
        ["::ffff:127.0.0.1"],
        ["::ffff:100.64.0.1"],  # ipaddress calls this mapped one global; its IPv4 is not
        ["100.64.0.1"],  # carrier-grade NAT
        ["64:ff9b::a00:5"],  # NAT64 of 10.0.0.5
        ["2002:a00:5::1"],  # 6to4 of 10.0.0.5
        ["93.184.216.34", "10.0.0.5"],  # one global answer does not make up for a private one
        ["2606:4700::1", "fe80::1"],
    ],
    ids=lambda addresses: "+".join(addresses),
)
def test_ssrf_through_dns_is_refused_before_connecting(monkeypatch, no_connections, addresses):
    resolves_to(monkeypatch, addresses)
    with pytest.raises(delivery.InternalAddressRefused):
        http_post(f"https://{NAME}/skk", HEADERS, BODY, 5)  # the notifier's default sender


def test_a_name_without_addresses_is_refused(monkeypatch, no_connections):
    resolves_to(monkeypatch, [])
    with pytest.raises(delivery.InternalAddressRefused):
        http_post(f"https://{NAME}/skk", HEADERS, BODY, 5)


@pytest.mark.parametrize(
    "url", [f"http://{NAME}/skk", "http://10.0.0.5/skk", "ftp://127.0.0.1/skk", "https:///skk"]
)
def test_plain_http_is_only_for_a_loopback_demo(monkeypatch, no_connections, url):
    asked = resolves_to(monkeypatch, ["93.184.216.34"])
    with pytest.raises(delivery.UnsafeWebhookURL):
        http_post(url, HEADERS, BODY, 5)
    assert asked == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1", True),
        ("::ffff:93.184.216.34", True),  # judged by its IPv4 address
        ("::ffff:10.0.0.5", False),
        ("::ffff:100.64.0.1", False),
        ("64:ff9b::5db8:d822", True),  # NAT64 of 93.184.216.34
        ("::a00:5", False),  # IPv4-compatible 10.0.0.5
        ("0.0.0.0", False),  # noqa: S104 (an address judged, never bound)
        ("fe80::1%2", False),
        # blocks this Python's is_global calls global, refused by name
        ("64:ff9b:1::a00:1", False),  # local-use NAT64 (RFC 8215) of 10.0.0.1
        ("fec0::1", False),  # site-local
        ("::ffff:0:a00:1", False),  # SIIT's IPv4-translated 10.0.0.1
        ("192.0.0.9", False),  # IETF protocol assignments
        ("224.0.0.251", False),  # multicast
        ("ff02::1", False),
        ("::ffff:224.0.0.1", False),
    ],
)
def test_is_public(address, public):
    assert delivery.is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "host", ["[64:ff9b:1::a00:1]", "[::ffff:10.0.0.5]", "192.0.0.9", "[fec0::1]", "224.0.0.1"]
)
def test_subscribing_refuses_an_address_every_delivery_would_refuse(host):
    with pytest.raises(InvalidInput, match="loopback, private or link-local"):
        webhooks.check_url(f"https://{host}/skk", local_allowed=False)


def test_a_refused_delivery_is_a_failed_attempt_retried_later(
    contoh, issue, service, monkeypatch, no_connections
):
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    project = projects.create_project(
        "pupr-tol", terms.watched("Tol Contoh", "2026-01-01", "2026-12-31", ()), NOW
    )
    signed = issue(now=NOW - DAY)
    worker = RosterWorker(1, 2, "KRU-1", credential=signed.token)
    projects.replace_crew(project, check.outcomes(service, [worker], owner_id="pupr-tol", at=NOW))
    webhooks.subscribe(project, f"https://{NAME}/skk", NOW, local_allowed=False)
    number = signed.credential.number
    revocation.revoke("lsp-contoh", number, "misuse", note=None, actor="test", now=NOW)
    resolves_to(monkeypatch, ["169.254.169.254"])

    settings = NotifierSettings(first_retry_seconds=5, timeout_seconds=5)
    tally = Notifier(settings, clock=lambda: float(NOW)).run_once()  # the default sender

    (message,) = WebhookMessage.select()
    assert tally.failed == 1 and tally.delivered == 0
    assert message.last_status == 0 and message.last_error == "InternalAddressRefused"
    assert message.next_attempt_at == NOW + 5 and message.attempts == 1


# --- the connection goes to the checked address; TLS checks the name ---------------------------


@dataclass
class Pki:
    """A test CA and where its certificates for host names are written."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    folder: Path

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context (like the default one) that trusts only this CA."""
        pem = self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return ssl.create_default_context(cadata=pem)

    def server_context(self, name: str) -> ssl.SSLContext:
        """A server context with a certificate for ``name`` issued by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), key)
            .issuer_name(self.cert.subject)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_file, key_file = self.folder / f"{name}.crt", self.folder / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


def _builder(subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _key_usage(*, digital_signature: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Webhook test CA")])
    cert = (
        _builder(subject, key)
        .issuer_name(subject)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Pki(key, cert, tmp_path_factory.mktemp("pki"))


@dataclass(frozen=True)
class Seen:
    """One POST as the subscriber saw it."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Subscriber:
    """A subscriber on 127.0.0.1: what it saw, the SNI names it was offered, what it answers."""

    port: int
    seen: list[Seen] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@contextmanager
def _serve(context: ssl.SSLContext | None) -> Iterator[Subscriber]:
    subscriber = Subscriber(0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            subscriber.seen.append(Seen(self.path, dict(self.headers), body))
            status = subscriber.answers.pop(0) if subscriber.answers else 204
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:

        def record_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            subscriber.server_names.append(name)

        context.sni_callback = record_sni
        server.socket = context.wrap_socket(server.socket, server_side=True)
    subscriber.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield subscriber
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def https_subscriber(pki: Pki) -> Callable[[str], AbstractContextManager[Subscriber]]:
    """A factory: an https subscriber on 127.0.0.1 whose certificate is for the given name."""
    return lambda name: _serve(pki.server_context(name))


def _loopback_only(address: delivery.Address) -> bool:
    return address == ipaddress.ip_address("127.0.0.1")  # the test's stand-in for "global"


def test_the_post_goes_to_the_checked_address_and_tls_checks_the_name(
    monkeypatch, https_subscriber, pki
):
    # DNS answers 127.0.0.1 once, then would rebind; a second lookup fails the delivery.
    asked = resolves_to(monkeypatch, ["127.0.0.1"], ["10.0.0.5"])
    with https_subscriber(NAME) as subscriber:
        status = delivery.post(
            f"https://{NAME}:{subscriber.port}/skk?v=1",
            HEADERS,
            BODY,
            5,
            allowed=_loopback_only,
            context=pki.client_context(),
        )
        assert status == 204
        assert asked == [NAME]  # resolved once, for the check; the connect used its answer
        (seen,) = subscriber.seen
        assert seen.path == "/skk?v=1" and seen.body == BODY
        assert seen.headers["Host"] == f"{NAME}:{subscriber.port}"
        assert {k: seen.headers[k] for k in HEADERS} == HEADERS
        assert seen.headers["Content-Length"] == str(len(BODY))
        assert subscriber.server_names == [NAME]  # SNI is the name, not the address


def test_a_certificate_for_another_name_is_refused(monkeypatch, https_subscriber, pki):
    resolves_to(monkeypatch, ["127.0.0.1"])
    with https_subscriber("other.example.test") as subscriber:
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            delivery.post(
                f"https://{NAME}:{subscriber.port}/skk",
                HEADERS,
                BODY,
                5,
                allowed=_loopback_only,
                context=pki.client_context(),
            )
        assert subscriber.seen == []


def test_the_status_is_returned_and_redirects_are_not_followed(monkeypatch, https_subscriber, pki):
    resolves_to(monkeypatch, ["127.0.0.1"], ["127.0.0.1"], ["127.0.0.1"])
    with https_subscriber(NAME) as subscriber:
        subscriber.answers[:] = [500, 302, 404]
        statuses = [
            delivery.post(
                f"https://{NAME}:{subscriber.port}/{path}",
                HEADERS,
                BODY,
                5,
                allowed=_loopback_only,
                context=pki.client_context(),
            )
            for path in ("a", "b", "c")
        ]
        assert statuses == [500, 302, 404]
        assert [seen.path for seen in subscriber.seen] == ["/a", "/b", "/c"]  # no /elsewhere


def test_the_default_context_verifies_against_the_system_cas(monkeypatch, https_subscriber):
    resolves_to(monkeypatch, ["127.0.0.1"])
    with https_subscriber(NAME) as subscriber:
        with pytest.raises(ssl.SSLCertVerificationError):
            delivery.post(
                f"https://{NAME}:{subscriber.port}/skk", HEADERS, BODY, 5, allowed=_loopback_only
            )
        assert subscriber.seen == []


# --- the local demo -----------------------------------------------------------------------------


def test_the_demos_plain_http_to_loopback_still_works(monkeypatch):
    asked = resolves_to(monkeypatch)
    with _serve(None) as subscriber:
        subscriber.answers[:] = [204, 500]
        url = f"http://127.0.0.1:{subscriber.port}/hook"
        with pytest.raises(delivery.UnsafeWebhookURL):  # not a demo: such a URL is refused
            http_post(url, HEADERS, BODY, 5)
        assert http_post(url, HEADERS, BODY, 5, local_allowed=True) == 204
        assert http_post(url, HEADERS, BODY, 5, local_allowed=True) == 500
        assert [seen.body for seen in subscriber.seen] == [BODY, BODY]
        assert subscriber.seen[0].headers["Host"] == f"127.0.0.1:{subscriber.port}"
        assert subscriber.seen[0].headers["webhook-id"] == "msg_1"
    assert asked == []
