"""Response headers every answer carries, and the stricter ones for the QR landing page and API."""

from __future__ import annotations

from flask import Flask, Response, request

from verifier.web.state import current_state

# No script at all, nothing from elsewhere; inline <style> only (the page ships no CSS files).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_NO_STORE_PREFIXES = ("/api/", "/v/", "/V/", "/cek")
_NOINDEX_PREFIXES = ("/v/", "/V/", "/cek")
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Register the header hook."""
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    path = request.path
    if path.startswith(_NO_STORE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if path.startswith(_NOINDEX_PREFIXES):
        headers["X-Robots-Tag"] = "noindex, nofollow"
    if current_state().settings.base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    return response
