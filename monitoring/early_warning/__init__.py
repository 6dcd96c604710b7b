"""The live layer of early warning: stored rules and alerts, evaluated from the pipeline outbox.

The detectors themselves are the pure package ``monitoring.alerting``; this package stores
their state, runs them as chunks commit (``live``), sweeps time-based conditions (``sweep``),
and writes alerts through ``services``. See docs/alerts.md.
"""
