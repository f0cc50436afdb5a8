"""Agency JSON API (SPEC §6), authenticated with ``Authorization: Bearer skk_<id>_<secret>``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agency_api", __name__, url_prefix="/api/v1")
