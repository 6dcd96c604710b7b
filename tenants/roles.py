"""Roles and capabilities: the one place that says who may do what inside a tenant.

Roles are not a ladder. Each role holds an explicit set of capabilities; an admin manages the
tenant but does not approve official statements unless it also holds the approver role's
capability here. ``docs/roles.md`` shows this matrix and ``tests/tenants/test_roles.py`` checks
every cell of it.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    ANALYST = "analyst", _("Analyst")
    RESPONDER = "responder", _("Responder")
    APPROVER = "approver", _("Approver")
    CLIENT = "client", _("Client (read-only portal)")


class Cap(StrEnum):
    """A capability inside one tenant."""

    VIEW_TENANT = "tenant.view"
    MANAGE_TENANT = "tenant.manage"
    VIEW_MEMBERS = "members.view"
    MANAGE_MEMBERS = "members.manage"
    MANAGE_API_KEYS = "api_keys.manage"
    VIEW_MONITORING = "monitoring.view"
    MANAGE_MONITORING = "monitoring.manage"
    TRIAGE_MENTIONS = "mentions.triage"
    DELETE_MENTIONS = "mentions.delete"
    INGEST = "mentions.ingest"
    VIEW_INCIDENTS = "incidents.view"
    MANAGE_INCIDENTS = "incidents.manage"
    VIEW_INCIDENT_INTERNALS = "incidents.view_internal"
    COMMAND_INCIDENTS = "incidents.command"
    DRAFT_STATEMENTS = "statements.draft"
    APPROVE_STATEMENTS = "statements.approve"
    CLIENT_APPROVE_STATEMENTS = "statements.client_approve"
    MANAGE_CRISIS_MODE = "crisis_mode.manage"
    MANAGE_STAKEHOLDERS = "stakeholders.manage"
    VIEW_ALERTS = "alerts.view"
    ACK_ALERTS = "alerts.ack"
    MANAGE_ALERTS = "alerts.manage"
    DRAFT_REPLIES = "replies.draft"
    MANAGE_ANSWERS = "answers.manage"
    MANAGE_CHANNELS = "channels.manage"
    MANAGE_ESCALATION = "escalation.manage"
    VIEW_PLAYBOOKS = "playbooks.view"
    MANAGE_PLAYBOOKS = "playbooks.manage"
    SIGN_OFF_REVIEWS = "reviews.sign_off"
    CORRECT_SCORES = "scores.correct"


_EVERY_STAFF_ROLE = {
    Cap.VIEW_TENANT,
    Cap.VIEW_MEMBERS,
    Cap.VIEW_MONITORING,
    Cap.VIEW_INCIDENTS,
    Cap.VIEW_ALERTS,
    Cap.VIEW_INCIDENT_INTERNALS,
    Cap.VIEW_PLAYBOOKS,
}

MATRIX: dict[Role, frozenset[Cap]] = {
    Role.ADMIN: frozenset(
        _EVERY_STAFF_ROLE
        | {
            Cap.MANAGE_TENANT,
            Cap.MANAGE_MEMBERS,
            Cap.MANAGE_API_KEYS,
            Cap.MANAGE_MONITORING,
            Cap.TRIAGE_MENTIONS,
            Cap.DELETE_MENTIONS,
            Cap.INGEST,
            Cap.MANAGE_INCIDENTS,
            Cap.ACK_ALERTS,
            Cap.MANAGE_ALERTS,
            Cap.COMMAND_INCIDENTS,
            Cap.MANAGE_ANSWERS,
            Cap.MANAGE_CHANNELS,
            Cap.MANAGE_ESCALATION,
            Cap.MANAGE_PLAYBOOKS,
            Cap.MANAGE_CRISIS_MODE,
            Cap.MANAGE_STAKEHOLDERS,
            Cap.CORRECT_SCORES,
        }
    ),
    Role.ANALYST: frozenset(
        _EVERY_STAFF_ROLE
        | {
            Cap.MANAGE_MONITORING,
            Cap.TRIAGE_MENTIONS,
            Cap.INGEST,
            Cap.ACK_ALERTS,
            Cap.MANAGE_ALERTS,
            Cap.CORRECT_SCORES,
        }
    ),
    Role.RESPONDER: frozenset(
        _EVERY_STAFF_ROLE
        | {
            Cap.TRIAGE_MENTIONS,
            Cap.MANAGE_INCIDENTS,
            Cap.DRAFT_STATEMENTS,
            Cap.ACK_ALERTS,
            Cap.DRAFT_REPLIES,
            Cap.MANAGE_ANSWERS,
            Cap.MANAGE_STAKEHOLDERS,
            Cap.CORRECT_SCORES,
        }
    ),
    Role.APPROVER: frozenset(_EVERY_STAFF_ROLE | {Cap.APPROVE_STATEMENTS}),
    Role.CLIENT: frozenset(
        {
            Cap.VIEW_TENANT,
            Cap.VIEW_MONITORING,
            Cap.VIEW_INCIDENTS,
            Cap.VIEW_ALERTS,
            Cap.VIEW_PLAYBOOKS,
            # Used only as the incident's client approver (incidents.statements.services).
            Cap.CLIENT_APPROVE_STATEMENTS,
            Cap.SIGN_OFF_REVIEWS,
        }
    ),
}

# What a tenant's machine key (``Authorization: Api-Key ...``) may do: ingest, nothing else.
API_KEY_CAPABILITIES: frozenset[Cap] = frozenset({Cap.INGEST})


def capabilities_of(roles: set[str] | frozenset[str]) -> frozenset[Cap]:
    caps: set[Cap] = set()
    for role in roles:
        caps |= MATRIX[Role(role)]
    return frozenset(caps)


def role_has(role: str, cap: Cap) -> bool:
    return cap in MATRIX[Role(role)]


def roles_lacking(cap: Cap) -> list[Role]:
    return [role for role in Role if cap not in MATRIX[role]]
