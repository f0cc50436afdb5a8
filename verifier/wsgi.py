"""WSGI entry point: ``gunicorn -c python:verifier.gunicorn_conf verifier.wsgi:app``."""

from verifier import create_app

app = create_app()
