"""Issuing credentials: requests checked and signed, private keys on disk, cohort files."""
