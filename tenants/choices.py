"""Enumerations shared by the crisis apps (monitoring, incidents, playbooks, communications).

They live here, in the base app, so that a feature app never imports a sibling for a shared
word. Values are stable API and database values; labels are translatable.

- ``CrisisTrigger``: the kinds of crisis trigger. The values are the scoring engine's labels
  (``monitoring.scoring.TRIGGER_LABELS``, a pure package that cannot import Django); a test
  keeps both lists equal.
- ``Severity``: incident severity, SEV1 (worst) to SEV4.
- ``IncidentRole``: the roles people hold in one incident (not to be confused with the tenant
  roles of ``tenants.roles``, which say what someone may do in a tenant at all).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CrisisTrigger(models.TextChoices):
    """What can set off a reputation crisis."""

    NEGATIVE_NEWS = "negative_news", _("Negative news")
    PROVOCATION = "provocation", _("Provocative comments")
    HOAX = "hoax", _("Hoax or fake news")
    CYBER_ATTACK = "cyber_attack", _("Cyber attack or hijacked account")
    UNEXPECTED_EVENT = "unexpected_event", _("Unexpected event (accident, disaster, scandal)")
    NEGATIVE_PERCEPTION = "negative_perception", _("Negative public perception")


class Severity(models.TextChoices):
    """How bad an incident is; SEV1 is the worst. Ordered from worst to mildest."""

    SEV1 = "sev1", _("SEV1: critical, brand-threatening, all hands now")
    SEV2 = "sev2", _("SEV2: major, spreading, respond within the hour")
    SEV3 = "sev3", _("SEV3: moderate, contained, respond today")
    SEV4 = "sev4", _("SEV4: minor, watch and log")

    @classmethod
    def rank(cls, value: str) -> int:
        """1 for SEV1 … 4 for SEV4 (lower is worse), for sorting and escalation rules."""
        return list(cls.values).index(value) + 1


class IncidentRole(models.TextChoices):
    """Who does what in one incident (an incident-command structure; ``incidents`` holds them).

    - ``commander``: owns the incident, decides severity, escalation and closing; one per
      incident.
    - ``communications``: the communications lead; drafts statements and replies.
    - ``spokesperson``: speaks for the brand in public and to the press.
    - ``legal``: the legal reviewer; reviews statements and takedown requests.
    - ``analyst``: watches the monitoring data, sizes the spread and reports.
    - ``scribe``: keeps the timeline: notes, decisions, pinned mentions.
    - ``client_approver``: the client's person who signs off statements.
    """

    COMMANDER = "commander", _("Incident commander")
    COMMUNICATIONS = "communications", _("Communications lead")
    SPOKESPERSON = "spokesperson", _("Spokesperson")
    LEGAL = "legal", _("Legal reviewer")
    ANALYST = "analyst", _("Analyst")
    SCRIBE = "scribe", _("Scribe")
    CLIENT_APPROVER = "client_approver", _("Client approver")
