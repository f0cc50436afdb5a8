"""The server's side of offline bundles, on SQLite and PostgreSQL: the change sequence, deltas
cut from it, bundle keys and their rotation, and the publisher's reuse of built bundles."""

from __future__ import annotations

import gzip
import threading

import peewee
import pytest

from tests.helpers import DAY, NOW
from verifier.core import bundle
from verifier.core.bundle import BundleSettings
from verifier.core.errors import ConfigurationError, Conflict
from verifier.issuance import bundles
from verifier.issuance.bundles import REUSE_SECONDS, BundlePublisher
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import bundle_keys, bundle_source, offline_changes, registry, revocation
from verifier.store.models import OfflineChange

SETTINGS = BundleSettings("https://sertifikat.example.id", 7 * DAY, 60)


def logged(database: peewee.Database) -> list[tuple[int, str | None, str | None]]:
    return [
        (row.seq, row.agency, row.number)
        for row in OfflineChange.select().order_by(OfflineChange.seq)
    ]


def test_every_change_is_numbered_in_its_own_transaction(database, contoh, issue) -> None:
    start = offline_changes.read_counter()
    assert start == len(logged(database)) == 2  # the agency, then its key
    assert logged(database) == [(1, None, None), (2, None, None)]
    number = issue().credential.number
    revocation.suspend("lsp-contoh", number, "investigation", note=None, actor="t", now=NOW)
    revocation.suspend("lsp-contoh", number, "other", note=None, actor="t", now=NOW + 1)  # no-op
    revocation.revoke("lsp-contoh", number, "fraud", note=None, actor="t", now=NOW + 2)
    with pytest.raises(Conflict):  # refused: rolled back, nothing numbered
        revocation.reinstate("lsp-contoh", number, note=None, actor="t", now=NOW + 3)
    registry.retire_key(contoh.kid, NOW + 4)
    assert logged(database)[2:] == [
        (3, "lsp-contoh", number),
        (4, "lsp-contoh", number),
        (5, None, None),
    ]
    assert offline_changes.read_counter() == 5


def test_concurrent_changes_get_distinct_consecutive_numbers(database, contoh, issue) -> None:
    numbers = [issue(number=f"PAR {i:04d} 2026").credential.number for i in range(8)]
    errors: list[BaseException] = []

    def revoke(number: str) -> None:
        try:
            with database.connection_context():  # each thread its own connection
                revocation.revoke("lsp-contoh", number, "fraud", note=None, actor="t", now=NOW)
        except BaseException as exc:  # noqa: BLE001 (reported below, in the test's own thread)
            errors.append(exc)

    threads = [threading.Thread(target=revoke, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = logged(database)
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    assert {number for _, _, number in rows[-8:]} == set(numbers)


def test_a_delta_carries_current_states_and_the_registry_only_when_it_changed(
    database, contoh, issue, make_agency
) -> None:
    a, b, c = (issue(number=f"D {i} 2026").credential.number for i in range(3))
    revocation.suspend("lsp-contoh", a, "investigation", note=None, actor="t", now=NOW)
    since = offline_changes.read_counter()
    revocation.reinstate("lsp-contoh", a, note=None, actor="t", now=NOW + 1)
    revocation.revoke("lsp-contoh", b, "misuse", note=None, actor="t", now=NOW + 2)
    revocation.suspend("lsp-contoh", c, "other", note=None, actor="t", now=NOW + 3)
    revocation.revoke("lsp-contoh", c, "fraud", note=None, actor="t", now=NOW + 4)
    made = bundle_source.delta_payload(SETTINGS, since, NOW + 10)
    assert made is not None and made["kind"] == "delta" and made["since"] == since
    assert made["seq"] == offline_changes.read_counter() and "agencies" not in made
    group = made["revocations"][0]
    assert group["numbers"].split("\n") == ["0D 0 2026", "21 2026", "22 2026"]
    assert group["states"] == "-ba"  # reinstated, revoked for misuse, revoked for fraud
    make_agency("lsp-baru", name="LSP Baru")
    with_registry = bundle_source.delta_payload(SETTINGS, since, NOW + 20)
    assert with_registry is not None
    assert [agency["id"] for agency in with_registry["agencies"]] == ["lsp-baru", "lsp-contoh"]
    quiet = bundle_source.delta_payload(SETTINGS, offline_changes.read_counter(), NOW + 30)
    assert quiet is not None and quiet["revocations"] == [] and "keys" not in quiet


def test_only_sequences_this_database_handed_out_get_a_delta(database, contoh, monkeypatch) -> None:
    seq = offline_changes.read_counter()
    assert bundle_source.delta_payload(SETTINGS, seq + 1, NOW) is None
    assert bundle_source.delta_payload(SETTINGS, 0, NOW) is not None
    floor = bundle_source.restart_deltas()
    assert floor == seq + 2**32 == offline_changes.read_counter()
    assert bundle_source.delta_payload(SETTINGS, seq, NOW) is None  # from before the restore
    assert bundle_source.delta_payload(SETTINGS, floor, NOW) is not None
    monkeypatch.setattr(bundle_source, "MAX_DELTA_CHANGES", 1)
    registry.add_agency("lsp-dua", "LSP Dua", (1, 2), "lsp", NOW)
    registry.add_agency("lsp-tiga", "LSP Tiga", (1, 2), "lsp", NOW)
    assert bundle_source.delta_payload(SETTINGS, floor, NOW) is None  # too many: full


def test_bundle_keys_rotate_and_stay_published_for_one_max_age(database, store) -> None:
    with pytest.raises(ConfigurationError, match="skk bundle new-key"):
        bundles.signer(store)
    first = bundles.new_key(store, NOW)
    assert bundles.signer(store).kid == first.kid
    assert (store.keys_dir / f"{first.kid}.pem").stat().st_mode & 0o777 == 0o600
    second = bundles.new_key(store, NOW + DAY)
    assert [(k.kid, k.retired) for k in bundle_keys.list_keys()] == [
        (first.kid, NOW + DAY),
        (second.kid, None),
    ]
    assert bundles.signer(store).kid == second.kid
    max_age = 7 * DAY
    published = bundle_keys.key_set(NOW + 2 * DAY, max_age)["keys"]
    assert [key["kid"] for key in published] == [first.kid, second.kid]
    assert published[0]["retired"] == NOW + DAY and published[0]["alg"] == "EdDSA"
    later = bundle_keys.key_set(NOW + DAY + max_age, max_age)["keys"]
    assert [key["kid"] for key in later] == [second.kid]
    elsewhere = PrivateKeyStore(store.keys_dir.parent / "other-host", "test passphrase")
    with pytest.raises(ConfigurationError, match="no private key file on this host"):
        bundles.signer(elsewhere)


def test_the_publisher_reuses_a_bundle_until_the_data_changes(
    database, contoh, issue, store
) -> None:
    bundles.new_key(store, NOW - DAY)
    publisher = BundlePublisher(store, SETTINGS)
    first = publisher.full(NOW)
    assert publisher.full(NOW + REUSE_SECONDS - 1) is first
    assert publisher.full(NOW + REUSE_SECONDS).iat == NOW + REUSE_SECONDS
    revocation.revoke(
        "lsp-contoh", issue().credential.number, "fraud", note=None, actor="t", now=NOW + 1
    )
    changed = publisher.full(NOW + REUSE_SECONDS + 1)
    assert changed.seq == first.seq + 1 and changed.iat == NOW + REUSE_SECONDS + 1
    assert gzip.decompress(changed.gzipped) == changed.text
    pinned = bundle.read_key_set(bundle_keys.key_set(NOW, SETTINGS.max_age))
    read = bundle.read(changed.text.decode(), pinned)
    assert read.revocation_count() == 1 and read.leeway == 60
    delta = publisher.delta(first.seq, NOW + REUSE_SECONDS + 2)
    assert delta is not None and bundle.read(delta.text.decode(), pinned).kind == "delta"
    assert publisher.delta(changed.seq + 5, NOW) is None
