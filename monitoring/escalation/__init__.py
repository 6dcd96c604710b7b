"""Escalation of alerts (``docs/notifications.md``): per tenant and severity, ordered steps that
notify people, the on-call person and channels, wait, repeat, and stop when someone
acknowledges. Models in ``monitoring.escalation.models`` (registered with ``monitoring``),
writes in ``services``, the engine in ``engine``, tasks in ``tasks``."""
