"""Webhook subscriptions of watched projects: the URL rules, the secret, and signing per
Standard Webhooks (the subscriptions themselves are kept by ``verifier.store.webhooks``).

https://www.standardwebhooks.com/: every POST carries ``webhook-id`` (stable across retries),
``webhook-timestamp`` (seconds, of the attempt) and ``webhook-signature: v1,<base64 of
HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, where the key is the base64-decoded part of the
subscription's secret ``whsec_<base64>``. The secret is shown once, when the subscription is
made; the store keeps it in the clear because signing needs it (docs/crew-check.md says so).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from verifier.config import is_loopback_host
from verifier.core.credential import has_control_characters
from verifier.core.errors import InvalidInput
from verifier.crew import delivery
from verifier.store import webhooks
from verifier.store.projects import ProjectInfo
from verifier.store.webhooks import Subscription

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix Standard Webhooks gives secrets, not one)
SECRET_BYTES = 32  # Standard Webhooks: between 24 and 64 bytes
MAX_URL_LENGTH = 2000


def new_secret() -> str:
    """A fresh ``whsec_<base64>`` secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one attempt."""
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def check_url(url: str, *, local_allowed: bool) -> str:
    """An https URL (plain http only to a loopback host of a local demo); no credentials in it,
    and outside a demo no address of this machine or its private network (a webhook must not
    reach services the internet cannot)."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or has_control_characters(url) or " " in url:
        raise InvalidInput(
            f"url must be an https URL of at most {MAX_URL_LENGTH} characters", field="url"
        )
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidInput("url must be an https URL with a host", field="url")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise InvalidInput("url must not hold a user name, password or #fragment", field="url")
    if local_allowed and is_loopback_host(host):
        return url
    if parts.scheme != "https":
        raise InvalidInput("url must use https", field="url")
    if _is_internal(host):
        raise InvalidInput(
            "url must not point at a loopback, private or link-local address", field="url"
        )
    return url


def _is_internal(host: str) -> bool:
    """A loopback name, or an address literal that a delivery would refuse (a host name is
    judged at each delivery, by what it resolves to then: verifier.crew.delivery)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not delivery.is_public(address)


def subscribe(
    project: ProjectInfo, url: str, now: int, *, local_allowed: bool
) -> tuple[Subscription, str]:
    """A new subscription of the project and its secret (shown this once)."""
    secret = new_secret()
    return webhooks.add(project, check_url(url, local_allowed=local_allowed), secret, now), secret
