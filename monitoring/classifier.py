"""A tenant's own classifier: trained from its corrections, versioned, live only when it is at
least as accurate as the base models, with rollback (docs/scoring.md, "Tenant classifiers").

What it guarantees:

* **Labels** are the latest sentiment and provocation correction of each mention of the tenant
  (``ScoreCorrection``, written by ``services.triage_mentions``); the text is the mention's.
* **Training** (:func:`train_scoring_model`, on the slow queue: ``tasks.train_scoring_model``)
  runs ``monitoring.scoring.adapt.train`` — the same function as ``manage.py score
  --adapt-from`` — and stores a new ``ScoringModel`` version with its weights and its
  cross-validated accuracy against the base model's. It goes live only when at least one head
  (sentiment or provocation) reaches the base model's accuracy; otherwise it is kept as
  ``rejected`` and the live version (or the base models) stays. Queued after every
  ``SCORING_RETRAIN_EVERY`` new labels (:func:`maybe_retrain`) and on demand.
* **Activation and rollback** (:func:`activate_scoring_model`, :func:`rollback_scoring_model`)
  keep at most one live version per tenant (a partial unique index); rollback makes the newest
  earlier accepted version live, or none (the base models).
* **The pipeline** scores a tenant's new mentions with its live version (:func:`live_adapter`,
  weights cached per (tenant, version), the live version looked up at most every 30 s).
* **Re-scoring** (:func:`rescore_mentions`) scores the mentions of recent days again with the
  live version (or the base models), never overwriting a corrected field, moves changed
  sentiments in the rollups in the same transaction, and publishes no pipeline event, so it never
  fires a live alert; it moves the live version's ``scores_from`` back to the start of the days
  it covered.
* **Baselines are not compared across a model change**: activating or rolling back restarts the
  tenant's negative-surge and provocation-burst series, and a restarting negative-surge series
  reads the rollups only from :func:`scores_since` (early_warning.live.bootstrap_counts).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring import rollups
from monitoring.choices import AlertKind
from monitoring.models import AlertRule, DetectorState, Mention, ScoreCorrection, ScoringModel
from monitoring.scoring import ScoreInput, get_scorer
from monitoring.scoring.adapt import Adapter, AdapterMismatch, Example, fingerprint, train
from tenants.models import Tenant

logger = logging.getLogger("sigap.classifier")

TRAIN_TASK = "monitoring.tasks.train_scoring_model"
RESCORE_TASK = "monitoring.tasks.rescore_mentions"
MAX_RESCORE_DAYS = 30
RESCORE_CHUNK = 500
LIVE_TTL_S = 30.0
SUGGESTION_POOL = 2000
LOCK_NAMESPACE = 0x51A8  # pg_advisory_xact_lock(namespace, tenant id) while a version is stored


def retrain_every() -> int:
    return int(getattr(settings, "SCORING_RETRAIN_EVERY", 50))


def _tenant_id(tenant: Tenant | int) -> int:
    return tenant.pk if isinstance(tenant, Tenant) else tenant


# --- labels ------------------------------------------------------------------------------------


def labels(tenant: Tenant | int) -> tuple[list[Example], int]:
    """The tenant's training examples (latest sentiment and provocation correction of each
    mention) and the id of the newest correction read. Reads ``correction_labels``."""
    tenant_id = _tenant_id(tenant)
    latest = (
        ScoreCorrection.objects.for_tenant(tenant_id)
        .filter(field__in=("sentiment", "provocation"))
        .order_by("mention_id", "field", "-id")
        .distinct("mention_id", "field")
        .values_list("id", "mention_id", "field", "new_value")
    )
    by_mention: dict[int, dict[str, Any]] = {}
    newest = 0
    for cid, mention_id, name, value in latest:
        newest = max(newest, cid)
        by_mention.setdefault(mention_id, {})[name] = value
    texts: dict[int, str] = {}
    langs: dict[int, str] = {}
    for pk, text, language in (
        Mention.objects.for_tenant(tenant_id)
        .filter(pk__in=list(by_mention))
        .values_list("pk", "text", "language")
    ):
        texts[pk], langs[pk] = text, language
    examples = []
    for mention_id in sorted(by_mention):
        if mention_id not in texts:
            continue
        got = by_mention[mention_id]
        provocation = got.get("provocation")
        examples.append(
            Example(
                text=texts[mention_id],
                sentiment=got.get("sentiment"),
                provocation=None if provocation is None else int(bool(provocation)),
                lang=langs.get(mention_id) if langs.get(mention_id) in ("id", "en") else None,
                id=mention_id,
            )
        )
    return examples, newest


def new_labels(tenant_id: int) -> int:
    """Label corrections stored since the newest version was trained."""
    since = (
        ScoringModel.objects.for_tenant(tenant_id).aggregate(n=Max("last_correction_id"))["n"] or 0
    )
    return (
        ScoreCorrection.objects.for_tenant(tenant_id)
        .filter(field__in=("sentiment", "provocation"), id__gt=since)
        .count()
    )


def maybe_retrain(tenant_id: int) -> bool:
    """Queues training when ``SCORING_RETRAIN_EVERY`` labels or more arrived since the newest
    version (after the correcting transaction committed; at most once a minute per tenant and
    process). A failure to queue is logged: the corrections are stored, the next ones retry."""
    try:
        if new_labels(tenant_id) < retrain_every():
            return False
        return request_training(tenant_id)
    except Exception:
        logger.exception(
            "could not queue the tenant classifier's training", extra={"tenant_id": tenant_id}
        )
        return False


_queued: dict[int, float] = {}


def request_training(tenant: Tenant | int) -> bool:
    """Queues ``train_scoring_model`` on the slow queue (at most once a minute per tenant in
    this process); answers whether it queued. A tenant without any sentiment or provocation
    correction has nothing to learn from (``ValidationError`` on ``corrections``)."""
    from tenants.queues import enqueue_slow

    tenant_id = _tenant_id(tenant)
    if (
        not ScoreCorrection.objects.for_tenant(tenant_id)
        .filter(field__in=("sentiment", "provocation"))
        .exists()
    ):
        raise ValidationError(
            {
                "corrections": ValidationError(
                    _("No sentiment or provocation corrections to learn from yet."), "empty"
                )
            }
        )
    now = time.monotonic()
    if now - _queued.get(tenant_id, -1e9) < 60:
        return False
    _queued[tenant_id] = now
    enqueue_slow(TRAIN_TASK, tenant_id, task_name=f"train-classifier-{tenant_id}-{int(now)}")
    return True


# --- versions ----------------------------------------------------------------------------------


@transaction.atomic
def train_scoring_model(*, tenant: Tenant | int) -> ScoringModel:
    """Trains and stores the tenant's next version (live when it reaches the base models)."""
    tenant_id = _tenant_id(tenant)
    examples, newest = labels(tenant_id)
    scorer = get_scorer()
    trained = train(scorer, examples)
    # one version number at a time per tenant (until this transaction ends)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant_id])
    last = ScoringModel.objects.for_tenant(tenant_id).aggregate(n=Max("version"))["n"] or 0
    row = ScoringModel.objects.create(
        tenant_id=tenant_id,
        version=last + 1,
        status=ScoringModel.Status.READY if trained.live else ScoringModel.Status.REJECTED,
        weights=trained.adapter.to_bytes(),
        base=fingerprint(scorer),
        corrections=len(examples),
        last_correction_id=newest,
        metrics=trained.metrics(),
    )
    if trained.live:
        activate_scoring_model(instance=row)
    logger.info(
        "tenant classifier trained",
        extra={"tenant_id": tenant_id, "version": row.version, "status": row.status},
    )
    return row


@transaction.atomic
def activate_scoring_model(*, instance: ScoringModel) -> ScoringModel:
    """Makes ``instance`` the tenant's live version (the previous live one becomes ready)."""
    if instance.status == ScoringModel.Status.REJECTED:
        raise ValidationError(
            {
                "version": ValidationError(
                    _("This version is less accurate than the base models."), "rejected"
                )
            }
        )
    models = ScoringModel.objects.for_tenant(instance.tenant_id)
    now = timezone.now()
    models.filter(status=ScoringModel.Status.LIVE).exclude(pk=instance.pk).update(
        status=ScoringModel.Status.READY, retired_at=now
    )
    if instance.status != ScoringModel.Status.LIVE:
        instance.status = ScoringModel.Status.LIVE
        instance.live_since = instance.scores_from = now
        models.filter(pk=instance.pk).update(
            status=instance.status, live_since=now, scores_from=now, retired_at=None
        )
        _restart_baselines(instance.tenant_id)
    _forget(instance.tenant_id)
    return instance


@transaction.atomic
def rollback_scoring_model(*, tenant: Tenant | int) -> ScoringModel | None:
    """Takes the live version out of use and makes the newest earlier accepted version live
    (none: the base models score the tenant). Answers the version now live."""
    tenant_id = _tenant_id(tenant)
    models = ScoringModel.objects.for_tenant(tenant_id)
    live = models.filter(status=ScoringModel.Status.LIVE).first()
    if live is None:
        raise ValidationError(
            {"version": ValidationError(_("No version is live: nothing to roll back."), "none")}
        )
    models.filter(pk=live.pk).update(
        status=ScoringModel.Status.READY, live_since=None, retired_at=timezone.now()
    )
    _restart_baselines(tenant_id)
    before = (
        models.filter(status=ScoringModel.Status.READY, version__lt=live.version)
        .order_by("-version")
        .first()
    )
    _forget(tenant_id)
    if before is None:
        return None
    return activate_scoring_model(instance=before)


SCORE_SERIES = (AlertKind.NEGATIVE_SURGE, AlertKind.PROVOCATION_BURST)


def _restart_baselines(tenant_id: int) -> None:
    """A model change: the series that count scored mentions (negative surge, provocation
    burst) start again, from the rollups since ``scores_since`` (early_warning.live)."""
    DetectorState.objects.for_tenant(tenant_id).filter(
        rule__in=AlertRule.objects.for_tenant(tenant_id).filter(kind__in=SCORE_SERIES)
    ).delete()


def scores_since(tenant_id: int) -> datetime | None:
    """From when the tenant's stored scores come from the model scoring it now: the live
    version's ``scores_from``, or, with no live version, when the last one was taken out of use
    (None: the base models have always scored it). Baselines never reach before it."""
    rows = list(
        ScoringModel.objects.for_tenant(tenant_id)
        .filter(Q(status=ScoringModel.Status.LIVE) | Q(retired_at__isnull=False))
        .order_by("-retired_at")
        .values_list("status", "scores_from", "retired_at")
    )
    for status, since, _retired in rows:
        if status == ScoringModel.Status.LIVE:
            return since
    return max((retired for _s, _f, retired in rows if retired is not None), default=None)


# --- the live version in the pipeline ----------------------------------------------------------

_lock = threading.Lock()
_live: dict[int, tuple[float, tuple[int, int] | None]] = {}  # tenant -> (checked, (pk, version))
_weights: OrderedDict[tuple[int, int], Adapter | None] = OrderedDict()  # (tenant, version)
MAX_CACHED = 64


def _forget(tenant_id: int) -> None:
    with _lock:
        _live.pop(tenant_id, None)


def live_adapter(tenant_id: int) -> Adapter | None:
    """The tenant's live layer, or None (the base models). The live version is looked up at
    most every ``LIVE_TTL_S`` seconds per process; weights are loaded once per (tenant,
    version). Weights made for other base models are ignored (logged)."""
    now = time.monotonic()
    with _lock:
        cached = _live.get(tenant_id)
    if cached is None or now - cached[0] > LIVE_TTL_S:
        found = (
            ScoringModel.objects.for_tenant(tenant_id)
            .filter(status=ScoringModel.Status.LIVE)
            .values_list("pk", "version")
            .first()
        )
        cached = (now, found)
        with _lock:
            _live[tenant_id] = cached
    if cached[1] is None:
        return None
    pk, version = cached[1]
    key = (tenant_id, version)
    with _lock:
        if key in _weights:
            _weights.move_to_end(key)
            return _weights[key]
    data = (
        ScoringModel.objects.for_tenant(tenant_id).filter(pk=pk).values_list("weights", flat=True)
    ).first()
    adapter: Adapter | None = None
    if data is not None:
        try:
            adapter = Adapter.from_bytes(bytes(data), get_scorer())
        except AdapterMismatch:
            logger.warning(
                "tenant classifier made for other base models: not used",
                extra={"tenant_id": tenant_id, "version": version},
            )
    with _lock:
        _weights[key] = adapter
        while len(_weights) > MAX_CACHED:
            _weights.popitem(last=False)
    return adapter


# --- re-scoring --------------------------------------------------------------------------------


def _check_rescore_days(days: Any) -> None:
    """Re-scoring reaches 1 to ``MAX_RESCORE_DAYS`` days back (``ValidationError`` on
    ``days``)."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_RESCORE_DAYS:
        raise ValidationError(
            {
                "days": ValidationError(
                    _("Between 1 and %(n)d days.") % {"n": MAX_RESCORE_DAYS}, "invalid"
                )
            }
        )


def request_rescore(tenant: Tenant | int, days: int) -> bool:
    """Queues ``rescore_mentions`` of the last ``days`` days on the slow queue (REST, GraphQL);
    answers that it queued. A day count out of range is a ``ValidationError`` on ``days``."""
    from tenants.queues import enqueue_slow

    _check_rescore_days(days)
    enqueue_slow(RESCORE_TASK, _tenant_id(tenant), days)
    return True


def rescore_mentions(*, tenant: Tenant | int, days: int) -> int:
    """Scores again the tenant's mentions published in the last ``days`` days (1 to 30) with its
    live version; answers how many changed. Each chunk of ``RESCORE_CHUNK`` mentions is one
    transaction that writes the changed scores and moves changed sentiments in the rollups;
    corrected fields are kept; no pipeline event is published, so no live alert fires."""
    _check_rescore_days(days)
    tenant_id = _tenant_id(tenant)
    _forget(tenant_id)
    adapter = live_adapter(tenant_id)
    since = timezone.now() - timedelta(days=days)
    live = ScoringModel.objects.for_tenant(tenant_id).filter(status=ScoringModel.Status.LIVE)
    live.filter(Q(scores_from__isnull=True) | Q(scores_from__gt=since)).update(scores_from=since)
    last_id = 0
    changed = 0
    while True:
        ids = list(
            Mention.objects.for_tenant(tenant_id)
            .filter(published_at__gte=since, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:RESCORE_CHUNK]
        )
        if not ids:
            return changed
        last_id = ids[-1]
        changed += _rescore_chunk(tenant_id, ids, adapter)


_RESCORED = ("sentiment", "sentiment_scores", "provocation", "triggers", "risk", "scores")


@transaction.atomic
def _rescore_chunk(tenant_id: int, ids: list[int], adapter: Adapter | None) -> int:
    rows = list(
        Mention.objects.for_tenant(tenant_id)
        .filter(pk__in=ids)
        .select_for_update(of=("self",))
        .order_by("pk")
        .only(
            "id",
            "tenant_id",
            "text",
            "language",
            "platform",
            "author_followers",
            "author_verified",
            "likes",
            "shares",
            "replies",
            "views",
            "published_at",
            "matched_queries",
            "scorer_version",
            *_RESCORED,
        )
    )
    corrected: dict[int, set[str]] = {}
    for mention_id, name in (
        ScoreCorrection.objects.for_tenant(tenant_id)
        .filter(mention_id__in=ids)
        .values_list("mention_id", "field")
    ):
        corrected.setdefault(mention_id, set()).add(name)
    from monitoring.selectors import scoring_extensions

    results = get_scorer().score_batch(
        [
            ScoreInput(
                text=row.text,
                lang=row.language if row.language in ("id", "en") else None,
                platform=row.platform,
                author_followers=row.author_followers,
                author_verified=row.author_verified,
                engagement={
                    "likes": row.likes,
                    "shares": row.shares,
                    "replies": row.replies,
                    "views": row.views,
                },
            )
            for row in rows
        ],
        scoring_extensions(tenant_id),
        adapter,
    )
    updated: list[Mention] = []
    moves: list[rollups.Move] = []
    for row, result in zip(rows, results, strict=True):
        if not result.ok:
            continue
        keep = corrected.get(row.pk, set())
        scored = result.to_dict()
        new: dict[str, Any] = {
            "sentiment_scores": result.probabilities,
            "risk": result.risk,
            "scores": {
                **(row.scores if isinstance(row.scores, dict) else {}),
                "provocation": scored["provocation"],
                "triggers": scored["triggers"],
            },
        }
        if "sentiment" not in keep:
            new["sentiment"] = result.sentiment
        if "provocation" not in keep and "triggers" not in keep:
            new["provocation"] = result.provocation
            new["triggers"] = sorted(result.triggers)
        diff = {name: value for name, value in new.items() if getattr(row, name) != value}
        if not diff:
            continue
        if "sentiment" in diff:
            moves.append(
                rollups.Move(
                    row.published_at, row.matched_queries, row.sentiment, diff["sentiment"]
                )
            )
        for name, value in diff.items():
            setattr(row, name, value)
        updated.append(row)
    if updated:
        Mention.objects.for_tenant(tenant_id).bulk_update(updated, list(_RESCORED))
        rollups.move_sentiment(tenant_id, moves)
    return len(updated)


# --- what the tenant sees ----------------------------------------------------------------------


def model_versions(tenant: Tenant | int):
    """The tenant's versions, newest first (without the weights)."""
    return ScoringModel.objects.for_tenant(_tenant_id(tenant)).defer("weights")


def label_suggestions(tenant: Tenant | int, *, limit: int = 20) -> list[dict[str, Any]]:
    """The mentions whose labels would help the classifier most (uncertainty sampling): among
    the ``SUGGESTION_POOL`` newest mentions of the tenant with no sentiment or provocation
    correction, those the live scores are least sure of: the smallest margin between the two
    most probable sentiments, or a provocation score nearest 0.5. Each: id, text, sentiment,
    provocation, ``uncertainty`` (0-1, higher first) and ``reason``."""
    tenant_id = _tenant_id(tenant)
    labelled = ScoreCorrection.objects.for_tenant(tenant_id).filter(
        mention_id=OuterRef("pk"), field__in=("sentiment", "provocation")
    )
    pool = (
        Mention.objects.for_tenant(tenant_id)
        .exclude(sentiment="")
        .annotate(done=Subquery(labelled.values("id")[:1]))
        .filter(done__isnull=True)
        .order_by("-published_at", "-id")
        .values("id", "text", "sentiment", "sentiment_scores", "provocation", "published_at")[
            :SUGGESTION_POOL
        ]
    )
    out: list[dict[str, Any]] = []
    for m in pool:
        probs = sorted(
            (float(v) for v in (m["sentiment_scores"] or {}).values() if _number(v)), reverse=True
        )
        margin = probs[0] - probs[1] if len(probs) >= 2 else 1.0
        sentiment_doubt = 1.0 - margin
        provocation_doubt = 1.0 - 2.0 * abs(float(m["provocation"]) - 0.5)
        doubt, reason = max((sentiment_doubt, "sentiment"), (provocation_doubt, "provocation"))
        out.append(
            {
                "id": m["id"],
                "text": m["text"],
                "sentiment": m["sentiment"],
                "provocation": m["provocation"],
                "published_at": m["published_at"],
                "uncertainty": round(max(0.0, doubt), 4),
                "reason": reason,
            }
        )
    out.sort(key=lambda s: (-float(s["uncertainty"]), -int(s["id"])))
    return out[: max(1, min(limit, 100))]


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def live_since(tenant: Tenant | int) -> datetime | None:
    """When the tenant's live version went live (None: the base models). Comparisons of a
    baseline across this moment compare two models (docs/scoring.md)."""
    return (
        ScoringModel.objects.for_tenant(_tenant_id(tenant))
        .filter(status=ScoringModel.Status.LIVE)
        .values_list("live_since", flat=True)
        .first()
    )
