"""QR codes rendered in parallel: a cohort's thousands of SVGs spread over every usable core.

Rendering a code takes several milliseconds, so a 5,000-row cohort is worth a process pool; a
few codes are not (:data:`PARALLEL_THRESHOLD`). Results come back in order whatever the pool does.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import TypeVar

from verifier.core.links import credential_url
from verifier.qr.render import credential_qr, qr_svg, qr_version

Progress = Callable[[int], None]
#: Below this many codes a process pool costs more than it saves.
PARALLEL_THRESHOLD = 64
#: Codes per task sent to a worker: small enough for an even spread over the workers and a
#: smooth progress bar, large enough that sending tasks costs nothing next to rendering them
#: (several milliseconds a code).
MAX_CHUNK = 32
#: A short URL whose QR a new worker renders once, so it is up before the real work arrives.
_WARM_UP_URL = "HTTPS://WARM.UP/V/0"
_T = TypeVar("_T")


def usable_cores() -> int:
    """Cores this process may run on (fewer than the machine's when pinned by a container)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


class QrRenderer:
    """Renders QR SVGs in order, spread over every usable core when there are enough of them.

    Use as a context manager; the worker processes start on entry, so their start-up overlaps
    whatever the caller does before calling :meth:`render`.
    """

    def __init__(self, expected: int) -> None:
        self.workers = usable_cores()
        self._pool: ProcessPoolExecutor | None = None
        if expected >= PARALLEL_THRESHOLD and self.workers > 1:
            # forkserver: no fork of a process that may hold database connections or threads.
            # Preloading the QR module there means each worker starts with segno imported.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["verifier.qr.render"])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_exit_with_parent
            )
            for _ in range(self.workers):  # workers spawn one per task, on submission
                self._pool.submit(qr_version, _WARM_UP_URL)

    def __enter__(self) -> QrRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def render(self, urls: Sequence[str], *, on_progress: Progress | None = None) -> list[str]:
        """SVG of each URL's QR code, in order."""
        return self._map(qr_svg, urls, on_progress)

    def render_credentials(
        self, base_url: str, tokens: Sequence[str], *, on_progress: Progress | None = None
    ) -> list[tuple[str, str]]:
        """Verify URL and QR SVG of each token, in order (the workers build the URLs too: packing
        a token into QR digits costs about a tenth of rendering its code)."""
        if tokens:
            credential_url(base_url, tokens[0])  # a bad base URL fails here, not in a worker
        return self._map(partial(credential_qr, base_url), tokens, on_progress)

    def _map(
        self, func: Callable[[str], _T], items: Sequence[str], on_progress: Progress | None
    ) -> list[_T]:
        if self._pool is None or len(items) < PARALLEL_THRESHOLD:
            return _run_here(func, items, on_progress)
        chunk = max(1, min(MAX_CHUNK, len(items) // (self.workers * 4)))
        results: list[_T] = []
        try:
            for result in self._pool.map(func, items, chunksize=chunk):
                results.append(result)
                if on_progress:
                    on_progress(1)
        except BrokenProcessPool:
            # A worker could not start (say, a __main__ it cannot re-import): finish here.
            return results + _run_here(func, items[len(results) :], on_progress)
        return results


def _exit_with_parent() -> None:
    """Worker initializer: end the worker as soon as the process that started it is gone.

    A killed ``skk issue-batch`` cannot shut its pool down, and a worker waits for its next task
    forever; the parent's sentinel becomes readable when the parent dies, however it dies.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _run_here(
    func: Callable[[str], _T], items: Sequence[str], on_progress: Progress | None
) -> list[_T]:
    results = []
    for item in items:
        results.append(func(item))
        if on_progress:
            on_progress(1)
    return results
