"""Parity vectors for the offline verifier: the Python core decides, the JavaScript must agree.

Everything here is computed at test time by the code the server runs: a database holding every
status of SPEC §3 (Ed25519 and ES256, compact QR payloads and plain JWS, verify URLs), the signed
bundles and deltas the server would send, the statuses and §3 result objects the Python offline
verifier gives (each first checked against the server's own answer), the verdict markup Jinja
renders for them, and the strict readers' answers for malformed JSON, base64url, QR payloads and
signatures (the cases of tests/test_jws.py, tests/test_attacks.py, tests/test_qr.py and the
Wycheproof files). tests/js/parity.test.mjs replays them in node.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, get_template_attribute, render_template, render_template_string
from flask_babel import force_locale

from tests import test_attacks, test_jws, test_qr, test_wycheproof
from tests.helpers import DAY, NOW
from verifier.core import bundle, jws, keys, links, offline, qr_payload
from verifier.core.bundle import BundleSettings
from verifier.core.credential import Credential, add_years, to_iso
from verifier.core.errors import InvalidInput
from verifier.core.keys import ED25519_ORDER, P256_ORDER, SigningKey
from verifier.core.messages import LANGUAGES
from verifier.core.verify import Status, VerificationResult
from verifier.issuance import bundles as bundle_signing
from verifier.issuance import issuer, keyring
from verifier.issuance.bundles import BundlePublisher
from verifier.issuance.keystore import PrivateKeyStore
from verifier.issuance.service import IssuingService
from verifier.store import bundle_keys, bundle_source, registry, revocation
from verifier.verification import VerificationService
from verifier.web import offline_pack, security, style
from verifier.web.page_model import moment, verdict_view

LEEWAY = 60
MAX_AGE = 7 * DAY
#: The bundle the cases are checked against was signed an hour before NOW.
BUNDLE_AT = NOW - 3600
ISS = "https://sertifikat.example.id"
VERDICT_MACRO = '{% from "_verdict.html" import verdict with context %}{{ verdict(view) }}'


@dataclass
class World:
    """The database's contents as cases: named inputs, and the keys needed to sign more."""

    store: PrivateKeyStore
    service: VerificationService
    inputs: list[tuple[str, str]] = field(default_factory=list)
    #: Inputs checked at another instant than NOW: the rule boundaries.
    timed: list[tuple[str, str, int]] = field(default_factory=list)

    def add(self, name: str, text: str) -> None:
        self.inputs.append((name, text))

    def signer(self, agency_id: str) -> SigningKey:
        return keyring.signer(self.store, agency_id)


def _hand_made(agency_id: str = "lsp-contoh", **changes: Any) -> Credential:
    fields: dict[str, Any] = {
        "agency_id": agency_id,
        "number": "HAND 0001 2026",
        "holder_name": "Rina Marlina",
        "job_title": "Operator Wheel Excavator",
        "job_code": "ME063100",
        "level": 3,
        "issued_at": NOW - DAY,
        "valid_from": NOW - DAY,
        "expires_at": add_years(NOW - DAY),
    }
    fields.update(changes)
    return Credential(**fields)


def build_world(store: PrivateKeyStore, service: VerificationService, base_url: str) -> World:
    """Agencies, keys and credentials in every state; each one added in every input form."""
    world = World(store, service)
    month_ago = NOW - 30 * DAY
    registry.add_agency("lsp-contoh", "LSP Konstruksi Contoh Nusantara", (1, 6), "lsp", month_ago)
    registry.add_agency("lsp-es", 'LSP ES & Mitra "Timur" <Papua>', (1, 9), "dinas", month_ago)
    registry.add_agency("lsp-kecil", "LSP Kecil", (1, 2), "balai", month_ago)
    registry.add_agency("lsp-luar", "LSP Luar", (1, 9), "lsp", month_ago)
    registry.add_agency("lsp-dicabut", "LSP Dicabut", (1, 9), "lsp", month_ago)
    registry.add_agency("lsp-pensiun", "LSP Pensiun", (1, 9), "lsp", month_ago)
    for agency_id, alg in (
        ("lsp-contoh", "EdDSA"),
        ("lsp-es", "ES256"),
        ("lsp-kecil", "EdDSA"),
        ("lsp-dicabut", "EdDSA"),
        ("lsp-pensiun", "ES256"),
    ):
        keyring.generate(store, agency_id, alg, month_ago)
    external = keys.generate_signing_key("ES256")
    keyring.import_public(
        "lsp-luar",
        json.dumps(external.verifying_key().jwk).encode(),
        since=NOW - DAY,
        now=NOW - DAY,
    )

    def issue(agency_id: str = "lsp-contoh", now: int = NOW - DAY, **fields: Any) -> str:
        fields = {"holder_name": "Rina Marlina", "level": 3, "job_code": "ME063100", **fields}
        request = issuer.IssueRequest(agency_id=agency_id, **fields)
        issuing = IssuingService(world.store, pepper=None, base_url=base_url)
        return issuing.issue(request, actor="test", now=now).signed.token

    def forms(name: str, token: str) -> None:
        """The token as every entry point takes it: JWS, payload, URLs, with noise around."""
        url = links.credential_url(base_url, token)
        payload = url.rsplit("/", 1)[1]
        world.add(f"{name}/jws", token)
        world.add(f"{name}/payload", payload)
        world.add(f"{name}/url", url)
        prefix = url.rsplit("/V/", 1)[0]
        world.add(f"{name}/url-lower", f"{prefix.lower()}/v/{payload}")
        world.add(f"{name}/url-noise", f"\u00a0 {url}?utm=1#frag\u3000\n")

    valid = issue()
    forms("valid", valid)
    forms(
        "valid-es256", issue("lsp-es", level=4, job_code="SI012033", holder_name="NI LUH PUTU AYU")
    )
    forms(
        "valid-es256-level-9-no-code",
        issuer.sign(
            _hand_made("lsp-es", level=9, job_code=None, number="ES 9"), world.signer("lsp-es")
        ),
    )
    forms("valid-expiring-soon", issue(valid_from=add_years(NOW + 20 * DAY, -5)))
    forms("valid-mixed-case", issue(holder_name="Ahmad bin Abdullah", job_code="SI013017", level=1))
    forms(
        "valid-escapes",
        issue(holder_name="Ni Luh Putu Ayu Sukmawatí 中文 😀", level=2, job_code="SI033015"),
    )
    forms("valid-letters-number", issue(number="SKK-7.a Z"))
    revoked = issue(number="REV 0001 2026")
    revocation.revoke("lsp-contoh", "REV 0001 2026", "misuse", note=None, actor="t", now=NOW - 7200)
    forms("revoked", revoked)
    forms("suspended", issue(number="SUS 0001 2026"))
    revocation.suspend(
        "lsp-contoh", "SUS 0001 2026", "investigation", note=None, actor="t", now=NOW - 7000
    )
    forms("reinstated", issue(number="REI 0001 2026"))
    revocation.suspend("lsp-contoh", "REI 0001 2026", "other", note=None, actor="t", now=NOW - 6000)
    revocation.reinstate("lsp-contoh", "REI 0001 2026", note=None, actor="t", now=NOW - 5000)
    forms(
        "revoked-and-expired",
        issue(number="OLD 0001 2019", valid_from=add_years(NOW - 40 * DAY, -5), allow_expired=True),
    )
    revocation.revoke(
        "lsp-contoh", "OLD 0001 2019", "superseded", note=None, actor="t", now=NOW - 4000
    )
    forms("expired", issue(valid_from=add_years(NOW - 40 * DAY, -5), allow_expired=True))
    forms("not-yet-valid-nbf", issue(valid_from=NOW + 10 * DAY))
    forms("not-yet-valid-iat", issue(now=NOW + LEEWAY + 1, valid_from=NOW - DAY))
    forms(
        "level-not-authorized",
        issuer.sign(_hand_made("lsp-kecil", level=3), world.signer("lsp-kecil")),
    )
    forms("unknown-issuer", issuer.sign(_hand_made("lsp-tidak-ada"), keys.generate_signing_key()))
    forms("unknown-key", issuer.sign(_hand_made(), keys.generate_signing_key()))
    forms("unknown-key-other-agency", issuer.sign(_hand_made(), world.signer("lsp-es")))
    forms("imported-valid", issuer.sign(_hand_made("lsp-luar", issued_at=NOW - 60), external))
    forms(
        "key-revoked-before-since",
        issuer.sign(_hand_made("lsp-luar", issued_at=NOW - 3 * DAY), external),
    )
    dicabut = issuer.sign(_hand_made("lsp-dicabut"), world.signer("lsp-dicabut"))
    pensiun_key = world.signer("lsp-pensiun")
    registry.revoke_key(world.signer("lsp-dicabut").kid, NOW - 100)
    forms("key-revoked", dicabut)
    registry.retire_key(pensiun_key.kid, NOW - 10 * DAY)
    for label, issued in (("before", NOW - 11 * DAY), ("after", NOW - 9 * DAY)):
        forms(
            f"key-retired-signed-{label}",
            issuer.sign(
                _hand_made("lsp-pensiun", issued_at=issued, valid_from=issued), pensiun_key
            ),
        )
    far = _hand_made(
        number="FAR 0001 9999", issued_at=NOW, valid_from=2**53 - 5 * 365 * DAY, expires_at=2**53
    )
    forms("far-future", issuer.sign(far, world.signer("lsp-contoh")))
    near_9999 = _hand_made(
        number="FAR 0002 9999",
        valid_from=253402300799 - 4 * 365 * DAY,
        expires_at=253402300799 - 10,
        issued_at=NOW,
    )
    forms("year-9999", issuer.sign(near_9999, world.signer("lsp-contoh")))
    _add_boundaries(world, issue, pensiun_key, external)
    es_token = issue("lsp-es", level=4, job_code="SI012033")
    _add_attacks(world, valid, world.signer("lsp-contoh"), es_token)
    for text in (
        "",
        "   \n\t",
        "a.b.c",
        "." * 10,
        "https://sertifikat.example.id/x/abc",
        "https://sertifikat.example.id/v/",
        "https://sertifikat.example.id/V/?x=1",
        "1" + "9" * 300,
        "2" + "9" * 300,
        "1",
        "10" + "0" * 300,
        "١٢٣",
        "eyJ.eyJ.",
        "\x00\u202e\ufeff",
        "/v//v/" + valid,
        "x/V/" + valid + "/v/",
    ):
        world.add(f"garbage/{text[:12]!r}", text)
    rng = random.Random(10)
    for index in range(20):
        digits = "1" + "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 1500)))
        world.add(f"random-digits/{index}", digits)
    payload = qr_payload.encode_payload(valid)
    for index in range(30):  # one digit changed: almost always the check value catches it
        at = rng.randrange(1, len(payload))
        digit = str((int(payload[at]) + rng.randrange(1, 10)) % 10)
        changed = payload[:at] + digit + payload[at + 1 :]
        world.add(f"mutated-payload/{index}", changed)
    return world


def _add_boundaries(
    world: World, issue: Callable[..., str], retired_key: SigningKey, imported_key: SigningKey
) -> None:
    """Each leeway edge of rules 5 and 9, one second inside and one outside (test_verify.py)."""
    nbf = NOW + DAY
    token = issue(valid_from=nbf, number="EDGE 0001 2026")
    exp = add_years(nbf)
    for label, at in (
        ("nbf-leeway-1s", nbf - LEEWAY - 1),
        ("nbf-leeway", nbf - LEEWAY),
        ("exp+leeway-1s", exp + LEEWAY - 1),
        ("exp+leeway", exp + LEEWAY),
    ):
        world.timed.append((f"edge/{label}", token, at))
    world.add(
        "edge/iat=at+leeway", issue(now=NOW + LEEWAY, valid_from=NOW - DAY, number="EDGE 0002 2026")
    )
    for label, offset in (("retired+leeway", LEEWAY), ("retired+leeway+1s", LEEWAY + 1)):
        issued = NOW - 10 * DAY + offset
        world.add(
            f"edge/{label}",
            issuer.sign(
                _hand_made("lsp-pensiun", issued_at=issued, valid_from=issued), retired_key
            ),
        )
    for label, offset in (("since-leeway", LEEWAY), ("since-leeway-1s", LEEWAY + 1)):
        issued = NOW - DAY - offset
        world.add(
            f"edge/{label}",
            issuer.sign(_hand_made("lsp-luar", issued_at=issued, valid_from=issued), imported_key),
        )


def _add_attacks(world: World, token: str, key: SigningKey, es_token: str) -> None:
    """The forgeries of tests/test_attacks.py, rebuilt on this world's genuine tokens."""
    g = test_attacks.split(token, key)
    add = world.add
    for alg in ("none", "HS256", "Ed25519", "EDDSA", "EdDSA ", "RS256", None, ["EdDSA"]):
        header = test_attacks.b64json({"alg": alg, "kid": g.kid, "typ": "skk+jwt"})
        add(f"attack/alg-{alg}", test_attacks.signed(header, g.payload_b64, key))
    add(
        "attack/alg-none-unsigned",
        f"{test_attacks.b64json({**g.header, 'alg': 'none'})}.{g.payload_b64}.",
    )
    for extra in ({"crit": ["exp"]}, {"jwk": key.verifying_key().jwk}, {"zip": "DEF"}):
        header = test_attacks.b64json({**g.header, **extra})
        add(f"attack/header-{min(extra)}", test_attacks.signed(header, g.payload_b64, key))
    for kid in ("../../etc/passwd", "AAAAAAAAAAAAAAAA", "' OR '1'='1' -- ", None, 12):
        header = test_attacks.b64json({**g.header, "kid": kid})
        add(f"attack/kid-{kid!r}", test_attacks.signed(header, g.payload_b64, key))
    for typ in ("JWT", "SKK+JWT", None):
        header = test_attacks.b64json({**g.header, "typ": typ})
        add(f"attack/typ-{typ}", test_attacks.signed(header, g.payload_b64, key))
    signature = g.signature
    malleated = signature[:32] + (
        int.from_bytes(signature[32:], "little") + ED25519_ORDER
    ).to_bytes(32, "little")
    add("attack/ed25519-s-plus-l", f"{g.header_b64}.{g.payload_b64}.{jws.b64url_encode(malleated)}")
    head = f"{g.header_b64}.{g.payload_b64}."
    add("attack/signature-empty", head)
    add("attack/signature-zero", head + jws.b64url_encode(bytes(64)))
    add("attack/signature-short", head + jws.b64url_encode(signature[:-1]))
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    add("attack/signature-flipped", head + jws.b64url_encode(flipped))
    add(
        "attack/attacker-key",
        test_attacks.signed(g.header_b64, g.payload_b64, keys.generate_signing_key()),
    )
    add("attack/padded", f"{g.header_b64}.{g.payload_b64}.{g.signature_b64}==")
    add("attack/standard-alphabet", token.replace("-", "+").replace("_", "/"))
    spaced = [test_attacks.spaced_to_leave_unused_bits(part) for part in (g.header, g.claims)]
    add("attack/spaced-json-control", test_attacks.signed(spaced[0], spaced[1], key))
    add(
        "attack/unused-bits",
        test_attacks.signed(spaced[0], test_attacks.tweak_unused_bits(spaced[1]), key),
    )
    for param in test_attacks.LAX_PAYLOADS:
        add(
            f"attack/lax-{param.id}",
            test_attacks.signed(g.header_b64, test_attacks.b64json(param.values[0](g.claims)), key),
        )
    add(
        "attack/unknown-claims",
        test_attacks.signed(
            g.header_b64,
            test_attacks.b64json(
                {**g.claims, "nik": None, "x": {"nested": [1, 2.5, "é", {"deep": [[[]]]}]}}
            ),
            key,
        ),
    )
    deep = {**g.claims, "x": json.loads("[" * 99 + "]" * 99)}
    add("attack/nested-100", test_attacks.signed(g.header_b64, test_attacks.b64json(deep), key))
    deeper = {**g.claims, "x": json.loads("[" * 100 + "]" * 100)}
    add("attack/nested-101", test_attacks.signed(g.header_b64, test_attacks.b64json(deeper), key))
    add(
        "attack/exp-5x366",
        test_attacks.signed(
            g.header_b64,
            test_attacks.b64json({**g.claims, "exp": g.claims["nbf"] + 5 * 366 * DAY}),
            key,
        ),
    )
    e = test_attacks.split(es_token, world.signer("lsp-es"))
    for r, s in ((0, 0), (P256_ORDER, P256_ORDER), (1, 1)):
        forged = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        add(
            f"attack/ecdsa-r{r % 7}-s{s % 7}",
            f"{e.header_b64}.{e.payload_b64}.{jws.b64url_encode(forged)}",
        )
    s_value = int.from_bytes(e.signature[32:], "big")
    twin = e.signature[:32] + (P256_ORDER - s_value).to_bytes(32, "big")
    add("attack/ecdsa-high-s-twin", f"{e.header_b64}.{e.payload_b64}.{jws.b64url_encode(twin)}")
    mismatch = test_attacks.b64json({**e.header, "alg": "EdDSA"})
    add(
        "attack/alg-mismatch-es-key",
        test_attacks.signed(mismatch, e.payload_b64, world.signer("lsp-es")),
    )


# --- expectations --------------------------------------------------------------------------------


def signed_bundles(world: World) -> dict[str, str]:
    """The full bundle the cases run on, one made past its expiry, and refusals."""
    settings = BundleSettings(ISS, MAX_AGE, LEEWAY)
    publisher = BundlePublisher(world.store, settings)
    made = {"full": publisher.full(BUNDLE_AT).text.decode()}
    head, body, sig = made["full"].split(".")
    tampered_body = body[:40] + ("A" if body[40] != "A" else "B") + body[41:]
    made["tampered"] = f"{head}.{tampered_body}.{sig}"
    made["stranger"] = bundle.sign(
        bundle_source.full_payload(settings, BUNDLE_AT), keys.generate_signing_key()
    )
    made["garbage"] = "not a bundle"
    made["two-parts"] = f"{head}.{body}"
    return made


def expected_result(
    verifier: offline.OfflineVerifier, service: VerificationService, text: str, at: int, now: int
) -> VerificationResult:
    """The Python offline result, checked against the server's on fresh data."""
    result = verifier.verify(text, at=at, now=now)
    online = service.verify(text, at=at)
    if now < verifier.bundle.exp:
        assert result.to_dict() == online.to_dict(), text
    else:  # stale: only what would be valid changes
        assert result.status == (Status.STALE_DATA if online.valid else online.status), text
    return result


def render_verdict(app: Flask, result: VerificationResult, language: str, lang_query: str) -> str:
    """The verdict block as the server renders it."""
    with app.test_request_context("/v/x"), force_locale(language):
        return render_template_string(
            VERDICT_MACRO, view=verdict_view(result), lang_query=lang_query
        )


def render_offline_page(
    app: Flask, result: VerificationResult, language: str, asked: bool, data_as_of: int, now: int
) -> str:
    """The server's verify page, with what an offline answer adds (docs/offline.md §7)."""
    path = f"/v/x?lang={language}" if asked else "/v/x"
    with app.test_request_context(path, headers={"Accept-Language": language}):
        page = render_template("verify.html", view=verdict_view(result))
        stamp = get_template_attribute("_verdict.html", "when")(moment(data_as_of))
        old = now - data_as_of >= offline.WARN_AGE_SECONDS
        note = get_template_attribute("_offline.html", "old_note" if old else "fresh_note")(stamp)
    iso = to_iso(data_as_of)
    status = f'data-status="{result.status.value}"'
    assert page.count(status) == 1 and page.count("\n</section>") == 1
    page = page.replace(status, f'{status} data-offline="{iso}"')
    return page.replace("\n</section>", f"\n</section>\n{note}")


def build_pack(app: Flask) -> dict[str, Any]:
    """The pack /offline/pack.json serves."""
    policy = security.CONTENT_SECURITY_POLICY.format(style=style.load().csp_source)
    with app.test_request_context("/offline/pack.json"):
        from verifier.web.state import current_state

        return offline_pack.build(current_state().official_domain, policy)


def case_vectors(
    app: Flask, world: World, bundles: dict[str, str], pinned: dict[str, bundle.BundleKey]
) -> list[dict[str, Any]]:
    """Every input at NOW on fresh data, and on data past its expiry."""
    verifier = offline.OfflineVerifier(bundle.read(bundles["full"], pinned))
    stale_now = verifier.bundle.exp + 5
    cases = []
    checks = [(name, text, NOW) for name, text in world.inputs] + world.timed
    for name, text, at in checks:
        for freshness, now in (("fresh", NOW), ("stale", stale_now)):
            result = expected_result(verifier, world.service, text, at, now)
            cases.append(
                {
                    "name": f"{name} ({freshness})",
                    "input": text,
                    "at": at,
                    "now": now,
                    "status": result.status.value,
                    "expected": {lang: result.to_dict(lang) for lang in LANGUAGES},
                    "html": {lang: render_verdict(app, result, lang, "") for lang in LANGUAGES}
                    if freshness == "fresh" or result.status is Status.STALE_DATA
                    else None,
                }
            )
    statuses = {case["status"] for case in cases}
    assert statuses == {status.value for status in Status}, statuses
    return cases


def page_vectors(
    app: Flask, world: World, bundles: dict[str, str], pinned: dict[str, bundle.BundleKey]
) -> list[dict[str, Any]]:
    """Whole offline pages for some verdicts: fresh and day-old data, asked or browser language."""
    verifier = offline.OfflineVerifier(bundle.read(bundles["full"], pinned))
    wanted = {"valid/payload", "revoked/url", "attack/signature-flipped", "expired/jws"}
    pages = []
    for name, text in world.inputs:
        if name not in wanted:
            continue
        for language in LANGUAGES:
            for asked, now in ((True, NOW), (False, BUNDLE_AT + 2 * DAY)):
                result = verifier.verify(text, at=now, now=now)
                pages.append(
                    {
                        "name": name,
                        "input": text,
                        "language": language,
                        "asked": asked,
                        "now": now,
                        "page": render_offline_page(app, result, language, asked, BUNDLE_AT, now),
                    }
                )
    return pages


def delta_vectors(
    world: World, bundles: dict[str, str], pinned: dict[str, bundle.BundleKey]
) -> dict[str, Any]:
    """Changes after the bundle, the delta the server cuts, and what verification says after."""
    before = bundle.read(bundles["full"], pinned)
    by_name = dict(world.inputs)
    revocation.revoke(
        "lsp-contoh",
        jws.parse(by_name["valid/jws"]).payload["jti"],
        "fraud",
        note=None,
        actor="t",
        now=NOW - 60,
    )
    revocation.reinstate("lsp-contoh", "SUS 0001 2026", note=None, actor="t", now=NOW - 50)
    revocation.revoke(
        "lsp-contoh", "SUS 0001 2026", "data_error", note=None, actor="t", now=NOW - 40
    )
    revocation.suspend(
        "lsp-es",
        jws.parse(by_name["valid-es256/jws"]).payload["jti"],
        "other",
        note=None,
        actor="t",
        now=NOW - 30,
    )
    registry.add_agency("lsp-baru", "LSP Baru", (1, 9), "lsp", NOW - 20)
    settings = BundleSettings(ISS, MAX_AGE, LEEWAY)
    publisher = BundlePublisher(world.store, settings)
    delta_text = publisher.delta(before.seq, NOW - 10)
    after_text = publisher.full(NOW - 10).text.decode()
    assert delta_text is not None
    merged = bundle.apply_delta(before, bundle.read(delta_text.text.decode(), pinned))
    after = bundle.read(after_text, pinned)
    assert merged.revocations == after.revocations and merged.seq == after.seq
    assert merged.agencies == after.agencies
    verifier = offline.OfflineVerifier(after)
    probes = []
    for name in (
        "valid/jws",
        "suspended/url",
        "valid-es256/payload",
        "revoked/jws",
        "reinstated/jws",
    ):
        result = expected_result(verifier, world.service, by_name[name], NOW, NOW)
        probes.append({"name": name, "input": by_name[name], "expected": result.to_dict("en")})
    old_delta = publisher.delta(before.seq, NOW - 5)
    assert old_delta is not None
    head, body, sig = old_delta.text.decode().split(".")
    return {
        "delta": delta_text.text.decode(),
        "probes": probes,
        "after": after_text,
        "tampered": f"{head}.{body[:-3]}AAA.{sig}",
        "wrong_base": publisher.delta(0, NOW).text.decode()  # type: ignore[union-attr]
        if before.seq > 0
        else None,
    }


def json_vectors() -> list[dict[str, Any]]:
    """Strict JSON: the cases of tests/test_jws.py and test_attacks.py, probes, random text."""
    refused = _params(test_jws.test_parse_json_object_refuses)
    inputs: list[bytes] = [param.values[0] for param in refused]
    inputs += [b'{"a": 1e400}', b'{"a": -1e400}', b'{"a": "\\ud83d\\ude00"}', b'{"a": 1}']
    probes = [
        r'{"a":1.0}',
        r'{"a":-0}',
        r'{"a":1E2}',
        r'{"a":01}',
        ' {"a":1} ',
        '{"a":1}\x0c',
        r'{"a":"\u00e9"}',
        r'{"a":"\ude00\ud83d"}',
        '{"a":"x\x7f"}',
        '{"a":"x\x1f"}',
        r'{"a":12345678901234567}',
        r'{"a":-1234567890123456}',
        r'{"a":9007199254740993}',
        r'{"a":9007199254740992}',
        r'{"a":-9007199254740993}',
        r'{"a":1.5e-400}',
        r'{"a":"\u12G4"}',
        r'{"a":"\x"}',
        r'{"a":true,}',
        r'{"a" : 1 }',
        r'{"a":"\/"}',
        r'{"a":[1,2,]}',
        '{"a":1}\x00',
        r'{"__proto__":1,"__proto__":2}',
        r'{"__proto__":{"x":1}}',
        r'{"constructor":1,"toString":2}',
        r'{"a":"\ud83d\u0041"}',
        r'{"a":"\u+123"}',
        '{"a":1}\u00a0',
        '\u2028{"a":1}',
        r'{"a":-}',
        r'{"a":1.}',
        r'{"a":.5}',
        r'{"a":1e}',
        r'{"a":+1}',
        r'{"a":-01}',
        r'{"a":1.5E+3}',
        r'{"a":0.0000000000000000000000001}',
        r'{"a":123456789012345678.5}',
        r'{"a":-0.0}',
        r'{"a":"\u0061","\u0061":2}',
        r'{"a":nul}',
        r'{"a":-Infinity}',
        r'{"a":NaN}',
        r'{"a":[' + "[" * 98 + "]" * 98 + "]}",
        r'{"a":[' + "[" * 99 + "]" * 99 + "]}",
        '{"a":"' + "[" * 200 + '"}',
        r'{"a":"\"[[["}',
        '{"a":"\t"}',
        r'{"a":"\t"}',
    ]
    inputs += [p.encode("utf-8", "surrogatepass") for p in probes]
    rng = random.Random(7)
    for _ in range(400):  # random objects, half of them with one character changed
        text = json.dumps(
            {"a": _random_json(rng, 3), "b": _random_json(rng, 2)}, ensure_ascii=rng.random() < 0.5
        )
        if rng.random() < 0.5:
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(_MUTATIONS) + text[at + rng.randrange(0, 2) :]
        inputs.append(text.encode("utf-8", "surrogatepass"))
    vectors = []
    for data in inputs:
        try:
            value = jws.parse_json_object(data, "x")
        except jws.MalformedToken:
            vectors.append({"hex": data.hex(), "ok": False})
        else:
            vectors.append({"hex": data.hex(), "ok": True, "value": _tagged(value)})
    assert sum(v["ok"] for v in vectors) > 30 and sum(not v["ok"] for v in vectors) > 30
    return vectors


_MUTATIONS = [
    "{",
    "}",
    "[",
    "]",
    '"',
    ":",
    ",",
    "\\",
    "\\u",
    "\\ud800",
    "-",
    ".",
    "e",
    "0",
    " ",
    "\x00",
    "\x1f",
    "NaN",
    "1e999",
    "\ufeff",
    "\ud800",
    "",
]


def _random_json(rng: random.Random, depth: int) -> Any:
    """A random JSON value: nested containers, big and small numbers, escaped text."""
    kind = rng.randrange(8 if depth > 0 else 6)
    if kind == 0:
        return rng.choice([0, -1, 2**53, -(2**53), 2**53 + 1, 10**15, rng.randrange(-99, 99)])
    if kind == 1:
        return rng.choice([0.5, -0.0, 1e-300, 1.7976931348623157e308, 3.0, rng.random()])
    if kind == 2:
        return "".join(rng.choice('ab é中😀"\\\n\t\x00\x7f\u2028') for _ in range(rng.randrange(6)))
    if kind == 3:
        return rng.choice([True, False, None])
    if kind in (4, 5):
        return rng.choice(["", "x", "\\u", "ZZ"])
    if kind == 6:
        return [_random_json(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {f"k{rng.randrange(5)}": _random_json(rng, depth - 1) for _ in range(rng.randrange(4))}


def _params(test_function: Callable[..., Any]) -> list[Any]:
    """The pytest.param cases a parametrized test of another module runs (reused, not copied)."""
    return list(test_function.pytestmark[0].args[1])  # type: ignore[attr-defined]


def _tagged(value: Any) -> Any:
    """A JSON value with its Python types kept: ints as strings, floats and objects tagged."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": value}
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    return {"object": [[key, _tagged(item)] for key, item in value.items()]}


def b64url_vectors() -> list[dict[str, Any]]:
    """Canonical base64url: tests/test_jws.py's refusals, every last character, random bytes."""
    texts = [param.values[0] for param in _params(test_jws.test_b64url_decode_refuses)]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    texts += [prefix + last for prefix in ("", "QU", "QUJ", "QUJD") for last in alphabet]
    rng = random.Random(3)
    texts += [jws.b64url_encode(rng.randbytes(rng.randrange(0, 40))) for _ in range(50)]
    vectors = []
    for text in texts:
        try:
            vectors.append({"text": text, "ok": True, "hex": jws.b64url_decode(text).hex()})
        except jws.MalformedToken:
            vectors.append({"text": text, "ok": False})
    return vectors


def payload_vectors() -> list[dict[str, Any]]:
    """QR payloads: the document's vector, non-canonical spellings, texts of every case rule."""
    token = test_qr.make_token(signature=test_qr.FAKE_SIGNATURE)
    texts = [test_qr.doc_encode(token)]
    texts.extend(
        test_qr.doc_encode(token, **tweak)
        for tweak in (
            {"long_iat": True},
            {"explicit_exp": True},
            {"jti_full": True},
            {"name_rule": 3},
            {"escape": "a"},
            {"check": 0},
            {"check": 1},
        )
    )
    for code_point in (0xD800, 0x41, 0x10FFFF, 0x1F600, 0xE9):
        escaped = [
            (0, 4),
            (1, 101),
            (len(test_qr.DOC_TEXT), len(test_qr.DOC_TEXT) + 1),
            (code_point, 0x110000),
        ]
        texts.append(test_qr.doc_encode(token, name_fields=escaped))
    late = test_qr.make_credential(issued_at=2**53 - 9, valid_from=2**53 - 9, expires_at=2**53)
    late_token = test_qr.make_token(late, signature=test_qr.FAKE_SIGNATURE)
    texts += [test_qr.doc_encode(late_token), test_qr.doc_encode(late_token, derived_exp=True)]
    for changes in (
        {"holder_name": "Ni Luh Putu Ayu Sukmawatí", "job_code": None},
        {"holder_name": "Jean-Pierre (J.P.) Ani/Budi Ma'ruf"},
        {"holder_name": "NI LUH PUTU", "number": "SKK-7"},
        {"holder_name": "ahmad bin abdullah", "valid_from": REFERENCE_PLUS},
        {"holder_name": 'Ahmad bin Abdullah 😀\u0000\t"\\'},
        {"issued_at": 10, "valid_from": 10, "expires_at": add_years(10)},
        {"valid_from": LEAP_DAY, "issued_at": LEAP_DAY, "expires_at": add_years(LEAP_DAY)},
    ):
        cred_token = test_qr.make_token(
            test_qr.make_credential(**changes), signature=test_qr.FAKE_SIGNATURE
        )
        texts.append(qr_payload.encode_payload(cred_token))
    texts += ["", "1", "10", "100", "2123", "1" + "9" * 4000, "1" + "9" * 3999, "a.b.c"]
    vectors = []
    for text in texts:
        try:
            vectors.append({"payload": text, "ok": True, "token": qr_payload.decode_payload(text)})
        except jws.MalformedToken:
            vectors.append({"payload": text, "ok": False})
    assert sum(v["ok"] for v in vectors) >= 8
    return vectors


#: 2025-05-15T00:00:01Z: a start one second after the reference's (nbf != iat).
REFERENCE_PLUS = test_qr.REFERENCE_START + 1
#: 2024-02-29T00:00:00Z: five years on is 28 February.
LEAP_DAY = 1709164800


def signature_vectors() -> list[dict[str, Any]]:
    """Every Wycheproof Ed25519 and P-256 case whose key Python accepts, with Python's answer."""
    vectors = []
    for name, (alg, _, _) in test_wycheproof.VECTOR_FILES.items():
        data = test_wycheproof._load(name)
        for group in data["testGroups"]:
            try:
                key = keys.import_public_key(group["publicKeyPem"].encode("ascii"))
            except InvalidInput:
                continue
            vectors.extend(
                {
                    "alg": alg,
                    "jwk": key.jwk,
                    "msg": case["msg"],
                    "sig": case["sig"],
                    "valid": key.verify(bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"])),
                    "id": f"{name}#{case['tcId']}",
                }
                for case in group["tests"]
            )
    assert len(vectors) > 350
    return vectors


def all_vectors(app: Flask, world: World) -> dict[str, Any]:
    """Everything tests/js/parity.test.mjs replays."""
    bundles = signed_bundles(world)
    key_set = bundle_keys.key_set(NOW, MAX_AGE)
    pinned = bundle.read_key_set(key_set)
    vectors = {
        "now": NOW,
        "bundle_at": BUNDLE_AT,
        "key_set": key_set,
        "bundles": bundles,
        "pack": build_pack(app),
        "cases": case_vectors(app, world, bundles, pinned),
        "pages": page_vectors(app, world, bundles, pinned),
        "json": json_vectors(),
        "b64url": b64url_vectors(),
        "payloads": payload_vectors(),
        "signatures": signature_vectors(),
    }
    for refused in ("tampered", "stranger", "garbage", "two-parts"):
        try:
            bundle.read(bundles[refused], pinned)
        except bundle.BundleError:
            continue
        raise AssertionError(f"the {refused} bundle was accepted")
    vectors["delta"] = delta_vectors(world, bundles, pinned)
    return vectors


def make_vectors(
    app: Flask, store: PrivateKeyStore, service: VerificationService, base_url: str
) -> dict[str, Any]:
    """The world of every status, a bundle key, and all vectors made from them (on the bound
    database)."""
    world = build_world(store, service, base_url)
    bundle_signing.new_key(store, NOW - 2 * DAY)
    return all_vectors(app, world)


def token_digest(vectors: dict[str, Any]) -> str:
    """A short fingerprint of the cases, printed by the test so a run can be told apart."""
    text = json.dumps([case["input"] for case in vectors["cases"]])
    return hashlib.sha256(text.encode()).hexdigest()[:12]
