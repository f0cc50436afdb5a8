"""Offline checks end to end: gunicorn, Debian's Chromium, a phone that loses its signal.

A checker opens /periksa once with signal; the page installs the service worker and stores a
verified trust bundle. Then the network goes off (``context.set_offline(True)``) and the demo
certificates' URLs, opened as the phone camera would, get their verdicts from the service worker:
the same page as the server's, with ``data-offline`` and the age of the data. A revocation made
online reaches the phone by a delta; a bundle with a bad signature is refused and the old data
kept; data past its maximum age gives ``stale_data``; the gate log counts and exports the checks.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.offline_vectors import make_vectors
from tests.serving import NO_RATE_LIMIT, SERVER_KINDS, Server, free_port, fresh_database, skk
from tests.serving import server_environment as serving_environment
from tests.test_browser import CSP_PROBE, PHONE, Watch

pytestmark = pytest.mark.browser

READY_TIMEOUT_MS = 30_000
ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@dataclass
class Site:
    """A served demo instance: its origin, the operator's environment and the demo URLs."""

    origin: str
    env: dict[str, str]
    demo: dict[str, str]  # status -> URL

    def url(self, status: str) -> str:
        """The demo certificate's URL as a camera app opens it (scheme and host lower-cased)."""
        prefix, payload = self.demo[status].split("/V/", 1)
        return f"{prefix.lower()}/V/{payload}"


def _serve(tmp: Path, kind: str, **extra: str) -> Iterator[Site]:
    port = free_port()
    env = serving_environment(
        fresh_database(kind, tmp), tmp, port, SKK_RATELIMIT_VERIFY=NO_RATE_LIMIT, **extra
    )
    skk(env, "init")
    demo = {item["status"]: item["url"] for item in skk(env, "demo")}
    with Server(env, tmp / "access.log", tmp / "error.log"):
        yield Site(f"http://127.0.0.1:{port}", env, demo)


@pytest.fixture(scope="module", params=SERVER_KINDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The demo (`skk demo`, which also makes a bundle key) served by gunicorn."""
    yield from _serve(tmp_path_factory.mktemp(f"offline-{request.param}"), request.param)


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh phone: its own service worker registration and storage, Indonesian locale."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="id-ID", accept_downloads=True
    )
    context.add_init_script(CSP_PROBE)
    try:
        yield context
    finally:
        context.close()


def open_periksa(context: BrowserContext, site: Site, state: str = "ready") -> Page:
    """/periksa opened with signal, waited on until its status says ``state``."""
    page = context.new_page()
    page.goto(f"{site.origin}/periksa")
    page.wait_for_selector(f'#offline-status[data-state="{state}"]', timeout=READY_TIMEOUT_MS)
    return page


def verdict(page: Page) -> dict[str, Any]:
    """The verdict section's status and offline stamp, and the page's words."""
    section = page.locator("section.verdict")
    return {
        "status": section.get_attribute("data-status"),
        "offline": section.get_attribute("data-offline"),
        "text": page.locator("main").inner_text(),
    }


def test_every_demo_certificate_gets_its_verdict_with_no_signal(
    phone: BrowserContext, site: Site
) -> None:
    page = open_periksa(phone, site)
    watch = Watch(origin=site.origin)
    watch.attach(page)
    page.reload()  # a clean second load: no console error, CSP violation or foreign request
    page.wait_for_selector('#offline-status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
    watch.assert_clean(page)
    status_box = page.locator("#offline-status")
    as_of = status_box.get_attribute("data-as-of")
    assert as_of is not None and ISO_Z.fullmatch(as_of)
    assert "Siap untuk pemeriksaan offline, data per" in status_box.inner_text()

    phone.set_offline(True)
    for status in ("valid", "revoked", "suspended", "expired"):
        response = page.goto(site.url(status))
        assert response is not None and response.status == 200
        seen = verdict(page)
        assert seen["status"] == status and seen["offline"] == as_of, seen
        assert "Diperiksa tanpa internet, data per" in seen["text"]
        assert page.locator("p.offline").is_visible()
        assert "no-store" in (response.headers.get("cache-control") or "")
        assert "script-src" not in (response.headers.get("content-security-policy") or "")
        assert page.evaluate("window.__csp") == []
    assert "Rina Marlina" in verdict(page.goto(site.url("valid")) and page)["text"]

    page.goto(site.url("revoked") + "?lang=en")
    english = verdict(page)
    assert english["status"] == "revoked" and "REVOKED" in english["text"]
    assert "Checked without internet, data as of" in english["text"]


def test_forgeries_are_not_valid_offline(phone: BrowserContext, site: Site) -> None:
    page = open_periksa(phone, site)
    phone.set_offline(True)
    prefix, payload = site.url("valid").split("/V/", 1)
    changed = payload[:50] + str((int(payload[50]) + 1) % 10) + payload[51:]
    page.goto(f"{prefix}/V/{changed}")
    assert verdict(page)["status"] == "malformed"
    assert "TIDAK SAH" in verdict(page)["text"] and "Rina Marlina" not in verdict(page)["text"]
    from verifier.core import qr_payload

    token = qr_payload.decode_payload(payload)
    head, _, signature = token.rpartition(".")
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    page.goto(f"{site.origin}/v/{forged}")
    assert verdict(page)["status"] == "bad_signature"
    assert verdict(page)["offline"] is not None


def test_a_revocation_made_online_reaches_the_phone_by_delta(
    phone: BrowserContext, site: Site
) -> None:
    issued = skk(
        site.env,
        "issue",
        "--agency",
        "lsp-demo",
        "--name",
        "Dewi Lestari",
        "--job-code",
        "ME063100",
        "--level",
        "3",
    )
    url = issued["url"].replace("HTTP://127.0.0.1", "http://127.0.0.1")
    page = open_periksa(phone, site)
    before = int(page.locator("#offline-status").get_attribute("data-seq") or -1)
    phone.set_offline(True)
    page.goto(url)
    assert verdict(page)["status"] == "valid"  # a new certificate of a known key: no refresh

    phone.set_offline(False)
    skk(site.env, "revoke", "--agency", "lsp-demo", issued["number"], "--reason", "misuse")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{site.origin}/periksa")
    page.wait_for_selector('#offline-status[data-state="ready"]', timeout=READY_TIMEOUT_MS)
    assert int(page.locator("#offline-status").get_attribute("data-seq") or -1) > before
    assert any(f"/api/v1/offline/bundle?since={before}" in seen for seen in asked), asked
    phone.set_offline(True)
    page.goto(url)
    assert verdict(page)["status"] == "revoked"
    assert "penyalahgunaan" in verdict(page)["text"]  # the reason, in Indonesian


def _tamper(route: Route) -> None:
    """The server's answer with one character of its payload changed."""
    response = route.fetch()
    head, body, signature = response.text().split(".")
    body = body[:30] + ("A" if body[30] != "A" else "B") + body[31:]
    route.fulfill(response=response, body=f"{head}.{body}.{signature}")


@pytest.mark.parametrize("kind", ["delta", "full"])
def test_a_bundle_with_a_bad_signature_is_refused_and_the_old_one_kept(
    phone: BrowserContext, site: Site, kind: str
) -> None:
    page = open_periksa(phone, site)
    box = page.locator("#offline-status")
    kept = (box.get_attribute("data-as-of"), box.get_attribute("data-seq"))
    time.sleep(1.1)  # so that a bundle accepted now would carry a later time

    def answer(route: Route) -> None:
        if kind == "full" and "since=" in route.request.url:
            route.fulfill(status=410, content_type="application/problem+json", body="{}")
        else:
            _tamper(route)

    phone.route("**/api/v1/offline/bundle*", answer)
    page.locator("#offline-refresh").click()
    page.wait_for_selector('#offline-status[data-state="failed"]', timeout=READY_TIMEOUT_MS)
    assert "ditolak" in box.inner_text()  # "...signature check and was refused"
    assert (box.get_attribute("data-as-of"), box.get_attribute("data-seq")) == kept
    phone.set_offline(True)
    page.goto(site.url("valid"))
    assert verdict(page) | {"text": ""} == {"status": "valid", "offline": kept[0], "text": ""}


def test_data_past_its_maximum_age_never_says_valid(browser: Browser, tmp_path: Path) -> None:
    site = _serve(tmp_path, "sqlite", SKK_OFFLINE_MAX_AGE="10")
    served = next(site)
    context = browser.new_context(viewport=PHONE, locale="en-US")
    try:
        page = open_periksa(context, served)
        as_of = page.locator("#offline-status").get_attribute("data-as-of")
        context.set_offline(True)
        page.wait_for_timeout(11_000)  # the bundle's 10 seconds are up
        page.goto(served.url("valid"))
        seen = verdict(page)
        assert seen["status"] == "stale_data" and seen["offline"] == as_of
        assert "DATA TOO OLD" in seen["text"] and "Rina Marlina" in seen["text"]
        assert "VALID" not in seen["text"].replace("NOT VALID", "")
        page.goto(served.url("revoked"))
        assert verdict(page)["status"] == "revoked"  # negative verdicts stand
    finally:
        context.close()
        next(site, None)


def test_without_offline_data_the_phone_says_it_cannot_check(
    phone: BrowserContext, site: Site
) -> None:
    phone.route("**/api/v1/offline/bundle*", lambda route: route.abort())
    page = open_periksa(phone, site, state="failed")
    assert "Coba lagi di tempat yang ada sinyal" in page.locator("#offline-status").inner_text()
    phone.set_offline(True)
    response = page.goto(site.url("valid"))
    assert response is not None and response.status == 503
    assert verdict(page)["status"] == "no_offline_data"
    assert "TIDAK DAPAT MEMERIKSA SEKARANG" in verdict(page)["text"]


def test_the_gate_log_counts_exports_and_clears_the_days_checks(
    phone: BrowserContext, site: Site
) -> None:
    page = open_periksa(phone, site)
    page.locator("#log-on").check()
    phone.set_offline(True)
    for status in ("valid", "revoked", "expired"):
        page.goto(site.url(status))
    page.goto(f"{site.origin}/periksa")  # offline: from the service worker's cache
    rows = page.locator("#log-table tbody tr")
    # (wait_for_function would evaluate a string: the page's CSP refuses eval, as it should)
    expect(rows).to_have_count(3, timeout=READY_TIMEOUT_MS)
    assert sorted(rows.nth(i).get_attribute("data-status") for i in range(3)) == [
        "expired",
        "revoked",
        "valid",
    ]
    assert "Pemeriksaan hari ini: 3." in page.locator("#log-counts").inner_text()
    with page.expect_download() as download_info:
        page.locator("#log-export").click()
    download = download_info.value
    assert download.suggested_filename == "results.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["time", "number", "name", "job", "level", "status"]
    assert {row[5] for row in table[1:]} == {"valid", "revoked", "expired"}
    assert table[[r[5] for r in table].index("valid")][1:3] == ["DEMO 0001 2026", "Rina Marlina"]
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#log-clear").click()
    expect(rows).to_have_count(0)


def test_phones_that_never_opened_periksa_get_the_server_page(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        response = page.goto(site.url("valid"))
        assert response is not None and response.status == 200
        assert verdict(page)["status"] == "valid" and verdict(page)["offline"] is None
        policy = response.headers["content-security-policy"]
        assert "script-src" not in policy and "default-src 'none'" in policy
    finally:
        context.close()


#: Runs in the page: the parity vectors through Chromium's own engine and WebCrypto (BoringSSL,
#: where node has OpenSSL). Returns every disagreement with Python.
CHROMIUM_PARITY = """async (vectors) => {
  const load = (name) => import(`/offline/${name}.js`);
  const [{ hydrate, readBundle, readKeySet }, { parseJsonText, parseJsonObject }, verify, keys,
    qr] = await Promise.all(['bundle', 'strict-json', 'verify', 'keys', 'qr-payload'].map(load));
  const hex = (t) => Uint8Array.from(t.match(/../g) ?? [], (b) => parseInt(b, 16));
  const wrong = [];
  const pinned = await readKeySet(parseJsonText(JSON.stringify(vectors.key_set)));
  const trust = await hydrate(await readBundle(vectors.bundles.full, pinned));
  for (const c of vectors.cases) {
    const result = await verify.verifyOffline(c.input, trust, { at: c.at, now: c.now });
    const got = verify.resultToDict(result, vectors.pack.languages.en.status_messages);
    if (JSON.stringify(got) !== JSON.stringify(c.expected.en)) wrong.push(c.name);
  }
  for (const v of vectors.signatures) {
    const key = await keys.importVerifyingKey(v.alg, v.jwk);
    if (await keys.verifySignature(key, hex(v.msg), hex(v.sig)) !== v.valid) wrong.push(v.id);
  }
  for (const v of vectors.json) {
    let ok = true;
    try { parseJsonObject(hex(v.hex), 'x'); } catch { ok = false; }
    if (ok !== v.ok) wrong.push(`json ${v.hex.slice(0, 40)}`);
  }
  for (const v of vectors.payloads) {
    let token = null;
    try { token = await qr.decodePayload(v.payload); } catch { token = null; }
    if ((v.ok ? v.token : null) !== token) wrong.push(`payload ${v.payload.slice(0, 20)}`);
  }
  return { wrong, cases: vectors.cases.length, signatures: vectors.signatures.length };
}"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The vectors' own SQLite database (overriding conftest's): a PostgreSQL one would be the
    database the served site is using."""
    return f"sqlite:///{tmp_path / 'vectors.sqlite3'}"


def test_chromium_reaches_the_verdicts_python_reaches(
    phone: BrowserContext, site: Site, app, database, store, service, settings
) -> None:
    """The node parity run again inside Debian's Chromium: its JavaScript engine, its
    WebCrypto (BoringSSL: Ed25519 and P-256 edge cases of Wycheproof), its Unicode tables."""
    vectors = make_vectors(app, store, service, settings.base_url)
    page = phone.new_page()
    page.goto(f"{site.origin}/periksa")
    outcome = page.evaluate(CHROMIUM_PARITY, vectors)
    assert outcome["wrong"] == [], outcome["wrong"][:20]
    assert outcome["cases"] > 300 and outcome["signatures"] > 350
