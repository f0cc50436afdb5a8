"""The verify page and the manual check in a real headless Chromium on a phone-sized screen.

Debian's Chromium (``apt-get install chromium``) is driven by Playwright with that executable;
Playwright never downloads a browser here. Without Chromium the tests skip with that message,
except in CI (``CI=true``), where a missing browser must fail rather than pass unnoticed. The app
runs on werkzeug's own server on a free loopback port, in a thread of the test process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page
from werkzeug.serving import make_server

from verifier.core import links, qr_payload
from verifier.core.credential import add_years
from verifier.store import revocation

#: Headless Chromium.
pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
#: WCAG AAA for normal text; the verdict needs it in sunlight on a cheap screen.
MIN_CONTRAST = 7.0
#: Runs before any page script would (there are none): records CSP violations the page reports.
CSP_PROBE = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture
def server(app) -> Iterator[str]:
    """The test app on werkzeug's server at 127.0.0.1 on a free port; yields its origin."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="skk-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@dataclass
class Watch:
    """What went wrong while a page loaded: console errors, failed or foreign requests."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Listen on the page's events."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("requestfailed", lambda request: self.failed.append(request.url))
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console_errors.append(f"{message.type}: {message.text}")

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.origin + "/", "data:")):
            self.foreign.append(request.url)

    def assert_clean(self, page: Page) -> None:
        """No console error or warning, no CSP violation, nothing failed or fetched elsewhere."""
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.failed == []
        assert self.foreign == []
        assert page.evaluate("window.__csp") == []


def _open(browser: Browser, url: str, locale: str = "id-ID", javascript: bool = True):
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        java_script_enabled=javascript,
    )
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    watch = Watch(origin=url.split("/", 3)[0] + "//" + url.split("/", 3)[2])
    watch.attach(page)
    response = page.goto(url, wait_until="load")
    assert response is not None
    return context, page, watch, response


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _rgb(css: str) -> tuple[float, ...]:
    inside = css[css.index("(") + 1 : css.index(")")]
    return tuple(float(part) for part in inside.replace("/", ",").split(",")[:3])


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two CSS rgb() colours."""
    lighter, darker = sorted(
        (_luminance(_rgb(foreground)), _luminance(_rgb(background))), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def _assert_readable_verdict(page: Page, expected: str) -> None:
    word = page.locator("#verdict-word")
    assert word.is_visible()
    assert word.inner_text().strip() == expected
    box = word.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"] / 2  # above the fold
    style = page.evaluate(
        """() => {
            const word = getComputedStyle(document.getElementById('verdict-word'));
            const block = getComputedStyle(document.querySelector('.verdict'));
            return {size: parseFloat(word.fontSize), weight: Number(word.fontWeight),
                    color: word.color, background: block.backgroundColor,
                    border: parseFloat(block.borderTopWidth)};
        }"""
    )
    assert style["size"] >= 32 and style["weight"] >= 700
    assert style["border"] >= 4
    assert contrast(style["color"], style["background"]) >= MIN_CONTRAST
    # Nothing wider than the phone: no sideways scrolling to read the result.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize(
    ("state", "locale", "expected", "holder_shown"),
    [
        ("valid", "id-ID", "SAH / BERLAKU", True),
        ("revoked", "id-ID", "DICABUT", True),
        ("revoked", "en-US", "REVOKED", True),
        ("expired", "id-ID", "KEDALUWARSA", True),
        ("forged", "id-ID", "TIDAK SAH", False),
    ],
)
def test_verdict_is_big_clear_and_clean(
    browser, server, contoh, issue, settings, tmp_path, state, locale, expected, holder_shown
):
    now = int(time.time())
    valid_from = add_years(now - 30 * 86400, -5) if state == "expired" else None
    signed = issue(now=now - 3600, valid_from=valid_from, allow_expired=state == "expired")
    if state == "revoked":
        revocation.revoke(
            "lsp-contoh", signed.credential.number, "fraud", note=None, actor="t", now=now - 60
        )
    token = signed.token if state != "forged" else signed.token[:-6] + "AAAAAA"
    path = links.credential_url(settings.base_url, token).split("/V/", 1)[1]
    context, page, watch, response = _open(browser, f"{server}/V/{path}", locale)
    try:
        assert response.status == 200
        assert response.headers["cache-control"] == "no-store"
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        _assert_readable_verdict(page, expected)  # the styles applied, under the hash-only CSP
        holder = page.get_by_text(signed.credential.holder_name, exact=True)
        assert holder.count() == (1 if holder_shown else 0)
        assert page.get_by_text("sertifikat.example.id").first.is_visible()
        shot = tmp_path / f"verify-{state}-{locale}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        watch.assert_clean(page)
    finally:
        context.close()


def test_page_reads_the_same_without_javascript(browser, server, contoh, issue):
    signed = issue(now=int(time.time()) - 3600)
    url = f"{server}/v/{qr_payload.encode_payload(signed.token)}"
    context, page, _, response = _open(browser, url, javascript=False)
    try:
        assert response.status == 200
        assert page.locator("#verdict-word").inner_text().strip() == "SAH / BERLAKU"
        assert page.locator("#verdict-word").is_visible()
    finally:
        context.close()


def test_narrowest_phone_has_no_sideways_scroll(browser, server, contoh, issue):
    signed = issue(
        now=int(time.time()) - 3600,
        holder_name="Ni Luh Putu Ayu Sri Wahyuni "
        "Kusuma Dewi Anak Agung Istri Cokorda Mas Ratna Sari Dewi",
    )
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    try:
        page = context.new_page()
        payload = qr_payload.encode_payload(signed.token)
        for path in (f"/V/{payload}", "/v/garbage", "/cek", "/privasi"):
            page.goto(server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    finally:
        context.close()


def test_verdict_words_never_break_inside_a_word(browser, server, contoh, issue):
    """At 320 px the longest words (KEDALUWARSA, NOT YET VALID, ...) still fit whole."""
    now = int(time.time())
    tokens = [
        issue(now=now - 3600).token,
        issue(now=now - 3600, valid_from=add_years(now - 30 * 86400, -5), allow_expired=True).token,
        issue(now=now - 3600, valid_from=now + 10 * 86400).token,
    ]
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    try:
        page = context.new_page()
        for language in ("id", "en"):
            for path in [f"/V/{qr_payload.encode_payload(token)}" for token in tokens] + ["/v/x"]:
                page.goto(f"{server}{path}?lang={language}")
                fits = page.evaluate(
                    "(() => { const w = document.getElementById('verdict-word');"
                    " return w.scrollWidth <= w.clientWidth; })()"
                )
                assert fits, (language, page.locator("#verdict-word").inner_text())
    finally:
        context.close()


def test_manual_check_in_the_browser(browser, server, contoh, issue, tmp_path):
    signed = issue(now=int(time.time()) - 3600)
    context, page, watch, response = _open(browser, f"{server}/cek")
    try:
        assert response.status == 200
        page.select_option("#agency", "lsp-contoh")
        page.fill("#number", signed.credential.number.lower())
        page.fill("#name", signed.credential.holder_name.upper())
        with page.expect_navigation():
            page.get_by_role("button").click()
        _assert_readable_verdict(page, "SAH / BERLAKU")
        page.screenshot(path=str(tmp_path / "manual-check.png"), full_page=True)
        page.fill("#name", "Orang Lain")
        with page.expect_navigation():
            page.get_by_role("button").click()
        assert page.locator("#verdict-word").count() == 0
        assert page.get_by_text("Tidak ada sertifikat yang cocok dengan data ini.").is_visible()
        watch.assert_clean(page)
    finally:
        context.close()
