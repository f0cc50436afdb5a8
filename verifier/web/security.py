"""Response headers every answer carries, and the stricter ones for the QR landing page and API.

Added by a WSGI middleware from header lists built once, rather than by an ``after_request``
hook setting them one by one on each response: on the verify path that hook cost as much as the
database lookup (benchmarks/bench_http.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from verifier.config import Settings

# No script at all, nothing from elsewhere; the one inline stylesheet, allowed by its hash.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src {style}; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The offline check page, its modules and its service worker (docs/offline.md §8): scripts,
#: workers and fetches from this origin only, never inline code or eval; nothing else changes.
OFFLINE_APP_POLICY = (
    "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
    "style-src {style}; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_OFFLINE_APP_PREFIXES = ("/periksa", "/sw.js", "/offline/")
_NO_STORE_PREFIXES = ("/api/", "/v/", "/V/", "/cek", "/console")
_NOINDEX_PREFIXES = ("/v/", "/V/", "/cek", "/console")
HSTS = "max-age=31536000; includeSubDomains"

Header = tuple[str, str]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def init_app(app: Flask, settings: Settings, style_source: str) -> None:
    """Wrap the app so that every response carries the headers; ``style_source`` is the CSP
    source of the pages' inline stylesheet."""
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]
        app.wsgi_app, https=settings.base_url.startswith("https://"), style_source=style_source
    )


def _headers(
    no_store: bool, noindex: bool, https: bool, style_source: str, offline_app: bool = False
) -> list[Header]:
    policy = OFFLINE_APP_POLICY if offline_app else CONTENT_SECURITY_POLICY
    headers = [
        ("Content-Security-Policy", policy.format(style=style_source)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]
    if no_store:
        headers.append(("Cache-Control", "no-store"))
    if noindex:
        headers.append(("X-Robots-Tag", "noindex, nofollow"))
    if https:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


class SecurityHeaders:
    """WSGI middleware appending the security headers; a header the view set itself wins."""

    def __init__(self, app: WsgiApp, *, https: bool, style_source: str) -> None:
        self._app = app
        # Every path falls in one of four cases, or is the offline app: build each list once.
        self._by_case = {
            (no_store, noindex): _headers(no_store, noindex, https, style_source)
            for no_store in (False, True)
            for noindex in (False, True)
        }
        self._offline_app = _headers(False, False, https, style_source, offline_app=True)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Run the app, adding this path's headers to whatever it starts its response with."""
        path = environ.get("PATH_INFO", "")
        if path.startswith(_OFFLINE_APP_PREFIXES):
            extra = self._offline_app
        else:
            extra = self._by_case[
                (path.startswith(_NO_STORE_PREFIXES), path.startswith(_NOINDEX_PREFIXES))
            ]

        def start_with_headers(status: str, headers: list[Header], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in extra if h[0].lower() not in present)
            return start_response(status, headers, exc_info)

        return self._app(environ, start_with_headers)
