"""The verification service around the pure rules: what it reads, and that it reads it once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import peewee
import pytest

from tests.helpers import DAY, NOW
from verifier.core import keys
from verifier.core.verify import verify_token
from verifier.issuance import issuer
from verifier.store import registry, revocation


@pytest.fixture
def statements(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement the database runs from here on."""
    run: list[str] = []
    execute = database.execute_sql

    def counted(sql: str, *args: Any, **kwargs: Any) -> Any:
        run.append(sql)
        return execute(sql, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counted)
    yield run


def foreign_token() -> str:
    """A credential of lsp-contoh signed by a key the registry does not know."""
    credential = issuer.build_credential(
        issuer.IssueRequest("lsp-contoh", "Rina Marlina", 3, job_code="ME063100", number="LUAR 1"),
        registry.get_agency("lsp-contoh"),
        NOW,
    )
    return issuer.sign(credential, keys.generate_signing_key())


def test_a_warm_verification_is_one_statement(contoh, issue, service, statements) -> None:
    token = issue().token
    assert service.verify(token, at=NOW).status == "valid"  # loads the trust snapshot
    statements.clear()
    assert service.verify(token, at=NOW).status == "valid"
    assert len(statements) == 1
    assert "revocation" in statements[0] and "registry_version" in statements[0]


def test_a_token_refused_by_rules_2_to_4_reads_the_registry_version_only(
    contoh, service, statements
) -> None:
    token = foreign_token()
    assert service.verify(token, at=NOW).status == "unknown_key"
    statements.clear()
    assert service.verify(token, at=NOW).status == "unknown_key"
    assert len(statements) == 1 and "revocation" not in statements[0]


def test_a_malformed_token_reads_nothing(contoh, service, statements) -> None:
    service.verify(foreign_token(), at=NOW)  # the trust snapshot is loaded
    statements.clear()
    assert service.verify("not a token", at=NOW).status == "malformed"
    assert statements == []


def test_a_registry_change_after_the_snapshot_is_judged_on_the_new_registry(
    contoh, issue, service
) -> None:
    token = issue().token
    assert service.verify(token, at=NOW).status == "valid"
    registry.retire_key(contoh.kid, NOW - DAY)  # retired before the credential was issued
    assert service.verify(token, at=NOW).status == "key_revoked"


def test_the_service_gives_what_the_pure_pipeline_gives(database, contoh, issue, service) -> None:
    valid, revoked = issue(), issue()
    revocation.revoke(
        "lsp-contoh", revoked.credential.number, "fraud", note=None, actor="test", now=NOW
    )
    lookup = revocation.lookup
    for token in (valid.token, revoked.token, foreign_token(), "x.y.z", valid.token[:-2]):
        pure = verify_token(token, registry.load_snapshot(), lookup, at=NOW, leeway=60)
        served = service.verify(token, at=NOW)
        assert served == pure and served.to_dict() == pure.to_dict()
