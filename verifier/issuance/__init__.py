"""Issuing credentials: requests checked and signed, private keys on disk, cohort files.

:class:`verifier.issuance.service.IssuingService` is the one path every front end takes, for one
credential or a whole participant list.
"""
