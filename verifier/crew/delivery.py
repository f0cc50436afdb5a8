"""One webhook POST that can reach only the public internet (docs/crew-check.md "Webhooks").

``webhooks.check_url`` refuses a URL naming an internal address, but a host *name* is only an
indirection: its DNS may answer 10.0.0.5 or 169.254.169.254, or change its answer between a
check and the connect (DNS rebinding). So each delivery resolves the host once, refuses it when
any address is not global, and connects to a checked address itself; TLS still verifies the
certificate for the host name (and sends it as SNI), and the Host header is the URL's host.
The one exception is a local demo (its ``SKK_BASE_URL`` is loopback, and ``skk notify run`` says
so): its own receiver on a loopback host, over http too, as ``check_url`` allows it there.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from verifier.config import is_loopback_host

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: (host, port) -> the host's addresses, in the order to try them.
Resolver = Callable[[str, int], list[Address]]
#: May a webhook POST go to this address?
AddressRule = Callable[[Address], bool]

#: IPv6 prefixes whose last 32 bits are the IPv4 address a packet ends up at: NAT64's well-known
#: prefix (RFC 6052 §2.1) and the deprecated IPv4-compatible addresses (RFC 4291 §2.5.5.1).
_IPV4_IN_LAST_32_BITS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))
#: Never public, whatever this Python's ``is_global`` says of them: local-use NAT64 (RFC 8215),
#: which may translate to any private IPv4 address; site-local (RFC 3879); SIIT's IPv4-translated
#: addresses (RFC 2765); the IETF protocol assignments (RFC 6890).
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(block)
    for block in ("64:ff9b:1::/48", "fec0::/10", "::ffff:0:0:0/96", "192.0.0.0/24")
)


class InternalAddressRefused(OSError):
    """The webhook's host resolves to an address the internet cannot reach, or to none."""


class UnsafeWebhookURL(ValueError):
    """A webhook URL that is neither https with a host nor plain http to a loopback demo."""


def is_public(address: Address) -> bool:
    """True for a globally reachable address; an IPv4 address inside IPv6 is judged as IPv4."""
    if address.is_multicast or _in(address, _NEVER_PUBLIC):  # (is_global allows multicast)
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
        return is_public(address.ipv4_mapped)
    embedded = address.sixtofour
    if embedded is None and _in(address, _IPV4_IN_LAST_32_BITS):
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.is_global and (embedded is None or is_public(embedded))


def _in(address: Address, blocks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    return any(address.version == block.version and address in block for block in blocks)


def resolve(host: str, port: int) -> list[Address]:
    """Every address the system resolver gives ``host``, in its order, each once."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [
        ipaddress.ip_address(sockaddr[0])
        for family, _, _, _, sockaddr in found
        if family in (socket.AF_INET, socket.AF_INET6)
    ]
    return list(dict.fromkeys(addresses))


def checked_addresses(
    host: str, port: int, *, resolve: Resolver = resolve, allowed: AddressRule = is_public
) -> list[Address]:
    """The host's addresses, all of them allowed; InternalAddressRefused otherwise."""
    addresses = resolve(host, port)
    if not addresses:
        raise InternalAddressRefused("the webhook host resolves to no address")
    # Refuse the name rather than skip its internal answers: a public host has no reason to give
    # one, and the refusal shows as a failed attempt instead of a delivery that half works.
    if not all(allowed(address) for address in addresses):
        raise InternalAddressRefused(
            "the webhook host resolves to a loopback, private or other non-public address"
        )
    return addresses


def post(
    url: str,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
    *,
    local_allowed: bool = False,
    resolve: Resolver = resolve,
    allowed: AddressRule = is_public,
    context: ssl.SSLContext | None = None,
) -> int:
    """POST without following redirects; the HTTP status (also for 3xx, 4xx and 5xx).

    ``local_allowed``: this is a local demo (its ``SKK_BASE_URL`` is loopback), whose own
    receiver on a loopback host may be reached, over http too (as ``check_url`` allows it).
    ``resolve``, ``allowed`` and ``context`` (default: the system's CAs, verifying) are for tests.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if local_allowed and is_loopback_host(host) and parts.scheme == "http":
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    elif local_allowed and is_loopback_host(host) and parts.scheme == "https":
        tls = context or _verifying_context()
        connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=tls)
    elif parts.scheme == "https" and host:
        port = parts.port or http.client.HTTPS_PORT
        addresses = checked_addresses(host, port, resolve=resolve, allowed=allowed)
        tls = context or _verifying_context()
        connection = _PinnedHTTPSConnection(host, port, addresses, timeout, tls)
    else:
        raise UnsafeWebhookURL(
            "a webhook URL must be https with a host (plain http only to a local demo's loopback)"
        )
    try:
        connection.request("POST", target, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # certificate and host name checked; made once


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to checked addresses, never to what the name resolves to when connecting."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: Sequence[Address],
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.addresses = addresses
        self.tls = context

    def connect(self) -> None:
        raw = _connect_to_any(self.addresses, self.port, self.timeout)
        try:
            # The name, not the address: SNI and the certificate check are for the URL's host.
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except OSError:
            raw.close()
            raise


def _connect_to_any(
    addresses: Sequence[Address], port: int, timeout: float | None
) -> socket.socket:
    """A TCP connection to the first address that takes it (as socket.create_connection tries
    each address of a name); the last error when none does."""
    error = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout)
        except OSError as exc:
            error = exc
    raise error
