"""Proposed tests (e.g. tests/test_cohort_output.py): the QR pool gives what one process gives."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from verifier.core import links
from verifier.core.errors import InvalidInput
from verifier.qr import parallel, render

BASE_URL = "https://sertifikat.example.id"
URLS = [
    f"HTTPS://SERTIFIKAT.EXAMPLE.ID/V/{n:0300d}" for n in range(parallel.PARALLEL_THRESHOLD + 16)
]


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool of two workers even on a one-core machine: the parallel path is always tested."""
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)


def test_pool_renders_in_order_what_one_process_renders() -> None:
    tokens = [f"not.a.jws{n}" for n in range(len(URLS))]  # sent as they are: the plain fallback
    seen: list[int] = []
    with parallel.QrRenderer(len(URLS)) as renderer:
        assert renderer._pool is not None  # the parallel path really is taken
        svgs = renderer.render(URLS, on_progress=seen.append)
        pairs = renderer.render_credentials(BASE_URL, tokens, on_progress=seen.append)
    assert svgs == [render.qr_svg(url) for url in URLS]
    urls = [links.credential_url(BASE_URL, token) for token in tokens]
    assert pairs == [(url, render.qr_svg(url)) for url in urls]
    assert seen == [1] * (2 * len(URLS))


def test_bad_base_url_fails_in_this_process() -> None:
    with parallel.QrRenderer(len(URLS)) as renderer, pytest.raises(InvalidInput) as caught:
        renderer.render_credentials("not a url", ["t"] * len(URLS))
    assert caught.value.field == "base_url"  # our own error, not one unpickled from a worker


def test_broken_pool_finishes_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_map(self, func, items, chunksize=1):
        yield func(items[0])
        raise BrokenProcessPool("a worker died")

    monkeypatch.setattr(ProcessPoolExecutor, "map", broken_map)
    with parallel.QrRenderer(len(URLS)) as renderer:
        svgs = renderer.render(URLS)
    assert svgs == [render.qr_svg(url) for url in URLS]
