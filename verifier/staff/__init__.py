"""Staff of an agency using the console: accounts (Argon2id passwords, TOTP second factor, roles),
server-side sessions, four-eyes approvals and console cohort imports. No Flask here; the console
(``verifier.console``) and the CLI (``skk user``) call these modules."""
