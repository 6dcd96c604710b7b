"""Writes and business rules of the incidents app, shared by REST, GraphQL, the admin, tasks and
the alert hook. One keyword-only function per action, each in a transaction, each raising
Django ``ValidationError`` keyed by field (or ``PermissionDenied`` when the commander's powers
are needed and missing). Rules every writer keeps:

- status moves only along the transition table (``Incident``'s transition methods); a refused
  move names the stages allowed from the current one; commander-only moves and severity
  changes need the commander's powers (``incidents.authority``);
- the timeline is append-only and written here for every change: status, severity, details,
  team, links, tasks, statements, breaches, reminders, overrides, plus manual notes and pinned
  mentions; each entry's ``visible_to_client`` defaults by kind (``VISIBLE_BY_DEFAULT``);
- nothing of a drill is ever visible to the client, and drills notify nobody (``hooks``);
- team roles, task owners and role policies name members of the incident's tenant; one
  commander at a time, holding ``incidents.manage``;
- task dependencies stay inside one incident and never form a cycle; a task cannot start or
  finish before the tasks it depends on are finished;
- every referenced row belongs to the incident's tenant (another tenant's id reads like none).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import Transition

from incidents import hooks
from incidents import playbooks as incident_playbooks
from incidents.authority import SYSTEM, Authority
from incidents.choices import (
    FINISHED_TASK_STATUSES,
    MANUAL_KINDS,
    OPEN_STATUSES,
    VISIBLE_BY_DEFAULT,
    IncidentStatus,
    LinkKind,
    TaskStatus,
    TimelineKind,
)
from incidents.models import (
    CONDITION_TEXT,
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentTask,
    RolePolicy,
    SeverityPolicy,
    TimelineEntry,
)
from incidents.targets import DEFAULT_AUTO_OPEN, DEFAULTS, Stamps, Targets, Timer, breaches, timers
from monitoring.models import Mention, MonitoredQuery
from tenants.access import roles_in
from tenants.choices import IncidentRole, Severity
from tenants.models import Membership, Tenant, User
from tenants.roles import Cap, capabilities_of
from tenants.writes import create_row, delete_row, ensure_same_tenant, field_error, update_row

NOT_A_MEMBER = gettext_lazy("Must be a member of this tenant.")
BIGINT_MAX = 2**63 - 1
INCIDENT_WRITABLE = ("title", "summary", "trigger", "severity", "tags")
TASK_WRITABLE = (
    "title",
    "owner",
    "due_at",
    "status",
    "checklist",
    "depends_on",
    "visible_to_client",
)


# --- members ---------------------------------------------------------------------------------


def member(tenant: Tenant | int, value: User | int | str | None, field: str) -> User:
    """The active user among the tenant's members (or its agency's admins); an id of no
    account and of someone else's account get the same field error."""
    tenant_obj = tenant if isinstance(tenant, Tenant) else Tenant.objects.get(pk=tenant)
    user_id: Any = value.pk if isinstance(value, User) else value
    if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit():
        user_id = int(user_id)
    found = None
    if isinstance(user_id, int) and not isinstance(user_id, bool) and 0 < user_id <= BIGINT_MAX:
        found = (
            User.objects.filter(pk=user_id, is_active=True)
            .filter(
                Q(pk__in=Membership.objects.for_tenant(tenant_obj).values("user_id"))
                | Q(is_agency_admin=True, agency_id=tenant_obj.agency_id)
            )
            .order_by()
            .first()
        )
    if found is None:
        raise field_error(field, str(NOT_A_MEMBER), "not_a_member")
    return found


# --- the timeline ----------------------------------------------------------------------------


def write_entry(
    *,
    incident: Incident,
    kind: str,
    text: str,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    visible_to_client: bool | None = None,
    mention: Mention | None = None,
    at: datetime | None = None,
) -> TimelineEntry:
    """Append one entry (the only writer of ``TimelineEntry``). Its visibility defaults by
    kind; nothing of a drill is visible to the client, and the drill's notices say DRILL."""
    visible = VISIBLE_BY_DEFAULT[kind] if visible_to_client is None else visible_to_client
    if incident.is_drill:
        visible = False
        if kind in (TimelineKind.BREACH, TimelineKind.REMINDER, TimelineKind.OVERRIDE):
            text = f"[DRILL] {text}"
    entry = TimelineEntry(
        tenant_id=incident.tenant_id,
        incident=incident,
        kind=kind,
        text=text[:5000],
        actor=actor,
        data=data or {},
        visible_to_client=visible,
        mention=mention,
        at=at or timezone.now(),
    )
    entry.full_clean(exclude=["tenant", "incident", "actor", "mention"])
    entry.save()
    return entry


def _who(authority: Authority) -> str:
    return authority.user.email if authority.user is not None else _("Sigap")


def _require_command(incident: Incident, authority: Authority, what: str) -> None:
    """``PermissionDenied`` unless ``authority`` holds the commander's powers on ``incident``;
    an ``override`` entry when someone other than the named commander uses them."""
    mode = authority.command_mode(incident)
    if mode is None:
        raise PermissionDenied(
            _("Only the incident's commander, or a holder of 'incidents.command', may %(what)s.")
            % {"what": what}
        )
    if mode == "override":
        write_entry(
            incident=incident,
            kind=TimelineKind.OVERRIDE,
            text=_("%(who)s used the commander's powers to %(what)s.")
            % {"who": _who(authority), "what": what},
            actor=authority.user,
        )


require_command = _require_command


def add_entry(
    *,
    incident: Incident,
    kind: str,
    text: str,
    authority: Authority = SYSTEM,
    mention: Mention | int | None = None,
    visible_to_client: bool | None = None,
) -> TimelineEntry:
    """A manual entry: a note, a legal review or a pinned mention (with ``mention``)."""
    if kind not in MANUAL_KINDS:
        raise field_error(
            "kind",
            _("Write one of: %(kinds)s.") % {"kinds": ", ".join(MANUAL_KINDS)},
            "invalid_choice",
        )
    if not text or not text.strip():
        raise field_error("text", _("This field may not be blank."), "blank")
    pinned = None
    if kind == TimelineKind.MENTION:
        pinned = _mention(incident.tenant_id, mention, "mention")
    elif mention is not None:
        raise field_error("mention", _("Only a pinned mention names a mention."), "invalid")
    return write_entry(
        incident=incident,
        kind=kind,
        text=text.strip(),
        actor=authority.user,
        mention=pinned,
        visible_to_client=visible_to_client,
        data={"mention": pinned.pk} if pinned is not None else None,
    )


def _mention(tenant_id: int, value: Mention | int | str | None, field: str) -> Mention:
    if isinstance(value, Mention):
        ensure_same_tenant(tenant_id, field, value)
        return value
    found = None
    if isinstance(value, int | str) and str(value).isascii() and str(value).isdigit():
        number = int(value)
        if 0 < number <= BIGINT_MAX:
            found = Mention.objects.for_tenant(tenant_id).filter(pk=number).first()
    if found is None:
        raise field_error(field, _("No such mention in this tenant."), "not_found")
    return found


# --- incidents -------------------------------------------------------------------------------


@transaction.atomic
def open_incident(
    *,
    tenant: Tenant,
    title: str,
    trigger: str,
    severity: str = Severity.SEV3,
    summary: str = "",
    is_drill: bool = False,
    detected_at: datetime | None = None,
    authority: Authority = SYSTEM,
    text: str | None = None,
    tags: list[str] | None = None,
) -> Incident:
    """Open an incident (stage ``detected``), record it, give the roles of the tenant's role
    policies, derive its response advice and attach the matching playbooks
    (``incidents.playbooks``)."""
    incident = create_row(
        Incident,
        tenant=tenant,
        title=title,
        trigger=trigger,
        severity=severity,
        summary=summary,
        is_drill=is_drill,
        tags=_tags(tags),
        detected_at=detected_at or timezone.now(),
        opened_by=authority.user,
    )
    write_entry(
        incident=incident,
        kind=TimelineKind.CREATED,
        text=text
        or _("Opened by %(who)s: %(severity)s, %(trigger)s.")
        % {
            "who": _who(authority),
            "severity": incident.get_severity_display(),
            "trigger": incident.get_trigger_display(),
        },
        actor=authority.user,
    )
    apply_role_policies(incident=incident)
    incident_playbooks.on_incident_changed(incident=incident)
    return incident


@transaction.atomic
def update_incident(
    *, instance: Incident, authority: Authority = SYSTEM, **changes: Any
) -> Incident:
    """Change the title, summary or trigger (and the severity, with the commander's powers)."""
    severity = changes.pop("severity", None)
    unknown = sorted(set(changes) - set(INCIDENT_WRITABLE))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    if "tags" in changes:
        changes["tags"] = _tags(changes["tags"])
    before = {name: getattr(instance, name) for name in changes}
    real = {name: value for name, value in changes.items() if before[name] != value}
    if real:
        update_row(instance, writable=INCIDENT_WRITABLE, **real)
        write_entry(
            incident=instance,
            kind=TimelineKind.DETAILS,
            text=_("%(who)s changed %(fields)s.")
            % {"who": _who(authority), "fields": ", ".join(sorted(real))},
            actor=authority.user,
            data={name: [str(before[name]), str(value)] for name, value in real.items()},
        )
        if "trigger" in real:
            apply_role_policies(incident=instance)
        if "trigger" in real or "tags" in real:
            incident_playbooks.on_incident_changed(incident=instance)
    if severity is not None and severity != instance.severity:
        change_severity(incident=instance, severity=severity, authority=authority)
        instance.refresh_from_db()
    return instance


@transaction.atomic
def change_severity(
    *, incident: Incident, severity: str, authority: Authority = SYSTEM, reason: str = ""
) -> Incident:
    """A new severity (a commander's power); the timeline says from what to what and why."""
    if severity not in Severity.values:
        raise field_error(
            "severity",
            _("Choose one of: %(values)s.") % {"values": ", ".join(Severity.values)},
            "invalid_choice",
        )
    locked = _locked(incident)
    if not locked.is_open:
        raise field_error(
            "severity", _("The incident is %(status)s.") % {"status": locked.status}, "closed"
        )
    if locked.severity == severity:
        return locked
    _require_command(locked, authority, _("change the severity"))
    before = locked.severity
    update_row(locked, writable=("severity",), severity=severity)
    write_entry(
        incident=locked,
        kind=TimelineKind.SEVERITY,
        text=_("Severity %(before)s → %(after)s.") % {"before": before, "after": severity}
        + (f" {reason.strip()}" if reason.strip() else ""),
        actor=authority.user,
        data={"from": before, "to": severity},
    )
    apply_role_policies(incident=locked)
    incident_playbooks.on_incident_changed(incident=locked)
    return locked


def _tags(value: Any) -> list[str]:
    """Tags as stored: a list of short lowercase texts, each once (field ``tags``)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or len(value) > 20:
        raise field_error("tags", _("Must be a list of at most 20 tags."), "invalid")
    found: list[str] = []
    for item in value:
        if not isinstance(item, str) or not 1 <= len(item.strip()) <= 40:
            raise field_error("tags", _("Tags are 1-40 characters."), "invalid")
        tag = item.strip().lower()
        if tag not in found:
            found.append(tag)
    return found


def _incident_of(row: Any, *, lock: bool = False) -> Incident:
    """The incident of a team role, task or link, read pinned to its tenant."""
    rows = Incident.objects.for_tenant(row.tenant_id)
    return (rows.select_for_update() if lock else rows).get(pk=row.incident_id)


def _locked(incident: Incident) -> Incident:
    return Incident.objects.for_tenant(incident.tenant_id).select_for_update().get(pk=incident.pk)


def transitions() -> list[Transition]:
    """Every transition of the incident status machine (django-fsm-2's metadata)."""
    field = Incident._meta.get_field("status")
    return list(field.get_all_transitions(Incident))  # type: ignore[attr-defined]


def transition_table() -> list[dict[str, Any]]:
    """The table of ``docs/incidents.md``: from, to, conditions, commander's powers."""
    return [
        {
            "from": t.source,
            "to": t.target,
            "conditions": sorted(CONDITION_TEXT[c] for c in t.conditions),  # type: ignore[index]
            "command": bool(t.custom.get("command")),
        }
        for t in transitions()
    ]


def allowed_targets(incident: Incident) -> list[str]:
    """The stages ``incident`` may move to now (conditions checked), in lifecycle order."""
    found = {
        t.target
        for t in transitions()
        if t.source == incident.status and all(condition(incident) for condition in t.conditions)
    }
    return [value for value in IncidentStatus.values if value in found]


@transaction.atomic
def transition_incident(
    *, incident: Incident, to: str, authority: Authority = SYSTEM, reason: str = ""
) -> Incident:
    """Move ``incident`` to stage ``to`` along the transition table, stamping the stage's
    time; refused (field ``to``, naming the allowed stages) otherwise."""
    if to not in IncidentStatus.values:
        raise field_error(
            "to",
            _("Choose one of: %(values)s.") % {"values": ", ".join(IncidentStatus.values)},
            "invalid_choice",
        )
    locked = _locked(incident)
    source = locked.status
    allowed = allowed_targets(locked)
    match = next((t for t in transitions() if t.source == source and t.target == to), None)
    if match is None or to not in allowed:
        needs = ""
        if match is not None:
            needs = " " + _("(only when %(conditions)s)") % {
                "conditions": ", ".join(CONDITION_TEXT[c] for c in match.conditions)  # type: ignore[index]
            }
        raise field_error(
            "to",
            _("Cannot move from '%(source)s' to '%(to)s'%(needs)s. Allowed now: %(allowed)s.")
            % {
                "source": source,
                "to": to,
                "needs": needs,
                "allowed": ", ".join(allowed) or _("none"),
            },
            "invalid_transition",
        )
    if match.custom.get("command"):
        _require_command(locked, authority, _("move the incident to '%(to)s'") % {"to": to})
    now = timezone.now()
    getattr(locked, match.name)(at=now)
    locked.save()
    text = _("Status %(source)s → %(to)s.") % {"source": source, "to": to}
    write_entry(
        incident=locked,
        kind=TimelineKind.STATUS,
        text=text + (f" {reason.strip()}" if reason.strip() else ""),
        actor=authority.user,
        data={"from": source, "to": to},
        at=now,
    )
    if not locked.is_open:
        # The tenant's crisis mode tied to this incident ends with it (docs/statements.md).
        from incidents.statements.services import end_crisis_for_incident

        end_crisis_for_incident(incident=locked)
    return locked


@transaction.atomic
def record_statement(
    *,
    incident: Incident,
    text: str,
    authority: Authority = SYSTEM,
    at: datetime | None = None,
) -> TimelineEntry:
    """A public statement or update was published: stamps the first statement and restarts the
    update cadence; the entry is visible to the client."""
    if not text or not text.strip():
        raise field_error("text", _("This field may not be blank."), "blank")
    locked = _locked(incident)
    if not locked.is_open:
        raise field_error(
            "text", _("The incident is %(status)s.") % {"status": locked.status}, "closed"
        )
    when = at or timezone.now()
    changes: dict[str, Any] = {"last_update_at": when}
    if locked.first_statement_at is None:
        changes["first_statement_at"] = when
    update_row(locked, writable=changes, **changes)
    return write_entry(
        incident=locked,
        kind=TimelineKind.STATEMENT,
        text=text.strip(),
        actor=authority.user,
        at=when,
    )


# --- the team --------------------------------------------------------------------------------


@transaction.atomic
def assign_role(
    *,
    incident: Incident,
    user: User | int | str | None,
    role: str,
    authority: Authority = SYSTEM,
    by_policy: bool = False,
) -> IncidentMember:
    """Give ``role`` in ``incident`` to a member of its tenant. The commander must hold
    ``incidents.manage``; naming or replacing the commander is a commander's power."""
    if role not in IncidentRole.values:
        raise field_error(
            "role",
            _("Choose one of: %(values)s.") % {"values": ", ".join(IncidentRole.values)},
            "invalid_choice",
        )
    person = member(incident.tenant_id, user, "user")
    locked = _locked(incident)
    if role == IncidentRole.COMMANDER:
        if Cap.MANAGE_INCIDENTS not in capabilities_of(roles_in(person, locked.tenant)):
            raise field_error(
                "user",
                _("The commander must hold 'incidents.manage' in this tenant."),
                "cannot_command",
            )
        _require_command(locked, authority, _("name the commander"))
    team = IncidentMember.objects.for_tenant(locked.tenant_id).filter(incident=locked)
    if team.filter(user=person, role=role).exists():
        raise field_error("user", _("This member already holds this role."), "unique")
    replaced = None
    if role == IncidentRole.COMMANDER:
        replaced = team.filter(role=IncidentRole.COMMANDER).select_related("user").first()
        if replaced is not None:
            replaced.delete()
    assignment = IncidentMember.objects.create(
        tenant_id=locked.tenant_id,
        incident=locked,
        user=person,
        role=role,
        assigned_by=authority.user,
        by_policy=by_policy,
    )
    label = IncidentRole(role).label
    text = _("%(who)s is now %(role)s.") % {"who": person.email, "role": label}
    if replaced is not None:
        text += " " + _("(replacing %(who)s)") % {"who": replaced.user.email}
    if by_policy:
        text += " " + _("(role policy)")
    write_entry(
        incident=locked,
        kind=TimelineKind.TEAM,
        text=text,
        actor=authority.user,
        data={"user": person.pk, "role": role, "added": True},
    )
    incident_playbooks.fill_owners(incident=locked, role=role, user_id=person.pk)
    return assignment


@transaction.atomic
def unassign_role(*, instance: IncidentMember, authority: Authority = SYSTEM) -> None:
    incident = _incident_of(instance, lock=True)
    if instance.role == IncidentRole.COMMANDER:
        _require_command(incident, authority, _("remove the commander"))
    email = instance.user.email
    role, user_id = instance.role, instance.user_id
    delete_row(instance)
    write_entry(
        incident=incident,
        kind=TimelineKind.TEAM,
        text=_("%(who)s no longer holds %(role)s.")
        % {"who": email, "role": IncidentRole(role).label},
        actor=authority.user,
        data={"user": user_id, "role": role, "added": False},
    )


def apply_role_policies(*, incident: Incident) -> list[IncidentMember]:
    """Give the roles of the tenant's matching role policies that nobody holds yet: the most
    specific commander policy names the commander when there is none; other roles are added
    per person. Members who left the tenant are skipped."""
    policies = [
        policy
        for policy in RolePolicy.objects.for_tenant(incident.tenant_id).select_related("user")
        if policy.matches(incident)
    ]
    if not policies:
        return []
    team = IncidentMember.objects.for_tenant(incident.tenant_id).filter(incident=incident)
    held = set(team.values_list("user_id", "role"))
    has_commander = any(role == IncidentRole.COMMANDER for _, role in held)
    given = []
    for policy in sorted(policies, key=lambda p: (-p.specificity, p.pk)):
        if (policy.user_id, policy.role) in held:
            continue
        if policy.role == IncidentRole.COMMANDER and has_commander:
            continue
        try:
            given.append(
                assign_role(incident=incident, user=policy.user, role=policy.role, by_policy=True)
            )
        except ValidationError:
            continue  # no longer a member (or may no longer command): the policy waits
        held.add((policy.user_id, policy.role))
        has_commander = has_commander or policy.role == IncidentRole.COMMANDER
    return given


# --- links -----------------------------------------------------------------------------------


def _row(model: type[Any], tenant_id: int, value: Any, field: str) -> Any:
    """A row of ``model`` in the tenant given as an instance or an id, or a field error that
    reads like "no such object" for another tenant's ids."""
    if isinstance(value, model):
        ensure_same_tenant(tenant_id, field, value)
        return value
    found = None
    if isinstance(value, int | str) and not isinstance(value, bool):
        text = str(value)
        if text.isascii() and text.isdigit() and 0 < int(text) <= BIGINT_MAX:
            found = model.objects.for_tenant(tenant_id).filter(pk=int(text)).first()
    if found is None:
        raise field_error(field, _("No such object in this tenant."), "not_found")
    return found


def _link_models() -> dict[str, type[Any]]:
    from monitoring.models import Alert, HoaxCluster, OwnedAccount

    return {
        "alert": Alert,
        "hoax_cluster": HoaxCluster,
        "owned_account": OwnedAccount,
        "mention": Mention,
        "query": MonitoredQuery,
    }


@transaction.atomic
def create_link(
    *,
    incident: Incident,
    kind: str,
    url: str = "",
    note: str = "",
    visible_to_client: bool = False,
    authority: Authority = SYSTEM,
    **targets: Any,
) -> IncidentLink:
    """Link ``incident`` to what it is about: ``alert``, ``hoax_cluster``, ``owned_account``,
    ``mention`` or ``query`` (a row of the tenant, or its id) or a ``url``."""
    models_by_field = _link_models()
    unknown = sorted(set(targets) - set(models_by_field))
    if unknown:
        raise ValidationError(
            {name: ValidationError(_("Unknown field."), "unknown_field") for name in unknown}
        )
    values = {
        name: _row(models_by_field[name], incident.tenant_id, value, name)
        for name, value in targets.items()
        if value is not None
    }
    link = IncidentLink(
        tenant_id=incident.tenant_id,
        incident=incident,
        kind=kind,
        url=url,
        note=note,
        visible_to_client=visible_to_client and not incident.is_drill,
        created_by=authority.user,
        **values,
    )
    link.full_clean(exclude=["tenant", "incident", "created_by", *models_by_field])
    link.save()
    _link_entry(incident, link, authority, added=True)
    return link


def _link_entry(
    incident: Incident, link: IncidentLink, authority: Authority, *, added: bool
) -> None:
    target = link.target_id
    text = (_("Linked %(kind)s %(target)s.") if added else _("Unlinked %(kind)s %(target)s.")) % {
        "kind": LinkKind(link.kind).label.lower(),
        "target": target,
    }
    write_entry(
        incident=incident,
        kind=TimelineKind.LINK,
        text=text,
        actor=authority.user,
        data={"kind": link.kind, "target": str(target), "added": added},
        visible_to_client=link.visible_to_client,
    )


@transaction.atomic
def delete_link(*, instance: IncidentLink, authority: Authority = SYSTEM) -> None:
    incident = _incident_of(instance)
    _link_entry(incident, instance, authority, added=False)
    delete_row(instance)


# --- tasks -----------------------------------------------------------------------------------


def _dependencies(task: IncidentTask, value: Iterable[Any]) -> list[int]:
    """Ids of tasks of the same incident, no cycle (field ``depends_on``)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise field_error("depends_on", _("Must be a list of task ids."), "invalid")
    ids: list[int] = []
    for item in value:
        number = item.pk if isinstance(item, IncidentTask) else item
        if isinstance(number, str) and number.isascii() and number.isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number <= BIGINT_MAX:
            raise field_error("depends_on", _("Must be a list of task ids."), "invalid")
        if number not in ids:
            ids.append(number)
    if task.pk is not None and task.pk in ids:
        raise field_error("depends_on", _("A task cannot depend on itself."), "cycle")
    siblings = dict(
        IncidentTask.objects.for_tenant(task.tenant_id)
        .filter(incident_id=task.incident_id)
        .values_list("pk", "depends_on")
    )
    missing = [number for number in ids if number not in siblings]
    if missing:
        raise field_error(
            "depends_on",
            _("No such task in this incident: %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            "not_found",
        )
    if task.pk is not None:
        graph = {pk: list(deps) for pk, deps in siblings.items()}
        graph[task.pk] = ids
        stack, seen = list(ids), set()
        while stack:
            current = stack.pop()
            if current == task.pk:
                raise field_error(
                    "depends_on",
                    _("This would make a cycle of dependencies."),
                    "cycle",
                )
            if current in seen:
                continue
            seen.add(current)
            stack.extend(graph.get(current, []))
    return ids


def _check_can_progress(task: IncidentTask) -> None:
    if task.status not in (TaskStatus.IN_PROGRESS, TaskStatus.DONE) or not task.depends_on:
        return
    waiting = list(
        IncidentTask.objects.for_tenant(task.tenant_id)
        .filter(pk__in=task.depends_on)
        .exclude(status__in=FINISHED_TASK_STATUSES)
        .values_list("pk", flat=True)
    )
    if waiting:
        raise field_error(
            "status",
            _("Waiting for tasks %(ids)s to finish first.")
            % {"ids": ", ".join(map(str, sorted(waiting)))},
            "blocked",
        )


@transaction.atomic
def create_task(
    *,
    incident: Incident,
    title: str,
    owner: User | int | str | None = None,
    due_at: datetime | None = None,
    status: str = TaskStatus.OPEN,
    checklist: list[Any] | None = None,
    depends_on: Iterable[Any] = (),
    visible_to_client: bool = True,
    authority: Authority = SYSTEM,
) -> IncidentTask:
    task = IncidentTask(
        tenant_id=incident.tenant_id,
        incident=incident,
        title=title,
        owner=member(incident.tenant_id, owner, "owner") if owner is not None else None,
        due_at=due_at,
        status=status,
        checklist=checklist if checklist is not None else [],
        visible_to_client=visible_to_client and not incident.is_drill,
    )
    task.depends_on = _dependencies(task, depends_on)
    task.full_clean(exclude=["tenant", "incident", "owner"])
    _check_can_progress(task)
    if task.status in FINISHED_TASK_STATUSES:
        task.completed_at = timezone.now()
    task.save()
    write_entry(
        incident=incident,
        kind=TimelineKind.TASK,
        text=_("Task added: %(title)s") % {"title": task.title}
        + (f" ({task.owner.email})" if task.owner else ""),
        actor=authority.user,
        data={"task": task.pk, "status": task.status},
        visible_to_client=task.visible_to_client,
    )
    return task


@transaction.atomic
def update_task(
    *, instance: IncidentTask, authority: Authority = SYSTEM, **changes: Any
) -> IncidentTask:
    unknown = sorted(set(changes) - set(TASK_WRITABLE))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    incident = _incident_of(instance)
    if "owner" in changes and changes["owner"] is not None:
        changes["owner"] = member(instance.tenant_id, changes["owner"], "owner")
    if "depends_on" in changes:
        changes["depends_on"] = _dependencies(instance, changes["depends_on"])
    if "visible_to_client" in changes:
        changes["visible_to_client"] = bool(changes["visible_to_client"]) and not incident.is_drill
    before_status = instance.status
    real = {k: v for k, v in changes.items() if getattr(instance, k) != v}
    if not real:
        return instance
    if "due_at" in real:
        real["reminder_sent_at"] = None
    if "status" in real:
        real["completed_at"] = timezone.now() if real["status"] in FINISHED_TASK_STATUSES else None
    for name, value in real.items():
        setattr(instance, name, value)
    _check_can_progress(instance)
    update_row(instance, writable=(*TASK_WRITABLE, "reminder_sent_at", "completed_at"), **real)
    described = ", ".join(sorted(k for k in real if k not in ("reminder_sent_at", "completed_at")))
    text = _("Task %(title)s: %(fields)s changed.") % {"title": instance.title, "fields": described}
    if "status" in real:
        text = _("Task %(title)s: %(before)s → %(after)s.") % {
            "title": instance.title,
            "before": before_status,
            "after": instance.status,
        }
    write_entry(
        incident=incident,
        kind=TimelineKind.TASK,
        text=text,
        actor=authority.user,
        data={"task": instance.pk, "changed": sorted(real)},
        visible_to_client=instance.visible_to_client,
    )
    return instance


@transaction.atomic
def delete_task(*, instance: IncidentTask, authority: Authority = SYSTEM) -> None:
    """Remove a task; the tasks that depended on it no longer do."""
    dependents = IncidentTask.objects.for_tenant(instance.tenant_id).filter(
        incident_id=instance.incident_id, depends_on__contains=[instance.pk]
    )
    for task in dependents:
        update_row(
            task,
            writable=("depends_on",),
            depends_on=[pk for pk in task.depends_on if pk != instance.pk],
        )
    write_entry(
        incident=_incident_of(instance),
        kind=TimelineKind.TASK,
        text=_("Task removed: %(title)s") % {"title": instance.title},
        actor=authority.user,
        data={"task": instance.pk, "removed": True},
        visible_to_client=instance.visible_to_client,
    )
    delete_row(instance)


# --- policies --------------------------------------------------------------------------------

SEVERITY_POLICY_WRITABLE = (
    "severity",
    "auto_open_from_alert",
    "acknowledge_minutes",
    "first_statement_minutes",
    "update_every_minutes",
    "resolve_minutes",
)


def create_severity_policy(*, tenant: Tenant, **values: Any) -> SeverityPolicy:
    return create_row(SeverityPolicy, tenant=tenant, **values)


def update_severity_policy(*, instance: SeverityPolicy, **changes: Any) -> SeverityPolicy:
    return update_row(instance, writable=SEVERITY_POLICY_WRITABLE, **changes)


def delete_severity_policy(*, instance: SeverityPolicy) -> None:
    delete_row(instance)


@transaction.atomic
def create_role_policy(
    *, tenant: Tenant, role: str, user: User | int | str, trigger: str = "", severity: str = ""
) -> RolePolicy:
    person = member(tenant, user, "user")
    if role == IncidentRole.COMMANDER and Cap.MANAGE_INCIDENTS not in capabilities_of(
        roles_in(person, tenant)
    ):
        raise field_error(
            "user",
            _("The commander must hold 'incidents.manage' in this tenant."),
            "cannot_command",
        )
    return create_row(
        RolePolicy, tenant=tenant, role=role, user=person, trigger=trigger, severity=severity
    )


@transaction.atomic
def update_role_policy(*, instance: RolePolicy, **changes: Any) -> RolePolicy:
    if "user" in changes:
        changes["user"] = member(instance.tenant_id, changes["user"], "user")
    return update_row(instance, writable=("trigger", "severity", "role", "user"), **changes)


def delete_role_policy(*, instance: RolePolicy) -> None:
    delete_row(instance)


# --- response-time targets, breaches and reminders --------------------------------------------


def targets_for(tenant_id: int, severity: str) -> Targets:
    """The tenant's targets for a severity, or the defaults."""
    return targets_by_severity(tenant_id).get(severity, DEFAULTS[severity])


def targets_by_severity(tenant_id: int) -> dict[str, Targets]:
    found = dict(DEFAULTS)
    for policy in SeverityPolicy.objects.for_tenant(tenant_id):
        found[policy.severity] = Targets(
            acknowledge=policy.acknowledge_minutes,
            first_statement=policy.first_statement_minutes,
            update=policy.update_every_minutes,
            resolve=policy.resolve_minutes,
        )
    return found


def auto_opens(tenant_id: int, severity: str) -> bool:
    """Whether an alert of ``severity`` opens an incident by itself in this tenant."""
    policy = SeverityPolicy.objects.for_tenant(tenant_id).filter(severity=severity).first()
    return policy.auto_open_from_alert if policy is not None else DEFAULT_AUTO_OPEN[severity]


def stamps_of(incident: Incident) -> Stamps:
    return Stamps(
        status=incident.status,
        detected_at=incident.detected_at,
        acknowledged_at=incident.acknowledged_at,
        first_statement_at=incident.first_statement_at,
        last_update_at=incident.last_update_at,
        mitigated_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
    )


def incident_timers(incident: Incident, now: datetime | None = None) -> list[Timer]:
    return timers(
        stamps_of(incident),
        targets_for(incident.tenant_id, incident.severity),
        now or timezone.now(),
    )


def _breach_key(timer: Timer) -> str:
    return f"{timer.target}@{timer.due_at.isoformat()}"


@transaction.atomic
def check_targets(*, tenant_id: int, now: datetime | None = None) -> int:
    """Record every newly missed target of the tenant's open incidents on their timeline (once
    per target and due time) and tell ``hooks.on_target_breached`` (never for drills).
    Returns how many breaches were recorded."""
    now = now or timezone.now()
    open_incidents = list(
        Incident.objects.for_tenant(tenant_id).filter(status__in=OPEN_STATUSES).order_by("pk")
    )
    if not open_incidents:
        return 0
    targets = targets_by_severity(tenant_id)
    recorded = {
        (incident_id, key)
        for incident_id, key in TimelineEntry.objects.for_tenant(tenant_id)
        .filter(kind=TimelineKind.BREACH, incident__in=[i.pk for i in open_incidents])
        .values_list("incident_id", "data__key")
    }
    count = 0
    for incident in open_incidents:
        for timer in breaches(stamps_of(incident), targets[incident.severity], now):
            key = _breach_key(timer)
            if (incident.pk, key) in recorded:
                continue
            write_entry(
                incident=incident,
                kind=TimelineKind.BREACH,
                text=_("Target missed: %(target)s was due at %(due)s (%(late)d min late).")
                % {
                    "target": timer.target,
                    "due": timer.due_at.isoformat(timespec="minutes"),
                    "late": timer.late_minutes,
                },
                data={"key": key, "target": timer.target, "due_at": timer.due_at.isoformat()},
            )
            hooks.target_breached(incident, timer)
            count += 1
    return count


def reminder_lead() -> timedelta:
    return timedelta(minutes=getattr(settings, "SIGAP_TASK_REMINDER_MINUTES", 30))


@transaction.atomic
def send_task_reminders(*, tenant_id: int, now: datetime | None = None) -> int:
    """Record a reminder on the timeline for each unfinished task due within
    ``SIGAP_TASK_REMINDER_MINUTES`` (default 30) of open incidents, once per due time, and tell
    ``hooks.on_task_reminder`` (never for drills)."""
    now = now or timezone.now()
    due = (
        IncidentTask.objects.for_tenant(tenant_id)
        .filter(
            reminder_sent_at__isnull=True,
            due_at__isnull=False,
            due_at__lte=now + reminder_lead(),
        )
        .exclude(status__in=FINISHED_TASK_STATUSES)
        .select_related("owner")
        .order_by("due_at", "pk")
    )
    tasks = list(due)
    incidents = Incident.objects.for_tenant(tenant_id).in_bulk({t.incident_id for t in tasks})
    count = 0
    for task in tasks:
        task.incident = incidents[task.incident_id]
        if not task.incident.is_open:
            continue
        assert task.due_at is not None
        late = task.due_at < now
        write_entry(
            incident=task.incident,
            kind=TimelineKind.REMINDER,
            text=(
                _("Task overdue: %(title)s (due %(due)s, %(owner)s).")
                if late
                else _("Task due soon: %(title)s (due %(due)s, %(owner)s).")
            )
            % {
                "title": task.title,
                "due": task.due_at.isoformat(timespec="minutes"),
                "owner": task.owner.email if task.owner else _("no owner"),
            },
            data={"task": task.pk, "overdue": late},
        )
        update_row(task, writable=("reminder_sent_at",), reminder_sent_at=now)
        hooks.task_reminder(task, task.incident)
        count += 1
    return count
