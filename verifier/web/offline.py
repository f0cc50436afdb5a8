"""Offline checks on the web (docs/offline.md): the signed trust bundle and its keys, the
/periksa page, its ES modules, the service worker and the page pack it renders verdicts with."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from verifier.config import PACKAGE_DIR, RateLimit
from verifier.issuance.bundles import BundlePublisher, SignedBundle
from verifier.store.bundle_keys import key_set
from verifier.store.db import storage_errors
from verifier.web import limits, offline_pack, security, style
from verifier.web.database import reconnecting
from verifier.web.problems import problem
from verifier.web.requests import json_response
from verifier.web.state import EXTENSION_KEY, current_state

bp = Blueprint("offline", __name__)

#: The browser code: ES modules served from /offline/, the service worker from /sw.js (scope /).
SCRIPTS_DIR = PACKAGE_DIR / "static" / "offline"
#: Public keys may be cached this long by relying parties (as the JWKS).
KEY_SET_MAX_AGE = 300
_PUBLISHER = "skk.offline.publisher"
_PACK = "skk.offline.pack"


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    web = state.app.extensions[EXTENSION_KEY]  # set up before any blueprint is registered
    state.app.extensions[_PUBLISHER] = BundlePublisher.from_settings(web.settings)


@bp.get("/api/v1/offline/bundle")
@limits.limited(RateLimit.VERIFY)
@reconnecting
@storage_errors()
def bundle() -> Response:
    """The signed trust bundle; with ``?since=SEQ`` the delta after SEQ, or 410 when only a
    full bundle will do."""
    publisher: BundlePublisher = current_app.extensions[_PUBLISHER]
    now = int(time.time())
    since = request.args.get("since")
    if since is None:
        return _jwt(publisher.full(now))
    if not (since.isascii() and since.isdigit()) or len(since) > 16:
        return problem(
            400, "since must be a sequence number (a whole number, 0 or more)", field="since"
        )
    delta = publisher.delta(int(since), now)
    if delta is None:
        return problem(
            410,
            "the changes since that sequence number are not available as a "
            "delta; fetch the full bundle from /api/v1/offline/bundle",
            field="since",
        )
    return _jwt(delta)


def _jwt(made: SignedBundle) -> Response:
    """The JWS as application/jwt (RFC 7519 §10.3.1), gzipped when the client takes gzip."""
    gzip_ok = request.accept_encodings["gzip"] > 0
    response = Response(made.gzipped if gzip_ok else made.text, mimetype="application/jwt")
    if gzip_ok:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return response


@bp.get("/.well-known/skk-bundle-keys.json")
@reconnecting
@storage_errors()
def bundle_keys() -> Response:
    """The bundle keys verifiers pin (docs/offline.md §4), for any origin."""
    state = current_state()
    response = json_response(key_set(int(time.time()), state.settings.offline_max_age))
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={KEY_SET_MAX_AGE}"
    return response


@bp.get("/periksa")
def periksa() -> str:
    """The page a checker opens once with signal to make this phone check offline."""
    return render_template("periksa.html")


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, at the root so that its scope covers /v/ and /V/."""
    response = _script("sw.js")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline/<name>")
def module(name: str) -> Response:
    """One of the ES modules of the offline app."""
    return _script(name)


def _script(name: str) -> Response:
    if name not in _script_names():
        abort(404)
    response = Response(_script_body(name), mimetype="text/javascript")
    # Revalidated on every use, so a new release reaches phones at their next visit with signal;
    # the ETag makes that revalidation a 304 while the file is unchanged.
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    response.make_conditional(request)  # turns this response into a 304 when it matches
    return response


@functools.cache
def _script_body(name: str) -> bytes:
    # Read once per worker: the scripts ship with the package and change only with a release.
    return (SCRIPTS_DIR / name).read_bytes()


@functools.cache
def _script_names() -> frozenset[str]:
    return frozenset(path.name for path in Path(SCRIPTS_DIR).glob("*.js"))


@bp.get("/offline/pack.json")
def pack() -> Response:
    """What the service worker renders verdict pages with, in every language."""
    built = current_app.extensions.get(_PACK)
    if built is None:
        policy = security.CONTENT_SECURITY_POLICY.format(style=style.load().csp_source)
        built = offline_pack.build(current_state().official_domain, policy)
        current_app.extensions[_PACK] = built
    response = json_response(built)
    response.headers["Cache-Control"] = "no-cache"
    return response
