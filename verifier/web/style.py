"""The pages' one stylesheet, inlined into every page and allowed by its hash in the CSP.

Inlined rather than linked so that a page is one request on a site's weak signal; a
``'sha256-…'`` source (CSP Level 2 §4.2.4) instead of ``'unsafe-inline'``, so that markup
injected into a page could not bring styles of its own. The hash is of the file's exact bytes,
which ``base.html`` places between ``<style>`` and ``</style>`` unchanged.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from flask import Flask
from markupsafe import Markup

from verifier.config import PACKAGE_DIR

STYLESHEET = PACKAGE_DIR / "static" / "site.css"


@dataclass(frozen=True)
class InlineStyle:
    """The stylesheet's text and the CSP source that allows exactly that text."""

    css: Markup
    csp_source: str


def load() -> InlineStyle:
    """Read the stylesheet once and hash it."""
    text = STYLESHEET.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    # S704: the package's own stylesheet, inlined as is (its hash is the CSP source).
    markup = Markup(text)  # noqa: S704
    return InlineStyle(markup, f"'sha256-{base64.b64encode(digest).decode('ascii')}'")


def init_app(app: Flask, style: InlineStyle) -> None:
    """Give every template the stylesheet as ``site_css``."""
    app.jinja_env.globals["site_css"] = style.css
