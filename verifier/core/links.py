"""Verify links (SPEC §4): the URL a credential's QR encodes, and the token inside any link.

``<BASE>/V/<payload>``, scheme and host upper-cased (both are case-insensitive) so the prefix fits
QR alphanumeric mode, and the all-digit payload (:mod:`verifier.core.qr_payload`) numeric mode.
Every entry point that takes a token accepts the JWS, the payload or the whole URL; this module
turns each into the JWS. Pure text: an offline verifier needs it, and no image library.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from verifier.core.errors import InvalidInput
from verifier.core.qr_payload import decode_payload, encode_payload

PATH_MARK = "/V/"
_BASE_URL_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\s]+@)?([^/?#@\s]+)(/[^?#\s]*)?")
_DEFAULT_PORTS = {"https": 443, "http": 80}


def credential_url(base_url: str, token: str) -> str:
    """Exactly what the QR encodes: ``<BASE>/V/<payload>`` with scheme and host upper-cased."""
    return f"{_url_prefix(base_url)}{PATH_MARK}{encode_payload(token)}"


def _url_prefix(base_url: str) -> str:
    match = _BASE_URL_RE.fullmatch(base_url.rstrip("/"))
    if match is None:
        raise InvalidInput(
            f"base URL must look like https://host[/path], not {base_url!r}", field="base_url"
        )
    scheme, userinfo, host, path = match.groups()
    # The path (and user info) may be case-sensitive on the server; only these two are not.
    return f"{scheme.upper()}{userinfo or ''}{host.upper()}{path or ''}"


def extract_token(text: str) -> str:
    """The JWS in a JWS, a payload or a whole verify URL (what follows the last /v/ or /V/)."""
    value = text.strip()
    cut = after_last_mark(value)
    if cut is not None:
        value = re.split(r"[?#]", value[cut:], maxsplit=1)[0]
    return decode_payload(value)


def after_last_mark(url: str) -> int | None:
    """Index just after the last ``/v/`` or ``/V/`` (overlaps count: ``/v/v/1`` gives ``1``)."""
    found = max(url.rfind("/v/"), url.rfind("/V/"))
    return None if found < 0 else found + len(PATH_MARK)


def verify_domain(base_url: str) -> str:
    """The host to print beside the QR: the lower-case host of SKK_BASE_URL (port if unusual)."""
    parts = urlsplit(base_url.strip())
    host = parts.hostname
    if not host:
        raise ValueError(f"base URL has no host: {base_url!r}")
    if ":" in host:  # an IPv6 literal keeps its brackets, as one would type it
        host = f"[{host}]"
    port = parts.port
    # A phone adds the scheme's default port itself; printing it would only confuse readers.
    return host if port is None or port == _DEFAULT_PORTS.get(parts.scheme) else f"{host}:{port}"
