"""Gunicorn settings for SKK Verifier.

Installed: ``gunicorn -c python:verifier.gunicorn_conf verifier.wsgi:app``; from a checkout,
``gunicorn -c gunicorn.conf.py wsgi:app`` reads the same settings.

Environment: ``SKK_BIND`` (default ``127.0.0.1:8000``; loopback, so a reverse proxy terminates
TLS in front), ``SKK_WORKERS`` (default 2). The app itself reads its ``SKK_*`` settings (SPEC §7).
Gunicorn reads this file as Python in the master, before any worker starts.
"""

import os
import sys
from typing import Any

from verifier.config import load_settings, redacted_url
from verifier.core.errors import ConfigurationError

# The app's settings, checked here in the master before any worker starts: a bad setting (or,
# with SKK_REQUIRE_DATABASE_URL, a missing SKK_DATABASE_URL) stops the server with one line and
# status 2 (SPEC §5's status for configuration), not with a traceback from every worker.
try:
    _settings = load_settings()
except ConfigurationError as _error:
    sys.stderr.write(f"skk: {_error.message}\n")
    raise SystemExit(2) from None


def on_starting(server: Any) -> None:  # gunicorn calls it in the master
    """Name the database in the log, without its password: never silently the wrong one."""
    server.log.info("database %s", redacted_url(_settings.database_url))


bind = [os.environ.get("SKK_BIND", "127.0.0.1:8000")]
_workers = os.environ.get("SKK_WORKERS", "2").strip()
if not (_workers.isascii() and _workers.isdigit() and 1 <= int(_workers) <= 64):
    raise SystemExit(f"SKK_WORKERS must be a whole number from 1 to 64, not {_workers!r}")
workers = int(_workers)
# Verification is CPU-bound and short (well under a millisecond): one request per process at a
# time, no threads, no event loop. Put a buffering reverse proxy in front for slow clients.
worker_class = "sync"

# Seconds. A request that takes 30 s is stuck (e.g. a database that hangs); the master kills and
# replaces its worker. Workers get as long again to finish in-flight requests on shutdown.
timeout = 30
graceful_timeout = 30
keepalive = 2  # ignored by sync workers (one request per connection); kept for other classes

# Refuse oversized requests while reading them, before any parsing by the app. The longest QR
# content at level Q is 3,993 characters (version 40, numeric), so a /v/ request line stays
# below 4,096 + method + protocol; headers hold a bearer key, a few hundred bytes at most.
limit_request_line = 4200
limit_request_fields = 40
limit_request_field_size = 4096

# Access log on stdout, without the request line or query string: the path is only its route
# shape (a /v/ path *is* a credential; queries may carry a NIK). See verifier/web/accesslog.py.
accesslog = "-"
errorlog = "-"
loglevel = "info"
logger_class = "verifier.web.accesslog.RedactingLogger"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms %(p)s'

# Deployments behind a proxy on another host set FORWARDED_ALLOW_IPS (gunicorn's own variable).
proc_name = "skk-verifier"

# Gunicorn 27's control socket is one per user by default ($HOME/.gunicorn/gunicorn.ctl), so two
# servers on one host would fight over it; nothing here uses gunicornc.
control_socket_disable = True
