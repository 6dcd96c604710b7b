"""Writes of the playbooks app, shared by REST, GraphQL, the admin and the demo. One
keyword-only function per action, in a transaction, raising Django ``ValidationError`` keyed by
field (``PermissionDenied`` for an agency-owned playbook written by someone who is not an admin
of its agency).

Rules every writer keeps:

- a tenant-owned playbook belongs to one tenant of the playbook's agency; an agency-owned one
  (``owner="agency"``) is created, changed and deleted only by the agency's admins (or the
  system: starter content, the demo);
- steps are written as a whole (``set_steps``): keys unique, due offsets zero or more minutes
  (field ``steps``, code ``min_value``), dependencies naming steps of the same playbook without a
  cycle (field ``steps``, codes ``unknown_step`` and ``cycle``);
- every change bumps the playbook's ``version`` and stores its snapshot (``PlaybookVersion``);
  incidents attach snapshots, so a change never reaches a running incident.

Canned answers: keyword-only services, each in a transaction, raising ``ValidationError`` keyed
by field. Rules: the question is unique per tenant and language; approving records who and
when; changing the question, answer or language of an approved answer sends it back to draft
(it must be approved again before it is suggested or served); uses are counted atomically.
A chat widget's key is made with it and can be rotated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from playbooks import rules
from playbooks.choices import AnswerStatus
from playbooks.models import (
    AnswerWidget,
    CannedAnswer,
    Language,
    Playbook,
    PlaybookStep,
    PlaybookVersion,
    StatementTemplate,
    new_widget_key,
)
from tenants.models import Agency, Tenant, User
from tenants.writes import create_row, delete_row, field_error, update_row

STARTER_FILE = Path(__file__).parent / "data" / "starter.json"
PLAYBOOK_WRITABLE = (
    "name",
    "description",
    "language",
    "trigger_types",
    "min_severity",
    "tags",
    "do_guidance",
    "dont_guidance",
    "key_messages",
    "is_active",
)
STEP_FIELDS = (
    "key",
    "title",
    "role",
    "due_offset_minutes",
    "checklist",
    "depends_on",
    "visible_to_client",
)
OWNERS = ("tenant", "agency")


def may_manage_agency_playbooks(user: Any, agency_id: int) -> bool:
    """Agency-owned playbooks are written by the agency's admins (and the platform
    superuser); ``None`` is the system (starter content, the demo)."""
    if user is None:
        return True
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return True
    return bool(
        isinstance(user, User)
        and user.is_active
        and user.is_agency_admin
        and user.agency_id == agency_id
    )


def _require_owner_rights(playbook: Playbook, user: Any) -> None:
    if playbook.tenant_id is None and not may_manage_agency_playbooks(user, playbook.agency_id):
        raise PermissionDenied(_("Only the agency's admins may change agency-owned playbooks."))


def snapshot(playbook: Playbook, steps: Iterable[PlaybookStep] | None = None) -> dict[str, Any]:
    """The playbook as a JSON value: what an incident attaches."""
    rows = list(steps) if steps is not None else list(playbook.steps.order_by("position", "pk"))
    return {
        "id": playbook.pk,
        "version": playbook.version,
        "name": playbook.name,
        "description": playbook.description,
        "language": playbook.language,
        "owner": playbook.owner,
        "trigger_types": list(playbook.trigger_types),
        "min_severity": playbook.min_severity,
        "tags": list(playbook.tags),
        "do_guidance": list(playbook.do_guidance),
        "dont_guidance": list(playbook.dont_guidance),
        "key_messages": list(playbook.key_messages),
        "steps": [
            {
                "key": step.key,
                "position": step.position,
                "title": step.title,
                "role": step.role,
                "due_offset_minutes": step.due_offset_minutes,
                "checklist": list(step.checklist),
                "depends_on": list(step.depends_on),
                "visible_to_client": step.visible_to_client,
            }
            for step in rows
        ],
    }


def _record_version(playbook: Playbook, user: Any, *, bump: bool) -> None:
    if bump:
        playbook.version += 1
        playbook.save(update_fields=["version", "updated_at"])
    PlaybookVersion.objects.create(
        playbook=playbook,
        agency_id=playbook.agency_id,
        tenant_id=playbook.tenant_id,
        number=playbook.version,
        snapshot=snapshot(playbook),
        created_by=user if isinstance(user, User) else None,
    )


def _validate(playbook: Playbook) -> None:
    """The model's rules, then its one uniqueness rule (name and language per owner) as a
    field error on ``name`` (code ``unique``)."""
    playbook.full_clean(
        exclude=["agency", "tenant", "created_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    owner = (
        Q(tenant__isnull=True) if playbook.tenant_id is None else Q(tenant_id=playbook.tenant_id)
    )
    clash = Playbook.objects.filter(
        owner, agency_id=playbook.agency_id, language=playbook.language, name=playbook.name
    )
    if playbook.pk is not None:
        clash = clash.exclude(pk=playbook.pk)
    if clash.exists():
        raise field_error("name", _("A playbook with this name and language exists."), "unique")


@transaction.atomic
def create_playbook(
    *,
    tenant: Tenant,
    name: str,
    owner: str = "tenant",
    steps: list[Mapping[str, Any]] | None = None,
    user: Any = None,
    starter_key: str = "",
    **values: Any,
) -> Playbook:
    """A new playbook of ``tenant`` (``owner="tenant"``) or of its agency
    (``owner="agency"``, agency admins only), with its steps."""
    if owner not in OWNERS:
        raise field_error(
            "owner", _("Choose one of: %(values)s.") % {"values": ", ".join(OWNERS)}, "invalid"
        )
    unknown = sorted(set(values) - set(PLAYBOOK_WRITABLE))
    if unknown:
        raise ValidationError(
            {name: ValidationError(_("Unknown field."), "unknown_field") for name in unknown}
        )
    playbook = Playbook(
        agency_id=tenant.agency_id,
        tenant=tenant if owner == "tenant" else None,
        name=name,
        starter_key=starter_key,
        created_by=user if isinstance(user, User) else None,
        **values,
    )
    _require_owner_rights(playbook, user)
    _validate(playbook)
    playbook.save()
    if steps:
        _write_steps(playbook, steps)
    _record_version(playbook, user, bump=False)
    return playbook


@transaction.atomic
def update_playbook(
    *,
    instance: Playbook,
    user: Any = None,
    steps: list[Mapping[str, Any]] | None = None,
    **changes: Any,
) -> Playbook:
    """Change a playbook (and, with ``steps``, replace its steps); a new version."""
    _require_owner_rights(instance, user)
    unknown = sorted(set(changes) - set(PLAYBOOK_WRITABLE))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    real = {name: value for name, value in changes.items() if getattr(instance, name) != value}
    for name, value in real.items():
        setattr(instance, name, value)
    if real:
        _validate(instance)
        instance.save(update_fields=[*real, "updated_at"])
    changed_steps = steps is not None and _write_steps(instance, steps)
    if real or changed_steps:
        _record_version(instance, user, bump=True)
    return instance


@transaction.atomic
def delete_playbook(*, instance: Playbook, user: Any = None) -> None:
    """Remove a playbook; incidents keep the snapshots they attached."""
    _require_owner_rights(instance, user)
    instance.delete()


@transaction.atomic
def set_steps(*, playbook: Playbook, steps: list[Mapping[str, Any]], user: Any = None) -> Playbook:
    """Replace the steps of ``playbook`` (in the given order); a new version when they
    changed."""
    _require_owner_rights(playbook, user)
    if _write_steps(playbook, steps):
        _record_version(playbook, user, bump=True)
    return playbook


def _step_rows(playbook: Playbook, steps: list[Mapping[str, Any]]) -> list[PlaybookStep]:
    if not isinstance(steps, list) or len(steps) > 50:
        raise field_error("steps", _("Must be a list of at most 50 steps."), "invalid")
    rows: list[PlaybookStep] = []
    for index, data in enumerate(steps):
        if not isinstance(data, Mapping):
            raise field_error(
                "steps", _("Step %(n)d must be an object.") % {"n": index + 1}, "invalid"
            )
        unknown = sorted(set(data) - set(STEP_FIELDS))
        if unknown:
            raise field_error(
                "steps",
                _("Step %(n)d: unknown field %(field)s.") % {"n": index + 1, "field": unknown[0]},
                "unknown_field",
            )
        depends = data.get("depends_on", [])
        row = PlaybookStep(
            playbook=playbook,
            agency_id=playbook.agency_id,
            tenant_id=playbook.tenant_id,
            position=index + 1,
            key=data.get("key", ""),
            title=data.get("title", ""),
            role=data.get("role", ""),
            due_offset_minutes=data.get("due_offset_minutes", 60),
            checklist=data.get("checklist", []),
            depends_on=list(depends) if isinstance(depends, list | tuple) else depends,
            visible_to_client=data.get("visible_to_client", True),
        )
        try:
            if not isinstance(row.depends_on, list) or not all(
                isinstance(item, str) for item in row.depends_on
            ):
                raise ValidationError(
                    {"depends_on": ValidationError(_("Must be a list of step keys."), "invalid")}
                )
            row.full_clean(exclude=["playbook", "agency", "tenant"], validate_constraints=False)
        except ValidationError as exc:
            field, errors = next(iter(exc.message_dict.items()))
            first = exc.error_dict[field][0] if hasattr(exc, "error_dict") else exc
            raise field_error(
                "steps",
                _("Step %(n)d (%(key)s), %(field)s: %(message)s")
                % {"n": index + 1, "key": row.key or "?", "field": field, "message": errors[0]},
                first.code or "invalid",
            ) from None
        rows.append(row)
    keys = [row.key for row in rows]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise field_error(
            "steps",
            _("Step key %(key)s is used twice.") % {"key": duplicates[0]},
            "unique",
        )
    problems = rules.dependency_errors({row.key: row.depends_on for row in rows})
    if problems:
        key, problem = sorted(problems.items())[0]
        if problem == "self":
            raise field_error("steps", _("Step %(key)s depends on itself.") % {"key": key}, "cycle")
        if problem.startswith("unknown:"):
            raise field_error(
                "steps",
                _("Step %(key)s depends on %(other)s, which is no step of this playbook.")
                % {"key": key, "other": problem.split(":", 1)[1]},
                "unknown_step",
            )
        raise field_error(
            "steps",
            _("The dependencies of steps %(keys)s make a cycle.")
            % {"keys": ", ".join(sorted(problems))},
            "cycle",
        )
    return rows


def _write_steps(playbook: Playbook, steps: list[Mapping[str, Any]]) -> bool:
    """Replace the steps; True when anything changed."""
    rows = _step_rows(playbook, steps)
    current = list(PlaybookStep.objects.filter(playbook=playbook).order_by("position", "pk"))
    if snapshot(playbook, current)["steps"] == snapshot(playbook, rows)["steps"]:
        return False
    PlaybookStep.objects.filter(playbook=playbook).delete()
    PlaybookStep.objects.bulk_create(rows)
    return True


# --- starter content -----------------------------------------------------------------------


def starter_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STARTER_FILE.read_text(encoding="utf-8"))
    return data


@transaction.atomic
def load_starter_playbooks(
    *, agency: Agency, languages: Iterable[str] = ("id", "en")
) -> list[Playbook]:
    """Create the starter playbooks (one per crisis trigger) for ``agency``, agency-owned, in
    each of ``languages``; those already loaded (by starter key and language) are left alone.
    Returns the new ones."""
    tenant = Tenant.objects.filter(agency=agency).order_by("pk").first()
    if tenant is None:
        raise field_error("agency", _("The agency has no tenant yet."), "invalid")
    data = starter_data()
    created = []
    for language in languages:
        if language not in Language.values:
            raise field_error("languages", _("Unknown language."), "invalid")
        existing = set(
            Playbook.objects.filter(agency=agency, tenant__isnull=True, language=language)
            .exclude(starter_key="")
            .values_list("starter_key", flat=True)
        )
        common = data["common_guidance"][language]
        for entry in data["playbooks"]:
            if entry["key"] in existing:
                continue
            text = entry[language]
            created.append(
                create_playbook(
                    tenant=tenant,
                    owner="agency",
                    starter_key=entry["key"],
                    name=text["name"],
                    description=text["description"],
                    language=language,
                    trigger_types=entry["trigger_types"],
                    min_severity=entry["min_severity"],
                    do_guidance=[*common["do"], *text["do"]],
                    dont_guidance=[*common["dont"], *text["dont"]],
                    key_messages=text["key_messages"],
                    steps=[
                        {
                            "key": step["key"],
                            "role": step["role"],
                            "due_offset_minutes": step["due_offset_minutes"],
                            "depends_on": step["depends_on"],
                            "visible_to_client": step["visible_to_client"],
                            "title": step[language]["title"],
                            "checklist": step[language]["checklist"],
                        }
                        for step in entry["steps"]
                    ],
                )
            )
    return created


# --- Holding-statement templates (issue 15) ---

TEMPLATE_WRITABLE = (
    "name",
    "language",
    "part_confirmed",
    "part_actions",
    "part_empathy",
    "part_next_update",
    "placeholders",
    "must_not",
)


def create_statement_template(*, tenant: Tenant, **values: Any) -> StatementTemplate:
    """A template of ``tenant`` (agency templates are made by ``save_agency_template``)."""
    return create_row(StatementTemplate, tenant=tenant, agency_id=tenant.agency_id, **values)


def _tenant_template(instance: StatementTemplate) -> None:
    """Tenant interfaces (REST, the tenant template screen of the admin) write the tenant's own
    templates only: the agency's are kept by its admins (``save_agency_template``)."""
    if instance.tenant_id is None:
        raise PermissionDenied(_("Agency templates are kept by the agency's admins."))


def update_statement_template(*, instance: StatementTemplate, **changes: Any) -> StatementTemplate:
    _tenant_template(instance)
    return update_row(instance, writable=TEMPLATE_WRITABLE, **changes)


def delete_statement_template(*, instance: StatementTemplate) -> None:
    _tenant_template(instance)
    delete_row(instance)


@transaction.atomic
def save_agency_template(
    *, instance: StatementTemplate, agency: Agency | None = None
) -> StatementTemplate:
    """Validate and save an agency template (new or changed; no tenant), unique by name and
    language within the agency."""
    if agency is not None:
        instance.agency = agency
    instance.tenant = None
    instance.full_clean(validate_constraints=False)
    clash = StatementTemplate.objects.filter(
        agency_id=instance.agency_id,
        tenant__isnull=True,
        name=instance.name,
        language=instance.language,
    ).exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationError(
            {"name": ValidationError(_("This agency has a template of this name."), "unique")}
        )
    instance.save()
    return instance


def delete_agency_template(*, instance: StatementTemplate) -> None:
    if instance.tenant_id is not None:
        raise PermissionDenied(_("Not an agency template."))
    instance.delete()


# --- canned answers and the chat widget (issue 16) ---
ANSWER_WRITABLE = ("question", "answer", "language", "status")
_CONTENT = ("question", "answer", "language")


def _status(value: Any) -> str:
    if value not in AnswerStatus.values:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Write one of: %(values)s.") % {"values": ", ".join(AnswerStatus.values)},
                    code="invalid_choice",
                )
            }
        )
    return str(value)


@transaction.atomic
def create_answer(
    *, tenant: Tenant, actor: User | None = None, status: str = AnswerStatus.DRAFT, **values: Any
) -> CannedAnswer:
    status = _status(status)
    extra: dict[str, Any] = {}
    if status == AnswerStatus.APPROVED:
        extra = {"approved_by": actor, "approved_at": timezone.now()}
    return create_row(
        CannedAnswer, tenant=tenant, created_by=actor, status=status, **values, **extra
    )


@transaction.atomic
def update_answer(
    *, instance: CannedAnswer, actor: User | None = None, **changes: Any
) -> CannedAnswer:
    """Change an answer. Approving (``status="approved"``) records ``actor``; changing the text
    of an approved answer without approving it again in the same call makes it a draft."""
    stored = CannedAnswer.objects.for_tenant(instance.tenant_id).get(pk=instance.pk)
    if "status" in changes:
        changes["status"] = _status(changes["status"])
    content_changed = any(
        name in changes and changes[name] != getattr(stored, name) for name in _CONTENT
    )
    becomes = changes.get("status", stored.status)
    if content_changed and stored.status == AnswerStatus.APPROVED and "status" not in changes:
        becomes = changes["status"] = AnswerStatus.DRAFT
    extra: dict[str, Any] = {}
    if becomes == AnswerStatus.APPROVED and (
        stored.status != AnswerStatus.APPROVED or content_changed
    ):
        extra = {"approved_by": actor, "approved_at": timezone.now()}
    elif becomes != AnswerStatus.APPROVED:
        extra = {"approved_by": None, "approved_at": None}
    return update_row(instance, writable=(*ANSWER_WRITABLE, *extra), **changes, **extra)


def approve_answer(*, instance: CannedAnswer, actor: User | None = None) -> CannedAnswer:
    return update_answer(instance=instance, actor=actor, status=AnswerStatus.APPROVED)


def delete_answer(*, instance: CannedAnswer) -> None:
    delete_row(instance)


def record_use(*, answer: CannedAnswer) -> None:
    """Count one use of ``answer`` (one atomic ``UPDATE``; concurrent uses all count)."""
    CannedAnswer.objects.for_tenant(answer.tenant_id).filter(pk=answer.pk).update(
        usage_count=F("usage_count") + 1
    )


# --- the chat widget ------------------------------------------------------------------------------


def rotate_widget_key(*, instance: AnswerWidget) -> AnswerWidget:
    """A new key for the widget; the old one stops working at once."""
    return update_row(instance, writable=("key",), key=new_widget_key())


def update_widget(*, instance: AnswerWidget, **changes: Any) -> AnswerWidget:
    return update_row(instance, writable=("name", "allowed_origins", "is_enabled"), **changes)


def create_widget(*, tenant: Tenant, **values: Any) -> AnswerWidget:
    return create_row(AnswerWidget, tenant=tenant, **values)


def delete_widget(*, instance: AnswerWidget) -> None:
    delete_row(instance)
