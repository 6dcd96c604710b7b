"""Writes and business rules of the monitoring app, shared by REST, GraphQL, admin and tasks.

One keyword-only function per action, each in a transaction, each raising Django
``ValidationError`` keyed by field. None of the adapters writes on its own: REST serializers
(``ServiceModelSerializer``), the GraphQL mutations, ``ModelAdmin.save_model``/``delete_model``
and the tasks all call these. Rules every writer keeps:

- the model's rules (validators, ``clean()``: query syntax, source config shape, normalised
  terms, phrases and domains) and tenant-wide uniqueness (``tenants.writes``);
- a source's kind never changes;
- a mention's assignee is a member of the mention's tenant (``triage_mentions``, which single
  and bulk triage share), and every triage and every deletion of a mention is in the audit log;
- every referenced row belongs to the tenant written to (a batch's source).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.tasks import async_task

from monitoring import authors, counts, fields, rollups
from monitoring.choices import BatchStatus, Sentiment, TriageStatus
from monitoring.ingest import validate_items
from monitoring.models import (
    IngestBatch,
    IngestChunk,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MonitoredQuery,
    ScoreCorrection,
    Source,
    TrackedTerm,
    WebhookSignature,
    new_webhook_secret,
)
from monitoring.scoring import TRIGGER_LABELS
from tenants import audit
from tenants.models import Membership, Tenant, User
from tenants.writes import create_row, delete_row, ensure_same_tenant, update_row

# Items per pipeline task: large enough to batch the scorer and the SQL and to spread what runs
# once per chunk (the task, the chunk's lock, its outbox event and the early-warning evaluation
# it triggers, the batch update, the commit) over many mentions, small enough that a retried
# task redoes little work (docs/performance.md: 1,000 cut the delivery's CPU per mention by a
# fifth against 500).
CHUNK_SIZE = 1000
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
    # One INSERT per chunk (batch_size=1): Django sends several rows as UNNEST arrays, and
    # psycopg then escapes every quote of each jsonb[] element through a Python callback of
    # re.sub (Python 3.11), which cost about a third of the request's CPU; one row is sent as
    # one jsonb literal, escaped in C.
    created = IngestChunk.objects.bulk_create(
        [
            IngestChunk(tenant=tenant, batch=batch, index=index, items=chunk)
            for index, chunk in enumerate(chunks)
        ],
        batch_size=1,
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


# --- triage and deletion of mentions ------------------------------------------------------------


class _Keep:
    """The value of a triage argument that was not given: leave the column as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_BULK_TRIAGE = 500
NOT_A_MEMBER = gettext_lazy("The assignee must be a member of this tenant.")
NO_SUCH_MENTION = gettext_lazy("No such mention in this tenant.")
BIGINT_MAX = 2**63 - 1
TRIAGE_FIELDS = fields.MENTION_TRIAGE  # status, tags, assignee
# What a correction may change (``scores.correct``), and the columns it reads and writes.
CORRECTABLE = tuple(ScoreCorrection.Field.values)  # sentiment, language, provocation, triggers
LABEL_FIELDS = ("sentiment", "provocation")  # what a tenant's classifier learns from
_SCORE_COLUMNS = ("sentiment", "language", "provocation", "triggers", "published_at")
LANGUAGE_CODE = re.compile(r"^(?:[a-z]{2,3}|other)$")


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


def _tags(value: Iterable[str], attr: str = "tags") -> list[str]:
    """Tags trimmed, lower-cased and de-duplicated (first one wins), at most ``MAX_TAGS``."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError({attr: ValidationError(_("Must be a list of tags."), "invalid")})
    seen: dict[str, None] = {}
    for tag in value:
        if not isinstance(tag, str) or not tag.strip():
            raise ValidationError({attr: ValidationError(_("A tag may not be blank."), "blank")})
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                {
                    attr: ValidationError(
                        _("A tag has at most %(n)d characters.") % {"n": MAX_TAG_LENGTH},
                        "max_length",
                    )
                }
            )
        seen.setdefault(" ".join(tag.split()).lower(), None)
    if len(seen) > MAX_TAGS:
        raise ValidationError(
            {attr: ValidationError(_("At most %(n)d tags.") % {"n": MAX_TAGS}, "max_length")}
        )
    return list(seen)


def _status(value: str) -> str:
    if value not in TriageStatus.values:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("'%(value)s' is not a triage status.") % {"value": value},
                    "invalid_choice",
                )
            }
        )
    return value


def correction_values(
    *,
    sentiment: str | _Keep = KEEP,
    language: str | _Keep = KEEP,
    provocation: bool | _Keep = KEEP,
    triggers: Iterable[str] | _Keep = KEEP,
) -> dict[str, Any]:
    """The corrections given, checked and normalised (``ValidationError`` by field): a
    sentiment label, a language code (``id``, ``en``, another two- or three-letter code, or
    ``other``), the provocation flag (a boolean) and the full list of crisis triggers."""
    out: dict[str, Any] = {}
    if not isinstance(sentiment, _Keep):
        if sentiment not in Sentiment.values:
            raise ValidationError(
                {"sentiment": ValidationError(_("Not a sentiment label."), "invalid_choice")}
            )
        out["sentiment"] = sentiment
    if not isinstance(language, _Keep):
        if not isinstance(language, str) or not LANGUAGE_CODE.match(language):
            raise ValidationError(
                {
                    "language": ValidationError(
                        _("A language is a two- or three-letter code, or 'other'."), "invalid"
                    )
                }
            )
        out["language"] = language
    if not isinstance(provocation, _Keep):
        if not isinstance(provocation, bool):
            raise ValidationError(
                {"provocation": ValidationError(_("Must be true or false."), "invalid")}
            )
        out["provocation"] = provocation
    if not isinstance(triggers, _Keep):
        if isinstance(triggers, str) or not isinstance(triggers, Iterable):
            raise ValidationError(
                {"triggers": ValidationError(_("Must be a list of triggers."), "invalid")}
            )
        given = list(triggers)
        unknown = sorted({str(t) for t in given if t not in TRIGGER_LABELS})
        if unknown:
            raise ValidationError(
                {
                    "triggers": ValidationError(
                        _("Unknown triggers: %(names)s.") % {"names": ", ".join(unknown)},
                        "invalid_choice",
                    )
                }
            )
        out["triggers"] = sorted(set(given))
    return out


def _current(row: Mention, name: str) -> Any:
    """A mention's value of a correctable field, as a correction stores it."""
    if name == "provocation":
        return bool(row.provocation >= 0.5 or "provocation" in row.triggers)
    if name == "triggers":
        return sorted(row.triggers)
    return getattr(row, name)


def _apply_correction(row: Mention, name: str, value: Any) -> dict[str, tuple[Any, Any]]:
    """Sets the columns a correction changes; answers the changed columns (old, new)."""
    diff: dict[str, tuple[Any, Any]] = {}

    def put(column: str, new: Any) -> None:
        old = getattr(row, column)
        if old != new:
            diff[column] = (old, new)
            setattr(row, column, new)

    if name == "provocation":
        labels = [t for t in row.triggers if t != "provocation"]
        if value:
            put("provocation", max(row.provocation, 1.0))
            put("triggers", sorted([*labels, "provocation"]))
        else:
            put("provocation", min(row.provocation, 0.0))
            put("triggers", labels)
    else:
        put(name, value)
    return diff


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
    ``triage_mentions`` and by forms that show the errors before saving (the admin)."""
    changes: dict[str, Any] = {}
    if not isinstance(status, _Keep):
        changes["status"] = _status(status)
    if not isinstance(tags, _Keep):
        changes["tags"] = _tags(tags)
    if not isinstance(assignee, _Keep):
        changes["assignee"] = _assignee(mention.tenant_id, assignee)
    return changes


@dataclass(frozen=True)
class TriageResult:
    """What a triage request did: ``requested`` distinct ids, ``updated`` mentions whose triage
    columns changed, ``unchanged`` mentions that already had the values, and one error per id
    that was not triaged (``{"id", "code", "detail"}``; code ``not_found`` for an id that names
    no mention of the tenant, whether or not it exists elsewhere; ``max_tags`` when adding
    would leave a mention with more than ``MAX_TAGS`` tags)."""

    requested: int
    updated: int
    unchanged: int
    errors: list[dict[str, Any]] = field(default_factory=list)


def _mention_ids(ids: Iterable[Any]) -> list[int]:
    """Distinct mention ids in the given order: 1 to ``MAX_BULK_TRIAGE`` whole numbers."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        raise ValidationError({"ids": ValidationError(_("Must be a list of ids."), "invalid")})
    found: dict[int, None] = {}
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= BIGINT_MAX:
            raise ValidationError(
                {"ids": ValidationError(_("Each id must be a positive whole number."), "invalid")}
            )
        found.setdefault(value, None)
    if not found:
        raise ValidationError({"ids": ValidationError(_("Give at least one id."), "empty")})
    if len(found) > MAX_BULK_TRIAGE:
        raise ValidationError(
            {
                "ids": ValidationError(
                    _("At most %(n)d mentions per request.") % {"n": MAX_BULK_TRIAGE},
                    "max_length",
                )
            }
        )
    return list(found)


@transaction.atomic
def triage_mentions(
    *,
    tenant: Tenant | int,
    ids: Iterable[int],
    status: str | _Keep = KEEP,
    tags: Iterable[str] | _Keep = KEEP,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    assignee: User | int | str | _Keep | None = KEEP,
    sentiment: str | _Keep = KEEP,
    language: str | _Keep = KEEP,
    provocation: bool | _Keep = KEEP,
    triggers: Iterable[str] | _Keep = KEEP,
    corrected_by: User | None = None,
) -> TriageResult:
    """Triage up to ``MAX_BULK_TRIAGE`` mentions of ``tenant`` at once: the one triage service
    (``triage_mention`` is this service for one mention, ``correct_mention`` its corrections).

    ``sentiment``, ``language``, ``provocation`` (the flag) and ``triggers`` are corrections of
    the scores (the adapters check ``scores.correct``): each given field stores one
    ``ScoreCorrection`` per mention (who, when, old and new value; also when the value was
    already right: a confirmed label teaches the tenant's classifier too), writes the column,
    and moves a changed sentiment in the rollups in this transaction (``monitoring.rollups``).
    Enough new sentiment or provocation labels queue the tenant's classifier for retraining
    (``monitoring.classifier``) once this transaction commits.

    ``status`` and ``assignee`` are set on every mention; ``tags`` replaces the tags, or
    ``add_tags``/``remove_tags`` change them (not both ways at once; a tag may not be both added
    and removed). The values are checked first (``ValidationError`` by field, nothing written);
    then every mention of the tenant among ``ids`` is locked and written in this transaction,
    with one audit entry per changed mention (``tenants.audit.record``: the old and new values).
    Only the triage columns are written: the pipeline may be updating engagement meanwhile.
    """
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
    wanted = _mention_ids(ids)
    values: dict[str, Any] = {}
    if not isinstance(status, _Keep):
        values["status"] = _status(status)
    if not isinstance(assignee, _Keep):
        values["assignee"] = _assignee(tenant_id, assignee)
    added = _tags(add_tags, "add_tags")
    removed = _tags(remove_tags, "remove_tags")
    replaced = None if isinstance(tags, _Keep) else _tags(tags)
    if replaced is not None and (added or removed):
        raise ValidationError(
            {
                "tags": ValidationError(
                    _("Either set the tags or add and remove tags, not both."), "invalid"
                )
            }
        )
    corrections = correction_values(
        sentiment=sentiment, language=language, provocation=provocation, triggers=triggers
    )
    both = sorted(set(added) & set(removed))
    if both:
        raise ValidationError(
            {
                "remove_tags": ValidationError(
                    _("A tag cannot be both added and removed: %(tags)s.")
                    % {"tags": ", ".join(both)},
                    "invalid",
                )
            }
        )
    return _triage(
        tenant_id,
        wanted,
        values,
        replaced=replaced,
        added=added,
        removed=removed,
        corrections=corrections,
        corrected_by=corrected_by,
    )


def _triage(
    tenant_id: int,
    wanted: list[int],
    values: dict[str, Any],
    *,
    replaced: list[str] | None = None,
    added: list[str] | tuple[str, ...] = (),
    removed: list[str] | tuple[str, ...] = (),
    corrections: dict[str, Any] | None = None,
    corrected_by: User | None = None,
) -> TriageResult:
    """Writes checked triage values (``values``: status and assignee; the tags replaced, added
    or removed) and checked ``corrections`` to the mentions of the tenant among ``wanted``,
    with their audit entries and correction rows."""
    corrections = corrections or {}
    extra = ("matched_queries", *_SCORE_COLUMNS) if corrections else ()
    rows = {
        row.pk: row
        for row in Mention.objects.for_tenant(tenant_id)
        .filter(pk__in=wanted)
        .only("id", "tenant_id", "platform", "external_id", *TRIAGE_FIELDS, *extra)
        .select_for_update(of=("self",))
        .order_by("pk")
    }
    errors: list[dict[str, Any]] = []
    changed: list[tuple[Mention, dict[str, tuple[Any, Any]]]] = []
    unchanged = 0
    stored: list[ScoreCorrection] = []
    moves: list[rollups.Move] = []
    for mention_id in wanted:
        row = rows.get(mention_id)
        if row is None:
            errors.append({"id": mention_id, "code": "not_found", "detail": str(NO_SUCH_MENTION)})
            continue
        corrected: dict[str, tuple[Any, Any]] = {}
        old_sentiment = row.sentiment if corrections else ""
        for name in CORRECTABLE:
            if name not in corrections:
                continue
            stored.append(
                ScoreCorrection(
                    tenant_id=tenant_id,
                    mention_id=row.pk,
                    field=name,
                    old_value=_current(row, name),
                    new_value=corrections[name],
                    corrected_by=corrected_by,
                )
            )
            corrected.update(_apply_correction(row, name, corrections[name]))
        if "sentiment" in corrected:
            moves.append(
                rollups.Move(row.published_at, row.matched_queries, old_sentiment, row.sentiment)
            )
        new = dict(values)
        if replaced is not None:
            new["tags"] = replaced
        elif added or removed:
            kept = [tag for tag in row.tags if tag not in removed]
            new["tags"] = kept + [tag for tag in added if tag not in kept]
            if len(new["tags"]) > MAX_TAGS:
                detail = _("A mention has at most %(n)d tags.") % {"n": MAX_TAGS}
                errors.append({"id": mention_id, "code": "max_tags", "detail": detail})
                continue
        diff: dict[str, tuple[Any, Any]] = dict(corrected)
        for name, value in new.items():
            if name == "assignee":
                if row.assignee_id != (value.pk if value is not None else None):
                    diff[name] = (row.assignee_id, value)
            elif getattr(row, name) != value:
                diff[name] = (getattr(row, name), value)
        if not diff:
            unchanged += 1
            continue
        for name in new:
            if name in diff:
                setattr(row, name, new[name])
        changed.append((row, diff))
    if stored:
        ScoreCorrection.objects.bulk_create(stored)
        rollups.move_sentiment(tenant_id, moves)
        if any(c.field in LABEL_FIELDS for c in stored):
            from monitoring import classifier

            transaction.on_commit(lambda: classifier.maybe_retrain(tenant_id))
    if changed:
        names = sorted({name for _row, diff in changed for name in diff})
        Mention.objects.for_tenant(tenant_id).bulk_update([row for row, _diff in changed], names)
        audit.record(
            changed,
            action=LogEntry.Action.UPDATE,
            details={"operation": "triage", "tenant_id": tenant_id, "requested": len(wanted)},
        )
    return TriageResult(
        requested=len(wanted), updated=len(changed), unchanged=unchanged, errors=errors
    )


@transaction.atomic
def triage_mention(
    *,
    mention: Mention,
    status: str | _Keep = KEEP,
    tags: Iterable[str] | _Keep = KEEP,
    assignee: User | int | str | _Keep | None = KEEP,
) -> Mention:
    """Change one mention's triage status, tags and assignee through ``triage_mentions`` (see
    ``triage_changes`` for the rules); ``mention`` gets the values written."""
    changes = triage_changes(mention=mention, status=status, tags=tags, assignee=assignee)
    if changes:
        replaced = changes.pop("tags", None)
        result = _triage(mention.tenant_id, [mention.pk], changes, replaced=replaced)
        if replaced is not None:
            changes["tags"] = replaced
        if result.errors:
            raise ValidationError(NO_SUCH_MENTION, "not_found")
        for name, value in changes.items():
            setattr(mention, name, value)
    return mention


@transaction.atomic
def correct_mention(
    *,
    mention: Mention,
    corrected_by: User | None,
    sentiment: str | _Keep = KEEP,
    language: str | _Keep = KEEP,
    provocation: bool | _Keep = KEEP,
    triggers: Iterable[str] | _Keep = KEEP,
) -> Mention:
    """Correct one mention's scores through ``triage_mentions`` (``scores.correct``, checked by
    the adapters); ``mention`` is read again with the values written."""
    result = triage_mentions(
        tenant=mention.tenant_id,
        ids=[mention.pk],
        sentiment=sentiment,
        language=language,
        provocation=provocation,
        triggers=triggers,
        corrected_by=corrected_by,
    )
    if result.errors:
        raise ValidationError(NO_SUCH_MENTION, "not_found")
    mention.refresh_from_db()
    return mention


@transaction.atomic
def delete_mentions(*, tenant: Tenant | int, ids: Iterable[int]) -> int:
    """Delete mentions of ``tenant`` (a tenant admin's action: ``mentions.delete``, checked by
    the adapters) with one audit entry each, naming the mention (platform and external id, no
    text or author: the audit log outlives the data retention). Ids of no mention of the tenant
    are ignored. Returns the number deleted."""
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
    wanted = list(dict.fromkeys(ids))
    rows = list(
        Mention.objects.for_tenant(tenant_id)
        .filter(pk__in=wanted)
        .only(
            "id",
            "tenant_id",
            "platform",
            "external_id",
            "author_handle",
            "published_at",
            "sentiment",
            "matched_queries",
            "author_followers",
            "likes",
            "shares",
            "replies",
            "hashtags",
            "scores",
        )
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if not rows:
        return 0
    audit.record(
        [(row, {}) for row in rows],
        action=LogEntry.Action.DELETE,
        details={"operation": "delete_mention", "tenant_id": tenant_id},
    )
    Mention.objects.for_tenant(tenant_id).filter(pk__in=[row.pk for row in rows]).delete()
    authors.refresh(
        tenant_id, [(row.platform, row.author_handle, row.published_at) for row in rows]
    )
    counts.subtract(tenant_id, [(row.published_at, row.sentiment) for row in rows])
    rollups.remove(
        tenant_id,
        [
            rollups.Gone(
                row.published_at,
                row.matched_queries,
                row.sentiment,
                row.author_followers,
                row.likes + row.shares + row.replies,
                row.hashtags,
                (row.scores or {}).get("entities") if isinstance(row.scores, dict) else None,
            )
            for row in rows
        ],
    )
    return len(rows)


def delete_mention(*, instance: Mention) -> None:
    """Delete one mention, audited (``delete_mentions``)."""
    delete_mentions(tenant=instance.tenant_id, ids=[instance.pk])
