"""The baseline for the HTTP benchmark: what a user would hand-roll instead of SKK Verifier.

Flask plus PyJWT and nothing else: one preloaded Ed25519 public key (PEM file named by
``BARE_PUBLIC_KEY_FILE``), ``POST /verify`` (also at ``/api/v1/verify``, so both servers get the
very same request) with ``{"token": "..."}`` -> ``jwt.decode`` with its default claim checks ->
the claims as JSON. No registry, no revocation, no rate limit, no headers, no i18n.

Run: ``BARE_PUBLIC_KEY_FILE=key.pem gunicorn -c gunicorn.conf.py --pythonpath benchmarks
bare_app:app`` (``benchmarks/bench_http.py`` does this).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask, jsonify, request

app = Flask(__name__)
# Read once at import, in each worker: "preloaded key", the baseline's whole trust model.
PUBLIC_KEY = load_pem_public_key(Path(os.environ["BARE_PUBLIC_KEY_FILE"]).read_bytes())


@app.post("/verify")
@app.post("/api/v1/verify")
def verify() -> Any:
    """Decode the token with the preloaded key; 200 with the claims, or 200 with the error."""
    body = request.get_json(silent=True)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        return jsonify({"valid": False, "error": "token missing"}), 400
    try:
        claims = jwt.decode(token, PUBLIC_KEY, algorithms=["EdDSA"])  # type: ignore[arg-type]
    except jwt.InvalidTokenError as exc:
        return jsonify({"valid": False, "error": type(exc).__name__})
    return jsonify({"valid": True, "claims": claims})
