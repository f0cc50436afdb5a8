"""Offline checks: signed trust bundles (docs/offline.md) and verification against them.

``bundle`` and ``check`` are pure (no database, no web framework) so a laptop at a site can
verify with nothing but a bundle file; ``changes``, ``source`` and ``signing`` are the server's
side: the change sequence, building bundles and deltas from the database, and the bundle keys.
"""
