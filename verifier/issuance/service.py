"""The one issuing path: the CLI, the agency API, cohort imports (CLI and API) and the agency
console all issue through :class:`IssuingService`, so the rules and their order live here only.

For one credential: check the request against its agency and the job master list, HMAC the NIK,
then unlock the agency's private key, sign and store (an assigned number that collides is drawn
again). For a cohort: unlock the agency's key, check every row and sign the new ones
(:func:`verifier.issuance.cohort.prepare`), render what the caller needs, then store them all in
one transaction. Every credential stored is audited in the transaction that stores it, naming
the actor the front end passes in (``cli``, ``apikey:<key id>``, ``user:<username>``), so no way
of issuing escapes the audit log. Time is injected; nothing here knows HTTP or the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from verifier.config import Settings
from verifier.core.errors import Conflict
from verifier.core.keys import SigningKey
from verifier.core.links import credential_url
from verifier.core.nik import nik_hmac
from verifier.issuance import cohort, issuer, keyring
from verifier.issuance.cohort import PreparedCohort
from verifier.issuance.cohort_file import CohortFile
from verifier.issuance.issuer import IssueRequest
from verifier.issuance.keystore import PrivateKeyStore
from verifier.store import audit, credentials, job_masters, registry
from verifier.store.credentials import SignedCredential
from verifier.store.db import transaction

#: Draws of a random number before giving up (a collision is one in 10^8 per credential).
ASSIGN_ATTEMPTS = 5

Rendered = TypeVar("Rendered")


@dataclass(frozen=True)
class Issued:
    """One issued credential as every front end answers: its number, token and verify URL."""

    signed: SignedCredential
    #: Exactly what the credential's QR code encodes.
    url: str

    @property
    def number(self) -> str:
        """The certificate number (assigned, or the one asked for, canonical)."""
        return self.signed.credential.number

    def to_dict(self) -> dict[str, str]:
        """SPEC §5 ``skk issue --json`` and §6 ``201`` body: ``{"number","token","url"}``."""
        return {"number": self.number, "token": self.signed.token, "url": self.url}


class IssuingService:
    """Issues credentials with the agencies' private keys, the NIK pepper and the base URL."""

    def __init__(self, key_store: PrivateKeyStore, *, pepper: str | None, base_url: str) -> None:
        self._key_store = key_store
        self._pepper = pepper
        #: The prefix of every verify URL (SKK_BASE_URL).
        self.base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> IssuingService:
        """The service of a configured process (keys from SKK_KEYS_DIR, and so on)."""
        return cls(
            PrivateKeyStore(settings.keys_dir, settings.key_passphrase),
            pepper=settings.nik_pepper,
            base_url=settings.base_url,
        )

    def issue(
        self,
        request: IssueRequest,
        *,
        actor: str,
        now: int,
        store_with: Callable[[Issued], None] | None = None,
    ) -> Issued:
        """Check, sign, store and audit one credential for ``actor``; InvalidInput, NotFound or
        Conflict if refused.

        ``store_with`` runs last inside the transaction that stores and audits the credential,
        with what this call returns: what must be stored with it or not at all (the answer kept
        for an ``Idempotency-Key``, so that a retry never meets a credential without its answer).
        Whatever it raises rolls the credential back; it must not raise Conflict, which here
        means "draw another number".
        """
        agency = registry.get_agency(request.agency_id)
        # Everything is checked before the private key is unlocked: a typo must not cost a
        # key-derivation run, and a host without keys still names the mistake.
        credential = issuer.build_credential(request, agency, now, job_masters.active_master())
        digest = None if request.nik is None else nik_hmac(request.nik, agency.id, self._pepper)
        signer = self._signer(agency.id)
        for attempt in range(ASSIGN_ATTEMPTS):
            signed = issuer.sign_credential(credential, signer, digest)
            # Made before the transaction: once it commits, nothing is left that could fail.
            issued = Issued(signed, self.verify_url(signed.token))
            try:
                with transaction():
                    credentials.insert([signed])
                    audit.record_issued([signed.credential], actor)
                    if store_with is not None:
                        store_with(issued)
            except Conflict:
                if request.number is not None or attempt == ASSIGN_ATTEMPTS - 1:
                    raise
                credential = issuer.renumbered(credential, now)
                continue
            return issued
        raise AssertionError("unreachable")

    def issue_cohort(
        self,
        cohort_file: CohortFile,
        agency_id: str,
        *,
        actor: str,
        now: int,
        render: Callable[[PreparedCohort], Rendered],
        store_with: Callable[[PreparedCohort], None] | None = None,
    ) -> tuple[PreparedCohort, Rendered]:
        """Issue every row of a participant list for ``actor``, or none (CohortRejected lists
        every problem).

        ``render`` runs after signing and before the commit: whatever must exist for the result
        to be usable (verify URLs, QR codes, printable pages) is made first, so that nothing is
        left to fail once the credentials are stored. ``store_with`` runs first inside the
        transaction that stores and audits the new credentials: what must be stored with them
        or not at all (the console marks its upload issued there, so that it is issued once).
        Returns the cohort and what ``render`` made of it.
        """
        agency = registry.get_agency(agency_id)
        prepared = cohort.prepare(
            cohort_file, agency, self._signer(agency.id), pepper=self._pepper, now=now
        )
        rendered = render(prepared)
        with transaction():
            if store_with is not None:
                store_with(prepared)
            cohort.commit(prepared)
            audit.record_issued([signed.credential for signed in prepared.signed], actor)
        return prepared, rendered

    def verify_url(self, token: str) -> str:
        """What the QR code of a credential's token encodes (SPEC §4)."""
        return credential_url(self.base_url, token)

    def _signer(self, agency_id: str) -> SigningKey:
        return keyring.signer(self._key_store, agency_id)
