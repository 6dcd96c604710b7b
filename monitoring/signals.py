"""Signals of monitoring that other apps listen to, so ``monitoring`` never imports them.

``alerts_opened(sender=Alert, tenant_id=..., alerts=[...])`` is sent by
``early_warning.services.fire_or_merge_many`` inside its transaction with the alerts it opened,
oldest first, after their rows and history are written. They are inserted together, so Django
sends no ``post_save`` for them: what starts with a new alert (its escalation,
``monitoring.escalation.engine``; the incident side, ``incidents.alerts``) listens to both this
signal and ``post_save`` (an alert saved on its own), and its writes and queued tasks commit or
roll back with the alerts.
"""

from django.dispatch import Signal

alerts_opened = Signal()
