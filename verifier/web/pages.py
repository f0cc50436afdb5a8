"""Pages for people: the QR landing page, the manual check form, the privacy notice."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages", __name__)
