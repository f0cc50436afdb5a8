"""The signed trust bundle format (docs/offline.md), pure: build, sign, read, refuse, merge.

No database: the registry and revocations are plain values, as a laptop at a site holds them.
"""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DAY, NOW
from verifier.core import bundle, jws, keys, links, offline
from verifier.core.bundle import BundleError, BundleKey
from verifier.core.credential import Credential, add_years
from verifier.core.trust import AgencyInfo, TrustedKey
from verifier.core.verify import Status
from verifier.issuance import issuer

MAX_AGE = 7 * DAY
AGENCY = AgencyInfo("lsp-contoh", "LSP Konstruksi Contoh Nusantara", "lsp", 1, 6)


@pytest.fixture(scope="module")
def bundle_key() -> keys.SigningKey:
    return keys.generate_signing_key("EdDSA")


@pytest.fixture(scope="module")
def agency_key() -> keys.SigningKey:
    return keys.generate_signing_key("ES256")


def pinned(
    key: keys.SigningKey, created: int = NOW - DAY, retired: int | None = None
) -> dict[str, BundleKey]:
    return {key.kid: BundleKey(key.verifying_key(), created, retired)}


def trusted(key: keys.SigningKey, state: str = "active") -> TrustedKey:
    return TrustedKey(
        key.kid,
        AGENCY.id,
        key.alg,
        state,
        "generated",
        NOW - 10 * 365 * DAY,
        None,
        key.verifying_key(),
    )


def body(
    agency_key: keys.SigningKey,
    rows: list[bundle.RevocationRow],
    *,
    iat: int = NOW,
    since: int | None = None,
    registry: bool = True,
    seq: int = 5,
) -> dict[str, Any]:
    part = ([AGENCY], [trusted(agency_key)]) if registry else None
    return bundle.payload(
        iss="https://sertifikat.example.id",
        seq=seq,
        iat=iat,
        max_age=MAX_AGE,
        leeway=60,
        registry=part,
        revocations=rows,
        since=since,
    )


ROWS: list[bundle.RevocationRow] = [
    ("lsp-contoh", "ME063100 3 48213377 2026", "revoked", "fraud", NOW - 500),
    ("lsp-contoh", "ME063100 3 48213301 2026", "suspended", "investigation", NOW - 400),
    ("lsp-contoh", "A 1", "revoked", "other", NOW - 300),
    ("lsp-lain", "ME063100 3 00000001 2025", "revoked", "superseded", NOW - 200),
]


def test_payload_is_columnar_front_coded_and_sorted(agency_key) -> None:
    made = body(agency_key, ROWS)
    assert list(made) == [
        "v",
        "kind",
        "iss",
        "seq",
        "iat",
        "exp",
        "leeway",
        "agencies",
        "keys",
        "revocations",
    ]
    assert made["exp"] == NOW + MAX_AGE and made["kind"] == "full"
    group = made["revocations"][0]
    assert group["agency"] == "lsp-contoh" and group["base"] == NOW - 500
    assert group["numbers"] == "0A 1\n0ME063100 3 48213301 2026\nH77 2026"
    assert group["states"] == "gFa" and group["at"] == [200, 100, 0]
    assert made["keys"][0]["jwk"] == agency_key.verifying_key().jwk
    assert "holder_name" not in json.dumps(made) and 'name": "Rina' not in json.dumps(made)


def test_a_signed_bundle_reads_back_with_every_record(bundle_key, agency_key) -> None:
    text = bundle.sign(body(agency_key, ROWS), bundle_key)
    assert jws.parse_json_object(jws.b64url_decode(text.split(".")[0]), "h") == {
        "alg": "EdDSA",
        "kid": bundle_key.kid,
        "typ": "skk-bundle+jwt",
    }
    read = bundle.read(text + "\n", pinned(bundle_key))
    assert read.kind == "full" and read.seq == 5 and read.revocation_count() == 4
    assert read.lookup("lsp-contoh", "ME063100 3 48213301 2026") == bundle.RevocationStatus(
        "suspended", NOW - 400, "investigation"
    )
    assert read.lookup("lsp-lain", "ME063100 3 00000001 2025").reason == "superseded"
    assert read.lookup("lsp-contoh", "ME063100 3 48213377 202") is None
    assert read.lookup("lsp-none", "A 1") is None
    snapshot = read.snapshot()
    assert snapshot.agencies == {"lsp-contoh": AGENCY}
    assert snapshot.keys[agency_key.kid].verifying_key.kid == agency_key.kid


def _resigned(text: str, key: keys.SigningKey, change) -> str:
    made = jws.parse_json_object(jws.b64url_decode(text.split(".")[1]), "p")
    change(made)
    return bundle.sign(made, key)


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        pytest.param(
            lambda t, k: t[:-2] + ("AA" if t[-2:] != "AA" else "BA"),
            "signature",
            id="signature-changed",
        ),
        pytest.param(lambda t, k: "!" + t[1:], "damaged", id="header-damaged"),
        pytest.param(lambda t, k: t.rsplit(".", 1)[0], "three base64url parts", id="two-parts"),
        pytest.param(
            lambda t, k: bundle.sign(
                jws.parse_json_object(jws.b64url_decode(t.split(".")[1]), "p"),
                keys.generate_signing_key(),
            ),
            "not a pinned bundle key",
            id="unpinned-key",
        ),
        pytest.param(
            lambda t, k: jws.serialize(
                {"alg": "EdDSA", "kid": k.kid, "typ": "skk+jwt"}, {"v": 1}, bytes(64)
            ),
            "not a trust bundle",
            id="credential-typ",
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b.update(v=2)), "version", id="version-2"
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b.update(exp=b["iat"])),
            "exp",
            id="exp-not-after-iat",
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b["revocations"][0].update(states="gFz")),
            "state letter",
            id="unknown-state",
        ),
        pytest.param(
            lambda t, k: _resigned(
                t, k, lambda b: b["revocations"][0].update(numbers="0B 1\n0A 1\n0C 1")
            ),
            "ascending",
            id="unsorted-numbers",
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b["revocations"][0].update(numbers="0A 1\nz")),
            "prefix",
            id="bad-prefix",
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b["revocations"][0].update(at=[1, 2])),
            "same",
            id="short-column",
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b["keys"][0].update(agency="lsp-lain")),
            "no agency",
            id="key-of-unknown-agency",
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b["keys"][0]["jwk"].update(x="AAAA")),
            "32 bytes",
            id="key-bad-jwk",
        ),
        pytest.param(
            lambda t, k: _resigned(
                t, k, lambda b: b["agencies"][0].update(levels={"min": 0, "max": 6})
            ),
            "levels",
            id="agency-levels",
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b.update(leeway=61)), "leeway", id="leeway-61"
        ),
        pytest.param(
            lambda t, k: _resigned(t, k, lambda b: b.pop("agencies")),
            "agencies",
            id="full-without-registry",
        ),
    ],
)
def test_bundles_that_cannot_be_trusted_are_refused(bundle_key, agency_key, alter, message) -> None:
    text = bundle.sign(body(agency_key, ROWS), bundle_key)
    with pytest.raises(BundleError, match=message):
        bundle.read(alter(text, bundle_key), pinned(bundle_key))


@pytest.mark.parametrize(
    ("created", "retired", "ok"),
    [
        pytest.param(NOW - DAY, None, True, id="current"),
        pytest.param(NOW - DAY, NOW + 10, True, id="retired-after-signing"),
        pytest.param(NOW - DAY, NOW - 60, True, id="retired-within-skew"),
        pytest.param(NOW - DAY, NOW - 61, False, id="signed-after-retirement"),
        pytest.param(NOW + 61, None, False, id="signed-before-creation"),
    ],
)
def test_a_bundle_key_signs_only_in_its_window(
    bundle_key, agency_key, created, retired, ok
) -> None:
    text = bundle.sign(body(agency_key, ROWS), bundle_key)
    keys_in = pinned(bundle_key, created, retired)
    if ok:
        assert bundle.read(text, keys_in).iat == NOW
    else:
        with pytest.raises(BundleError, match="not in service"):
            bundle.read(text, keys_in)


def test_key_sets_are_read_strictly(bundle_key) -> None:
    good = {"keys": [BundleKey(bundle_key.verifying_key(), NOW - DAY).to_jwk()]}
    assert set(bundle.read_key_set(good)) == {bundle_key.kid}
    assert good["keys"][0]["created"] == NOW - DAY and "retired" not in good["keys"][0]
    es = keys.generate_signing_key("ES256").verifying_key().public_jwk()
    for document, message in (
        ({"keys": []}, "no keys"),
        ([], "keys"),
        ({"keys": [{**es, "created": 1}]}, "Ed25519"),
        ({"keys": [{**good["keys"][0], "kid": "AAAAAAAAAAAAAAAA"}]}, "does not match"),
        ({"keys": [{**good["keys"][0], "created": "yesterday"}]}, "created"),
        ({"keys": [{**good["keys"][0], "d": "secret"}]}, "private"),
    ):
        with pytest.raises(BundleError, match=message):
            bundle.read_key_set(document)


def test_a_delta_brings_a_bundle_to_the_later_state(bundle_key, agency_key) -> None:
    full = bundle.read(bundle.sign(body(agency_key, ROWS), bundle_key), pinned(bundle_key))
    changes = [
        ("lsp-contoh", "ME063100 3 48213301 2026", "active", "", 0),  # reinstated
        ("lsp-contoh", "A 1", "revoked", "other", NOW - 300),  # unchanged, sent again
        ("lsp-contoh", "B 2", "revoked", "misuse", NOW + 10),
        ("lsp-lain", "ME063100 3 00000001 2025", "active", "", 0),  # its group empties
    ]
    delta_text = bundle.sign(
        body(agency_key, changes, iat=NOW + 20, since=5, registry=False, seq=9), bundle_key
    )
    delta = bundle.read(delta_text, pinned(bundle_key))
    assert delta.kind == "delta" and delta.agencies is None and delta.since == 5
    merged = bundle.apply_delta(full, delta)
    assert (merged.seq, merged.iat, merged.kind) == (9, NOW + 20, "full")
    assert merged.agencies == full.agencies
    assert set(merged.revocations) == {"lsp-contoh"}
    group = merged.revocations["lsp-contoh"]
    assert group.numbers == ("A 1", "B 2", "ME063100 3 48213377 2026")
    assert merged.lookup("lsp-contoh", "B 2") == bundle.RevocationStatus(
        "revoked", NOW + 10, "misuse"
    )
    with pytest.raises(BundleError, match="starts at"):
        bundle.apply_delta(merged, delta)
    older = bundle.read(
        bundle.sign(
            body(agency_key, changes, iat=NOW - 1, since=5, registry=False, seq=9), bundle_key
        ),
        pinned(bundle_key),
    )
    with pytest.raises(BundleError, match="older"):
        bundle.apply_delta(full, older)
    with pytest.raises(BundleError, match="apply it to its bundle"):
        delta.snapshot()


def _token(
    agency_key: keys.SigningKey, number: str = "ME063100 3 48213377 2026", start: int = NOW - DAY
) -> str:
    credential = Credential(
        "lsp-contoh",
        number,
        "Rina Marlina",
        "Operator Wheel Excavator",
        "ME063100",
        3,
        start,
        start,
        add_years(start),
    )
    return issuer.sign(credential, agency_key)


def test_offline_verification_gives_stale_data_only_for_what_would_be_valid(
    bundle_key, agency_key
) -> None:
    read = bundle.read(bundle.sign(body(agency_key, ROWS), bundle_key), pinned(bundle_key))
    verifier = offline.OfflineVerifier(read)
    fine = _token(agency_key, "C 3")
    revoked = _token(agency_key)
    expired = _token(agency_key, "C 4", start=add_years(NOW - 40 * DAY, -5))
    url = links.credential_url("https://sertifikat.example.id", fine)
    for now, statuses in (
        (NOW, ("valid", "revoked", "expired")),
        (read.exp - 1, ("valid", "revoked", "expired")),
        (read.exp, ("stale_data", "revoked", "expired")),
    ):
        got = tuple(
            verifier.verify(text, at=NOW, now=now).status.value for text in (url, revoked, expired)
        )
        assert got == statuses, now
    stale = verifier.verify(fine, at=NOW, now=read.exp).to_dict("en")
    assert stale["valid"] is False and stale["credential"]["number"] == "C 3"
    assert "too old" in stale["message"]
    assert verifier.verify("garbage", at=NOW, now=NOW).status is Status.MALFORMED
    age = offline.data_age(read, NOW + 3 * 3600)
    assert age == {
        "data_as_of": "2026-01-15T00:00:00Z",
        "expires_at": "2026-01-22T00:00:00Z",
        "age_seconds": 10_800,
        "stale": False,
        "seq": 5,
    }
    assert offline.describe_age(10_800) == "3 hours" and offline.describe_age(1) == "1 second"


def test_a_million_revocations_fit_the_wire_target(bundle_key, agency_key) -> None:
    """docs/offline.md §6: 10,000 revocations in well under 200 KB gzipped (bench: 1,000,000)."""
    rows = [
        ("lsp-contoh", f"ME063100 3 {n * 9973 % 10**8:08d} 2026", "revoked", "fraud", NOW - n * 37)
        for n in range(10_000)
    ]
    text = bundle.sign(body(agency_key, rows), bundle_key)
    assert len(gzip.compress(text.encode())) < 200_000
    assert bundle.read(text, pinned(bundle_key)).revocation_count() == 10_000


PURE_MODULES = ("bundle.py", "offline.py")
ALLOWED = {
    "verifier.core",
    "verifier.core.jws",
    "verifier.core.keys",
    "verifier.core.credential",
    "verifier.core.trust",
    "verifier.core.verify",
    "verifier.core.messages",
    "verifier.core.links",
    "verifier.core.qr_payload",
    "verifier.core.errors",
    "verifier.core.bundle",
}


@pytest.mark.parametrize("name", PURE_MODULES)
def test_the_offline_verifier_uses_only_the_pure_pipeline(name: str) -> None:
    """No peewee, Flask or click: a laptop verifies with a bundle file and nothing else."""
    tree = ast.parse((Path(bundle.__file__).parent / name).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            if node.module == "verifier.core":  # from verifier.core import jws, keys
                imported.update(f"verifier.core.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    ours = {module for module in imported if module.startswith("verifier")}
    assert ours <= ALLOWED, ours - ALLOWED
    assert not {"peewee", "flask", "click"} & {module.split(".")[0] for module in imported}
