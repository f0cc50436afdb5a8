"""A webhook subscriber for tests: an HTTP server on a loopback port, in a thread.

It records every POST (headers, body, when it came) and answers from a script: a status per
request (204 once the script is empty), or a hang that holds the request until released, to
catch a notifier in the middle of a delivery. Signatures are checked by the tests themselves.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HANG = -1


@dataclass(frozen=True)
class Delivery:
    """One POST as the receiver saw it."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    received_at: float  # time.time()
    answered: int  # the status sent back (HANG: held, then 503)

    def headers(self) -> dict[str, str]:
        """The Standard Webhooks headers, as a subscriber reads them."""
        return {
            "webhook-id": self.webhook_id,
            "webhook-timestamp": self.timestamp,
            "webhook-signature": self.signature,
        }


class Receiver:
    """Context manager: the server runs inside the ``with``."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._script: deque[int] = deque()
        self._changed = threading.Condition()
        self.hanging = threading.Event()  # set when a held request has arrived
        self._release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._next_status()
                if status == HANG:
                    receiver.hanging.set()
                    receiver._release.wait(60)
                delivery = Delivery(
                    self.headers.get("webhook-id", ""),
                    self.headers.get("webhook-timestamp", ""),
                    self.headers.get("webhook-signature", ""),
                    body,
                    time.time(),
                    status,
                )
                try:
                    self.send_response(503 if status == HANG else status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the notifier was killed meanwhile
                with receiver._changed:
                    receiver.deliveries.append(delivery)
                    receiver._changed.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where subscribers point the webhook."""
        return f"http://127.0.0.1:{self._server.server_port}/skk-webhook"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (HANG holds one until released)."""
        with self._changed:
            self._script.extend(statuses)

    def release(self) -> None:
        """Let a held request answer (503)."""
        self._release.set()

    def _next_status(self) -> int:
        with self._changed:
            return self._script.popleft() if self._script else 204

    def wait_for(self, done: Callable[[list[Delivery]], bool], timeout: float) -> list[Delivery]:
        """The deliveries once ``done`` holds for them; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"webhook not received in {timeout}s: {len(self.deliveries)} deliveries"
                    )
                self._changed.wait(left)
            return list(self.deliveries)
