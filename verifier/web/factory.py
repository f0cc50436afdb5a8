"""Application factory: config layers -> each module's ``init_app`` -> blueprints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from verifier.config import INSTANCE_DIR, load_settings
from verifier.web import (
    batch_api,
    console,
    crew_api,
    database,
    errors,
    i18n,
    limits,
    security,
    state,
    style,
)
from verifier.web.requests import ChunkedBodyLimit

#: Flask defaults we rely on; test_config may override any of them.
DEFAULTS: dict[str, Any] = {
    "MAX_CONTENT_LENGTH": 16 * 1024,  # SPEC §6: refused with 413 before any parsing
    "MAX_FORM_MEMORY_SIZE": 16 * 1024,
}
#: The largest body any route takes (the list uploads); chunked bodies are buffered up to this.
LARGEST_BODY = max(batch_api.MAX_BODY_BYTES, crew_api.MAX_BODY_BYTES)


def build_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``SKK_*`` keys in test_config override the environment, the rest is config."""
    overrides = dict(test_config or {})
    environ = {**os.environ, **{k: str(v) for k, v in overrides.items() if k.startswith("SKK_")}}
    settings = load_settings(environ)
    app = Flask(
        "verifier",
        template_folder="templates",  # verifier/templates, shipped in the wheel
        instance_path=str(INSTANCE_DIR),
        static_folder=None,  # the one stylesheet is inlined (web/style.py); nothing else
    )
    app.config.from_mapping(DEFAULTS)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # members in SPEC order
    app.config.update({k: v for k, v in overrides.items() if not k.startswith("SKK_")})
    state.init_app(app, settings)
    database.init_app(app)
    i18n.init_app(app)
    inline_style = style.load()
    style.init_app(app, inline_style)
    security.init_app(app, settings, inline_style.csp_source)
    limits.init_app(app, settings)
    errors.init_app(app)
    _register_blueprints(app)
    console.init_app(app, settings)
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, LARGEST_BODY)  # type: ignore[method-assign]
    if settings.proxy_hops:
        # Behind N reverse proxies, take the client address and scheme from their X-Forwarded-*:
        # rate limits count per client address, and otherwise every request would seem to come
        # from the proxy. Only set when such proxies really are in front (headers are forgeable).
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    return app


def _register_blueprints(app: Flask) -> None:
    from verifier.web import agency_api, api, crew_pages, offline, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(crew_pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(agency_api.bp)
    app.register_blueprint(batch_api.bp)
    app.register_blueprint(offline.bp)
    app.register_blueprint(crew_api.bp)
    app.register_blueprint(crew_api.projects_bp)
