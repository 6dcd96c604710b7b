"""Writes of the post-crisis review (``docs/evaluation.md``), shared by REST, GraphQL and the
admin. Keyword-only, each in a transaction, ``ValidationError`` keyed by field. Rules:

- one review per incident, never of an incident still open or closed as a false alarm;
- a Final review refuses every change (its lessons, action items and feedback included);
- finalising needs the incident resolved (or already reviewed) and the commander's powers: the
  figures are computed and frozen, and the incident moves to ``reviewed`` in the same
  transaction (``incidents.services.transition_incident``);
- only a Final review is signed off, once, by a member holding ``reviews.sign_off`` (the
  client; checked by the adapters);
- action item owners and feedback participants are members of the tenant; nothing of a drill
  is visible to the client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import services as incident_services
from incidents.authority import SYSTEM, Authority
from incidents.choices import IncidentStatus, TimelineKind
from incidents.evaluation.figures import DrillError, incident_figures
from incidents.evaluation.models import (
    ClientReport,
    ReportFrequency,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
    ReviewStatus,
)
from incidents.models import Incident
from tenants.models import Tenant, User
from tenants.writes import create_row, delete_row, update_row

REVIEWABLE = (IncidentStatus.MONITORING, IncidentStatus.RESOLVED, IncidentStatus.REVIEWED)


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _review_of(row: Any, *, lock: bool = False) -> Review:
    rows = Review.objects.for_tenant(row.tenant_id)
    return (rows.select_for_update() if lock else rows).get(pk=row.review_id)


def _writable(review: Review) -> None:
    if review.status == ReviewStatus.FINAL:
        raise _error("review", _("The review is final: it can no longer change."), "final")


# --- the review --------------------------------------------------------------------------------


@transaction.atomic
def create_review(
    *, tenant: Tenant, incident: Incident, summary: str = "", authority: Authority = SYSTEM
) -> Review:
    """Start the review of an incident being monitored, resolved or reviewed."""
    if incident.tenant_id != tenant.pk:
        raise _error("incident", _("No such incident in this tenant."), "not_found")
    if incident.status not in REVIEWABLE:
        raise _error(
            "incident",
            _("Only an incident being monitored or resolved is reviewed (it is %(status)s).")
            % {"status": incident.status},
            "not_reviewable",
        )
    return create_row(
        Review, tenant=tenant, incident=incident, summary=summary, created_by=authority.user
    )


@transaction.atomic
def update_review(*, instance: Review, authority: Authority = SYSTEM, **changes: Any) -> Review:
    locked = Review.objects.for_tenant(instance.tenant_id).select_for_update().get(pk=instance.pk)
    _writable(locked)
    unknown = sorted(set(changes) - {"summary"})
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    return update_row(instance, writable=("summary",), **changes)


@transaction.atomic
def delete_review(*, instance: Review, authority: Authority = SYSTEM) -> None:
    _writable(instance)
    delete_row(instance)


@transaction.atomic
def finalise_review(
    *, review: Review, authority: Authority = SYSTEM, now: datetime | None = None
) -> Review:
    """Draft → Final: freeze the figures and move the incident to ``reviewed`` (a commander's
    power; the incident must be resolved)."""
    locked = Review.objects.for_tenant(review.tenant_id).select_for_update().get(pk=review.pk)
    _writable(locked)
    incident = Incident.objects.for_tenant(review.tenant_id).get(pk=locked.incident_id)
    if incident.status not in (IncidentStatus.RESOLVED, IncidentStatus.REVIEWED):
        raise _error(
            "status",
            _("The incident must be resolved before its review is final (it is %(status)s).")
            % {"status": incident.status},
            "not_resolved",
        )
    if incident.status == IncidentStatus.RESOLVED:
        incident = incident_services.transition_incident(
            incident=incident,
            to=IncidentStatus.REVIEWED,
            authority=authority,
            reason=_("The post-crisis review is final."),
        )
    now = now or timezone.now()
    try:
        figures: dict[str, Any] | None = incident_figures(incident, now=now)
    except DrillError:
        figures = None
    return update_row(
        locked,
        writable=("status", "figures", "finalised_by", "finalised_at"),
        status=ReviewStatus.FINAL,
        figures=figures,
        finalised_by=authority.user,
        finalised_at=now,
    )


@transaction.atomic
def sign_off_review(*, review: Review, user: User, comment: str = "") -> Review:
    """The client signs off a Final review, once (recorded on the incident's timeline)."""
    locked = Review.objects.for_tenant(review.tenant_id).select_for_update().get(pk=review.pk)
    if locked.status != ReviewStatus.FINAL:
        raise _error("status", _("Only a final review can be signed off."), "not_final")
    if locked.signed_off_at is not None:
        raise _error("status", _("The review is already signed off."), "signed_off")
    now = timezone.now()
    incident = Incident.objects.for_tenant(review.tenant_id).get(pk=locked.incident_id)
    incident_services.write_entry(
        incident=incident,
        kind=TimelineKind.NOTE,
        text=_("%(who)s signed off the post-crisis review.") % {"who": user.email}
        + (f" {comment.strip()}" if comment.strip() else ""),
        actor=user,
        visible_to_client=True,
        at=now,
    )
    return update_row(
        locked, writable=("signed_off_by", "signed_off_at"), signed_off_by=user, signed_off_at=now
    )


# --- lessons, action items, feedback ----------------------------------------------------------


@transaction.atomic
def create_lesson(
    *, review: Review, kind: str, text: str, visible_to_client: bool = True, **_: Any
) -> ReviewLesson:
    locked = _locked_review(review)
    return create_row(
        ReviewLesson,
        tenant=locked.tenant,
        review=locked,
        kind=kind,
        text=text,
        visible_to_client=visible_to_client and not _is_drill(locked),
    )


@transaction.atomic
def update_lesson(*, instance: ReviewLesson, **changes: Any) -> ReviewLesson:
    review = _review_of(instance, lock=True)
    _writable(review)
    if changes.get("visible_to_client"):
        changes["visible_to_client"] = not _is_drill(review)
    return update_row(instance, writable=("kind", "text", "visible_to_client"), **changes)


@transaction.atomic
def delete_lesson(*, instance: ReviewLesson, **_: Any) -> None:
    _writable(_review_of(instance, lock=True))
    delete_row(instance)


@transaction.atomic
def create_action_item(
    *,
    review: Review,
    title: str,
    owner: User | int | str | None = None,
    due_at: datetime | None = None,
    status: str = "open",
    visible_to_client: bool = True,
    **_: Any,
) -> ReviewActionItem:
    """An action item; due a week from now unless ``due_at`` says otherwise."""
    locked = _locked_review(review)
    values: dict[str, Any] = {
        "title": title,
        "owner": incident_services.member(locked.tenant_id, owner, "owner") if owner else None,
        "status": status,
        "visible_to_client": visible_to_client and not _is_drill(locked),
    }
    if due_at is not None:
        values["due_at"] = due_at
    return create_row(ReviewActionItem, tenant=locked.tenant, review=locked, **values)


@transaction.atomic
def update_action_item(*, instance: ReviewActionItem, **changes: Any) -> ReviewActionItem:
    review = _review_of(instance, lock=True)
    _writable(review)
    if changes.get("owner") is not None:
        changes["owner"] = incident_services.member(instance.tenant_id, changes["owner"], "owner")
    if changes.get("visible_to_client"):
        changes["visible_to_client"] = not _is_drill(review)
    return update_row(
        instance, writable=("title", "owner", "due_at", "status", "visible_to_client"), **changes
    )


@transaction.atomic
def delete_action_item(*, instance: ReviewActionItem, **_: Any) -> None:
    _writable(_review_of(instance, lock=True))
    delete_row(instance)


@transaction.atomic
def create_feedback(
    *, review: Review, participant: User | int | str, rating: int, comment: str = "", **_: Any
) -> ReviewFeedback:
    """One participant's rating (1-5) of the response; one per participant and review."""
    locked = _locked_review(review)
    person = incident_services.member(locked.tenant_id, participant, "participant")
    return create_row(
        ReviewFeedback,
        tenant=locked.tenant,
        review=locked,
        participant=person,
        rating=rating,
        comment=comment,
    )


@transaction.atomic
def update_feedback(*, instance: ReviewFeedback, **changes: Any) -> ReviewFeedback:
    _writable(_review_of(instance, lock=True))
    return update_row(instance, writable=("rating", "comment"), **changes)


@transaction.atomic
def delete_feedback(*, instance: ReviewFeedback, **_: Any) -> None:
    _writable(_review_of(instance, lock=True))
    delete_row(instance)


def _locked_review(review: Review) -> Review:
    locked = (
        Review.objects.for_tenant(review.tenant_id)
        .select_for_update()
        .select_related("tenant")
        .get(pk=review.pk)
    )
    _writable(locked)
    return locked


def _is_drill(review: Review) -> bool:
    return bool(
        Incident.objects.for_tenant(review.tenant_id)
        .filter(pk=review.incident_id, is_drill=True)
        .exists()
    )


# --- client reports ----------------------------------------------------------------------------

SUBSCRIPTION_WRITABLE = ("frequency", "recipients", "is_active")


def _clean_recipients(values: Any) -> list[str]:
    from django.core.validators import validate_email

    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise _error("recipients", _("Must be a list of e-mail addresses."), "invalid")
    found: list[str] = []
    for value in values:
        address = str(value).strip().lower()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise _error(
                "recipients",
                _("Not an e-mail address: %(value)s") % {"value": str(value)[:100]},
                "invalid",
            ) from exc
        if address not in found:
            found.append(address)
    if len(found) > 50:
        raise _error("recipients", _("At most 50 recipients."), "invalid")
    return found


def create_subscription(*, tenant: Tenant, **values: Any) -> ReportSubscription:
    if "recipients" in values:
        values["recipients"] = _clean_recipients(values["recipients"])
    return create_row(ReportSubscription, tenant=tenant, **values)


def update_subscription(*, instance: ReportSubscription, **changes: Any) -> ReportSubscription:
    if "recipients" in changes:
        changes["recipients"] = _clean_recipients(changes["recipients"])
    return update_row(instance, writable=SUBSCRIPTION_WRITABLE, **changes)


def delete_subscription(*, instance: ReportSubscription) -> None:
    delete_row(instance)


@transaction.atomic
def generate_report(
    *, tenant: Tenant, frequency: str, moment: datetime | None = None
) -> ClientReport:
    """The report of the last complete week or month before ``moment`` (default now), made
    once: an existing report of that period is answered as it is (its figures frozen)."""
    from incidents.evaluation import reports

    if frequency not in ReportFrequency.values:
        raise _error(
            "frequency",
            _("Choose one of: %(values)s.") % {"values": ", ".join(ReportFrequency.values)},
            "invalid_choice",
        )
    since, until = reports.period_for(tenant, frequency, moment or timezone.now())
    existing = (
        ClientReport.objects.for_tenant(tenant)
        .filter(frequency=frequency, period_start=since)
        .first()
    )
    if existing is not None:
        return existing
    return create_row(
        ClientReport,
        tenant=tenant,
        frequency=frequency,
        period_start=since,
        period_end=until,
        data=reports.report_data(tenant, since, until),
    )


def email_report(*, report: ClientReport, recipients: list[str]) -> int:
    """E-mail the report (a summary in the body, the PDF and the Markdown attached) to each
    recipient, in the tenant's language and zone; records who got it. Returns how many."""
    from django.core.mail import EmailMessage

    from incidents.evaluation import documents, export
    from tenants import i18n

    tenant = Tenant.objects.get(pk=report.tenant_id)
    if not recipients:
        return 0
    with i18n.override(tenant=tenant):
        document = documents.report_document(report)
        pdf = export.to_pdf(document)
        markdown = export.to_markdown(document)
        totals = report.data["totals"]
        body = "\n".join(
            [
                document.title,
                "",
                _("Mentions: %(n)d (negative %(neg)d), alerts: %(alerts)d, incidents: %(inc)d.")
                % {
                    "n": totals["mentions"],
                    "neg": totals["negative"],
                    "alerts": report.data["alerts"]["count"],
                    "inc": report.data["incidents"]["count"],
                },
                "",
                _("The full report is attached (PDF and Markdown)."),
            ]
        )
        stem = f"sigap-{tenant.slug}-{report.frequency}-{report.period_start:%Y-%m-%d}"
        sent = 0
        for address in recipients:
            message = EmailMessage(subject=document.title, body=body, to=[address])
            message.attach(f"{stem}.pdf", pdf, "application/pdf")
            message.attach(f"{stem}.md", markdown, "text/markdown")
            sent += message.send()
    update_row(
        report,
        writable=("emailed_at", "emailed_to"),
        emailed_at=timezone.now(),
        emailed_to=list(recipients),
    )
    return sent


@transaction.atomic
def send_subscription(
    *, subscription: ReportSubscription, moment: datetime | None = None
) -> dict[str, object]:
    """The subscription's report of the last complete period before ``moment``, made and
    e-mailed once per period (``last_period_start`` remembers the last one sent)."""
    locked = (
        ReportSubscription.objects.for_tenant(subscription.tenant_id)
        .select_for_update()
        .select_related("tenant")
        .get(pk=subscription.pk)
    )
    report = generate_report(tenant=locked.tenant, frequency=locked.frequency, moment=moment)
    if locked.last_period_start == report.period_start:
        return {"report": report.pk, "sent": 0, "already_sent": True}
    sent = email_report(report=report, recipients=list(locked.recipients))
    update_row(locked, writable=("last_period_start",), last_period_start=report.period_start)
    return {"report": report.pk, "sent": sent, "already_sent": False}
