"""Holding-statement templates of the playbooks app (imported by ``playbooks.models``).

A holding statement is what the agency says first, fast, while facts are still coming in. Its
templates are one model, ``StatementTemplate``, an *agency table* like ``Playbook``
(``tenants.dbtables.AGENCY_MODELS``, protected by the row-level-security policy
``tenants.rls.AGENCY_ROWS``): ``agency`` and a nullable ``tenant``. A template without a tenant is
agency material (every tenant of the agency may draft from it; kept by the agency's admins in the
admin); one with a tenant is that tenant's (its brand's own wording).
``StatementTemplate.objects.for_tenant(tenant)`` is the row filter: the tenant's own templates
and its agency's. Every template has ``HoldingStatementFields``:

- the four required parts, each non-blank: what is confirmed, what is being done, empathy for
  those affected, when the next update comes; the filled statement is the parts in that order;
- ``placeholders``: the ``{name}`` fields the parts use, checked on save
  (``playbooks.placeholders``): an unknown, malformed or unused placeholder is a field error;
- ``must_not``: the rules of what the statement must never say, as
  ``{"category": speculation|blame|argument|legal_threat, "phrase": "..."}`` items; they
  travel with every statement drafted from the template (``incidents.line.approved_line``).

Statements themselves (with versions, approvals, publishing) live in ``incidents``; this app
imports only ``tenants``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from playbooks import placeholders
from playbooks.agency_rows import AgencyOwned, AgencyRowManager
from tenants.models import Agency, Tenant


class StatementLanguage(models.TextChoices):
    INDONESIAN = "id", gettext_lazy("Indonesian")
    ENGLISH = "en", gettext_lazy("English")


class MustNotCategory(models.TextChoices):
    SPECULATION = "speculation", gettext_lazy("Speculation about causes or facts")
    BLAME = "blame", gettext_lazy("Blaming others")
    ARGUMENT = "argument", gettext_lazy("Arguing with the public")
    LEGAL_THREAT = "legal_threat", gettext_lazy("Legal threats")


# The required parts, in the order a filled statement lists them.
PARTS = ("part_confirmed", "part_actions", "part_empathy", "part_next_update")

PLACEHOLDER_MESSAGES = {
    "malformed": gettext_lazy("Malformed placeholder: %(names)s. Write {name} in lower case."),
    "unknown": gettext_lazy("Unknown placeholder: %(names)s. Declare it in placeholders."),
    "unused": gettext_lazy("Declared but not used in any part: %(names)s."),
    "invalid_name": gettext_lazy("Not a placeholder name: %(names)s (a-z, 0-9, _)."),
    "duplicate": gettext_lazy("Listed twice: %(names)s."),
    "unfilled": gettext_lazy("Placeholder left unfilled: %(names)s."),
}


def placeholder_error(error: placeholders.PlaceholderError) -> ValidationError:
    return ValidationError(
        str(PLACEHOLDER_MESSAGES[error.code]) % {"names": ", ".join(error.names)},
        code=f"placeholder_{error.code}",
    )


def validate_must_not(value: Any) -> None:
    """A list of at most 100 ``{"category": ..., "phrase": 1-200 characters}`` items."""
    if not isinstance(value, list) or len(value) > 100:
        raise ValidationError(_("Must be a list of at most 100 rules."), code="invalid_must_not")
    for index, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or set(item) != {"category", "phrase"}
            or item["category"] not in MustNotCategory.values
            or not isinstance(item["phrase"], str)
            or not 1 <= len(item["phrase"].strip()) <= 200
        ):
            raise ValidationError(
                _(
                    'Rule %(index)d must be {"category": one of %(categories)s, '
                    '"phrase": 1-200 characters}.'
                )
                % {"index": index, "categories": ", ".join(MustNotCategory.values)},
                code="invalid_must_not",
            )


class HoldingStatementFields(models.Model):
    name = models.CharField(max_length=200)
    language = models.CharField(
        max_length=2, choices=StatementLanguage.choices, default=StatementLanguage.INDONESIAN
    )
    part_confirmed = models.TextField(max_length=2000, help_text="What is confirmed.")
    part_actions = models.TextField(max_length=2000, help_text="What is being done.")
    part_empathy = models.TextField(max_length=2000, help_text="Empathy for those affected.")
    part_next_update = models.TextField(max_length=1000, help_text="When the next update comes.")
    placeholders = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        size=30,
        help_text="The {name} placeholders the parts use.",
    )
    must_not = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_must_not],
        help_text='What it must never say: [{"category": "speculation", "phrase": "..."}].',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def clean(self) -> None:
        super().clean()
        texts = {part: getattr(self, part) or "" for part in PARTS}
        errors: dict[str, ValidationError] = {}
        for part, text in texts.items():
            if not text.strip():
                errors[part] = ValidationError(_("This part is required."), code="required")
        for field, problem in placeholders.check(texts, self.placeholders or []).items():
            errors.setdefault(field, placeholder_error(problem))
        if errors:
            raise ValidationError(errors)

    def fill(self, values: dict[str, str]) -> str:
        """The statement text: the parts in order, every placeholder filled. A field error on
        ``values`` names the placeholders left unfilled (or not in the template)."""
        unknown = sorted(set(values) - set(self.placeholders or []))
        if unknown:
            raise ValidationError(
                {
                    "values": ValidationError(
                        str(PLACEHOLDER_MESSAGES["unknown"]) % {"names": ", ".join(unknown)},
                        code="placeholder_unknown",
                    )
                }
            )
        missing = [
            name for name in self.placeholders or [] if not str(values.get(name) or "").strip()
        ]
        if missing:
            raise ValidationError(
                {"values": placeholder_error(placeholders.PlaceholderError("unfilled", missing))}
            )
        parts = []
        for part in PARTS:
            try:
                parts.append(placeholders.fill(getattr(self, part), values))
            except placeholders.PlaceholderError as exc:
                raise ValidationError({"values": placeholder_error(exc)}) from None
        return "\n\n".join(text.strip() for text in parts)

    @property
    def must_not_phrases(self) -> tuple[str, ...]:
        return tuple(item["phrase"].strip() for item in self.must_not or [])


class StatementTemplate(AgencyOwned, HoldingStatementFields):
    """A holding-statement template of the agency (``tenant`` empty: for every tenant it
    serves) or of one tenant of it (``tenant`` set)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="statementtemplates",
        help_text="Empty: the agency's, shared by all its tenants.",
    )

    objects: ClassVar[AgencyRowManager[Self]] = AgencyRowManager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # A tenant's templates, unique within the tenant (agency rows have no tenant).
            models.UniqueConstraint(
                fields=["tenant", "name", "language"], name="statement_template_once"
            ),
            # The agency's own, unique within the agency.
            models.UniqueConstraint(
                fields=["agency", "name", "language"],
                condition=models.Q(tenant__isnull=True),
                name="agency_statement_template_once",
            ),
        ]
