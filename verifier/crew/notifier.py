"""The notifier: delivers the webhook outbox, finds expiring credentials, forgets old data.

Runs as its own process (``skk notify run``; ``--once`` for cron and tests). Each round it
enqueues expiry warnings, claims due messages with a lease, POSTs them signed per Standard
Webhooks (a few at a time, so one slow subscriber does not hold up the others) and records each
outcome. A 2xx answer is delivery; anything else, a timeout or a refused connection is retried
with exponential backoff until the message is 24 hours old. Redirects are not followed: a
subscriber's URL is the one it registered. Nothing here logs a name, number or URL.
"""

from __future__ import annotations

import functools
import http.client
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from verifier.core.crew.calendar import DAY, today
from verifier.core.errors import StorageUnavailable
from verifier.crew import delivery, webhooks
from verifier.store import outbox, projects
from verifier.store.db import bound_database, disconnect, storage_errors
from verifier.store.outbox import Claimed

log = logging.getLogger(__name__)

#: Sends one POST: (url, headers, body, timeout) -> HTTP status; OSError when nothing answered.
Sender = Callable[[str, dict[str, str], bytes, float], int]


@dataclass(frozen=True)
class NotifierSettings:
    """How the notifier paces itself; defaults suit production."""

    #: Seconds between rounds when there was nothing to do.
    poll_seconds: float = 0.5
    #: Seconds a claim lasts: longer than one delivery can take (timeout), so that only a dead
    #: notifier's messages are taken over.
    lease_seconds: int = 60
    #: Seconds before the first retry; each later one waits twice as long, up to the maximum.
    first_retry_seconds: int = 5
    #: A local demo (loopback ``SKK_BASE_URL``): its own loopback receiver may be reached.
    local_allowed: bool = False
    max_retry_seconds: int = 3600
    #: A message this old that still failed is given up.
    give_up_seconds: int = DAY
    #: Seconds a subscriber has to answer one POST.
    timeout_seconds: float = 10.0
    #: Messages claimed per round, and delivered at the same time.
    batch: int = 20
    parallel: int = 4
    #: Seconds between searches for expiring credentials and for data to forget.
    housekeeping_seconds: int = 60
    #: Delivered and given-up messages are forgotten after this many days.
    keep_messages_days: int = outbox.KEEP_DONE_DAYS
    #: Projects are deleted, with crews and subscriptions, this many days after they end.
    keep_projects_days: int = projects.KEEP_ENDED_DAYS


def retry_delay(attempts: int, settings: NotifierSettings) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: 5, 10, 20, ... up to an hour."""
    doubled = settings.first_retry_seconds << max(attempts - 1, 0)  # an int, unlike 2 ** n
    return min(doubled, settings.max_retry_seconds)


def http_post(
    url: str, headers: dict[str, str], body: bytes, timeout: float, *, local_allowed: bool = False
) -> int:
    """POST without following redirects, to public addresses only (and, ``local_allowed``, a
    local demo's loopback receiver); the HTTP status (also for 4xx and 5xx);
    InternalAddressRefused when the host resolves to an internal address."""
    return delivery.post(url, headers, body, timeout, local_allowed=local_allowed)


@dataclass
class Tally:
    """What one or more rounds did."""

    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    expiry_warnings: int = 0
    purged_messages: int = 0
    purged_projects: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counts, as ``skk notify run --json`` prints them."""
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "given_up": self.given_up,
            "expiry_warnings": self.expiry_warnings,
            "purged_messages": self.purged_messages,
            "purged_projects": self.purged_projects,
        }


class Notifier:
    """Delivers the outbox of one database; ``clock`` and ``send`` are injectable for tests."""

    def __init__(
        self,
        settings: NotifierSettings,
        *,
        send: Sender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.send = send or functools.partial(http_post, local_allowed=settings.local_allowed)
        self.clock = clock
        self.name = "ntf_" + secrets.token_hex(6)
        self._last_housekeeping: float | None = None

    def run_once(self) -> Tally:
        """Housekeeping, then deliver until nothing is due (what ``--once`` does)."""
        tally = Tally()
        self.housekeeping(tally)
        while self.deliver_round(tally):
            pass
        return tally

    def run(self, stop: threading.Event) -> Tally:
        """Rounds until ``stop`` is set; a database that does not answer is waited out."""
        tally = Tally()
        while not stop.is_set():
            try:
                if self._housekeeping_due():
                    self.housekeeping(tally)
                busy = self.deliver_round(tally)
            except StorageUnavailable as exc:
                log.warning("notifier: %s; trying again shortly", exc.message)
                # Forget a connection the database broke: the next round connects afresh.
                disconnect(bound_database())
                busy = False
            if not busy:
                stop.wait(self.settings.poll_seconds)
        return tally

    def _housekeeping_due(self) -> bool:
        last = self._last_housekeeping
        return last is None or self.clock() - last >= self.settings.housekeeping_seconds

    def housekeeping(self, tally: Tally) -> None:
        """Enqueue expiry warnings; forget old messages and long-ended projects."""
        now = int(self.clock())
        self._last_housekeeping = now
        with storage_errors():
            tally.expiry_warnings += outbox.enqueue_expiry_warnings(now)
            tally.purged_messages += outbox.purge(now - self.settings.keep_messages_days * DAY)
            oldest_kept = today(now - self.settings.keep_projects_days * DAY)
            tally.purged_projects += projects.delete_ended(oldest_kept)

    def deliver_round(self, tally: Tally) -> bool:
        """Claim a batch and deliver it; False when nothing was due."""
        settings = self.settings
        with storage_errors():
            claimed = outbox.claim(
                self.name, int(self.clock()), settings.lease_seconds, settings.batch
            )
        if not claimed:
            return False
        with ThreadPoolExecutor(max_workers=settings.parallel) as pool:
            answers = list(pool.map(self._attempt, claimed))
        with storage_errors():
            for message, (status, error) in zip(claimed, answers, strict=True):
                self._record(message, status, error, tally)
        return True

    def _attempt(self, message: Claimed) -> tuple[int, str]:
        body = message.body.encode("utf-8")
        timestamp = int(self.clock())
        try:
            status = self.send(
                message.url,
                webhooks.headers(message.secret, message.message_id, timestamp, body),
                body,
                self.settings.timeout_seconds,
            )
        # refused, reset, timed out, unresolvable, an internal address, or not speaking HTTP
        except (OSError, ValueError, http.client.HTTPException) as exc:
            return 0, type(exc).__name__
        return status, "" if 200 <= status < 300 else f"HTTP {status}"

    def _record(self, message: Claimed, status: int, error: str, tally: Tally) -> None:
        now = int(self.clock())
        if not error:
            outbox.delivered(message, self.name, now, status)
            tally.delivered += 1
            log.info("notifier: delivered %s (HTTP %d)", message.message_id, status)
            return
        attempts = message.attempts + 1
        if now - message.created_at >= self.settings.give_up_seconds:
            outbox.failed(message, self.name, now, status, error, None)
            tally.given_up += 1
            log.warning(
                "notifier: gave up %s after %d attempts (%s)", message.message_id, attempts, error
            )
            return
        retry_at = now + retry_delay(attempts, self.settings)
        outbox.failed(message, self.name, now, status, error, retry_at)
        tally.failed += 1
        log.info(
            "notifier: %s failed (%s), attempt %d; retry in %d s",
            message.message_id,
            error,
            attempts,
            retry_at - now,
        )
