"""Staff of an agency using the console: their passwords (Argon2id), second factor (TOTP) and
sign-in (:mod:`accounts`), and console cohort uploads from preview to print pack
(:mod:`imports`). No Flask here; the console (``verifier.web.console``) and the CLI (``skk
user``) call these modules. What they store is in :mod:`verifier.store` (``staff_accounts``,
``staff_sessions``, ``approvals``, ``cohort_imports``)."""
