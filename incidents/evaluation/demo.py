"""The demo's finished review: for each demo tenant, one resolved hoax incident of three days
ago with statements, its post-crisis review (lessons, action items, feedback), made Final
(figures frozen, the incident moved to reviewed) and signed off by the tenant's client user.
Its PDF is built on demand (``incident-reviews/{id}/export/``), never while seeding.

Registered with ``tenants.demo.register_seeder`` as ``evaluation`` (``IncidentsConfig.ready``).
Idempotent: a tenant that already has it keeps it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from incidents import services as incident_services
from incidents.evaluation import services
from incidents.models import Incident
from monitoring.models import MonitoredQuery
from tenants.models import Membership, Tenant, User
from tenants.roles import Role

TITLE = "Demo: hoax about stale coffee beans (reviewed)"


def _member(tenant: Tenant, role: str) -> User | None:
    membership = (
        Membership.objects.for_tenant(tenant).filter(role=role).select_related("user").first()
    )
    return membership.user if membership is not None else None


@transaction.atomic
def seed_review(tenant: Tenant) -> str:
    existing = Incident.objects.for_tenant(tenant).filter(title=TITLE).first()
    if existing is not None:
        return f"demo review of incident {existing.pk} kept"
    now = timezone.now()
    detected = now - timedelta(days=3)
    incident = incident_services.open_incident(
        tenant=tenant,
        title=TITLE,
        trigger="hoax",
        severity="sev2",
        detected_at=detected,
        summary="A copied post claimed the brand sells stale beans; it spread for a morning.",
    )
    query = MonitoredQuery.objects.for_tenant(tenant).filter(is_active=True).order_by("pk").first()
    if query is not None:
        incident_services.create_link(incident=incident, kind="query", query=query)
    for stage in ("triaged", "responding"):
        incident = incident_services.transition_incident(incident=incident, to=stage)
    for minutes, text in (
        (40, "We know about the post on our beans. It is not true; details follow."),
        (100, "Our roaster's dates and lab results are online. Thank you for checking with us."),
        (170, "Update: the original poster removed the post and apologised."),
    ):
        incident_services.record_statement(
            incident=incident, text=text, at=detected + timedelta(minutes=minutes)
        )
    for stage in ("monitoring", "resolved"):
        incident = incident_services.transition_incident(incident=incident, to=stage)
    Incident.objects.for_tenant(tenant).filter(pk=incident.pk).update(
        acknowledged_at=detected + timedelta(minutes=12),
        mitigated_at=detected + timedelta(hours=5),
        resolved_at=detected + timedelta(hours=9),
    )
    incident = Incident.objects.for_tenant(tenant).get(pk=incident.pk)
    review = services.create_review(
        tenant=tenant,
        incident=incident,
        summary="The hoax was answered within the hour with evidence; it stopped by noon.",
    )
    services.create_lesson(review=review, kind="went_well", text="Holding line out in 40 minutes.")
    services.create_lesson(review=review, kind="went_well", text="Lab results ready to publish.")
    services.create_lesson(
        review=review, kind="went_badly", text="Nobody watched TikTok overnight."
    )
    services.create_lesson(
        review=review,
        kind="went_badly",
        text="Legal sign-off waited for one person.",
        visible_to_client=False,
    )
    responder, analyst = _member(tenant, Role.RESPONDER), _member(tenant, Role.ANALYST)
    services.create_action_item(review=review, title="Add TikTok to the night watch", owner=analyst)
    services.create_action_item(
        review=review,
        title="Name a second legal reviewer",
        owner=responder,
        visible_to_client=False,
    )
    for person, rating in ((responder, 4), (analyst, 5)):
        if person is not None:
            services.create_feedback(review=review, participant=person, rating=rating)
    review = services.finalise_review(review=review)
    client = _member(tenant, Role.CLIENT)
    if client is not None:
        services.sign_off_review(review=review, user=client, comment="Thank you, well handled.")
    return f"demo review {review.pk} of incident {incident.pk} (final)"
