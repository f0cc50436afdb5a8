"""Crew checks' rules, pure: what a whole roster is checked against and what the check decides.

``worker`` (one worker as the owner gave it), ``roster`` (the workers from JSON members or a
spreadsheet's rows, every problem of every row at once), ``terms`` (a project's name, dates and
required jobs as owners type them), ``calendar`` (project days in WIB) and ``evaluation``
(statuses, findings, summary). No I/O: the services in ``verifier.crew`` verify the workers and
ask the store, then hand the outcomes to :func:`verifier.core.crew.evaluation.evaluate`.
"""
