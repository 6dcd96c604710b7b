"""Writes of statements, approvals, publishing, crisis mode and stakeholders. One keyword-only
function per action, each in a transaction, each raising Django ``ValidationError`` keyed by
field (``PermissionDenied`` for powers the caller lacks). Rules every writer keeps:

- a statement is drafted from a template (its placeholders all filled, ``values``) or as text;
  a change is a new version; only a draft's text changes, an approved version never does;
- a version is submitted to the workflow of the incident's severity (ordered steps, any one or
  all approvers each, time-boxed, a named backup asked when the time is up); nobody decides on
  a version they wrote; only the latest version of a statement can be decided; a rejection
  needs a comment; the incident's client approver decides the client steps;
- only an approved version is published; the first publication stamps the incident's first
  statement (through ``incidents.services.record_statement``, which stops that timer);
- crisis mode: one running per tenant, tied to an open incident, started and ended by a holder
  of ``crisis_mode.manage`` or the incident's commander, ended at its end time or when the
  incident resolves; every change is audited and, except for drills, told to
  ``incidents.hooks.on_crisis_mode`` with the tenant's next sequence number;
- every referenced row (incident, stakeholder, template, user) belongs to the tenant.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import hooks
from incidents import services as incident_services
from incidents.authority import SYSTEM, Authority
from incidents.choices import TimelineKind
from incidents.models import Incident, IncidentMember
from incidents.services import member, write_entry
from incidents.statements import notify
from incidents.statements.choices import (
    CrisisEvent,
    Decision,
    DecisionVia,
    StepKind,
    StepMode,
    VersionStatus,
)
from incidents.statements.models import (
    ApprovalStep,
    ApprovalWorkflow,
    CrisisMode,
    CrisisModeEvent,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
from playbooks.models import StatementTemplate
from tenants.audit import record
from tenants.choices import IncidentRole
from tenants.models import Membership, Tenant, User
from tenants.roles import MATRIX, Cap, Role
from tenants.writes import create_row, delete_row, ensure_same_tenant, update_row

# Without a workflow for the incident's severity: one step, any holder of statements.approve.
DEFAULT_STEPS = [
    {
        "position": 1,
        "kind": StepKind.AGENCY.value,
        "mode": StepMode.ANY.value,
        "approvers": [],
        "time_box_minutes": 60,
        "backup": None,
    }
]


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _open(incident: Incident, field: str = "incident") -> None:
    if not incident.is_open:
        raise _error(
            field, _("The incident is %(status)s.") % {"status": incident.status}, "closed"
        )


def _who(authority: Authority) -> str:
    return authority.user.email if authority.user is not None else _("Sigap")


# --- templates -------------------------------------------------------------------------------


def _template_of(incident: Incident, template: Any) -> StatementTemplate | None:
    """The template ``template`` (a row or an id) if the incident's tenant sees it: its own or
    one of its agency's."""
    if template is None:
        return None
    pk = template.pk if isinstance(template, StatementTemplate) else template
    found = StatementTemplate.objects.for_tenant(incident.tenant_id).filter(pk=pk).first()
    if found is None:
        raise _error("template", _("No such template in this tenant."), "not_found")
    return found


# --- statements and versions -----------------------------------------------------------------


def _locked_incident(incident_or_id: Incident | int, tenant_id: int) -> Incident:
    pk = incident_or_id.pk if isinstance(incident_or_id, Incident) else incident_or_id
    return Incident.objects.for_tenant(tenant_id).select_for_update().get(pk=pk)


@transaction.atomic
def create_statement(
    *,
    incident: Incident,
    title: str,
    text: str = "",
    language: str | None = None,
    template: Any = None,
    values: dict[str, str] | None = None,
    authority: Authority = SYSTEM,
) -> Statement:
    """A statement of ``incident`` with its first version (a draft): the template filled with
    ``values`` (every placeholder needed), or ``text``."""
    _open(incident)
    chosen = _template_of(incident, template)
    if chosen is not None:
        if text:
            raise _error("text", _("Give a template or a text, not both."), "invalid")
        values = {} if values is None else values
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            raise _error("values", _("Must be an object of texts."), "invalid")
        body = chosen.fill(values)
        language = language or chosen.language
    else:
        if values:
            raise _error("values", _("Values fill a template; no template was given."), "invalid")
        body = (text or "").strip()
        if not body:
            raise _error("text", _("Give a text or a template."), "required")
    statement = create_row(
        Statement,
        tenant=incident.tenant,
        incident=incident,
        title=title,
        language=language or incident.tenant.default_language or "id",
        template=chosen,
        must_not=list(chosen.must_not_phrases) if chosen is not None else [],
        created_by=authority.user,
    )
    version = _new_version(statement, body, authority)
    write_entry(
        incident=incident,
        kind=TimelineKind.APPROVAL,
        text=_("%(who)s drafted statement %(title)s (version %(number)d).")
        % {"who": _who(authority), "title": statement.title, "number": version.number},
        actor=authority.user,
        data={"statement": statement.pk, "version": version.pk, "event": "drafted"},
    )
    return statement


def _new_version(statement: Statement, text: str, authority: Authority) -> StatementVersion:
    last = (
        StatementVersion.objects.for_tenant(statement.tenant_id)
        .filter(statement=statement)
        .aggregate(top=Max("number"))["top"]
    )
    version = StatementVersion(
        tenant_id=statement.tenant_id,
        statement=statement,
        incident_id=statement.incident_id,
        number=(last or 0) + 1,
        text=text,
        author=authority.user,
    )
    version.full_clean(exclude=["tenant", "statement", "incident", "author"])
    version.save()
    return version


@transaction.atomic
def revise_statement(
    *, statement: Statement, text: str, authority: Authority = SYSTEM
) -> StatementVersion:
    """A new draft version of ``statement``; versions still waiting (drafts, submitted) are
    withdrawn, approved ones stay as they were."""
    incident = _locked_incident(statement.incident_id, statement.tenant_id)
    _open(incident)
    if not text or not text.strip():
        raise _error("text", _("This field may not be blank."), "blank")
    waiting = StatementVersion.objects.for_tenant(statement.tenant_id).filter(
        statement=statement, status__in=(VersionStatus.DRAFT, VersionStatus.SUBMITTED)
    )
    for old in waiting:
        old.status = VersionStatus.WITHDRAWN
        old.save(update_fields=["status", "updated_at"])
    version = _new_version(statement, text.strip(), authority)
    write_entry(
        incident=incident,
        kind=TimelineKind.APPROVAL,
        text=_("%(who)s made version %(number)d of statement %(title)s.")
        % {"who": _who(authority), "number": version.number, "title": statement.title},
        actor=authority.user,
        data={"statement": statement.pk, "version": version.pk, "event": "revised"},
    )
    return version


@transaction.atomic
def update_version(
    *, instance: StatementVersion, authority: Authority = SYSTEM, **changes: Any
) -> StatementVersion:
    """Change a draft's text. A submitted or approved version is fixed: make a new version."""
    unknown = sorted(set(changes) - {"text"})
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    version = _locked_version(instance)
    if "text" not in changes or changes["text"] == version.text:
        return version
    if version.status != VersionStatus.DRAFT:
        raise _error(
            "text",
            _("Version %(number)d is %(status)s and never changes: make a new version.")
            % {"number": version.number, "status": version.get_status_display()},
            "immutable",
        )
    text = str(changes["text"] or "").strip()
    if not text:
        raise _error("text", _("This field may not be blank."), "blank")
    version.text = text
    version.full_clean(exclude=["tenant", "statement", "incident", "author"])
    version.save(update_fields=["text", "updated_at"])
    return version


def _locked_version(version: StatementVersion) -> StatementVersion:
    """The version locked, with its statement and incident read pinned to the tenant."""
    locked = (
        StatementVersion.objects.for_tenant(version.tenant_id)
        .select_for_update()
        .get(pk=version.pk)
    )
    return attach(locked)


def attach(version: StatementVersion) -> StatementVersion:
    """Set ``version.statement`` and ``version.incident`` from tenant-pinned reads (a lazy
    relation would read them without naming the tenant)."""
    version.statement = Statement.objects.for_tenant(version.tenant_id).get(pk=version.statement_id)
    version.incident = (
        Incident.objects.for_tenant(version.tenant_id)
        .select_related("tenant")
        .get(pk=version.incident_id)
    )
    return version


def _latest_number(version: StatementVersion) -> int:
    top: int = (
        StatementVersion.objects.for_tenant(version.tenant_id)
        .filter(statement_id=version.statement_id)
        .aggregate(top=Max("number"))["top"]
    )
    return top


def workflow_steps(tenant_id: int, severity: str) -> list[dict[str, Any]]:
    """The steps a version of an incident of ``severity`` goes through now."""
    workflow = ApprovalWorkflow.objects.for_tenant(tenant_id).filter(severity=severity).first()
    if workflow is None:
        return [dict(step) for step in DEFAULT_STEPS]
    steps = [
        step.snapshot()
        for step in ApprovalStep.objects.for_tenant(tenant_id).filter(workflow=workflow)
    ]
    return steps or [dict(step) for step in DEFAULT_STEPS]


@transaction.atomic
def submit_version(*, version: StatementVersion, authority: Authority = SYSTEM) -> StatementVersion:
    """Send a draft to the approval workflow of the incident's severity; its first step's
    approvers are asked."""
    version = _locked_version(version)
    incident = _locked_incident(version.incident_id, version.tenant_id)
    _open(incident)
    if version.status != VersionStatus.DRAFT:
        raise _error(
            "version",
            _("Only a draft is submitted; version %(number)d is %(status)s.")
            % {"number": version.number, "status": version.get_status_display()},
            "not_draft",
        )
    if version.number != _latest_number(version):
        raise _error("version", _("A newer version exists: submit that one."), "stale_version")
    now = timezone.now()
    version.steps = workflow_steps(version.tenant_id, incident.severity)
    version.status = VersionStatus.SUBMITTED
    version.current_step = 0
    version.submitted_at = now
    version.step_started_at = now
    version.step_escalated_at = None
    version.save()
    write_entry(
        incident=incident,
        kind=TimelineKind.APPROVAL,
        text=_("%(who)s submitted version %(number)d of %(title)s for approval (%(steps)d steps).")
        % {
            "who": _who(authority),
            "number": version.number,
            "title": version.statement.title,
            "steps": len(version.steps),
        },
        actor=authority.user,
        data={"version": version.pk, "event": "submitted"},
        at=now,
    )
    _ask_step(version, incident)
    return version


def client_approvers(incident: Incident) -> list[int]:
    """Ids of the incident's client approvers (team role ``client_approver``)."""
    return list(
        IncidentMember.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk, role=IncidentRole.CLIENT_APPROVER)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def _step_people(version: StatementVersion, incident: Incident) -> list[User]:
    step = version.steps[version.current_step]
    if step["kind"] == StepKind.CLIENT:
        ids = client_approvers(incident)
    elif step["approvers"]:
        ids = list(step["approvers"])
    else:
        holders = Membership.objects.for_tenant(incident.tenant_id).filter(
            role__in=[role for role in Role if Cap.APPROVE_STATEMENTS in MATRIX[role]]
        )
        ids = list(holders.values_list("user_id", flat=True))
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _ask_step(version: StatementVersion, incident: Incident) -> None:
    step = version.steps[version.current_step]
    people = [user for user in _step_people(version, incident) if user.pk != version.author_id]
    notify.ask(people, version, client=step["kind"] == StepKind.CLIENT)


def _may_decide(
    version: StatementVersion, incident: Incident, authority: Authority, step: dict[str, Any]
) -> tuple[bool, bool]:
    """(may decide, as the step's backup)."""
    user_id = authority.user_id
    if version.step_escalated_at is not None and step.get("backup") == user_id:
        return True, True
    if step["kind"] == StepKind.CLIENT:
        allowed = Cap.CLIENT_APPROVE_STATEMENTS in authority.capabilities and user_id in (
            client_approvers(incident)
        )
    else:
        allowed = Cap.APPROVE_STATEMENTS in authority.capabilities and (
            not step["approvers"] or user_id in step["approvers"]
        )
    return allowed, False


@transaction.atomic
def decide(
    *,
    version: StatementVersion,
    decision: str,
    comment: str = "",
    authority: Authority,
    via: str = DecisionVia.API,
) -> StatementVersion:
    """Approve or reject the current step of a submitted version. Refused (field
    ``version``): the author's own version, an old version, a version not awaiting a decision,
    a step that is not the caller's; a rejection without a comment (field ``comment``)."""
    if decision not in Decision.values:
        raise _error(
            "decision",
            _("Choose one of: %(values)s.") % {"values": ", ".join(Decision.values)},
            "invalid_choice",
        )
    if authority.user is None:
        raise PermissionDenied(_("A decision is a person's."))
    version = _locked_version(version)
    incident = _locked_incident(version.incident_id, version.tenant_id)
    if version.number != _latest_number(version):
        raise _error(
            "version",
            _("Version %(number)d is an old version: decide on the latest one.")
            % {"number": version.number},
            "stale_version",
        )
    if version.status != VersionStatus.SUBMITTED:
        raise _error(
            "version",
            _("Version %(number)d is %(status)s, not awaiting approval.")
            % {"number": version.number, "status": version.get_status_display()},
            "not_submitted",
        )
    if version.author_id is not None and version.author_id == authority.user_id:
        raise _error(
            "version",
            _("You wrote this version: someone else must approve it."),
            "self_approval",
        )
    _open(incident, "version")
    step = version.steps[version.current_step]
    allowed, as_backup = _may_decide(version, incident, authority, step)
    if not allowed:
        raise _error(
            "version",
            _("Step %(position)d of this version is not yours to decide.")
            % {"position": step["position"]},
            "not_an_approver",
        )
    comment = (comment or "").strip()
    if decision == Decision.REJECTED and not comment:
        raise _error("comment", _("Say why it is rejected."), "required")
    already = StatementApproval.objects.for_tenant(version.tenant_id).filter(
        version=version, step=version.current_step
    )
    if already.filter(user_id=authority.user.pk).exists():
        raise _error("version", _("You already decided on this step."), "already_decided")
    now = timezone.now()
    StatementApproval.objects.create(
        tenant_id=version.tenant_id,
        version=version,
        step=version.current_step,
        user=authority.user,
        decision=decision,
        comment=comment,
        as_backup=as_backup,
        via=via,
        at=now,
    )
    text = (
        _("%(who)s approved version %(number)d of %(title)s (step %(position)d).")
        if decision == Decision.APPROVED
        else _("%(who)s rejected version %(number)d of %(title)s (step %(position)d): %(comment)s")
    ) % {
        "who": _who(authority),
        "number": version.number,
        "title": version.statement.title,
        "position": step["position"],
        "comment": comment,
    }
    write_entry(
        incident=incident,
        kind=TimelineKind.APPROVAL,
        text=text,
        actor=authority.user,
        data={"version": version.pk, "event": decision, "step": version.current_step, "via": via},
        at=now,
    )
    if decision == Decision.REJECTED:
        version.status = VersionStatus.REJECTED
        version.rejected_at = now
        version.save()
        return version
    if not _step_done(version, incident, step, as_backup):
        return version
    if version.current_step + 1 < len(version.steps):
        version.current_step += 1
        version.step_started_at = now
        version.step_escalated_at = None
        version.save()
        _ask_step(version, incident)
        return version
    version.status = VersionStatus.APPROVED
    version.approved_at = now
    version.save()
    write_entry(
        incident=incident,
        kind=TimelineKind.APPROVAL,
        text=_("Version %(number)d of %(title)s is approved.")
        % {"number": version.number, "title": version.statement.title},
        data={"version": version.pk, "event": "version_approved"},
        at=now,
    )
    return version


def _step_done(
    version: StatementVersion, incident: Incident, step: dict[str, Any], as_backup: bool
) -> bool:
    if as_backup or step["mode"] == StepMode.ANY:
        return True
    required = (
        set(client_approvers(incident))
        if step["kind"] == StepKind.CLIENT
        else set(step["approvers"])
    )
    required.discard(version.author_id)
    if not required:
        return True
    approved = set(
        StatementApproval.objects.for_tenant(version.tenant_id)
        .filter(version=version, step=version.current_step, decision=Decision.APPROVED)
        .values_list("user_id", flat=True)
    )
    return required <= approved


@transaction.atomic
def escalate_expired_steps(*, tenant_id: int, now: datetime | None = None) -> int:
    """Ask the backup of every step whose time is up (once per step). Returns how many."""
    now = now or timezone.now()
    waiting = (
        StatementVersion.objects.for_tenant(tenant_id)
        .filter(status=VersionStatus.SUBMITTED, step_escalated_at__isnull=True)
        .select_for_update()
        .order_by("pk")
    )
    count = 0
    for version in waiting:
        step = version.steps[version.current_step]
        assert version.step_started_at is not None
        if (now - version.step_started_at).total_seconds() < step["time_box_minutes"] * 60:
            continue
        version.step_escalated_at = now
        version.save(update_fields=["step_escalated_at", "updated_at"])
        incident = attach(version).incident
        backup = User.objects.filter(pk=step.get("backup"), is_active=True).first()
        write_entry(
            incident=incident,
            kind=TimelineKind.APPROVAL,
            text=_("Step %(position)d of version %(number)d ran out of time; %(backup)s is asked.")
            % {
                "position": step["position"],
                "number": version.number,
                "backup": backup.email if backup else _("no backup is named"),
            },
            data={"version": version.pk, "event": "escalated", "step": version.current_step},
            at=now,
        )
        if backup is not None:
            notify.ask([backup], version, client=step["kind"] == StepKind.CLIENT, backup=True)
        count += 1
    return count


# --- publishing ------------------------------------------------------------------------------


@transaction.atomic
def record_publication(
    *,
    version: StatementVersion,
    channel: str,
    published_at: datetime | None = None,
    url: str = "",
    authority: Authority = SYSTEM,
) -> PublishRecord:
    """Record that an approved version was published on ``channel``. The incident's timeline
    gets the statement (``record_statement``: the first one stamps the first statement)."""
    version = _locked_version(version)
    if version.status != VersionStatus.APPROVED:
        raise _error(
            "version",
            _("Only an approved version is published; version %(number)d is %(status)s.")
            % {"number": version.number, "status": version.get_status_display()},
            "not_approved",
        )
    when = published_at or timezone.now()
    if when > timezone.now() + timedelta(minutes=5):
        raise _error("published_at", _("A publication time cannot be in the future."), "future")
    incident = Incident.objects.for_tenant(version.tenant_id).get(pk=version.incident_id)
    publication = PublishRecord(
        tenant_id=version.tenant_id,
        version=version,
        incident=incident,
        channel=channel,
        published_at=when,
        url=url,
        recorded_by=authority.user,
    )
    publication.full_clean(exclude=["tenant", "version", "incident", "recorded_by"])
    publication.save()
    try:
        incident_services.record_statement(
            incident=incident,
            text=_("Published on %(channel)s: %(text)s")
            % {"channel": publication.get_channel_display(), "text": version.text},
            authority=authority,
            at=when,
        )
    except ValidationError as exc:
        raise _error("version", " ".join(exc.messages), "closed") from None
    return publication


# --- crisis mode -----------------------------------------------------------------------------


def _may_manage_crisis(incident: Incident, authority: Authority) -> None:
    if authority.system or Cap.MANAGE_CRISIS_MODE in authority.capabilities:
        return
    if authority.user_id is not None and authority.commander_id(incident) == authority.user_id:
        return
    raise PermissionDenied(
        _("Only a holder of 'crisis_mode.manage' or the incident's commander may do this.")
    )


def crisis_state(tenant_id: int) -> dict[str, Any]:
    """The full current crisis-mode state of the tenant (what every event carries)."""
    running = CrisisMode.objects.for_tenant(tenant_id).filter(ended_at__isnull=True).first()
    if running is None:
        return {"active": False, "crisis_mode": None, "incident": None}
    return {
        "active": True,
        "crisis_mode": running.pk,
        "incident": running.incident_id,
        "reason": running.reason,
        "started_at": running.started_at.isoformat(),
        "ends_at": running.ends_at.isoformat() if running.ends_at else None,
    }


def crisis_payload(tenant_id: int, sequence: int, crisis: CrisisMode) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "tenant": tenant_id,
        "state": crisis_state(tenant_id),
        "crisis_mode": {
            "id": crisis.pk,
            "incident": crisis.incident_id,
            "reason": crisis.reason,
            "started_at": crisis.started_at.isoformat(),
            "ends_at": crisis.ends_at.isoformat() if crisis.ends_at else None,
            "ended_at": crisis.ended_at.isoformat() if crisis.ended_at else None,
            "end_reason": crisis.end_reason,
        },
    }


def _emit(crisis: CrisisMode, event_type: str) -> CrisisModeEvent | None:
    """The next event of the tenant, numbered under a per-tenant lock, told to the hooks."""
    if crisis.is_drill:
        return None
    event_type = str(CrisisEvent(event_type).value)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7215, crisis.tenant_id])
    last = (
        CrisisModeEvent.objects.for_tenant(crisis.tenant_id).aggregate(top=Max("sequence"))["top"]
        or 0
    )
    payload = crisis_payload(crisis.tenant_id, last + 1, crisis)
    event = CrisisModeEvent.objects.create(
        tenant_id=crisis.tenant_id,
        crisis_mode=crisis,
        sequence=last + 1,
        event_type=event_type,
        payload=payload,
    )
    hooks.crisis_mode_changed(crisis.tenant_id, event_type, payload, is_drill=False)
    return event


def _audit(crisis: CrisisMode, changes: dict[str, tuple[Any, Any]], action: int) -> None:
    record([(crisis, changes)], action=action, details={"incident": crisis.incident_id})


@transaction.atomic
def start_crisis_mode(
    *,
    incident: Incident,
    ends_at: datetime | None = None,
    reason: str = "",
    authority: Authority = SYSTEM,
) -> CrisisMode:
    """Put the tenant in crisis mode for ``incident`` (open), until ``ends_at`` if given."""
    incident = _locked_incident(incident, incident.tenant_id)
    _open(incident)
    _may_manage_crisis(incident, authority)
    now = timezone.now()
    if ends_at is not None and ends_at <= now:
        raise _error("ends_at", _("The end time must be in the future."), "past")
    if CrisisMode.objects.for_tenant(incident.tenant_id).filter(ended_at__isnull=True).exists():
        raise _error("incident", _("The tenant is already in crisis mode."), "already_running")
    crisis = CrisisMode(
        tenant_id=incident.tenant_id,
        incident=incident,
        reason=(reason or "").strip(),
        is_drill=incident.is_drill,
        started_at=now,
        ends_at=ends_at,
        started_by=authority.user,
    )
    crisis.full_clean(exclude=["tenant", "incident", "started_by", "ended_by"])
    crisis.save()
    _audit(
        crisis,
        {"started_at": (None, now), "ends_at": (None, ends_at), "reason": ("", crisis.reason)},
        LogEntry.Action.CREATE,
    )
    write_entry(
        incident=incident,
        kind=TimelineKind.CRISIS_MODE,
        text=_("%(who)s started crisis mode.") % {"who": _who(authority)}
        + (f" {crisis.reason}" if crisis.reason else ""),
        actor=authority.user,
        data={"crisis_mode": crisis.pk, "event": "started"},
        at=now,
    )
    _emit(crisis, CrisisEvent.STARTED)
    return crisis


@transaction.atomic
def end_crisis_mode(
    *, crisis_mode: CrisisMode, reason: str = "", authority: Authority = SYSTEM
) -> CrisisMode:
    """End a running crisis mode (by hand, at its end time, or as its incident resolved)."""
    crisis = (
        CrisisMode.objects.for_tenant(crisis_mode.tenant_id)
        .select_for_update()
        .get(pk=crisis_mode.pk)
    )
    incident = Incident.objects.for_tenant(crisis.tenant_id).get(pk=crisis.incident_id)
    _may_manage_crisis(incident, authority)
    if crisis.ended_at is not None:
        raise _error("crisis_mode", _("This crisis mode has already ended."), "ended")
    now = timezone.now()
    crisis.ended_at = now
    crisis.ended_by = authority.user
    crisis.end_reason = (reason or _("ended by hand"))[:200]
    crisis.save(update_fields=["ended_at", "ended_by", "end_reason"])
    _audit(
        crisis,
        {"ended_at": (None, now), "end_reason": ("", crisis.end_reason)},
        LogEntry.Action.UPDATE,
    )
    write_entry(
        incident=incident,
        kind=TimelineKind.CRISIS_MODE,
        text=_("Crisis mode ended (%(reason)s).") % {"reason": crisis.end_reason},
        actor=authority.user,
        data={"crisis_mode": crisis.pk, "event": "ended"},
        at=now,
    )
    _emit(crisis, CrisisEvent.ENDED)
    return crisis


def end_crisis_for_incident(*, incident: Incident) -> int:
    """End the crisis mode tied to ``incident`` (it resolved or closed). Returns 0 or 1."""
    running = CrisisMode.objects.for_tenant(incident.tenant_id).filter(
        incident_id=incident.pk, ended_at__isnull=True
    )
    ended = 0
    for crisis in running:
        end_crisis_mode(
            crisis_mode=crisis,
            reason=_("the incident is %(status)s") % {"status": incident.status},
        )
        ended += 1
    return ended


@transaction.atomic
def end_expired_crisis_modes(*, tenant_id: int, now: datetime | None = None) -> int:
    now = now or timezone.now()
    expired = CrisisMode.objects.for_tenant(tenant_id).filter(
        ended_at__isnull=True, ends_at__lte=now
    )
    count = 0
    for crisis in expired:
        end_crisis_mode(crisis_mode=crisis, reason=_("its end time came"))
        count += 1
    return count


# --- approval workflows ----------------------------------------------------------------------


def create_workflow(*, tenant: Tenant, severity: str, name: str = "") -> ApprovalWorkflow:
    return create_row(ApprovalWorkflow, tenant=tenant, severity=severity, name=name)


def update_workflow(*, instance: ApprovalWorkflow, **changes: Any) -> ApprovalWorkflow:
    return update_row(instance, writable=("severity", "name"), **changes)


def delete_workflow(*, instance: ApprovalWorkflow) -> None:
    delete_row(instance)


def _approvers(tenant_id: int, value: Any) -> list[int]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _error("approvers", _("Must be a list of user ids."), "invalid")
    ids: list[int] = []
    for item in value:
        person = member(tenant_id, item, "approvers")
        if person.pk not in ids:
            ids.append(person.pk)
    return ids


STEP_WRITABLE = ("position", "kind", "mode", "approvers", "time_box_minutes", "backup")


@transaction.atomic
def create_step(*, workflow: ApprovalWorkflow, **values: Any) -> ApprovalStep:
    ensure_same_tenant(workflow.tenant_id, "workflow", workflow)
    return update_step(
        instance=ApprovalStep(tenant_id=workflow.tenant_id, workflow=workflow), **values
    )


@transaction.atomic
def update_step(*, instance: ApprovalStep, **changes: Any) -> ApprovalStep:
    unknown = sorted(set(changes) - set(STEP_WRITABLE))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    if instance.workflow_id is not None and "workflow" not in instance._state.fields_cache:
        # Read pinned to the tenant (the uniqueness check reads the relation).
        instance.workflow = ApprovalWorkflow.objects.for_tenant(instance.tenant_id).get(
            pk=instance.workflow_id
        )
    if "approvers" in changes:
        changes["approvers"] = _approvers(instance.tenant_id, changes["approvers"])
    if changes.get("backup") is not None:
        changes["backup"] = member(instance.tenant_id, changes["backup"], "backup")
    for name, value in changes.items():
        setattr(instance, name, value)
    if instance.kind == StepKind.CLIENT and instance.approvers:
        raise _error(
            "approvers", _("A client step is the incident's client approver's."), "invalid"
        )
    from tenants.writes import validate_row

    validate_row(instance, exclude=["tenant", "workflow", "backup"])
    instance.save()
    return instance


def delete_step(*, instance: ApprovalStep) -> None:
    delete_row(instance)


# --- stakeholders ----------------------------------------------------------------------------

STAKEHOLDER_WRITABLE = ("name", "kind", "organisation", "email", "phone", "handle", "tags", "notes")


def _tags(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _error("tags", _("Must be a list of tags."), "invalid")
    tags: list[str] = []
    for item in value:
        if not isinstance(item, str) or not 1 <= len(item.strip()) <= 50:
            raise _error("tags", _("Each tag is 1-50 characters."), "invalid")
        if item.strip().lower() not in tags:
            tags.append(item.strip().lower())
    return tags


def create_stakeholder(*, tenant: Tenant, **values: Any) -> Stakeholder:
    if "tags" in values:
        values["tags"] = _tags(values["tags"])
    return create_row(Stakeholder, tenant=tenant, **values)


def update_stakeholder(*, instance: Stakeholder, **changes: Any) -> Stakeholder:
    if "tags" in changes:
        changes["tags"] = _tags(changes["tags"])
    return update_row(instance, writable=STAKEHOLDER_WRITABLE, **changes)


@transaction.atomic
def delete_stakeholder(*, instance: Stakeholder) -> None:
    used = (
        StakeholderInteraction.objects.for_tenant(instance.tenant_id)
        .filter(stakeholder=instance)
        .exists()
        or RightOfReply.objects.for_tenant(instance.tenant_id).filter(outlet=instance).exists()
    )
    if used:
        raise _error(
            "stakeholder",
            _("This contact is in an incident's engagement log or right-of-reply tracker."),
            "protected",
        )
    delete_row(instance)


def _stakeholder(tenant_id: int, value: Any, field: str) -> Stakeholder:
    return incident_services._row(Stakeholder, tenant_id, value, field)  # type: ignore[no-any-return]


@transaction.atomic
def log_interaction(
    *,
    incident: Incident,
    stakeholder: Any,
    channel: str,
    summary: str,
    at: datetime | None = None,
    promised: str = "",
    follow_up_due: datetime | None = None,
    visible_to_client: bool = False,
    authority: Authority = SYSTEM,
) -> StakeholderInteraction:
    """One interaction with a contact of the tenant, also on the incident's timeline."""
    contact = _stakeholder(incident.tenant_id, stakeholder, "stakeholder")
    interaction = StakeholderInteraction(
        tenant_id=incident.tenant_id,
        incident=incident,
        stakeholder=contact,
        at=at or timezone.now(),
        channel=channel,
        summary=(summary or "").strip(),
        promised=(promised or "").strip(),
        follow_up_due=follow_up_due,
        visible_to_client=visible_to_client and not incident.is_drill,
        by=authority.user,
    )
    interaction.full_clean(exclude=["tenant", "incident", "stakeholder", "by"])
    interaction.save()
    text = _("%(channel)s with %(who)s: %(summary)s") % {
        "channel": interaction.get_channel_display(),
        "who": contact.name,
        "summary": interaction.summary,
    }
    if interaction.promised:
        text += " " + _("Promised: %(promised)s") % {"promised": interaction.promised}
    write_entry(
        incident=incident,
        kind=TimelineKind.STAKEHOLDER,
        text=text,
        actor=authority.user,
        data={"interaction": interaction.pk, "stakeholder": contact.pk},
        visible_to_client=interaction.visible_to_client,
        at=interaction.at,
    )
    return interaction


REPLY_WRITABLE = (
    "article_url",
    "request_sent_at",
    "answer_due_at",
    "published",
    "published_at",
    "published_url",
    "notes",
)


@transaction.atomic
def create_right_of_reply(
    *, incident: Incident, outlet: Any, authority: Authority = SYSTEM, **values: Any
) -> RightOfReply:
    contact = _stakeholder(incident.tenant_id, outlet, "outlet")
    unknown = sorted(set(values) - set(REPLY_WRITABLE))
    if unknown:
        raise ValidationError(
            {name: ValidationError(_("Unknown field."), "unknown_field") for name in unknown}
        )
    reply = RightOfReply(tenant_id=incident.tenant_id, incident=incident, outlet=contact, **values)
    reply.full_clean(exclude=["tenant", "incident", "outlet"])
    reply.save()
    write_entry(
        incident=incident,
        kind=TimelineKind.RIGHT_OF_REPLY,
        text=_("Right of reply asked of %(outlet)s about %(url)s.")
        % {"outlet": contact.name, "url": reply.article_url},
        actor=authority.user,
        data={"right_of_reply": reply.pk},
    )
    return reply


@transaction.atomic
def update_right_of_reply(
    *, instance: RightOfReply, authority: Authority = SYSTEM, **changes: Any
) -> RightOfReply:
    was_published = instance.published
    if changes.get("published") and not instance.published_at and "published_at" not in changes:
        changes["published_at"] = timezone.now()
    row = update_row(instance, writable=REPLY_WRITABLE, **changes)
    if row.published and not was_published:
        incident = Incident.objects.for_tenant(row.tenant_id).get(pk=row.incident_id)
        write_entry(
            incident=incident,
            kind=TimelineKind.RIGHT_OF_REPLY,
            text=_("The right of reply was published: %(url)s")
            % {"url": row.published_url or row.article_url},
            actor=authority.user,
            data={"right_of_reply": row.pk, "published": True},
        )
    return row


def delete_right_of_reply(*, instance: RightOfReply, authority: Authority = SYSTEM) -> None:
    delete_row(instance)
