"""SKK Verifier: signed construction-worker competency certificates anyone can check by QR.

The core modules import neither Flask nor click; :func:`create_app` loads the web layer only when
called, so an offline verifier can use ``verifier.core`` without a web framework installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask application: settings, database, i18n, security, limits, blueprints."""
    from verifier.web.factory import build_app

    return build_app(test_config)
