"""A gunicorn logger that never writes a token, a /v/ payload, a NIK or an API key.

Gunicorn's access atoms carry the whole URL (``r``, ``U``, ``q``, ``{raw_uri}e``), every request
header (``{authorization}i``, ``{referer}i``) and the WSGI environ. A QR opens
``/v/<payload>``, which *is* the credential; agency calls put certificate numbers in the path and
NIKs in the query (``?nik=``). So :meth:`RedactingLogger.atoms` builds the atoms from an allowlist:
the path is reduced to its route shape (``/v/…``, ``/api/v1/credentials/…/revoke``), the query
string is dropped, and only headers and environ keys known to be harmless are kept. A filter on
every handler scrubs what still looks like a secret from every line and traceback (gunicorn's
own error messages quote raw request lines and header values); the application's ``verifier.*``
loggers write through the same handlers. UU 27/2022 and SPEC §2: never in a log line.

Configure with ``logger_class = "verifier.web.accesslog.RedactingLogger"`` (gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from gunicorn.glogging import Logger

ELLIPSIS = "…"

#: Request headers whose values may appear in the access log (``%({name}i)s``); others are "-".
SAFE_REQUEST_HEADERS = frozenset(
    {
        "accept",
        "accept-language",
        "content-length",
        "content-type",
        "host",
        "user-agent",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-real-ip",
        "x-request-id",
    }
)
#: Response headers that may appear (``%({name}o)s``); e.g. Location could carry a payload.
SAFE_RESPONSE_HEADERS = frozenset(
    {
        "cache-control",
        "content-length",
        "content-type",
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    }
)
#: Environ keys that may appear (``%({name}e)s``); PATH_INFO, RAW_URI, QUERY_STRING never do.
SAFE_ENVIRON = frozenset(
    {
        "remote_addr",
        "remote_port",
        "request_method",
        "server_name",
        "server_port",
        "server_protocol",
        "wsgi.url_scheme",
    }
)
#: Path prefixes whose rest is data (a payload, a certificate number), never shown.
_DATA_PREFIXES = (
    ("/v/", "/v/"),
    ("/V/", "/v/"),
    ("/api/v1/credentials/", "/api/v1/credentials/"),
)
#: Actions after ``/api/v1/credentials/<number>`` worth keeping in the shape.
_CREDENTIAL_ACTIONS = frozenset({"revoke", "suspend", "reinstate", "qr.svg", "qr.png"})
#: Fixed routes under ``/api/v1/credentials/`` (a number so named would reveal nothing).
_CREDENTIAL_ROUTES = frozenset({"search", "batch"})
#: A path segment shown as it is: a short lower-case word with at most two digits (``api``,
#: ``v1``, ``.well-known``, ``jwks.json``), as our routes are. Anything else may be data
#: (base64url has upper case, numbers and NIKs have digits) and ends the shape.
_SAFE_SEGMENT = re.compile(r"[a-z.][a-z0-9._-]{0,23}")
_MAX_DIGITS = 2
_MAX_SEGMENTS = 6
_MAX_AGENT = 200

#: What a line must never show, whatever printed it: a /v/ path's rest, a JWS or a long run of
#: base64url, an API key, a bearer credential, a NIK or compact payload (long digit runs).
_SECRET_PATTERNS = (
    # (not again where a route shape already put "…", nor on the fixed credential routes)
    (re.compile(r"(/[vV]/)[^\s\"'?#…]+"), r"\1" + ELLIPSIS),
    (
        re.compile(
            r"(/api/v1/credentials/)(?!(?:"
            + "|".join(map(re.escape, sorted(_CREDENTIAL_ROUTES)))
            + r")[\s\"])[^\s\"'?#…]+"
        ),
        r"\1" + ELLIPSIS,
    ),
    (re.compile(r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), ELLIPSIS),
    (re.compile(r"skk_[0-9A-Za-z]+_[A-Za-z0-9_-]+"), "skk_" + ELLIPSIS),
    (re.compile(r"(?i)(bearer|basic)\s+\S+"), r"\1 " + ELLIPSIS),
    (re.compile(r"[A-Za-z0-9_-]{48,}"), ELLIPSIS),
    (re.compile(r"\d{12,}"), ELLIPSIS),
    (re.compile(r"\?[^\s\"']*"), "?" + ELLIPSIS),
)


def route_shape(path: str) -> str:
    """The path with every data part replaced by ``…``: safe to log, still useful to read."""
    for prefix, shown in _DATA_PREFIXES:
        if path.startswith(prefix):
            if shown == "/api/v1/credentials/":
                return shown + _credential_shape(path[len(prefix) :])
            return shown + ELLIPSIS
    if path in ("", "/"):
        return "/"
    kept: list[str] = []
    for segment in path.split("/")[1:]:
        if len(kept) == _MAX_SEGMENTS or not _is_safe_segment(segment):
            return "/" + "/".join([*kept, ELLIPSIS])
        kept.append(segment)
    return "/" + "/".join(kept)


def _credential_shape(rest: str) -> str:
    if rest in _CREDENTIAL_ROUTES:
        return rest
    _, slash, action = rest.partition("/")
    return ELLIPSIS + (f"/{action}" if slash and action in _CREDENTIAL_ACTIONS else "")


def _is_safe_segment(segment: str) -> bool:
    if segment == "":
        return True  # a trailing slash
    return (
        _SAFE_SEGMENT.fullmatch(segment) is not None
        and sum(char.isdigit() for char in segment) <= _MAX_DIGITS
    )


def scrub(text: str) -> str:
    """``text`` with anything that looks like a payload, token, key, NIK or query replaced."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_FORMATTER = logging.Formatter()


class ScrubFilter(logging.Filter):
    """Formats each record once and scrubs the result, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its scrubbed text; never drops a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set: the traceback's messages are scrubbed too.
            record.exc_text = scrub(_FORMATTER.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


#: The application's own loggers (``verifier.*``) write through gunicorn's error handlers.
APP_LOGGER = "verifier"


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information
    """Gunicorn's logger with allowlisted access atoms and scrubbed error and access lines."""

    def setup(self, cfg: Any) -> None:
        """Gunicorn's setup (also run on reload), then a scrub filter on every handler.

        Handler filters see every record a handler writes, also those propagated from child
        loggers; the application's ``verifier.*`` records go to the same scrubbed handlers, so
        an exception message quoting a request cannot bypass the scrubbing either.
        """
        super().setup(cfg)
        # When a handler cannot write (say stdout is a closed pipe), logging would print the
        # exception being handled, unscrubbed, to stderr; Python's docs advise this in production.
        logging.raiseExceptions = False
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, ScrubFilter) for f in handler.filters):
                    handler.addFilter(ScrubFilter())
        app_log = logging.getLogger(APP_LOGGER)
        for handler in list(app_log.handlers):
            if getattr(handler, "_skk_shared", False):
                app_log.removeHandler(handler)  # from a previous setup (configuration reload)
        for handler in self.error_log.handlers:
            setattr(handler, "_skk_shared", True)  # noqa: B010 (a mark on a foreign object)
            app_log.addHandler(handler)
        app_log.setLevel(self.error_log.level)
        app_log.propagate = False

    def atoms(
        self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any
    ) -> dict[str, Any]:
        """The access-log atoms, with nothing that can carry the URL's data or a credential."""
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        method = environ.get("REQUEST_METHOD") or "-"
        protocol = environ.get("SERVER_PROTOCOL") or "-"
        path = route_shape(environ.get("PATH_INFO") or "")
        sent = getattr(resp, "sent", None)
        seconds, micros = request_time.seconds, request_time.microseconds
        atoms: dict[str, Any] = {
            "h": environ.get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": "-",  # gunicorn decodes Basic credentials here; we never log who asked
            "t": self.now(),
            "r": f"{method} {path} {protocol}",
            "s": status,
            "m": method,
            "U": path,
            "q": "",  # the query string may hold a NIK (GET /api/v1/credentials?nik=)
            "H": protocol,
            "b": str(sent) if sent is not None else "-",
            "B": sent,
            "f": "-",  # the Referer is the previous URL: possibly a /v/ page
            "a": str(environ.get("HTTP_USER_AGENT", "-"))[:_MAX_AGENT],
            "T": seconds,
            "D": seconds * 1_000_000 + micros,
            "M": seconds * 1000 + micros // 1000,
            "L": f"{seconds}.{micros:06d}",
            "p": f"<{os.getpid()}>",
        }
        atoms.update(_named("i", _header_items(req), SAFE_REQUEST_HEADERS))
        atoms.update(_named("o", _header_items(resp), SAFE_RESPONSE_HEADERS))
        atoms.update(_named("e", environ.items(), SAFE_ENVIRON))
        return atoms


def _header_items(message: Any) -> Iterable[tuple[str, Any]]:
    headers = getattr(message, "headers", message)
    if hasattr(headers, "items"):
        return list(headers.items())
    return list(headers or ())


def _named(kind: str, items: Iterable[tuple[str, Any]], allowed: frozenset[str]) -> dict[str, Any]:
    """``{name}<kind>`` atoms for the allowed names only (gunicorn shows "-" for the others)."""
    return {
        f"{{{name.lower()}}}{kind}": str(value)[:_MAX_AGENT]
        for name, value in items
        if name.lower() in allowed
    }
