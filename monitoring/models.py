"""Monitoring data: queries, sources, ingest batches, mentions, rollups, scoring extensions and
early warning (alert rules, alerts and their history, detector state, hoax clusters, owned
accounts, engagement snapshots).

Every model is tenant-owned (``tenants.models.TenantOwnedModel``) and every uniqueness rule
includes the tenant, except ``PollSchedule``, the poll scheduler's own table (see there).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from monitoring.choices import (
    ACTIVE_ALERT_STATUSES,
    AlertEventKind,
    AlertKind,
    AlertStatus,
    BatchStatus,
    Platform,
    Sensitivity,
    Sentiment,
    SourceKind,
    SourceStatus,
    TermKind,
    TriageStatus,
)
from monitoring.scoring.risk import risk_band as band_of
from tenants.api.errors import INVALID_QUERY
from tenants.choices import CrisisTrigger, Severity
from tenants.crypto import EncryptedTextField
from tenants.models import OutboxEvent, Tenant, TenantOwnedModel, outbox_indexes
from tenants.outbound import redact_url, validate_outbound_url


def validate_query_syntax(value: str) -> None:
    """A monitored query must parse (docs/queries.md); the error names the position."""
    from monitoring.querylang import QuerySyntaxError, parse

    try:
        parse(value)
    except QuerySyntaxError as exc:
        raise ValidationError(str(exc), code=INVALID_QUERY.code) from None


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_CONFIG_CHARS = 4000
_HTTP_URL = URLValidator(schemes=["http", "https"])
_URL_KEYS = ("url", "base_url")  # config keys that hold a URL Sigap fetches
# The lowest risk in the partial index ``mention_high_risk`` (the critical band starts at 75,
# ``monitoring.scoring.risk.RISK_BANDS``).
HIGH_RISK_INDEXED = 70


def _config_error(message: str, code: str = "invalid_config") -> ValidationError:
    return ValidationError({"config": ValidationError(message, code=code)})


def _fetchable_url(value: object, name: str, check_address: bool = True) -> str:
    """An http(s) URL that the outbound client may fetch (``tenants.outbound``)."""
    if not isinstance(value, str) or not value:
        raise _config_error(_("'%(name)s' is required: an http(s) URL.") % {"name": name})
    try:
        _HTTP_URL(value)
    except ValidationError:
        raise _config_error(_("'%(name)s' must be an http(s) URL.") % {"name": name}) from None
    if not check_address:
        return value
    try:
        validate_outbound_url(value)
    except ValidationError as exc:
        raise _config_error(f"'{name}': {exc.messages[0]}", code="url_blocked") from None
    return value


def _mastodon_server(value: object) -> str:
    url = _fetchable_url(value, "base_url")
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment or "#" in url:
        raise _config_error(
            _("'base_url' must be the server only, such as https://mastodon.social."),
            code="url_blocked",
        )
    return f"{parts.scheme.lower()}://{parts.netloc}"


def validate_source_config(
    kind: str | None, config: object, *, check_addresses: bool = True
) -> dict[str, Any]:
    """The config every writer must keep (REST, GraphQL, admin): rss ``{url}``; mastodon
    ``{base_url, hashtag | query}`` with ``base_url`` a bare server URL; other kinds take a
    free-form object. URLs must pass the outbound client's rules (no internal literal address,
    credentials, other scheme or port). Returns the normalised config; raises
    ``ValidationError`` keyed by ``config``. Pollers pass ``check_addresses=False``: the
    outbound client checks every resolved address when it connects anyway, and the Mastodon
    poller refuses a base URL that is more than a server; both answer with their own stable
    errors."""
    if not isinstance(config, dict):
        raise _config_error(_("Must be a JSON object."))
    if len(str(config)) > MAX_CONFIG_CHARS:
        raise _config_error(
            _("Too large (%(limit)d characters at most).") % {"limit": MAX_CONFIG_CHARS}
        )
    if kind == SourceKind.RSS:
        extra = sorted(set(config) - {"url"})
        if extra:
            raise _config_error(
                _("Unknown keys for an rss source: %(keys)s.") % {"keys": ", ".join(extra)}
            )
        return {"url": _fetchable_url(config.get("url"), "url", check_addresses)}
    if kind == SourceKind.MASTODON:
        extra = sorted(set(config) - {"base_url", "hashtag", "query"})
        if extra:
            raise _config_error(
                _("Unknown keys for a mastodon source: %(keys)s.") % {"keys": ", ".join(extra)}
            )
        base_url = (
            _mastodon_server(config.get("base_url"))
            if check_addresses
            else _fetchable_url(config.get("base_url"), "base_url", check_address=False)
        )
        chosen = {k: config[k] for k in ("hashtag", "query") if config.get(k)}
        if len(chosen) != 1:
            raise _config_error(_("A mastodon source needs exactly one of 'hashtag' or 'query'."))
        (key, text), *_rest = chosen.items()
        if not isinstance(text, str) or len(text) > 200:
            raise _config_error(
                _("'%(key)s' must be a string of at most 200 characters.") % {"key": key}
            )
        if key == "hashtag":
            text = text.lstrip("#")
            if not re.fullmatch(r"\w+", text):
                raise _config_error(_("'hashtag' must be one word, with or without '#'."))
        return {"base_url": base_url, key: text}
    return config


class MonitoredQuery(TenantOwnedModel):
    """A named boolean query (see docs/queries.md) with optional language and platform filters."""

    name = models.CharField(max_length=120)
    query = models.TextField(
        max_length=2000,
        validators=[validate_query_syntax],
        help_text="Boolean query, e.g. kopi AND (basi OR boikot*)",
    )
    languages = ArrayField(
        models.CharField(max_length=8),
        default=list,
        blank=True,
        help_text="Only mentions in these languages (empty: all).",
    )
    platforms = ArrayField(
        models.CharField(max_length=16, choices=Platform.choices),
        default=list,
        blank=True,
        help_text="Only mentions from these platforms (empty: all).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "monitored queries"
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="query_unique_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Language and platform filters are sets: kept sorted, without repeats."""
        super().clean()
        self.languages = sorted(set(self.languages or ()))
        self.platforms = sorted(set(self.platforms or ()))


class Source(TenantOwnedModel):
    """Where mentions come from, with its health."""

    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    name = models.CharField(max_length=120)
    config = models.JSONField(
        default=dict,
        blank=True,
        help_text="rss: {url}; mastodon: {base_url, hashtag|query}; upload: {mapping}",
    )
    webhook_secret = EncryptedTextField(
        default=new_webhook_secret,
        editable=False,
        help_text="Shared HMAC secret of a signed webhook, encrypted at rest (tenants.crypto); "
        "shown once, at creation and rotation.",
    )
    status = models.CharField(
        max_length=16, choices=SourceStatus.choices, default=SourceStatus.ACTIVE
    )
    poll_interval_s = models.PositiveIntegerField(default=300)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    cursor = models.JSONField(default=dict, blank=True, help_text="etag/modified/since_id")
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    received_count = models.PositiveBigIntegerField(default=0)
    accepted_count = models.PositiveBigIntegerField(default=0)
    rejected_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="source_unique_name")
        ]
        indexes = [models.Index(fields=["kind", "status", "next_poll_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def clean(self) -> None:
        super().clean()
        self.config = validate_source_config(self.kind, self.config)

    @property
    def public_config(self) -> dict[str, Any]:
        """The config as readers see it: credentials in stored URLs (from before they were
        refused) are masked."""
        config = dict(self.config or {})
        for key in _URL_KEYS:
            if isinstance(config.get(key), str):
                config[key] = redact_url(config[key])
        return config


class PollSchedule(models.Model):
    """When each polled source is next due: the poll scheduler's table (``monitoring.polling``).

    A scheduling table, not a tenant table (``tenants.dbtables.SCHEDULING_MODELS``): the
    scheduler reads it across tenants every minute and locks the rows it claims with
    ``FOR UPDATE SKIP LOCKED``, so it never locks a tenant's rows (its sources) across tenants;
    each claimed source is then polled by a task pinned to its tenant. It holds no client data:
    one row per RSS or Mastodon source that is not paused (``source_id``, a plain id), kept
    in step with the source by ``polling.sync_schedule`` whenever a source is saved or deleted,
    and deleted with its tenant. ``leased_until``: a claimed source is not claimed again until
    its poll reschedules it or the lease runs out (a worker that died mid-poll).
    """

    source_id = models.BigIntegerField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    next_poll_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_poll_at"], name="poll_schedule_due")]

    def __str__(self) -> str:
        return f"source {self.source_id} due {self.next_poll_at}"


class WebhookDelivery(TenantOwnedModel):
    """A delivery id seen on a signed webhook: a repeat answers 200 and stores nothing."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=200)
    batch = models.ForeignKey("IngestBatch", null=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "delivery_id"], name="delivery_unique"
            )
        ]


class WebhookSignature(TenantOwnedModel):
    """A signature a webhook source has used, kept while its timestamp is still accepted.

    The same signature with another delivery id is a replay and is refused; the UNIQUE
    (tenant, source, signature) constraint makes sure two parallel replays cannot both be stored.
    Rows whose ``expires_at`` (signed timestamp + the 300 s tolerance) passed are pruned: by then
    the timestamp check refuses the signature anyway.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64, help_text="Hex HMAC-SHA256 digest.")
    delivery_id = models.CharField(max_length=200)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "signature"], name="webhook_signature_unique"
            )
        ]


class IngestBatch(TenantOwnedModel):
    """Items accepted by one request (or poll, or upload), stored durably before processing."""

    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    status = models.CharField(
        max_length=16, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    item_count = models.PositiveIntegerField(default=0, help_text="Items accepted.")
    rejected = models.JSONField(default=list, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    inserted_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "ingest batches"
        indexes = [models.Index(fields=["tenant", "-received_at"])]


class IngestChunk(TenantOwnedModel):
    """A slice of a batch (a few hundred items): the unit one pipeline task processes.

    The items (canonical, as ``monitoring.ingest.validate_items`` gives them, each with its
    ``index`` in the request) stay here until the chunk's mentions are committed; ``done_at`` is
    set in the same transaction, so a task delivered twice (or retried after a killed worker)
    does nothing twice. ``items`` is stored out of line without compression (``STORAGE
    EXTERNAL``, migration 0019): it lives for seconds, and compressing about 0.4 MB of JSON per
    1,000 items took 40 % of the database's CPU for the request's insert.
    """

    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    items = models.JSONField(default=list)
    inserted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "batch", "index"], name="chunk_unique_index")
        ]


class Mention(TenantOwnedModel):
    """One post, comment or article about a tenant, normalised and scored."""

    platform = models.CharField(gettext_lazy("platform"), max_length=16, choices=Platform.choices)
    external_id = models.CharField(gettext_lazy("external ID"), max_length=200)
    url = models.URLField(gettext_lazy("URL"), max_length=2000, blank=True)
    author_handle = models.CharField(gettext_lazy("author handle"), max_length=200, blank=True)
    author_name = models.CharField(gettext_lazy("author name"), max_length=200, blank=True)
    author_followers = models.PositiveBigIntegerField(gettext_lazy("author followers"), default=0)
    author_verified = models.BooleanField(gettext_lazy("verified author"), default=False)
    text = models.TextField(gettext_lazy("text"))
    language = models.CharField(gettext_lazy("language"), max_length=8, blank=True)
    published_at = models.DateTimeField(gettext_lazy("published at"))
    ingested_at = models.DateTimeField(gettext_lazy("ingested at"), auto_now_add=True)
    scored_at = models.DateTimeField(gettext_lazy("scored at"), null=True, blank=True)
    likes = models.PositiveBigIntegerField(gettext_lazy("likes"), default=0)
    shares = models.PositiveBigIntegerField(gettext_lazy("shares"), default=0)
    replies = models.PositiveBigIntegerField(gettext_lazy("replies"), default=0)
    views = models.PositiveBigIntegerField(gettext_lazy("views"), default=0)
    raw = models.JSONField(gettext_lazy("raw data"), default=dict, blank=True)
    matched_queries = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        verbose_name=gettext_lazy("matched queries"),
    )
    sentiment = models.CharField(
        gettext_lazy("sentiment"), max_length=8, choices=Sentiment.choices, blank=True
    )
    sentiment_scores = models.JSONField(gettext_lazy("sentiment scores"), default=dict, blank=True)
    language_confidence = models.FloatField(gettext_lazy("language confidence"), default=0)
    provocation = models.FloatField(gettext_lazy("provocation"), default=0)
    triggers = ArrayField(
        models.CharField(max_length=32),
        default=list,
        blank=True,
        verbose_name=gettext_lazy("triggers"),
    )
    scores = models.JSONField(
        gettext_lazy("scores"),
        default=dict,
        blank=True,
        help_text=gettext_lazy("Evidence and entities."),
    )
    hashtags = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        verbose_name=gettext_lazy("hashtags"),
    )
    risk = models.PositiveSmallIntegerField(gettext_lazy("risk"), default=0)
    scorer_version = models.CharField(gettext_lazy("scorer version"), max_length=16, blank=True)
    status = models.CharField(
        gettext_lazy("status"),
        max_length=16,
        choices=TriageStatus.choices,
        default=TriageStatus.NEW,
    )
    tags = ArrayField(
        models.CharField(max_length=50), default=list, blank=True, verbose_name=gettext_lazy("tags")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_mentions",
        db_index=False,  # the partial ``mention_assigned`` below: new mentions have no assignee
    )
    batch = models.ForeignKey(
        IngestBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    search = models.GeneratedField(
        expression=SearchVector("text", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = gettext_lazy("mention")
        verbose_name_plural = gettext_lazy("mentions")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "platform", "external_id"], name="mention_unique_external"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-published_at", "-id"], name="mention_timeline"),
            models.Index(fields=["tenant", "sentiment", "-published_at"], name="mention_sentiment"),
            # Risk filters, and the lists ordered by risk (monitoring.filtersets.MENTION_ORDERINGS:
            # risk, then published time, then id, all one way) walk this index at any depth.
            models.Index(fields=["tenant", "risk", "published_at", "id"], name="mention_by_risk"),
            # The top of the risk scale, newest first: lists filtered by ``risk_band=critical``
            # or ``min_risk`` of 70 or more walk only the rare rows this high (then re-check the
            # band and the other filters), instead of reading every such row along
            # ``mention_by_risk`` and sorting them. A lower bound under 70 walks
            # ``mention_by_risk``.
            models.Index(
                fields=["tenant", "-published_at", "-id"],
                condition=models.Q(risk__gte=HIGH_RISK_INDEXED),
                name="mention_high_risk",
            ),
            # One author's mentions (``?author=``), and those of one author in one hour: what
            # keeping the author rollup (``monitoring.authors``) and top authors' edges read.
            models.Index(fields=["tenant", "author_handle", "published_at"], name="mention_author"),
            # Top authors by reach walk this index from the largest accounts down, and so do
            # the lists ordered by reach (followers, then published time, then id).
            models.Index(
                fields=["tenant", "-author_followers", "-published_at", "-id"],
                name="mention_by_reach",
            ),
            # Only the rows still holding raw JSON: what raw-payload retention walks and clears
            # (monitoring.retention), so its daily scan never revisits cleared rows.
            models.Index(
                fields=["tenant", "published_at"],
                condition=~models.Q(raw={}),
                name="mention_raw_kept",
            ),
            GinIndex(fields=["matched_queries"], name="mention_queries"),
            GinIndex(fields=["search"], name="mention_search"),
            # A user's assigned mentions (what deleting the user sets to NULL, across tenants).
            # Partial: every mention is inserted unassigned, and a full index on the column took
            # one more entry per insert (a NULL) for rows no read looks up.
            models.Index(
                fields=["assignee"],
                condition=models.Q(assignee__isnull=False),
                name="mention_assigned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"

    @property
    def risk_band(self) -> str:
        """The band of ``risk``: low, elevated, high or critical (``monitoring.scoring.risk``)."""
        return band_of(self.risk)


class MetricBucket(TenantOwnedModel):
    """Counts per 5-minute bucket, per tenant and query (query_id 0: every mention)."""

    query_id = models.BigIntegerField(default=0)
    bucket = models.DateTimeField()
    mentions = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    reach = models.PositiveBigIntegerField(default=0)
    engagement = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["bucket"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "query_id", "bucket"], name="bucket_unique")
        ]


class TermBucket(TenantOwnedModel):
    """Mentions per hour carrying a hashtag or a tracked term, per query (query_id 0: all)."""

    class Kind(models.TextChoices):
        HASHTAG = "hashtag", "Hashtag"
        TERM = "term", "Tracked term"

    query_id = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    bucket = models.DateTimeField()
    text = models.CharField(max_length=200)
    mentions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["bucket"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "query_id", "kind", "bucket", "text"], name="term_bucket_unique"
            )
        ]


class AuthorRollup(TenantOwnedModel):
    """What the two author rollups hold per (query, time bucket, author): mentions, the
    author's largest follower count (``reach``) and largest name in the bucket."""

    query_id = models.BigIntegerField(default=0)
    bucket = models.DateTimeField()
    platform = models.CharField(max_length=16, choices=Platform.choices)
    author_handle = models.CharField(max_length=200)
    author_name = models.CharField(max_length=200, blank=True)
    mentions = models.PositiveIntegerField(default=0)
    reach = models.PositiveBigIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["bucket"]


class AuthorBucket(AuthorRollup):
    """Mentions per hour (UTC) and author, per query (query_id 0: every mention), with the
    author's largest follower count (``reach``) and largest name in that hour: what top authors
    read (``monitoring.authors``). Unlike the other rollups it names people, so it is kept
    exactly in step with the mentions: the pipeline adds to it in the chunk's transaction, and
    deleting mentions (retention, the delete endpoints) or changing their follower counts
    recomputes the hours they were in, which removes the rows of hours left without mentions."""

    class Meta(AuthorRollup.Meta):
        constraints = [
            # Also what recomputing one author's hour finds (every query at once).
            models.UniqueConstraint(
                fields=["tenant", "platform", "author_handle", "bucket", "query_id"],
                name="author_bucket_unique",
            )
        ]
        indexes = [
            # Top authors walk a period's rows from the largest reach down.
            models.Index(
                fields=["tenant", "query_id", "-reach", "-bucket", "platform", "author_handle"],
                name="author_bucket_by_reach",
            )
        ]


class AuthorSlot(AuthorRollup):
    """``AuthorBucket`` at the 5-minute grain (UTC, on the same boundaries as ``MetricBucket``):
    what top authors read for the partial hours at the ends of a period, so that only the
    minutes before the first and after the last 5-minute boundary are read from the mentions.
    Kept like ``AuthorBucket``, in the same statements (``monitoring.authors``): added by the
    pipeline, recomputed hour by hour where mentions go or lose followers."""

    class Meta(AuthorRollup.Meta):
        constraints = [
            # Also what recomputing one author's hour finds, and the candidates' figures (the
            # handles, then the slots of the period's ends): both are conditions of the index.
            models.UniqueConstraint(
                fields=["tenant", "author_handle", "bucket", "platform", "query_id"],
                name="author_slot_unique",
            )
        ]
        indexes = [
            # The authors of a few slots with at least some reach (who could rank).
            models.Index(
                fields=["tenant", "query_id", "bucket", "-reach", "platform", "author_handle"],
                name="author_slot_by_reach",
            )
        ]


class MentionTally(TenantOwnedModel):
    """Mentions stored per hour (UTC) and sentiment: what mention counts filtered by sentiment
    and published time read (``monitoring.counts``). Kept exactly in step with the mentions:
    the pipeline adds, deleting mentions (retention, the delete endpoints) subtracts."""

    bucket = models.DateTimeField()
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
    mentions = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["bucket"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "bucket", "sentiment"], name="mention_tally_unique"
            )
        ]


class PipelineEvent(OutboxEvent):
    """What one pipeline chunk changed: the outbox row its transaction writes (``tenants.outbox``).

    ``inserted_ids`` are the mentions the chunk created; ``updated_ids`` those that existed and
    whose engagement or follower count changed (a resent, unchanged item is in neither).
    ``query_ids`` are the monitored queries any of them matched; ``buckets`` are the starts of the
    5-minute ``MetricBucket`` rows whose counts the chunk changed (those of inserted mentions; the
    hourly ``TermBucket`` is the same start floored to the hour). A chunk that changed nothing
    writes no event. Subscribers register with ``tenants.outbox.register_subscriber``.
    """

    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="+")
    query_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    buckets = ArrayField(models.DateTimeField(), default=list, blank=True)
    inserted_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    updated_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)

    # a batch subscriber's cap counts mentions (tenants.outbox)
    outbox_weight = "cardinality(e.inserted_ids) + cardinality(e.updated_ids)"

    class Meta:
        indexes = outbox_indexes("pipeline_event")

    def __str__(self) -> str:
        return f"chunk of batch {self.batch_id}: +{len(self.inserted_ids)} ~{len(self.updated_ids)}"


class TrackedTerm(TenantOwnedModel):
    """A brand, product or spokesperson name reported as a ``term`` entity when it appears."""

    text = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=TermKind.choices, default=TermKind.BRAND)

    class Meta:
        ordering = ["text"]
        constraints = [models.UniqueConstraint(fields=["tenant", "text"], name="term_unique_text")]

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        """Runs of whitespace count as one space; a blank term is refused."""
        super().clean()
        self.text = " ".join((self.text or "").split())
        if not self.text:
            raise ValidationError(
                {"text": ValidationError(_("This field may not be blank."), "blank")}
            )


class LexiconEntry(TenantOwnedModel):
    """A tenant's addition to a trigger lexicon (or the provocation lexicon)."""

    label = models.CharField(max_length=32)
    phrase = models.CharField(max_length=200)
    weight = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["label", "phrase"]
        verbose_name_plural = "lexicon entries"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "label", "phrase"], name="lexicon_unique")
        ]

    def clean(self) -> None:
        """The label is a crisis trigger (``tenants.choices.CrisisTrigger``, the scorer's
        labels); the phrase is matched in lower case with single spaces; the weight is 0-1."""
        super().clean()
        if self.label not in CrisisTrigger.values:
            raise ValidationError(
                {
                    "label": ValidationError(
                        _("'%(label)s' is not a crisis trigger.") % {"label": self.label},
                        "invalid_choice",
                    )
                }
            )
        self.phrase = " ".join((self.phrase or "").split()).lower()
        if not self.phrase:
            raise ValidationError(
                {"phrase": ValidationError(_("This field may not be blank."), "blank")}
            )
        if self.weight is not None and not 0.0 <= self.weight <= 1.0:
            raise ValidationError(
                {"weight": ValidationError(_("Must be between 0 and 1."), "out_of_range")}
            )


class LowCredibilityDomain(TenantOwnedModel):
    """A domain whose links raise the ``hoax`` trigger."""

    domain = models.CharField(max_length=253)

    class Meta:
        ordering = ["domain"]
        constraints = [models.UniqueConstraint(fields=["tenant", "domain"], name="domain_unique")]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        """A bare domain name in lower case, such as ``hoaks.example``."""
        super().clean()
        self.domain = (self.domain or "").strip().lower().lstrip(".")
        if not DOMAIN_RE.match(self.domain):
            raise ValidationError(
                {
                    "domain": ValidationError(
                        _("Enter a domain name such as 'hoaks.example', without scheme or path."),
                        "invalid_domain",
                    )
                }
            )


# --- early warning (docs/alerts.md) ------------------------------------------------------------


def validate_positive_duration(value: timedelta) -> None:
    """A rule's window and cooldown are positive durations."""
    if value is not None and value <= timedelta(0):
        raise ValidationError(_("Must be a positive duration."), code="not_positive")


MAX_RULE_WINDOW = timedelta(days=30)


def validate_rule_duration(value: timedelta) -> None:
    validate_positive_duration(value)
    if value is not None and value > MAX_RULE_WINDOW:
        raise ValidationError(_("Must be at most 30 days."), code="too_long")


class AlertRule(TenantOwnedModel):
    """An early-warning rule of a tenant, optionally narrowed to one of its queries.

    ``kind`` names the detector (``monitoring.alerting``); ``sensitivity`` picks its preset
    thresholds; ``window`` and ``cooldown`` are positive durations; ``severity`` is the alerts'
    severity (blank: from the evidence's score, never SEV1); ``params`` holds kind-specific
    settings (``monitoring.early_warning.params``). The query must be the rule's tenant's.
    """

    name = models.CharField(max_length=120)
    query = models.ForeignKey(
        MonitoredQuery,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
        help_text=gettext_lazy("Only mentions of this query (empty: every mention)."),
    )
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    sensitivity = models.CharField(
        max_length=8, choices=Sensitivity.choices, default=Sensitivity.MEDIUM
    )
    window = models.DurationField(default=timedelta(hours=1), validators=[validate_rule_duration])
    cooldown = models.DurationField(default=timedelta(hours=2), validators=[validate_rule_duration])
    severity = models.CharField(
        max_length=8,
        choices=Severity.choices,
        blank=True,
        help_text=gettext_lazy("Blank: from the strength of the evidence (SEV2 to SEV4)."),
    )
    enabled = models.BooleanField(default=True)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="alert_rule_unique_name")
        ]
        indexes = [models.Index(fields=["tenant", "enabled", "kind"], name="alert_rule_enabled")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The query is the rule's tenant's; params fit the kind."""
        from monitoring.early_warning.params import validate_params

        super().clean()
        if self.query_id is not None and self.tenant_id is not None:
            owner = (
                MonitoredQuery.objects.for_tenant(self.tenant_id).filter(pk=self.query_id).exists()
            )
            if not owner:
                raise ValidationError(
                    {"query": ValidationError(_("No such query in this tenant."), "not_found")}
                )
        self.params = validate_params(self.kind, self.params)


class HoaxCluster(TenantOwnedModel):
    """Near-duplicate copies of one claim (``monitoring.alerting.hoax``), kept in the database
    so a cluster survives restarts and grows across workers. ``key`` is the first member's
    ``platform:external_id``."""

    key = models.CharField(max_length=220)
    # A plain id, not a foreign key: deleting mentions (retention) stays a fast bulk delete.
    first_mention_id = models.BigIntegerField(null=True, blank=True)
    first_poster = models.CharField(max_length=200, blank=True)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    text = models.TextField(blank=True, help_text=gettext_lazy("The first member's text."))
    member_count = models.PositiveIntegerField(default=0)
    author_count = models.PositiveIntegerField(default=0)
    authors = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    low_credibility_links = models.JSONField(default=list, blank=True)
    spread = models.JSONField(
        default=list, blank=True, help_text=gettext_lazy("Members per hour since the first.")
    )
    alerted_at = models.DateTimeField(null=True, blank=True)
    member_authors = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "Distinct authors of all its members (HoaxClusterAuthor); empty when not kept."
        ),
    )

    class Meta:
        ordering = ["-last_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="hoax_cluster_unique_key")
        ]
        indexes = [models.Index(fields=["tenant", "-last_at"], name="hoax_cluster_recent")]

    def __str__(self) -> str:
        return self.key


class HoaxMember(TenantOwnedModel):
    """A mention with a claim long enough to sign, its MinHash signature and its cluster once
    it has a near copy (pruned after the window).

    Written once per signed mention (one insert per chunk), so neither key has a foreign-key
    constraint (their deferred checks ran once per row at every commit), as ``HoaxBand``'s
    tenant: the rows stay the tenant's (``tenant_id`` in each key and statement, the row-level
    policy) and deleting a tenant or a cluster still deletes them (Django's ``on_delete``).
    The time index, read only by the prune, is a BRIN one (rows come in time order)."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="hoaxmembers", db_constraint=False
    )
    mention_id = models.BigIntegerField()
    cluster = models.ForeignKey(
        HoaxCluster,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="members",
        db_constraint=False,
        db_index=False,  # ``hoax_member_cluster`` serves the cascade (tenant, cluster)
        help_text="Empty while the mention has no near copy yet.",
    )
    author = models.CharField(max_length=220, help_text="platform:handle")
    published_at = models.DateTimeField()
    signature = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "mention_id"], name="hoax_member_unique")
        ]
        indexes = [
            models.Index(fields=["tenant", "cluster", "published_at"], name="hoax_member_cluster"),
            BrinIndex(fields=["tenant", "published_at"], name="hoax_member_time"),
        ]


class HoaxClusterAuthor(TenantOwnedModel):
    """One author (platform:handle) of a cluster's members: the chunk's new ones counted in
    ``HoaxCluster.member_authors``, so a cluster wholly inside the rule's window is judged
    without reading its members again (``monitoring.early_warning.live``). ``first_at``: when
    the author's first member here was judged (for the prune). Plain ids and no foreign-key
    constraint, as ``HoaxBand``; deleting a tenant still deletes the rows."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="hoaxclusterauthors", db_constraint=False
    )
    cluster_id = models.BigIntegerField()
    author = models.CharField(max_length=220)
    first_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "cluster_id", "author"], name="hoax_cluster_author_unique"
            )
        ]
        indexes = [BrinIndex(fields=["tenant", "first_at"], name="hoax_cluster_author_time")]


class HoaxBand(TenantOwnedModel):
    """One LSH band hash (the band's index mixed in, ``hoax.band_hashes``) and the latest
    member whose signature has it: (tenant, band, hash, mention, time), one row per hash.

    Looked up by hash to find earlier near copies, at most one per band whatever the number of
    copies; pruned after the rule's window.

    Written at up to 16 rows per signed mention (one upsert per chunk), so the tenant key has
    no foreign-key constraint: its deferred check, one per inserted row at every commit, was
    a third of the upsert's own cost. The rows stay the tenant's as every tenant row does
    (``tenant_id`` in each key and statement, the row-level policy), and deleting a tenant
    still deletes them (Django's ``on_delete``, which never relied on the constraint).

    Most writes move a row to a newer member (the upsert's update): its time index is a BRIN
    one, which PostgreSQL (16 and later) does not count against heap-only updates, and the
    table keeps free room in each page (``fillfactor``, migration 0023), so such an update
    writes no index entry at all (three before: the key, the hash and the time)."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="hoaxbands", db_constraint=False
    )
    band = models.SmallIntegerField()  # which of the signature's bands (0-15) the hash is of
    hash = models.BigIntegerField()
    mention_id = models.BigIntegerField()
    published_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "hash"], name="hoax_band_unique_hash")
        ]
        indexes = [BrinIndex(fields=["tenant", "published_at"], name="hoax_band_time")]


class Alert(TenantOwnedModel):
    """One alert: a rule fired, explaining why. One episode is one alert (``dedupe_key``):
    later evidence merges into the active alert (open, acknowledged or snoozed) and its history
    (``AlertEvent``). Snoozing is never acknowledging."""

    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    query = models.ForeignKey(
        MonitoredQuery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cluster = models.ForeignKey(
        HoaxCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    dedupe_key = models.CharField(max_length=255)
    title = models.CharField(max_length=200, blank=True)
    explanation = models.TextField(blank=True)
    observed = models.FloatField()
    baseline = models.FloatField()
    threshold = models.FloatField()
    sigma = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    subject = models.JSONField(default=dict, blank=True, help_text="account, cluster, author…")
    details = models.JSONField(default=dict, blank=True)
    sample_mention_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    sample_authors = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    evidence_count = models.PositiveIntegerField(default=1)
    first_evidence_at = models.DateTimeField()
    last_evidence_at = models.DateTimeField()
    cooldown_until = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    dismissed_reason = models.TextField(blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One active alert per episode: concurrent firings meet here.
            models.UniqueConstraint(
                fields=["tenant", "rule", "dedupe_key"],
                condition=models.Q(status__in=ACTIVE_ALERT_STATUSES),
                name="alert_one_active_episode",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"], name="alert_by_status"),
            models.Index(fields=["tenant", "rule", "dedupe_key"], name="alert_episode"),
            models.Index(
                fields=["snoozed_until"],
                condition=models.Q(status=AlertStatus.SNOOZED),
                name="alert_snoozed",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} {self.dedupe_key}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ALERT_STATUSES


class AlertEvent(TenantOwnedModel):
    """An alert's history: fired, status changes (who, when, from, to, note) and merged
    evidence."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=AlertEventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=16, choices=AlertStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=AlertStatus.choices, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tenant", "alert", "at"], name="alert_event_by_alert")]


class DetectorState(TenantOwnedModel):
    """A rule's detector state for one series (``series``: ``q<query id>``, an account, …) as
    JSON, updated as buckets and mentions arrive, so no evaluation re-reads history.
    ``due_at``: when the sweep next has work for it (a bucket closing)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    series = models.CharField(max_length=100)
    state = models.JSONField(default=dict)
    due_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "rule", "series"], name="detector_state_unique"
            )
        ]
        indexes = [models.Index(fields=["due_at"], name="detector_state_due")]


class OwnedAccount(TenantOwnedModel):
    """A tenant's own account on a platform (handle normalised as mentions store it), with the
    history profile its posts are compared with (``monitoring.alerting.owned``)."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    handle = models.CharField(max_length=200)
    label = models.CharField(max_length=120, blank=True)
    profile = models.JSONField(default=dict, blank=True, editable=False)
    posts_seen = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "platform", "handle"], name="owned_account_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle}"

    def clean(self) -> None:
        """The handle as mentions store it (``monitoring.ingest.normalise_handle``)."""
        from monitoring.ingest import normalise_handle

        super().clean()
        self.handle = normalise_handle(self.platform or "", self.handle or "")
        if not self.handle:
            raise ValidationError(
                {"handle": ValidationError(_("This field may not be blank."), "blank")}
            )


class EngagementSnapshot(TenantOwnedModel):
    """A mention's engagement when a source re-delivered it with new numbers (the pipeline's
    update path): what the velocity rule reads. Only sources that re-deliver items feed it."""

    # A plain id, not a foreign key: deleting mentions (retention) stays a fast bulk delete;
    # snapshots of a deleted mention go with the two-day pruning.
    mention_id = models.BigIntegerField()
    at = models.DateTimeField()
    likes = models.PositiveBigIntegerField(default=0)
    shares = models.PositiveBigIntegerField(default=0)
    replies = models.PositiveBigIntegerField(default=0)
    views = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["at"]
        indexes = [
            models.Index(fields=["tenant", "mention_id", "at"], name="engagement_by_mention"),
            models.Index(fields=["tenant", "at"], name="engagement_time"),
        ]

    @property
    def engagement(self) -> int:
        return self.likes + self.shares + self.replies


class ScoreCorrection(TenantOwnedModel):
    """A team member's correction of one scored field of a mention (``services.correct_mention``):
    who, when, the old and the new value. The mention's column holds the new value; the latest
    correction of a field is the label a tenant's classifier learns from (``scoring_models``).
    Deleting the mention deletes its corrections (retention applies to them too)."""

    class Field(models.TextChoices):
        SENTIMENT = "sentiment", gettext_lazy("Sentiment")
        LANGUAGE = "language", gettext_lazy("Language")
        PROVOCATION = "provocation", gettext_lazy("Provocation flag")
        TRIGGERS = "triggers", gettext_lazy("Crisis triggers")

    mention = models.ForeignKey(
        Mention,
        verbose_name=gettext_lazy("mention"),
        on_delete=models.CASCADE,
        related_name="corrections",
    )
    field = models.CharField(gettext_lazy("field"), max_length=16, choices=Field.choices)
    old_value = models.JSONField(gettext_lazy("old value"), null=True, blank=True)
    new_value = models.JSONField(gettext_lazy("new value"), null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("corrected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(gettext_lazy("corrected at"), auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("score correction")
        verbose_name_plural = gettext_lazy("score corrections")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The labels of a tenant (latest per mention and field) and "corrections since".
            models.Index(fields=["tenant", "field", "mention", "-id"], name="correction_labels"),
        ]

    def __str__(self) -> str:
        return f"{self.field} of {self.mention_id}: {self.old_value!r} -> {self.new_value!r}"


class ScoringModel(TenantOwnedModel):
    """One version of a tenant's classifier: a residual layer over the base models learnt from
    the tenant's corrections (``monitoring.scoring.adapt``), with its cross-validated accuracy
    against the base model's. At most one version of a tenant is live; the pipeline scores the
    tenant's new mentions with it."""

    class Status(models.TextChoices):
        LIVE = "live", gettext_lazy("Live")
        READY = "ready", gettext_lazy("Ready (not live)")
        REJECTED = "rejected", gettext_lazy("Below the base model")

    version = models.PositiveIntegerField(gettext_lazy("version"))
    status = models.CharField(
        gettext_lazy("status"), max_length=16, choices=Status.choices, default=Status.READY
    )
    weights = models.BinaryField(gettext_lazy("weights"), editable=False)
    base = models.CharField(gettext_lazy("base models"), max_length=32)
    corrections = models.PositiveIntegerField(gettext_lazy("corrections used"), default=0)
    last_correction_id = models.BigIntegerField(default=0)
    metrics = models.JSONField(gettext_lazy("accuracy"), default=dict, blank=True)
    created_at = models.DateTimeField(gettext_lazy("trained at"), auto_now_add=True)
    live_since = models.DateTimeField(gettext_lazy("live since"), null=True, blank=True)
    # Mentions published from this moment on carry this version's scores: when it went live,
    # moved back by re-scoring with it. Baselines start here (``classifier.scores_since``).
    scores_from = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(gettext_lazy("taken out of use"), null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("tenant classifier")
        verbose_name_plural = gettext_lazy("tenant classifiers")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="scoring_model_version"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status="live"),
                name="scoring_model_one_live",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.status})"


# Escalation policies and per-alert escalation state (``monitoring.escalation``), defined in
# their own module and registered with this app.
from monitoring.escalation.models import AlertEscalation as AlertEscalation  # noqa: E402
from monitoring.escalation.models import EscalationPolicy as EscalationPolicy  # noqa: E402
