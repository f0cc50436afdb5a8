"""Public JSON API (SPEC §6): verify, JWKS, agencies, health, OpenAPI."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)
