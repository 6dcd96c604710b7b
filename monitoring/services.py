"""Writes and business rules of the monitoring app, shared by REST, GraphQL, admin and tasks.

One keyword-only function per action, each in a transaction, each raising Django
``ValidationError`` keyed by field. None of the adapters writes on its own: REST serializers
(``ServiceModelSerializer``), the GraphQL mutations, ``ModelAdmin.save_model``/``delete_model``
and the tasks all call these. Rules every writer keeps:

- the model's rules (validators, ``clean()``: query syntax, source config shape, normalised
  terms, phrases and domains) and tenant-wide uniqueness (``tenants.writes``);
- a source's kind never changes;
- a mention's assignee is a member of the mention's tenant (``triage_mention``);
- every referenced row belongs to the tenant written to (a batch's source).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.tasks import async_task

from monitoring import fields
from monitoring.choices import BatchStatus, TriageStatus
from monitoring.ingest import validate_items
from monitoring.models import (
    IngestBatch,
    IngestChunk,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MonitoredQuery,
    Source,
    TrackedTerm,
    WebhookSignature,
    new_webhook_secret,
)
from tenants.models import Membership, Tenant, User
from tenants.writes import create_row, delete_row, ensure_same_tenant, update_row

# Items per pipeline task: large enough to batch the scorer and the SQL, small enough that a
# retried task redoes little work.
CHUNK_SIZE = 500
PIPELINE_TASK = "monitoring.tasks.process_chunk"
FAILURE_HOOK = "monitoring.tasks.on_chunk_failed"


@transaction.atomic
def accept_items(
    *,
    tenant: Tenant,
    objects: list[Any],
    source: Source | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> IngestBatch:
    """Validate raw items, store the valid ones durably as a batch and queue their processing.

    The batch, its chunks and their queued tasks are written in one transaction: either the
    caller gets a batch id and every accepted item will be processed, or nothing was stored.
    """
    ensure_same_tenant(tenant, "source", source, _("No such source in this tenant."))
    validated = validate_items(objects)
    items = validated.items
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    batch = IngestBatch.objects.create(
        tenant=tenant,
        source=source,
        item_count=len(items),
        rejected=validated.rejected,
        chunk_count=len(chunks),
        status=BatchStatus.QUEUED if chunks else BatchStatus.DONE,
    )
    created = IngestChunk.objects.bulk_create(
        [
            IngestChunk(tenant=tenant, batch=batch, index=index, items=chunk)
            for index, chunk in enumerate(chunks)
        ]
    )
    for chunk in created:
        async_task(
            PIPELINE_TASK, tenant.pk, chunk.pk, task_name=f"chunk-{chunk.pk}", hook=FAILURE_HOOK
        )
    if source is not None:
        Source.objects.for_tenant(tenant).filter(pk=source.pk).update(
            received_count=F("received_count") + len(objects),
            accepted_count=F("accepted_count") + len(items),
            rejected_count=F("rejected_count") + len(validated.rejected),
        )
    return batch


@transaction.atomic
def claim_webhook_signature(
    *, source: Source, signature: str, delivery_id: str, expires_at: datetime
) -> bool:
    """Records that ``source`` signed ``delivery_id`` with ``signature``.

    False when the signature was already used for another delivery (a replay). Two parallel
    claims of one signature meet at the UNIQUE (tenant, source, signature) constraint: the second
    waits for the first and then sees its row.
    """
    record, created = WebhookSignature.objects.get_or_create(
        tenant_id=source.tenant_id,
        source=source,
        signature=signature,
        defaults={"delivery_id": delivery_id, "expires_at": expires_at},
    )
    return created or record.delivery_id == delivery_id


def prune_webhook_signatures() -> int:
    """Deletes the signatures whose timestamp is no longer accepted anyway, tenant by tenant."""
    expired = WebhookSignature.objects.get_queryset().filter(expires_at__lt=timezone.now())
    deleted = 0
    for tenant_id in expired.tenant_ids():
        deleted += expired.for_tenant(tenant_id).delete()[0]
    return deleted


# --- monitored queries, sources, terms, lexicon additions, low-credibility domains ------------


def create_query(
    *,
    tenant: Tenant,
    name: str,
    query: str,
    languages: Iterable[str] = (),
    platforms: Iterable[str] = (),
    is_active: bool = True,
) -> MonitoredQuery:
    return create_row(
        MonitoredQuery,
        tenant=tenant,
        name=name,
        query=query,
        languages=list(languages),
        platforms=list(platforms),
        is_active=is_active,
    )


def update_query(*, instance: MonitoredQuery, **changes: Any) -> MonitoredQuery:
    return update_row(instance, writable=fields.QUERY.writable, **changes)


def delete_query(*, instance: MonitoredQuery) -> None:
    delete_row(instance)


def create_source(
    *,
    tenant: Tenant,
    name: str,
    kind: str,
    config: dict[str, Any] | None = None,
    status: str = "active",
    poll_interval_s: int = 300,
) -> Source:
    """A new source; its config is checked and normalised by ``validate_source_config``."""
    return create_row(
        Source,
        tenant=tenant,
        name=name,
        kind=kind,
        config={} if config is None else config,
        status=status,
        poll_interval_s=poll_interval_s,
    )


def update_source(*, instance: Source, **changes: Any) -> Source:
    """Change a source; the kind cannot change (create another source)."""
    if "kind" in changes and changes["kind"] != instance.kind:
        raise ValidationError(
            {
                "kind": ValidationError(
                    _("The kind of a source cannot change; create another source."), "immutable"
                )
            }
        )
    changes.pop("kind", None)
    return update_row(instance, writable=fields.SOURCE.writable, **changes)


def delete_source(*, instance: Source) -> None:
    delete_row(instance)


@transaction.atomic
def rotate_webhook_secret(*, instance: Source) -> Source:
    """A new webhook secret; the old one stops working at once."""
    instance.webhook_secret = new_webhook_secret()
    instance.save(update_fields=["webhook_secret"])
    return instance


def create_tracked_term(*, tenant: Tenant, text: str, kind: str = "brand") -> TrackedTerm:
    return create_row(TrackedTerm, tenant=tenant, text=text, kind=kind)


def update_tracked_term(*, instance: TrackedTerm, **changes: Any) -> TrackedTerm:
    return update_row(instance, writable=fields.TRACKED_TERM.writable, **changes)


def delete_tracked_term(*, instance: TrackedTerm) -> None:
    delete_row(instance)


def create_lexicon_entry(
    *, tenant: Tenant, label: str, phrase: str, weight: float | None = None
) -> LexiconEntry:
    return create_row(LexiconEntry, tenant=tenant, label=label, phrase=phrase, weight=weight)


def update_lexicon_entry(*, instance: LexiconEntry, **changes: Any) -> LexiconEntry:
    return update_row(instance, writable=fields.LEXICON_ENTRY.writable, **changes)


def delete_lexicon_entry(*, instance: LexiconEntry) -> None:
    delete_row(instance)


def create_low_credibility_domain(*, tenant: Tenant, domain: str) -> LowCredibilityDomain:
    return create_row(LowCredibilityDomain, tenant=tenant, domain=domain)


def update_low_credibility_domain(
    *, instance: LowCredibilityDomain, **changes: Any
) -> LowCredibilityDomain:
    return update_row(instance, writable=fields.LOW_CREDIBILITY_DOMAIN.writable, **changes)


def delete_low_credibility_domain(*, instance: LowCredibilityDomain) -> None:
    delete_row(instance)


# --- triage ----------------------------------------------------------------------------------


class _Keep:
    """The value of a triage argument that was not given: leave the column as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
NOT_A_MEMBER = gettext_lazy("The assignee must be a member of this tenant.")
BIGINT_MAX = 2**63 - 1


def _assignee(tenant_id: int, value: User | int | str | None) -> User | None:
    """The user among the tenant's members; an id of no account and an id of someone else's
    account get the same error, so ids reveal nothing."""
    if value is None:
        return None
    user_id = value.pk if isinstance(value, User) else value
    if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit():
        user_id = int(user_id)
    member = None
    if isinstance(user_id, int) and not isinstance(user_id, bool) and 0 < user_id <= BIGINT_MAX:
        member = (
            User.objects.filter(
                pk=user_id,
                pk__in=Membership.objects.for_tenant(tenant_id).values("user_id"),
            )
            .order_by()
            .first()
        )
    if member is None:
        raise ValidationError({"assignee": ValidationError(NOT_A_MEMBER, "does_not_exist")})
    return member


def _tags(value: Iterable[str]) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError({"tags": ValidationError(_("Must be a list of tags."), "invalid")})
    seen: dict[str, None] = {}
    for tag in value:
        if not isinstance(tag, str) or not tag.strip():
            raise ValidationError({"tags": ValidationError(_("A tag may not be blank."), "blank")})
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                {
                    "tags": ValidationError(
                        _("A tag has at most %(n)d characters.") % {"n": MAX_TAG_LENGTH},
                        "max_length",
                    )
                }
            )
        seen.setdefault(" ".join(tag.split()).lower(), None)
    if len(seen) > MAX_TAGS:
        raise ValidationError(
            {"tags": ValidationError(_("At most %(n)d tags.") % {"n": MAX_TAGS}, "max_length")}
        )
    return list(seen)


def triage_changes(
    *,
    mention: Mention,
    status: str | _Keep = KEEP,
    tags: Iterable[str] | _Keep = KEEP,
    assignee: User | int | str | _Keep | None = KEEP,
) -> dict[str, Any]:
    """The triage columns to write, checked and normalised; ``ValidationError`` by field.

    Tags are trimmed, lower-cased and de-duplicated (first one wins); the assignee (a user or
    a user id; ``None`` unassigns) must be a member of the mention's tenant. Used by
    ``triage_mention`` and by forms that show the errors before saving (the admin)."""
    changes: dict[str, Any] = {}
    if not isinstance(status, _Keep):
        if status not in TriageStatus.values:
            raise ValidationError(
                {
                    "status": ValidationError(
                        _("'%(value)s' is not a triage status.") % {"value": status},
                        "invalid_choice",
                    )
                }
            )
        changes["status"] = status
    if not isinstance(tags, _Keep):
        changes["tags"] = _tags(tags)
    if not isinstance(assignee, _Keep):
        changes["assignee"] = _assignee(mention.tenant_id, assignee)
    return changes


@transaction.atomic
def triage_mention(
    *,
    mention: Mention,
    status: str | _Keep = KEEP,
    tags: Iterable[str] | _Keep = KEEP,
    assignee: User | int | str | _Keep | None = KEEP,
) -> Mention:
    """Change a mention's triage status, tags and assignee (see ``triage_changes``).

    Only the triage columns are written: the pipeline may be updating engagement at the same
    time."""
    changes = triage_changes(mention=mention, status=status, tags=tags, assignee=assignee)
    for name, value in changes.items():
        setattr(mention, name, value)
    if changes:
        mention.save(update_fields=list(changes))
    return mention
