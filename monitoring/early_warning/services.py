"""Writes of early warning: rules, owned accounts, alerts and their life cycle.

One keyword-only function per action, each ``@transaction.atomic``, each raising Django
``ValidationError`` keyed by field; REST, GraphQL, admin and tasks call these. Rules kept:

- a rule's query belongs to the rule's tenant (``AlertRule.clean``, ``ensure_same_tenant``);
  window and cooldown are positive durations; params fit the kind; a rule's kind never changes;
  changing what a detector learnt from (query, sensitivity, window, params) starts its state
  afresh;
- one episode is one alert: ``fire_or_merge`` merges later evidence into the active alert of
  the same (rule, dedupe key), and into the last alert while its cooldown lasts; it is
  idempotent (the same evidence twice changes nothing). Concurrent firings of one rule are
  serialised on the rule's row, and a partial unique index keeps one active alert per episode;
- status changes: open -> acknowledged | snoozed | resolved | dismissed; acknowledged ->
  snoozed | resolved | dismissed; snoozed -> acknowledged | resolved | dismissed (and back to
  what it was when the snooze runs out: ``wake_snoozed``); resolved -> dismissed (a false
  positive found later). Snoozing never acknowledges. Every change is an ``AlertEvent``
  (who, when, from, to, note); dismissing needs a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring import sqlarrays
from monitoring.alerting.types import Alert as Detected
from monitoring.choices import (
    ACTIVE_ALERT_STATUSES,
    AlertEventKind,
    AlertKind,
    AlertStatus,
)
from monitoring.models import (
    Alert,
    AlertEvent,
    AlertRule,
    DetectorState,
    HoaxCluster,
    MonitoredQuery,
    OwnedAccount,
)
from monitoring.signals import alerts_opened
from tenants.models import Tenant, User
from tenants.writes import create_row, delete_row, ensure_same_tenant, update_row

MAX_SAMPLES = 20
RULE_WRITABLE = (
    "name",
    "query",
    "sensitivity",
    "window",
    "cooldown",
    "severity",
    "enabled",
    "params",
)
# Changing one of these makes the rule's learnt state meaningless: it starts afresh.
RESETS_STATE = ("query", "sensitivity", "window", "params")
OWNED_WRITABLE = ("label",)

# The rules every new tenant (and every demo tenant) starts with: name -> settings.
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "Volume spike": {"kind": AlertKind.SPIKE, "window": timedelta(hours=1)},
    "Negative surge": {"kind": AlertKind.NEGATIVE_SURGE, "window": timedelta(hours=1)},
    "Provocation burst": {"kind": AlertKind.PROVOCATION_BURST, "window": timedelta(hours=1)},
    # Severity from the evidence (SEV3 at the threshold, SEV2 from about three times the
    # authors it needs): a fixed SEV2 opened an incident for every three-account copy.
    "Hoax spread": {
        "kind": AlertKind.HOAX_SPREAD,
        "window": timedelta(hours=24),
        "cooldown": timedelta(hours=6),
    },
    # One account, however big, is a warning (SEV3), not an incident of its own.
    "Influential author": {
        "kind": AlertKind.INFLUENTIAL_AUTHOR,
        "cooldown": timedelta(hours=6),
        "severity": "sev3",
    },
    "Engagement velocity": {"kind": AlertKind.VELOCITY, "cooldown": timedelta(hours=6)},
    "Owned-account anomaly": {
        "kind": AlertKind.OWNED_ACCOUNT,
        "cooldown": timedelta(hours=6),
        "severity": "sev2",
    },
}


# --- rules ----------------------------------------------------------------------------------


def create_rule(
    *,
    tenant: Tenant,
    name: str,
    kind: str,
    query: MonitoredQuery | None = None,
    sensitivity: str = "medium",
    window: timedelta | None = None,
    cooldown: timedelta | None = None,
    severity: str = "",
    enabled: bool = True,
    params: dict[str, Any] | None = None,
) -> AlertRule:
    ensure_same_tenant(tenant, "query", query, _("No such query in this tenant."))
    values: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "query": query,
        "sensitivity": sensitivity,
        "severity": severity or "",
        "enabled": enabled,
        "params": params if params is not None else {},
    }
    if window is not None:
        values["window"] = window
    if cooldown is not None:
        values["cooldown"] = cooldown
    return create_row(AlertRule, tenant=tenant, **values)


@transaction.atomic
def update_rule(*, instance: AlertRule, **changes: Any) -> AlertRule:
    if "kind" in changes and changes["kind"] != instance.kind:
        raise ValidationError(
            {"kind": ValidationError(_("A rule's kind cannot be changed."), "read_only")}
        )
    changes.pop("kind", None)
    if "query" in changes:
        ensure_same_tenant(
            instance.tenant_id, "query", changes["query"], _("No such query in this tenant.")
        )
    if "severity" in changes and changes["severity"] is None:
        changes["severity"] = ""
    # Compared by column (``query_id``): reading ``query`` would load the row by id alone.
    columns = [f"{name}_id" if name == "query" else name for name in RESETS_STATE]
    before = {column: getattr(instance, column) for column in columns}
    update_row(instance, writable=RULE_WRITABLE, **changes)
    if any(getattr(instance, column) != value for column, value in before.items()):
        DetectorState.objects.for_tenant(instance.tenant_id).filter(rule=instance).delete()
    return instance


@transaction.atomic
def delete_rule(*, instance: AlertRule) -> None:
    """Delete a rule and its detector state; its alerts stay (without their rule)."""
    DetectorState.objects.for_tenant(instance.tenant_id).filter(rule=instance).delete()
    delete_row(instance)


@transaction.atomic
def ensure_default_rules(*, tenant: Tenant | int) -> int:
    """The default rules (``DEFAULT_RULES``) the tenant lacks, matched by name; returns how
    many were created. Idempotent."""
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else int(tenant)
    have = set(AlertRule.objects.for_tenant(tenant_id).values_list("name", flat=True))
    missing = [
        AlertRule(tenant_id=tenant_id, name=name, **settings)
        for name, settings in DEFAULT_RULES.items()
        if name not in have
    ]
    AlertRule.objects.bulk_create(missing)
    return len(missing)


# --- owned accounts -------------------------------------------------------------------------


def create_owned_account(
    *, tenant: Tenant, platform: str, handle: str, label: str = ""
) -> OwnedAccount:
    return create_row(OwnedAccount, tenant=tenant, platform=platform, handle=handle, label=label)


def update_owned_account(*, instance: OwnedAccount, **changes: Any) -> OwnedAccount:
    """Only the label changes; another handle is another account (delete and create)."""
    return update_row(instance, writable=OWNED_WRITABLE, **changes)


def delete_owned_account(*, instance: OwnedAccount) -> None:
    delete_row(instance)


# --- alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    """What ``fire_or_merge`` did: ``created`` a new alert, or merged into ``alert``
    (``merged``: evidence was new; neither: the same evidence again, nothing changed)."""

    alert: Alert
    created: bool
    merged: bool


def _merge_list(old: Sequence[Any], new: Iterable[Any]) -> list[Any]:
    out = list(old)
    for value in new:
        if value not in out and len(out) < MAX_SAMPLES:
            out.append(value)
    return out


@dataclass(frozen=True)
class Firing:
    """One detection to store as an alert of ``rule`` or to merge into its episode's alert
    (``dedupe_key`` defaults to the detector's)."""

    rule: AlertRule
    detected: Detected
    dedupe_key: str | None = None
    mention_ids: Sequence[int] = ()
    authors: Sequence[str] = ()
    cluster: HoaxCluster | None = None
    title: str = ""

    @property
    def key(self) -> str:
        return (self.dedupe_key or self.detected.dedupe_key)[:255]


def fire_or_merge(
    *,
    rule: AlertRule,
    detected: Detected,
    dedupe_key: str | None = None,
    mention_ids: Sequence[int] = (),
    authors: Sequence[str] = (),
    cluster: HoaxCluster | None = None,
    title: str = "",
) -> Fired:
    """Store what a detector found as an alert of ``rule``, or merge it into the episode's
    alert (see the module docstring). ``dedupe_key`` defaults to the detector's."""
    firing = Firing(rule, detected, dedupe_key, mention_ids, authors, cluster, title)
    fired = fire_or_merge_many([firing])[0]
    deferred = fired.alert.get_deferred_fields()
    if deferred:  # merged into a stored alert: the rest of its row too, in one read
        fired.alert.refresh_from_db(fields=sorted(deferred))
    return fired


# A chunk's firings write in one statement (``fire_or_merge_many``): the new alerts (with what
# later firings of the batch merged into them already), the stored alerts that took evidence
# and the history of both. Whole columns go as array literals (``monitoring.sqlarrays``); an
# array-valued column goes as one array literal per row in a ``text[]``, cast back per row
# (``unnest`` would flatten an array of arrays). The history of a new alert finds its row by
# episode (rule, dedupe key): a batch opens at most one alert per episode. A stored alert's
# explanation (observed ... subject) is written only when stronger evidence replaced it
# (``explained``, ``subject`` NULL otherwise): those columns are not read (``_EPISODES``).
_FIRE_WRITE = """
    WITH created AS (
        INSERT INTO monitoring_alert (tenant_id, rule_id, query_id, cluster_id, kind, severity,
            status, dedupe_key, title, explanation, observed, baseline, threshold, sigma, score,
            window_start, window_end, subject, details, sample_mention_ids, sample_authors,
            evidence_count, first_evidence_at, last_evidence_at, cooldown_until, snoozed_until,
            dismissed_reason, acknowledged_by_id, acknowledged_at, resolved_at, created_at,
            updated_at)
        SELECT %(tenant)s, n.rule, n.query, n.cluster, n.kind, n.severity, %(open)s, n.key,
            n.title, n.explanation, n.observed, n.baseline, n.threshold, n.sigma, n.score,
            n.window_start, n.window_end, n.subject, n.details, n.mentions::bigint[],
            n.authors::text[], n.evidence_count, n.first_at, n.last_at, n.cooldown_until, NULL,
            '', NULL, NULL, NULL, %(now)s, %(now)s
        FROM unnest(%(n_rule)s::bigint[], %(n_query)s::bigint[], %(n_cluster)s::bigint[],
            %(n_kind)s::text[], %(n_severity)s::text[], %(n_key)s::text[], %(n_title)s::text[],
            %(n_explanation)s::text[], %(n_observed)s::float8[], %(n_baseline)s::float8[],
            %(n_threshold)s::float8[], %(n_sigma)s::float8[], %(n_score)s::float8[],
            %(n_window_start)s::timestamptz[], %(n_window_end)s::timestamptz[],
            %(n_subject)s::jsonb[], %(n_details)s::jsonb[], %(n_mentions)s::text[],
            %(n_authors)s::text[], %(n_evidence_count)s::integer[], %(n_first_at)s::timestamptz[],
            %(n_last_at)s::timestamptz[], %(n_cooldown_until)s::timestamptz[])
            WITH ORDINALITY AS n(rule, query, cluster, kind, severity, key, title, explanation,
                observed, baseline, threshold, sigma, score, window_start, window_end, subject,
                details, mentions, authors, evidence_count, first_at, last_at, cooldown_until, i)
        ORDER BY n.i
        RETURNING id, rule_id, dedupe_key
    ), merged AS (
        UPDATE monitoring_alert a SET evidence_count = m.evidence_count,
            last_evidence_at = m.last_evidence_at, window_end = m.window_end,
            sample_mention_ids = m.mentions::bigint[], sample_authors = m.authors::text[],
            observed = m.observed,
            baseline = CASE WHEN m.explained THEN m.baseline ELSE a.baseline END,
            threshold = CASE WHEN m.explained THEN m.threshold ELSE a.threshold END,
            sigma = CASE WHEN m.explained THEN m.sigma ELSE a.sigma END,
            score = CASE WHEN m.explained THEN m.score ELSE a.score END,
            explanation = CASE WHEN m.explained THEN m.explanation ELSE a.explanation END,
            subject = coalesce(m.subject, a.subject), updated_at = %(now)s
        FROM unnest(%(m_id)s::bigint[], %(m_evidence_count)s::integer[],
            %(m_last_evidence_at)s::timestamptz[], %(m_window_end)s::timestamptz[],
            %(m_mentions)s::text[], %(m_authors)s::text[], %(m_observed)s::float8[],
            %(m_explained)s::boolean[], %(m_baseline)s::float8[], %(m_threshold)s::float8[],
            %(m_sigma)s::float8[], %(m_score)s::float8[], %(m_explanation)s::text[],
            %(m_subject)s::jsonb[])
            AS m(id, evidence_count, last_evidence_at, window_end, mentions, authors, observed,
                explained, baseline, threshold, sigma, score, explanation, subject)
        WHERE a.tenant_id = %(tenant)s AND a.id = m.id
    ), history AS (
        INSERT INTO monitoring_alertevent (tenant_id, alert_id, kind, at, actor_id, from_status,
            to_status, note, data)
        SELECT %(tenant)s, coalesce(e.alert, c.id), e.kind, e.at, NULL, '', e.to_status,
            e.note, e.data
        FROM unnest(%(e_alert)s::bigint[], %(e_rule)s::bigint[], %(e_key)s::text[],
            %(e_kind)s::text[], %(e_at)s::timestamptz[], %(e_to_status)s::text[],
            %(e_note)s::text[], %(e_data)s::jsonb[])
            WITH ORDINALITY AS e(alert, rule, key, kind, at, to_status, note, data, i)
        LEFT JOIN created c ON e.alert IS NULL AND c.rule_id = e.rule AND c.dedupe_key = e.key
        ORDER BY e.i
    )
    SELECT id, rule_id, dedupe_key FROM created
"""

# What merging into a stored alert reads of it (``_EPISODES``' columns, in ``Alert``'s field
# order as ``Alert.from_db`` takes them); the rest of the row stays deferred, loaded if read.
_EPISODE_FIELDS = (
    "id",
    "tenant_id",
    "rule_id",
    "status",
    "dedupe_key",
    "observed",
    "window_end",
    "sample_mention_ids",
    "sample_authors",
    "evidence_count",
    "last_evidence_at",
    "cooldown_until",
)
# Each episode's alerts that a firing could merge into: the active ones, and those still cooling
# down (newest first, as ``Alert.Meta.ordering``).
_EPISODES = """
    SELECT id, tenant_id, rule_id, status, dedupe_key, observed, window_end, sample_mention_ids,
        sample_authors, evidence_count, last_evidence_at, cooldown_until
    FROM monitoring_alert
    WHERE tenant_id = %(tenant)s AND rule_id = ANY(%(rule)s::bigint[])
        AND dedupe_key = ANY(%(key)s::text[])
        AND (status = ANY(%(active)s::text[]) OR cooldown_until > %(earliest)s)
    ORDER BY created_at DESC, id DESC
"""
_LOCK_RULES = """
    SELECT id FROM monitoring_alertrule
    WHERE tenant_id = %(tenant)s AND id = ANY(%(rule)s::bigint[])
    ORDER BY id FOR UPDATE
"""


def fire_or_merge_many(firings: Sequence[Firing], *, savepoint: bool = True) -> list[Fired]:
    """``fire_or_merge`` for several detections of one tenant, in order (a later one of the same
    episode merges into the alert an earlier one created). What a chunk's evaluation finds at
    once costs a fixed number of statements: one lock of the rules, one read of their episodes'
    alerts (``_EPISODES``: the columns a merge needs) and one write (``_FIRE_WRITE``: the new
    alerts, the stored alerts that took evidence, the history). The new alerts are inserted
    together, so Django sends no ``post_save`` for them: ``monitoring.signals.alerts_opened``
    names them all at once (escalation, incidents). A merged alert comes back with the columns
    it was read with (the rest deferred). Nothing to fire costs nothing; ``savepoint=False``
    (live evaluation: the delivery's transaction rolls back whole on an error) opens no
    savepoint inside the caller's transaction."""
    if not firings:
        return []
    with transaction.atomic(savepoint=savepoint):
        return _fire_or_merge_many(firings)


def _fire_or_merge_many(firings: Sequence[Firing]) -> list[Fired]:
    tenant_id = firings[0].rule.tenant_id
    for firing in firings:
        if firing.rule.tenant_id != tenant_id:
            raise ValueError("fire_or_merge_many takes the firings of one tenant.")
        ensure_same_tenant(tenant_id, "cluster", firing.cluster)
    rule_ids = sqlarrays.ints(sorted({firing.rule.pk for firing in firings}))
    earliest = min(firing.detected.at for firing in firings)
    active: dict[tuple[int, str], Alert] = {}
    cooling: dict[tuple[int, str], list[Alert]] = {}
    with connection.cursor() as cursor:
        # Serialise the firings of one rule (two workers seeing one spike make one alert); the
        # episodes are read after the lock, by a statement of their own (its own snapshot).
        cursor.execute(_LOCK_RULES, {"tenant": tenant_id, "rule": rule_ids})
        cursor.execute(
            _EPISODES,
            {
                "tenant": tenant_id,
                "rule": rule_ids,
                "key": sqlarrays.texts(sorted({firing.key for firing in firings})),
                "active": sqlarrays.texts(ACTIVE_ALERT_STATUSES),
                "earliest": earliest,
            },
        )
        rows = cursor.fetchall()
    db = connection.alias
    for row in rows:
        alert = Alert.from_db(db, _EPISODE_FIELDS, row)
        episode = (int(alert.rule_id or 0), alert.dedupe_key)  # rule_id = ANY: never null here
        if alert.status in ACTIVE_ALERT_STATUSES:
            active.setdefault(episode, alert)
        cooling.setdefault(episode, []).append(alert)
    results: list[Fired] = []
    created: list[Alert] = []
    # the history, in the order it is written: the new alerts' ``fired`` entries, then merges
    opened: list[_Event] = []
    history: list[_Event] = []
    merged: dict[int, Alert] = {}  # stored alerts that took evidence, by id
    for firing in firings:
        episode = (firing.rule.pk, firing.key)
        at = firing.detected.at
        target = active.get(episode) or next(
            (a for a in cooling.get(episode, ()) if a.cooldown_until and a.cooldown_until > at),
            None,
        )
        mention_ids = [int(m) for m in firing.mention_ids]
        if target is not None:
            changed, new_mentions = _merge(
                target, firing.detected, mention_ids, list(firing.authors)
            )
            if changed:
                if target.pk is not None:  # a new alert is inserted with its merges
                    merged[target.pk] = target
                history.append(_merged_event(target, firing.detected, new_mentions))
            results.append(Fired(target, created=False, merged=bool(changed)))
            continue
        alert = _new_alert(firing, mention_ids)
        created.append(alert)
        opened.append(_fired_event(alert, firing.detected))
        active[episode] = alert
        results.append(Fired(alert, created=True, merged=False))
    if created or merged or history:
        _write(tenant_id, created, list(merged.values()), [*opened, *history])
    if created:
        alerts_opened.send(sender=Alert, tenant_id=tenant_id, alerts=created)
    return results


@dataclass(frozen=True)
class _Event:
    """One history row to write (``AlertEvent``): of ``alert``, a new one until written."""

    alert: Alert
    kind: str
    at: datetime
    to_status: str
    note: str
    data: dict[str, Any]


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder)


def _floats(values: Iterable[float | None]) -> str:
    """An array literal of floats where None is ``NULL`` (``repr`` reads back exactly)."""
    return "{" + ",".join("NULL" if v is None else repr(float(v)) for v in values) + "}"


def _ints_or_null(values: Iterable[int | None]) -> str:
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def _times_or_null(values: Iterable[datetime | None]) -> str:
    return "{" + ",".join("NULL" if v is None else f'"{v.isoformat()}"' for v in values) + "}"


def _texts_or_null(values: Iterable[str | None]) -> str:
    return "{" + ",".join("NULL" if v is None else sqlarrays.texts([v])[1:-1] for v in values) + "}"


def _write(tenant_id: int, created: list[Alert], merged: list[Alert], events: list[_Event]) -> None:
    """Insert ``created``, write the evidence and explanation ``_merge`` gave ``merged`` and
    insert ``events``, in one statement (``_FIRE_WRITE``); the new alerts get their ids."""
    now = timezone.now()
    for alert in created:
        alert.created_at = alert.updated_at = now
    explained = [_explained(alert) for alert in merged]
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "now": now,
        "open": AlertStatus.OPEN,
        "n_rule": _ints_or_null(a.rule_id for a in created),
        "n_query": _ints_or_null(a.query_id for a in created),
        "n_cluster": _ints_or_null(a.cluster_id for a in created),
        "n_kind": sqlarrays.texts(a.kind for a in created),
        "n_severity": sqlarrays.texts(a.severity for a in created),
        "n_key": sqlarrays.texts(a.dedupe_key for a in created),
        "n_title": sqlarrays.texts(a.title for a in created),
        "n_explanation": sqlarrays.texts(a.explanation for a in created),
        "n_observed": _floats(a.observed for a in created),
        "n_baseline": _floats(a.baseline for a in created),
        "n_threshold": _floats(a.threshold for a in created),
        "n_sigma": _floats(a.sigma for a in created),
        "n_score": _floats(a.score for a in created),
        "n_window_start": sqlarrays.times(a.window_start for a in created),
        "n_window_end": sqlarrays.times(a.window_end for a in created),
        "n_subject": sqlarrays.texts(_json(a.subject) for a in created),
        "n_details": sqlarrays.texts(_json(a.details) for a in created),
        "n_mentions": sqlarrays.texts(sqlarrays.ints(a.sample_mention_ids) for a in created),
        "n_authors": sqlarrays.texts(sqlarrays.texts(a.sample_authors) for a in created),
        "n_evidence_count": sqlarrays.ints(a.evidence_count for a in created),
        "n_first_at": sqlarrays.times(a.first_evidence_at for a in created),
        "n_last_at": sqlarrays.times(a.last_evidence_at for a in created),
        "n_cooldown_until": _times_or_null(a.cooldown_until for a in created),
        "m_id": sqlarrays.ints(a.pk for a in merged),
        "m_evidence_count": sqlarrays.ints(a.evidence_count for a in merged),
        "m_last_evidence_at": sqlarrays.times(a.last_evidence_at for a in merged),
        "m_window_end": sqlarrays.times(a.window_end for a in merged),
        "m_mentions": sqlarrays.texts(sqlarrays.ints(a.sample_mention_ids) for a in merged),
        "m_authors": sqlarrays.texts(sqlarrays.texts(a.sample_authors) for a in merged),
        "m_observed": _floats(a.observed for a in merged),
        "m_explained": "{" + ",".join("t" if e else "f" for e in explained) + "}",
        "m_baseline": _floats(
            a.baseline if e else None for a, e in zip(merged, explained, strict=True)
        ),
        "m_threshold": _floats(
            a.threshold if e else None for a, e in zip(merged, explained, strict=True)
        ),
        "m_sigma": _floats(a.sigma if e else None for a, e in zip(merged, explained, strict=True)),
        "m_score": _floats(a.score if e else None for a, e in zip(merged, explained, strict=True)),
        "m_explanation": _texts_or_null(
            a.explanation if e else None for a, e in zip(merged, explained, strict=True)
        ),
        "m_subject": _texts_or_null(
            _json(a.subject) if "subject" in a.__dict__ else None for a in merged
        ),
        "e_alert": _ints_or_null(e.alert.pk for e in events),
        "e_rule": _ints_or_null(None if e.alert.pk else e.alert.rule_id for e in events),
        "e_key": _texts_or_null(None if e.alert.pk else e.alert.dedupe_key for e in events),
        "e_kind": sqlarrays.texts(e.kind for e in events),
        "e_at": sqlarrays.times(e.at for e in events),
        "e_to_status": sqlarrays.texts(e.to_status for e in events),
        "e_note": sqlarrays.texts(e.note for e in events),
        "e_data": sqlarrays.texts(json.dumps(e.data) for e in events),
    }
    with connection.cursor() as cursor:
        cursor.execute(_FIRE_WRITE, params)
        ids = {(rule_id, key): pk for pk, rule_id, key in cursor.fetchall()}
    db = connection.alias
    for alert in created:
        alert.pk = ids[(alert.rule_id, alert.dedupe_key)]
        alert._state.adding = False
        alert._state.db = db
    for alert in merged:
        alert.updated_at = now


def _explained(alert: Alert) -> bool:
    """Whether stronger evidence replaced a stored alert's explanation (``_merge`` set it; the
    read leaves it deferred)."""
    return "explanation" in alert.__dict__


def _new_alert(firing: Firing, mention_ids: list[int]) -> Alert:
    """The alert a firing opens, not saved yet (``fire_or_merge_many`` inserts them together)."""
    rule, detected = firing.rule, firing.detected
    at = detected.at
    return Alert(
        tenant_id=rule.tenant_id,
        rule=rule,
        query_id=rule.query_id,
        cluster=firing.cluster,
        kind=rule.kind,
        severity=rule.severity or detected.severity,
        status=AlertStatus.OPEN,
        dedupe_key=firing.key,
        title=(firing.title or _default_title(rule))[:200],
        explanation=detected.explanation,
        observed=detected.observed,
        baseline=detected.baseline,
        threshold=detected.threshold,
        sigma=detected.sigma,
        score=detected.score,
        window_start=detected.window_start,
        window_end=detected.window_end,
        subject=_jsonable(detected.subject),
        details=_jsonable(
            {**detected.details, "mentions": [m.to_dict() for m in detected.mentions[:50]]}
        ),
        sample_mention_ids=mention_ids[:MAX_SAMPLES],
        sample_authors=_merge_list([], firing.authors),
        evidence_count=1,
        first_evidence_at=at,
        last_evidence_at=at,
        cooldown_until=max(detected.cooldown_until or at, at + rule.cooldown),
    )


def _fired_event(alert: Alert, detected: Detected) -> _Event:
    """The history row of a new alert (written with the alert, which then has its id)."""
    return _Event(
        alert,
        AlertEventKind.FIRED,
        timezone.now(),
        AlertStatus.OPEN,
        detected.explanation[:2000],
        {"observed": detected.observed, "evidence_at": detected.at.isoformat()},
    )


def _default_title(rule: AlertRule) -> str:
    label = str(AlertKind(rule.kind).label)
    return label if rule.name == label else f"{label}: {rule.name}"


def _merge(
    alert: Alert, detected: Detected, mention_ids: list[int], authors: list[str]
) -> tuple[list[str], list[int]]:
    """Merge later evidence into ``alert`` in memory: the fields it changed (none: the same
    evidence again) and the mentions new to the alert."""
    new_mentions = [m for m in mention_ids if m not in alert.sample_mention_ids]
    if detected.at <= alert.last_evidence_at and not new_mentions:
        return [], []
    alert.evidence_count += 1
    alert.last_evidence_at = max(alert.last_evidence_at, detected.at)
    alert.window_end = max(alert.window_end, detected.window_end)
    alert.sample_mention_ids = _merge_list(alert.sample_mention_ids, mention_ids)
    alert.sample_authors = _merge_list(alert.sample_authors, authors)
    fields = [
        "evidence_count",
        "last_evidence_at",
        "window_end",
        "sample_mention_ids",
        "sample_authors",
    ]
    if detected.observed > alert.observed:  # the strongest evidence explains the alert
        alert.observed = detected.observed
        alert.baseline = detected.baseline
        alert.threshold = detected.threshold
        alert.sigma = detected.sigma
        alert.score = detected.score
        alert.explanation = detected.explanation
        subject = _jsonable(detected.subject)
        if subject:  # otherwise the alert keeps its subject (not read: deferred)
            alert.subject = subject
        fields += ["observed", "baseline", "threshold", "sigma", "score", "explanation", "subject"]
    return fields, new_mentions


def _merged_event(alert: Alert, detected: Detected, mention_ids: list[int]) -> _Event:
    """The history row of one merge (``mention_ids``: those new to the alert)."""
    return _Event(
        alert,
        AlertEventKind.MERGED,
        timezone.now(),
        "",
        detected.explanation[:2000],
        {
            "observed": detected.observed,
            "evidence_at": detected.at.isoformat(),
            "mention_ids": mention_ids[:MAX_SAMPLES],
        },
    )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _status_error(alert: Alert, action: str) -> ValidationError:
    return ValidationError(
        {
            "status": ValidationError(
                _("A %(status)s alert cannot be %(action)s.")
                % {"status": alert.get_status_display().lower(), "action": action},
                "invalid_transition",
            )
        }
    )


def _locked(alert: Alert) -> Alert:
    locked = Alert.objects.for_tenant(alert.tenant_id).select_for_update().get(pk=alert.pk)
    for name in ("status", "snoozed_until", "acknowledged_at", "acknowledged_by_id"):
        setattr(alert, name, getattr(locked, name))
    return alert


def _change(
    alert: Alert,
    to: str,
    *,
    user: User | None,
    note: str = "",
    fields: Sequence[str] = (),
    data: dict[str, Any] | None = None,
) -> Alert:
    before = alert.status
    alert.status = to
    alert.save(update_fields=["status", "updated_at", *fields])
    AlertEvent.objects.create(
        tenant_id=alert.tenant_id,
        alert=alert,
        kind=AlertEventKind.STATUS,
        at=timezone.now(),
        actor=user,
        from_status=before,
        to_status=to,
        note=note,
        data=data or {},
    )
    return alert


@transaction.atomic
def acknowledge(*, alert: Alert, user: User | None, note: str = "") -> Alert:
    """Someone is on it. From open or snoozed (ends the snooze)."""
    _locked(alert)
    if alert.status not in (AlertStatus.OPEN, AlertStatus.SNOOZED):
        raise _status_error(alert, _("acknowledged"))
    alert.acknowledged_by = user
    alert.acknowledged_at = timezone.now()
    alert.snoozed_until = None
    return _change(
        alert,
        AlertStatus.ACKNOWLEDGED,
        user=user,
        note=note,
        fields=["acknowledged_by", "acknowledged_at", "snoozed_until"],
    )


MAX_SNOOZE = timedelta(days=30)


@transaction.atomic
def snooze(*, alert: Alert, user: User | None, until: datetime, note: str = "") -> Alert:
    """Quiet until ``until`` (in the future, at most 30 days ahead); never acknowledges."""
    _locked(alert)
    if alert.status not in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED):
        raise _status_error(alert, _("snoozed"))
    now = timezone.now()
    if until is None or timezone.is_naive(until):
        raise ValidationError(
            {"until": ValidationError(_("Give a date and time with its time zone."), "invalid")}
        )
    if until <= now or until > now + MAX_SNOOZE:
        raise ValidationError(
            {
                "until": ValidationError(
                    _("Must lie in the future, at most 30 days ahead."), "out_of_range"
                )
            }
        )
    alert.snoozed_until = until
    return _change(
        alert,
        AlertStatus.SNOOZED,
        user=user,
        note=note,
        fields=["snoozed_until"],
        data={"until": until.isoformat()},
    )


@transaction.atomic
def resolve(*, alert: Alert, user: User | None, note: str = "") -> Alert:
    _locked(alert)
    if alert.status not in ACTIVE_ALERT_STATUSES:
        raise _status_error(alert, _("resolved"))
    alert.resolved_at = timezone.now()
    alert.snoozed_until = None
    return _change(
        alert,
        AlertStatus.RESOLVED,
        user=user,
        note=note,
        fields=["resolved_at", "snoozed_until"],
    )


@transaction.atomic
def dismiss(*, alert: Alert, user: User | None, reason: str) -> Alert:
    """A false positive, with the reason (counts in the rule's false-positive rate)."""
    _locked(alert)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": ValidationError(_("Say why this alert is a false positive."), "required")}
        )
    if alert.status == AlertStatus.DISMISSED:
        raise _status_error(alert, _("dismissed"))
    alert.dismissed_reason = reason[:2000]
    alert.resolved_at = alert.resolved_at or timezone.now()
    alert.snoozed_until = None
    return _change(
        alert,
        AlertStatus.DISMISSED,
        user=user,
        note=alert.dismissed_reason,
        fields=["dismissed_reason", "resolved_at", "snoozed_until"],
    )


@transaction.atomic
def wake_snoozed(*, tenant_id: int, now: datetime | None = None) -> int:
    """Snoozes that ran out: back to acknowledged if someone had acknowledged the alert
    before, otherwise open. Returns how many woke."""
    now = now or timezone.now()
    due = list(
        Alert.objects.for_tenant(tenant_id)
        .select_for_update(skip_locked=True)
        .filter(status=AlertStatus.SNOOZED, snoozed_until__lte=now)
    )
    for alert in due:
        to = AlertStatus.ACKNOWLEDGED if alert.acknowledged_at else AlertStatus.OPEN
        alert.snoozed_until = None
        _change(alert, to, user=None, note=_("The snooze ran out."), fields=["snoozed_until"])
    return len(due)
