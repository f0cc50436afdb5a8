"""Gunicorn settings when serving from a checkout: ``gunicorn -c gunicorn.conf.py wsgi:app``.

The settings themselves ship in the package (``verifier/gunicorn_conf.py``), so that a checkout
and an installed wheel serve alike; a wheel install runs
``gunicorn -c python:verifier.gunicorn_conf verifier.wsgi:app`` (docs/deploy.md).
"""

# Gunicorn reads its settings from this module's global names, so all of them are taken over.
from verifier.gunicorn_conf import *  # noqa: F403
