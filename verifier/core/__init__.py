"""The pure core: everything an offline verifier needs, and nothing that does I/O of its own.

Token format (jws, credential), keys, the trust and revocation values verification reads (trust),
the verification rules (verify), verify links and the QR payload codec (links, qr_payload), NIK
rules, the job master list, status messages and the error tree; and the rules of crew checks
(crew: rosters, project terms, findings). Nothing here imports the store, the web or the CLI,
nor peewee, Flask or click (an import-linter contract and a test check it).
"""
