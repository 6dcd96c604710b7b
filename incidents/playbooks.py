"""Playbooks in incidents: attaching them, running their steps as tasks, and the response
advice of each incident.

Guarantees:

- ``attach_matching`` runs when an incident opens and when its severity, trigger or tags change
  (``incidents.services``): every active playbook of the tenant or its agency whose conditions
  hold (``playbooks.selectors.matching``) attaches **once per incident**; a playbook attached
  before is never attached again (``incident_playbook_once``);
- an attachment copies the snapshot of the playbook's current version: later edits of the
  template never change it, nor its tasks;
- each step becomes an incident task through ``incidents.services.create_task`` (the one
  writer of tasks, with its rules and timeline entry): owner the member holding the step's
  role in the incident (none when nobody holds it yet, or its holder has left the tenant),
  due at the incident's start plus the step's offset, checklist from the step, dependencies
  mapped onto the new tasks;
- a role given later (by hand or by a role policy) makes its holder the owner of the
  unfinished, unowned tasks of attached steps of that role (``fill_owners``);
- nothing attaches to an incident that is no longer open; drills attach like real incidents
  (their tasks are never visible to the client, as every part of a drill);
- the response advice (``ResponseAdvice``) is derived from the trigger and the tenant's crisis
  history by the rules of ``playbooks.advice`` and re-derived when the trigger changes, until
  the commander edits it (``update_advice``, a commander's power).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.authority import SYSTEM, Authority
from incidents.choices import IncidentStatus, TimelineKind
from incidents.models import Incident, IncidentMember, IncidentPlaybook, ResponseAdvice
from playbooks import advice as advice_rules
from playbooks import rules, selectors
from playbooks.models import Playbook
from tenants.writes import field_error


def attached_key_messages(incident: Incident) -> tuple[str, ...]:
    """The key messages of the playbooks attached to ``incident`` (from their snapshots), in
    the order they were attached, each once."""
    seen: list[str] = []
    for snapshot in (
        IncidentPlaybook.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk)
        .order_by("attached_at", "pk")
        .values_list("snapshot", flat=True)
    ):
        for message in (snapshot or {}).get("key_messages", []):
            if isinstance(message, str) and message not in seen:
                seen.append(message)
    return tuple(seen)


def attached(incident: Incident) -> list[IncidentPlaybook]:
    """The playbooks attached to ``incident``, in the order they were attached."""
    return list(
        IncidentPlaybook.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk)
        .order_by("attached_at", "pk")
    )


def _owners(incident: Incident) -> dict[str, int]:
    """Incident role -> the user holding it (the earliest assigned)."""
    owners: dict[str, int] = {}
    for role, user_id in (
        IncidentMember.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk)
        .order_by("assigned_at", "pk")
        .values_list("role", "user_id")
    ):
        owners.setdefault(role, user_id)
    return owners


@transaction.atomic
def attach_playbook(
    *,
    incident: Incident,
    playbook: Playbook | int | str,
    authority: Authority = SYSTEM,
    by_hand: bool = True,
) -> IncidentPlaybook:
    """Attach ``playbook`` (one the incident's tenant sees) to ``incident``: its current
    version's snapshot and a task per step. Refused (field ``playbook``) when it is attached
    already or the incident is closed."""
    from incidents import services

    found = _playbook(incident, playbook)
    if not incident.is_open:
        raise field_error(
            "incident", _("The incident is %(status)s.") % {"status": incident.status}, "closed"
        )
    attached = IncidentPlaybook.objects.for_tenant(incident.tenant_id).filter(
        incident_id=incident.pk, playbook_id=found.pk
    )
    if attached.exists():
        raise field_error(
            "playbook", _("This playbook is attached to the incident already."), "unique"
        )
    snapshot = selectors.current_snapshot(found)
    attachment = IncidentPlaybook.objects.create(
        tenant_id=incident.tenant_id,
        incident=incident,
        playbook=found,
        name=snapshot["name"],
        version=snapshot["version"],
        snapshot=snapshot,
        by_hand=by_hand,
        attached_by=authority.user,
    )
    owners = _owners(incident)
    steps = {step["key"]: step for step in snapshot["steps"]}
    order = rules.ordered(
        {key: step["depends_on"] for key, step in steps.items()},
        {key: step["position"] for key, step in steps.items()},
    )
    task_ids: dict[str, int] = {}
    for key in order:
        step = steps[key]
        values: dict[str, Any] = {
            "incident": incident,
            "title": step["title"],
            "due_at": incident.detected_at + timedelta(minutes=step["due_offset_minutes"]),
            "checklist": [{"text": text, "done": False} for text in step["checklist"]],
            "depends_on": [task_ids[dep] for dep in step["depends_on"]],
            "visible_to_client": step["visible_to_client"],
            "authority": authority,
        }
        try:
            task = services.create_task(owner=owners.get(step["role"]), **values)
        except ValidationError as exc:
            if "owner" not in getattr(exc, "error_dict", {}):
                raise
            task = services.create_task(owner=None, **values)  # the holder left the tenant
        task_ids[key] = task.pk
    attachment.task_ids = task_ids
    attachment.save(update_fields=["task_ids"])
    services.write_entry(
        incident=incident,
        kind=TimelineKind.DETAILS,
        text=_("Playbook attached: %(name)s (version %(version)d), %(count)d tasks.")
        % {"name": attachment.name, "version": attachment.version, "count": len(task_ids)},
        actor=authority.user,
        data={"playbook": found.pk, "version": attachment.version, "by_hand": by_hand},
        visible_to_client=False,
    )
    return attachment


def _playbook(incident: Incident, value: Playbook | int | str) -> Playbook:
    """A playbook the incident's tenant sees (its own or its agency's); another's id reads
    like none."""
    number: Any = value.pk if isinstance(value, Playbook) else value
    if isinstance(number, str) and number.isascii() and number.isdigit():
        number = int(number)
    found = None
    if isinstance(number, int) and not isinstance(number, bool) and 0 < number < 2**63:
        found = Playbook.objects.for_tenant(incident.tenant).filter(pk=number).first()
    if found is None:
        raise field_error("playbook", _("No such playbook in this tenant."), "not_found")
    return found


def fill_owners(*, incident: Incident, role: str, user_id: int) -> int:
    """Give the unfinished tasks of attached steps of ``role`` that have no owner to
    ``user_id`` (through ``incidents.services.update_task``). Returns how many."""
    from incidents import services
    from incidents.choices import FINISHED_TASK_STATUSES
    from incidents.models import IncidentTask

    wanted: list[int] = []
    for attachment in IncidentPlaybook.objects.for_tenant(incident.tenant_id).filter(
        incident_id=incident.pk
    ):
        for step in attachment.snapshot.get("steps", []):
            task_id = attachment.task_ids.get(step.get("key"))
            if step.get("role") == role and isinstance(task_id, int):
                wanted.append(task_id)
    if not wanted:
        return 0
    tasks = (
        IncidentTask.objects.for_tenant(incident.tenant_id)
        .filter(pk__in=wanted, owner__isnull=True)
        .exclude(status__in=FINISHED_TASK_STATUSES)
        .order_by("pk")
    )
    count = 0
    for task in tasks:
        services.update_task(instance=task, owner=user_id)
        count += 1
    return count


def attach_matching(*, incident: Incident) -> list[IncidentPlaybook]:
    """Attach every matching playbook not attached yet (see the module docstring)."""
    if not incident.is_open:
        return []
    already = set(
        IncidentPlaybook.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk)
        .values_list("playbook_id", flat=True)
    )
    attached = []
    for playbook in selectors.matching(
        tenant=incident.tenant,
        trigger=incident.trigger,
        severity=incident.severity,
        tags=incident.tags,
    ):
        if playbook.pk in already:
            continue
        attached.append(attach_playbook(incident=incident, playbook=playbook, by_hand=False))
    return attached


# --- response advice --------------------------------------------------------------------------


def similar_incidents(incident: Incident) -> int:
    """Earlier incidents of the tenant with the same trigger within the history window: not
    drills, not false alarms (index ``incident_detected``)."""
    since = incident.detected_at - timedelta(days=advice_rules.history_window_days())
    return (
        Incident.objects.for_tenant(incident.tenant_id)
        .filter(
            trigger=incident.trigger,
            is_drill=False,
            detected_at__gte=since,
            detected_at__lte=incident.detected_at,
        )
        .exclude(status=IncidentStatus.CLOSED)
        .exclude(pk=incident.pk)
        .count()
    )


def refresh_advice(*, incident: Incident) -> ResponseAdvice:
    """Derive (or re-derive, when the trigger changed and the commander has not edited it)
    the incident's advice."""
    current = (
        ResponseAdvice.objects.for_tenant(incident.tenant_id).filter(incident=incident).first()
    )
    if current is not None and (current.is_edited or current.derived_from == incident.trigger):
        return current
    found = advice_rules.advise(
        trigger=incident.trigger,
        similar_incidents=similar_incidents(incident),
        language=incident.tenant.default_language,
    )
    values = {
        "cluster": found.cluster,
        "posture": found.posture,
        "reasoning": found.reasoning,
        "similar_incidents": found.similar_incidents,
        "derived_from": incident.trigger,
    }
    if current is None:
        return ResponseAdvice.objects.create(
            tenant_id=incident.tenant_id, incident=incident, **values
        )
    for name, value in values.items():
        setattr(current, name, value)
    current.save(update_fields=[*values, "updated_at"])
    return current


ADVICE_WRITABLE = ("cluster", "posture", "reasoning")


@transaction.atomic
def update_advice(
    *, instance: ResponseAdvice, authority: Authority = SYSTEM, **changes: Any
) -> ResponseAdvice:
    """The commander's own cluster, posture or reasoning (a commander's power); the advice
    is no longer re-derived afterwards."""
    from incidents import services

    unknown = sorted(set(changes) - set(ADVICE_WRITABLE))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    if "cluster" in changes and changes["cluster"] not in advice_rules.CLUSTERS:
        raise field_error(
            "cluster",
            _("Choose one of: %(values)s.") % {"values": ", ".join(advice_rules.CLUSTERS)},
            "invalid_choice",
        )
    if "posture" in changes and changes["posture"] not in advice_rules.postures():
        raise field_error(
            "posture",
            _("Choose one of: %(values)s.") % {"values": ", ".join(advice_rules.postures())},
            "invalid_choice",
        )
    if "reasoning" in changes and (
        not isinstance(changes["reasoning"], str) or not changes["reasoning"].strip()
    ):
        raise field_error("reasoning", _("This field may not be blank."), "blank")
    incident = (
        Incident.objects.for_tenant(instance.tenant_id)
        .select_for_update()
        .get(pk=instance.incident_id)
    )
    services.require_command(incident, authority, _("change the response advice"))
    real = {name: value for name, value in changes.items() if getattr(instance, name) != value}
    if not real:
        return instance
    for name, value in real.items():
        setattr(instance, name, value.strip() if name == "reasoning" else value)
    instance.edited_by = authority.user
    instance.edited_at = timezone.now()
    instance.full_clean(exclude=["tenant", "incident", "edited_by"])
    instance.save(update_fields=[*real, "edited_by", "edited_at", "updated_at"])
    services.write_entry(
        incident=incident,
        kind=TimelineKind.DETAILS,
        text=_("Response advice changed: %(fields)s.") % {"fields": ", ".join(sorted(real))},
        actor=authority.user,
        data={name: str(value) for name, value in real.items() if name != "reasoning"},
        visible_to_client=False,
    )
    return instance


def on_incident_changed(*, incident: Incident) -> None:
    """What the incident services call once an incident opened or its severity, trigger or
    tags changed: the advice, then the matching playbooks."""
    refresh_advice(incident=incident)
    attach_matching(incident=incident)
