"""Benchmark: offline trust bundles (issue 10, item 7; docs/offline.md §10).

Prints, with the issue's targets:

* the size on the wire (gzip, level 6, as the server sends it) of a full bundle with 10,000 and
  with 1,000,000 revoked or suspended credentials, and the time to build each on the server
  (read the database, encode, sign) and to gzip it; a laptop's time to verify and read it back;
* the size of a delta carrying 100 changes (revocations, suspensions and reinstatements);
* the median (and 90th percentile) time from navigation to rendered verdict offline in Chromium:
  gunicorn serves the demo, /periksa is opened once, the network goes off, and the demo URLs are
  opened again and again; the time is the Navigation Timing ``loadEventEnd``.

The revocations look like real ones: numbers in the issuer's format (job code of the master
list, level, 8 random digits, year) spread over 20 agencies, revoked or suspended at random times
over five years. Targets: 10,000 <= 200 KB; 1,000,000 <= 16 MB built in <= 20 s; delta <= 8 KB;
offline verdict <= 150 ms median. Exit status 1 when a target is missed.

Run: ``.venv/bin/python benchmarks/bench_offline.py`` (``make bench``); about two minutes.
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import peewee
from bench_http import ROOT, free_port, skk, skk_env, start, stop

from verifier.core import bundle, jobs, keys
from verifier.issuance import bundles, keyring
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import bundle_keys, bundle_source, offline_changes, registry, revocation
from verifier.store.db import init_schema, open_database

TARGETS = {"10000": 200_000, "1000000": 16_000_000, "delta": 8_000}
BUILD_TARGET_SECONDS = 20.0
VERDICT_TARGET_MS = 150.0
AGENCIES = 20
DELTA_CHANGES = 100
NAVIGATIONS = 40
DAY = 86_400
NOW = int(time.time())
SETTINGS = bundle.BundleSettings("https://sertifikat.example.id", 7 * DAY, 60)


def main() -> int:
    """Every figure, then the verdict: exit 1 if a target was missed."""
    missed = []
    with tempfile.TemporaryDirectory(prefix="skk-bench-offline-") as tmp_name:
        tmp = Path(tmp_name)
        for count in (10_000, 1_000_000):
            missed += measure_bundle(tmp / str(count), count)
        missed += measure_delta(tmp / "delta")
        missed += measure_offline_verdict(tmp / "browser")
    print("all targets met" if not missed else f"MISSED: {', '.join(missed)}")
    return 1 if missed else 0


def prepare(folder: Path, count: int) -> tuple[peewee.Database, PrivateKeyStore]:
    """A SQLite database with 20 agencies (imported keys: they sign elsewhere) and ``count``
    revocation records, and a bundle key."""
    folder.mkdir(parents=True)
    database = open_database(f"sqlite:///{folder / 'bench.sqlite3'}", create=True)
    init_schema(database)
    store = PrivateKeyStore(folder / "keys", "bench-only-passphrase")
    for index in range(AGENCIES):
        agency = f"lsp-bench-{index:02d}"
        registry.add_agency(agency, f"LSP Bench {index:02d}", (1, 9), "lsp", NOW - 3000 * DAY)
        public = json.dumps(keys.generate_signing_key().verifying_key().jwk).encode()
        keyring.import_public(agency, public, since=None, now=NOW - 3000 * DAY)
    rng = random.Random(count)
    codes = [job.code for job in jobs.master()]
    numbers: set[tuple[str, str]] = set()
    while len(numbers) < count:
        numbers.add(
            (
                f"lsp-bench-{rng.randrange(AGENCIES):02d}",
                (
                    f"{rng.choice(codes)} {rng.randint(1, 9)} {rng.randrange(10**8):08d} "
                    f"{rng.randint(2020, 2026)}"
                ),
            )
        )
    rows = [
        (
            agency,
            number,
            "revoked" if rng.random() < 0.9 else "suspended",
            rng.choice(revocation.REASONS),
            NOW - rng.randrange(5 * 365 * DAY),
        )
        for agency, number in numbers
    ]
    with database.atomic():
        database.connection().executemany(
            "INSERT INTO revocation (agency_id, number, status, reason, at) VALUES (?,?,?,?,?)",
            rows,
        )
    bundles.new_key(store, NOW - DAY)
    return database, store


def measure_bundle(folder: Path, count: int) -> list[str]:
    """Build, sign and gzip a full bundle; read it back as a laptop would."""
    database, store = prepare(folder, count)
    key = bundles.signer(store)
    started = time.perf_counter()
    body = bundle_source.full_payload(SETTINGS, NOW)
    text = bundle.sign(body, key).encode("ascii")
    built = time.perf_counter() - started
    started = time.perf_counter()
    gzipped = gzip.compress(text, compresslevel=6)
    zipped = time.perf_counter() - started
    started = time.perf_counter()
    pinned = bundle.read_key_set(bundle_keys.key_set(NOW, SETTINGS.max_age))
    read = bundle.read(text.decode("ascii"), pinned)
    read_seconds = time.perf_counter() - started
    assert read.revocation_count() == count
    target = TARGETS[str(count)]
    print(
        f"full bundle, {count:>9,} revocations: {len(gzipped):>12,} bytes gzip "
        f"({len(text):,} plain; target <= {target:,}), built in {built:.2f} s "
        f"+ gzip {zipped:.2f} s, read and verified in {read_seconds:.2f} s"
    )
    missed = [] if len(gzipped) <= target else [f"{count:,} size"]
    if count == 1_000_000 and built + zipped > BUILD_TARGET_SECONDS:
        missed.append("1,000,000 build time")
    database.close()
    return missed


def measure_delta(folder: Path) -> list[str]:
    """100 changes after a bundle of 10,000: revocations, suspensions, reinstatements."""
    database, store = prepare(folder, 10_000)
    since = offline_changes.read_counter()
    rng = random.Random(1)
    suspended = [
        number
        for (number,) in database.execute_sql(
            "SELECT number FROM revocation WHERE status = 'suspended' AND agency_id = ? LIMIT 10",
            ("lsp-bench-00",),
        )
    ]
    for number in suspended:
        revocation.reinstate("lsp-bench-00", number, note=None, actor="bench", now=NOW)
    for index in range(DELTA_CHANGES - len(suspended)):
        agency = f"lsp-bench-{rng.randrange(AGENCIES):02d}"
        number = f"ME063100 3 {rng.randrange(10**8):08d} 2026"
        change = revocation.revoke if index % 3 else revocation.suspend
        change(agency, number, rng.choice(revocation.REASONS), note=None, actor="bench", now=NOW)
    started = time.perf_counter()
    body = bundle_source.delta_payload(SETTINGS, since, NOW)
    assert body is not None
    text = bundle.sign(body, bundles.signer(store)).encode("ascii")
    built = time.perf_counter() - started
    size = len(gzip.compress(text, compresslevel=6))
    carried = sum(len(group["states"]) for group in body["revocations"])
    print(
        f"delta, {carried} changes: {size:,} bytes gzip ({len(text):,} plain; target <= "
        f"{TARGETS['delta']:,}), built in {built * 1000:.0f} ms"
    )
    database.close()
    return [] if size <= TARGETS["delta"] and carried == DELTA_CHANGES else ["delta size"]


def measure_offline_verdict(folder: Path) -> list[str]:
    """Median navigation-to-verdict time, offline, in Debian's Chromium."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        print("offline verdict: /usr/bin/chromium is missing (apt-get install chromium)")
        return ["offline verdict (no chromium)"]
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True)
    port = free_port()
    env = skk_env(folder, port)
    skk(env, "init")
    demo = skk(env, "demo")
    assert isinstance(demo, list)
    urls = [item["url"].replace("HTTP://127.0.0.1", "http://127.0.0.1") for item in demo]
    server = start("offline", ["wsgi:app"], env, port, folder)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 360, "height": 740})
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/periksa")
            page.wait_for_selector('#offline-status[data-state="ready"]', timeout=30_000)
            context.set_offline(True)
            times = []
            for index in range(NAVIGATIONS + 4):
                page.goto(urls[index % len(urls)])
                assert page.locator("section.verdict").get_attribute("data-offline")
                elapsed = page.evaluate(
                    "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
                )
                if index >= 4:  # the first ones start the worker and load its modules
                    times.append(elapsed)
            browser.close()
    finally:
        stop(server.process)
    median = statistics.median(times)
    p90 = statistics.quantiles(times, n=10)[-1]
    print(
        f"offline verdict in Chromium: median {median:.0f} ms, p90 {p90:.0f} ms over "
        f"{len(times)} navigations (target median <= {VERDICT_TARGET_MS:.0f} ms)"
    )
    return [] if median <= VERDICT_TARGET_MS else ["offline verdict time"]


def wait_for(url: str) -> None:
    """Until the server answers (bounded)."""
    import urllib.request

    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer") from None
            time.sleep(0.1)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
