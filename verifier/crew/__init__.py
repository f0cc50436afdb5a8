"""Crew checks for project owners: a whole roster at once, and watched projects.

``evaluation`` is the pure part (statuses, findings, summary); ``roster`` reads the workers from
JSON, CSV or .xlsx; ``check`` runs verification for every row; ``projects`` stores owners,
projects and crews; ``outbox``, ``webhooks`` and ``notifier`` tell subscribers about changes.
"""
