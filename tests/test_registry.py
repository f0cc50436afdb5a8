"""Trust registry: agencies, key life cycle, JWKS, and a cache that sees every change at once."""

from __future__ import annotations

import pytest

from tests.helpers import DAY, NOW
from verifier.core import keys
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.store import registry


def test_parse_levels() -> None:
    assert registry.parse_levels("1-6") == (1, 6)
    assert registry.parse_levels(" 3 ") == (3, 3)
    for bad in ("0-3", "4-2", "1-10", "a-b", ""):
        with pytest.raises(InvalidInput):
            registry.parse_levels(bad)


def test_generated_key_retires_previous_and_only_active_signs(contoh, make_key) -> None:
    newer = make_key(alg="ES256", at=NOW)
    old = registry.get_key(contoh.kid)
    assert (old.state, old.retired_at, old.is_signing_key) == ("retired", NOW, False)
    assert registry.signing_key_of("lsp-contoh").kid == newer.kid


def test_imported_key_never_signs_and_keeps_active_generated_key(contoh) -> None:
    external = keys.generate_signing_key().verifying_key()
    imported = registry.add_key("lsp-contoh", external, origin="imported", not_before=None, now=NOW)
    assert imported.is_signing_key is False and imported.state == "active"
    assert registry.signing_key_of("lsp-contoh").kid == contoh.kid


def test_same_key_cannot_be_registered_twice(contoh) -> None:
    again = registry.get_key(contoh.kid).verifying_key
    with pytest.raises(Conflict):
        registry.add_key("lsp-contoh", again, origin="imported", not_before=None, now=NOW)


def test_revoked_key_cannot_be_retired_and_leaves_jwks(contoh) -> None:
    registry.revoke_key(contoh.kid, NOW)
    with pytest.raises(Conflict):
        registry.retire_key(contoh.kid, NOW)
    assert registry.jwks() == {"keys": []}


def test_jwks_members(contoh) -> None:
    [jwk] = registry.jwks()["keys"]
    assert jwk["kid"] == contoh.kid and jwk["alg"] == "EdDSA" and jwk["use"] == "sig"
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk


def test_unknown_records_not_found(database) -> None:
    with pytest.raises(NotFound):
        registry.get_agency("lsp-hantu")
    with pytest.raises(NotFound):
        registry.get_key("AAAAAAAAAAAAAAAA")


def test_cache_reloads_on_any_registry_change(contoh, make_agency) -> None:
    cache = registry.TrustCache()
    first = cache.get()
    assert cache.get() is first  # unchanged registry: no reload
    make_agency("lsp-baru", levels=(1, 3))
    second = cache.get()
    assert second is not first and "lsp-baru" in second.agencies
    registry.revoke_key(contoh.kid, NOW + DAY)
    assert cache.get().keys[contoh.kid].state == "revoked"
