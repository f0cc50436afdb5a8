"""`skk notify run`: the notifier process that delivers watched projects' webhooks.

Runs until SIGTERM or SIGINT (finishing the round in hand), or once with ``--once`` for cron and
tests. See ``verifier.crew.notifier`` for what a round does and docs/deploy.md for its unit.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from urllib.parse import urlsplit

import click

from verifier.cli.base import Runtime, emit, json_option, pass_runtime, uses_database
from verifier.config import is_loopback_host
from verifier.crew.notifier import Notifier, NotifierSettings

_DEFAULTS = NotifierSettings()


def register(main: click.Group) -> None:
    """Attach the commands to the top-level group."""
    main.add_command(notify)


@click.group()
def notify() -> None:
    """Webhook delivery for watched projects."""


@notify.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--poll-seconds",
    type=click.FloatRange(0.05, 60),
    default=_DEFAULTS.poll_seconds,
    show_default=True,
    help="Pause between rounds when nothing is due.",
)
@click.option(
    "--lease-seconds",
    type=click.IntRange(2, 3600),
    default=_DEFAULTS.lease_seconds,
    show_default=True,
    help="How long a claim lasts; a dead notifier's ends then.",
)
@click.option(
    "--first-retry-seconds",
    type=click.IntRange(1, 3600),
    default=_DEFAULTS.first_retry_seconds,
    show_default=True,
    help="Wait before the first retry; doubled for each later one.",
)
@click.option(
    "--timeout",
    "timeout_seconds",
    type=click.FloatRange(1, 60),
    default=_DEFAULTS.timeout_seconds,
    show_default=True,
    help="Seconds a subscriber has to answer.",
)
@json_option
@pass_runtime
@uses_database
def notify_run(
    rt: Runtime,
    once: bool,
    poll_seconds: float,
    lease_seconds: int,
    first_retry_seconds: int,
    timeout_seconds: float,
    as_json: bool,
) -> None:
    """Deliver webhooks (and find expiring credentials) until stopped."""
    settings = NotifierSettings(
        poll_seconds=poll_seconds,
        lease_seconds=lease_seconds,
        first_retry_seconds=first_retry_seconds,
        timeout_seconds=max(1.0, min(timeout_seconds, lease_seconds / 2)),
        local_allowed=is_loopback_host(urlsplit(rt.settings.base_url).hostname),
    )
    notifier = Notifier(settings)
    if once:
        emit(as_json, notifier.run_once().to_dict())
        return
    _log_to_stderr()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # A service runs for weeks: name its database now, not only when it stops.
    logging.getLogger(__name__).info(
        "notifier %s running on database %s", notifier.name, rt.database_shown
    )
    emit(as_json, notifier.run(stop).to_dict())


def _log_to_stderr() -> None:
    """One line per delivery outcome on stderr (the journal, under systemd); never a name,
    number or URL (verifier.crew.notifier logs message ids only)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("verifier")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
