"""Crew checks for project owners, the service around the pure rules of ``verifier.core.crew``.

``check`` verifies every worker of a roster and asks the store what the rules need (number rows,
other owners' projects); ``roster_file`` reads a roster from CSV or .xlsx with the cohort reader;
``webhooks`` makes subscriptions and signs their messages (Standard Webhooks); ``notifier`` is
the process that delivers the outbox. Owners, projects, crews, subscriptions and the outbox are
kept by the store (``verifier.store.projects``, ``webhooks``, ``outbox``).
"""
