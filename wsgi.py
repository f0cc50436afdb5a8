"""WSGI entry point from a checkout: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

from verifier.wsgi import app

__all__ = ["app"]
