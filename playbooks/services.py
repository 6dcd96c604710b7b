"""Writes of the playbooks app (keyword-only, validated, each raising ``ValidationError`` keyed
by field). Holding-statement templates: the model's ``clean`` checks the required parts, the
placeholders and the must-not rules on every save."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from playbooks.models import AgencyStatementTemplate, StatementTemplate
from tenants.models import Agency, Tenant
from tenants.writes import create_row, delete_row, update_row

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
    return create_row(StatementTemplate, tenant=tenant, **values)


def update_statement_template(*, instance: StatementTemplate, **changes: Any) -> StatementTemplate:
    return update_row(instance, writable=TEMPLATE_WRITABLE, **changes)


def delete_statement_template(*, instance: StatementTemplate) -> None:
    delete_row(instance)


@transaction.atomic
def save_agency_template(
    *, instance: AgencyStatementTemplate, agency: Agency | None = None
) -> AgencyStatementTemplate:
    """Validate and save an agency template (new or changed), unique by name and language."""
    if agency is not None:
        instance.agency = agency
    instance.full_clean()
    clash = AgencyStatementTemplate.objects.filter(
        agency_id=instance.agency_id, name=instance.name, language=instance.language
    ).exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationError(
            {"name": ValidationError(_("This agency has a template of this name."), "unique")}
        )
    instance.save()
    return instance


def delete_agency_template(*, instance: AgencyStatementTemplate) -> None:
    instance.delete()
