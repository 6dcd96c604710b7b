"""The demo's incident: for each demo tenant, one incident in progress, opened from a demo
alert by the tenant's policy (``incidents.alerts.link_alert``), with a commander, an analyst,
tasks (one done, one due soon, one overdue), a note, a pinned mention and a first statement
drafted from a template, approved and published (``incidents.statements.demo``).
The agency's starter playbooks are loaded first (``playbooks.demo``), so the matching one
(negative perception, in the tenant's language) attaches as the incident opens; its tasks get
their owners as the roles are given, and its first task is under way. Then the tenant's canned
answers (``playbooks.demo``) and two replies to the pinned mention: one waiting for approval and
one draft the consistency check flagged against the approved statement (it promises a refund
and a deadline the statement does not make).

Registered with ``tenants.demo.register_seeder`` (``IncidentsConfig.ready``), so
``manage.py seed_demo`` runs it after the monitoring data. Idempotent: a tenant that already has
the demo incident keeps it (``seed_demo`` moves its times up to now with every other row).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from incidents import playbooks as incident_playbooks
from incidents import replies, services
from incidents.alerts import link_alert
from incidents.authority import SYSTEM, Authority
from incidents.models import Incident, IncidentTask
from monitoring.alerting.types import Alert as Detected
from monitoring.early_warning.services import fire_or_merge
from monitoring.models import AlertRule, Mention
from playbooks.demo import seed_answers, seed_playbooks
from playbooks.selectors import approved_answers
from tenants.models import Membership, Tenant, User
from tenants.roles import Role, capabilities_of

TITLE = "Demo: boycott call spreading after a viral complaint"
DEDUPE_KEY = "demo-incident"


def _member(tenant: Tenant, role: str) -> User | None:
    membership = (
        Membership.objects.for_tenant(tenant).filter(role=role).select_related("user").first()
    )
    return membership.user if membership is not None else None


@transaction.atomic
def seed_incident(tenant: Tenant) -> str:
    loaded = seed_playbooks(tenant)
    existing = Incident.objects.for_tenant(tenant).filter(title=TITLE).first()
    if existing is not None:
        incident_playbooks.attach_matching(incident=existing)
        return f"{loaded}; demo incident {existing.pk} kept ({existing.status})"
    rule, _ = AlertRule.objects.for_tenant(tenant).get_or_create(
        tenant=tenant,
        name="Demo negative surge",
        # Disabled: it only holds the demo's alert; the live "Negative surge" rule judges.
        defaults={"kind": "negative-surge", "severity": "sev2", "enabled": False},
    )
    now = timezone.now()
    found = Detected(
        rule="negative-surge",
        at=now - timedelta(minutes=50),
        window_start=now - timedelta(minutes=65),
        window_end=now - timedelta(minutes=50),
        observed=0.62,
        baseline=0.18,
        threshold=0.4,
        explanation="62% of the last hour's mentions are negative (usually 18%).",
        severity="sev2",
        dedupe_key=DEDUPE_KEY,
    )
    alert = fire_or_merge(rule=rule, detected=found, title=TITLE).alert
    incident = link_alert(alert=alert)
    if incident is None:
        return "no demo incident: the tenant's policy does not open incidents at SEV2"
    responder, analyst = _member(tenant, Role.RESPONDER), _member(tenant, Role.ANALYST)
    if responder is not None:
        services.assign_role(incident=incident, user=responder, role="commander")
    if analyst is not None:
        services.assign_role(incident=incident, user=analyst, role="analyst")
    if responder is not None:
        services.assign_role(incident=incident, user=responder, role="communications")
        services.assign_role(incident=incident, user=responder, role="spokesperson")
    incident = services.transition_incident(
        incident=incident, to="triaged", authority=SYSTEM, reason="Real complaint, spreading."
    )
    incident = services.transition_incident(incident=incident, to="responding")
    gather = services.create_task(
        incident=incident, title="Collect the complaint thread and the top reposts", owner=analyst
    )
    services.update_task(instance=gather, status="done")
    services.create_task(
        incident=incident,
        title="Draft the holding statement",
        owner=responder,
        due_at=now + timedelta(minutes=20),
        checklist=[
            {"text": "Facts confirmed", "done": True},
            {"text": "Legal read", "done": False},
        ],
        depends_on=[gather.pk],
    )
    services.create_task(
        incident=incident,
        title="Call the customer who complained",
        owner=responder,
        due_at=now - timedelta(minutes=10),
        visible_to_client=False,
    )
    services.add_entry(
        incident=incident,
        kind="note",
        text="The original post is from a real customer; no bot pattern in the reposts.",
    )
    mention = Mention.objects.for_tenant(tenant).order_by("-risk", "-published_at").first()
    if mention is not None:
        services.add_entry(
            incident=incident, kind="mention", text="Most risky post so far.", mention=mention
        )
    # The first statement: drafted from a template, approved by the approver and the client,
    # published (incidents.statements.demo).
    from incidents.statements.demo import seed_statement

    statement = seed_statement(
        incident=incident,
        responder=responder,
        approver=_member(tenant, Role.APPROVER),
        client=_member(tenant, Role.CLIENT),
    )
    for attachment in incident_playbooks.attached(incident):
        first = min(attachment.task_ids.values(), default=None)
        task = IncidentTask.objects.for_tenant(tenant).filter(pk=first).first() if first else None
        if task is not None:
            services.update_task(instance=task, status="in_progress")
    seed_answers(tenant)
    if mention is not None:
        seed_replies(tenant, incident, mention, responder)
    return (
        f"{loaded}; demo incident {incident.pk} opened from alert {alert.pk} "
        f"({incident.status}, {len(incident_playbooks.attached(incident))} playbook attached); "
        + statement
    )


FLAGGED_REPLY = (
    "Tenang kak, semua pelanggan yang kena pasti dapet refund penuh besok! "
    "Baca dulu dong pengumuman kami."
)


def seed_replies(tenant: Tenant, incident: Incident, mention: Mention, user: User | None) -> None:
    """A reply from a canned answer waiting for approval (SEV2), and a flagged draft."""
    authority = Authority(
        user=user, capabilities=capabilities_of({Role.RESPONDER}) if user else frozenset()
    )
    answer = (
        approved_answers(tenant=tenant, language="id")
        .filter(question="Kenapa pesanan saya belum sampai?")
        .first()
    )
    if answer is not None:
        calm = replies.draft_reply(
            tenant=tenant,
            mention=mention,
            incident=incident,
            text=answer.answer,
            canned_answer=answer,
            authority=authority,
        )
        if not calm.flagged:
            replies.submit_reply(instance=calm, authority=authority)
    replies.draft_reply(
        tenant=tenant, mention=mention, incident=incident, text=FLAGGED_REPLY, authority=authority
    )
