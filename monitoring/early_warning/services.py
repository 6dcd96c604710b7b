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
from django.db.models import Q
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
    return fire_or_merge_many([firing])[0]


# The merged alerts' new state in one statement (``fire_or_merge_many``), a column per array;
# the samples go as JSON arrays (``unnest`` would flatten an array of arrays).
_MERGE_UPDATE = """
    UPDATE monitoring_alert a SET evidence_count = u.evidence_count,
        last_evidence_at = u.last_evidence_at, window_end = u.window_end,
        sample_mention_ids = ARRAY(SELECT e.v::bigint
            FROM jsonb_array_elements_text(u.mentions) WITH ORDINALITY AS e(v, n) ORDER BY e.n),
        sample_authors = ARRAY(SELECT e.v
            FROM jsonb_array_elements_text(u.authors) WITH ORDINALITY AS e(v, n) ORDER BY e.n),
        observed = u.observed, baseline = u.baseline, threshold = u.threshold, sigma = u.sigma,
        score = u.score, explanation = u.explanation, subject = u.subject, updated_at = %(now)s
    FROM unnest(%(id)s::bigint[], %(evidence_count)s::integer[],
        %(last_evidence_at)s::timestamptz[], %(window_end)s::timestamptz[], %(mentions)s::jsonb[],
        %(authors)s::jsonb[], %(observed)s::float8[], %(baseline)s::float8[],
        %(threshold)s::float8[], %(sigma)s::float8[], %(score)s::float8[],
        %(explanation)s::text[], %(subject)s::jsonb[])
        AS u(id, evidence_count, last_evidence_at, window_end, mentions, authors, observed,
            baseline, threshold, sigma, score, explanation, subject)
    WHERE a.tenant_id = %(tenant)s AND a.id = u.id
"""


@transaction.atomic
def fire_or_merge_many(firings: Sequence[Firing]) -> list[Fired]:
    """``fire_or_merge`` for several detections of one tenant, in order (a later one of the same
    episode merges into the alert an earlier one created). What a chunk's evaluation finds at
    once costs a fixed number of statements: one lock of the rules, one read of their episodes'
    alerts, one insert of the new alerts (with what later firings of the batch merged into them
    already), one update of the stored alerts that took evidence (``_MERGE_UPDATE``) and one
    insert of the history. The new alerts are inserted together, so Django sends no
    ``post_save`` for them: ``monitoring.signals.alerts_opened`` names them all at once
    (escalation, incidents)."""
    if not firings:
        return []
    tenant_id = firings[0].rule.tenant_id
    for firing in firings:
        if firing.rule.tenant_id != tenant_id:
            raise ValueError("fire_or_merge_many takes the firings of one tenant.")
        ensure_same_tenant(tenant_id, "cluster", firing.cluster)
    rule_ids = sorted({firing.rule.pk for firing in firings})
    # Serialise the firings of one rule (two workers seeing one spike make one alert).
    list(
        AlertRule.objects.for_tenant(tenant_id)
        .select_for_update()
        .filter(pk__in=rule_ids)
        .order_by("id")
        .values_list("id", flat=True)
    )
    # Each episode's alerts that a firing could merge into: the active ones, and those still
    # cooling down (newest first, as ``Alert.Meta.ordering``).
    earliest = min(firing.detected.at for firing in firings)
    active: dict[tuple[int, str], Alert] = {}
    cooling: dict[tuple[int, str], list[Alert]] = {}
    for alert in (
        Alert.objects.for_tenant(tenant_id)
        .filter(rule_id__in=rule_ids, dedupe_key__in={firing.key for firing in firings})
        .filter(Q(status__in=ACTIVE_ALERT_STATUSES) | Q(cooldown_until__gt=earliest))
        .order_by("-created_at", "-id")
    ):
        episode = (int(alert.rule_id or 0), alert.dedupe_key)  # rule_id__in: never null here
        if alert.status in ACTIVE_ALERT_STATUSES:
            active.setdefault(episode, alert)
        cooling.setdefault(episode, []).append(alert)
    results: list[Fired] = []
    created: list[Alert] = []
    opened: list[AlertEvent] = []  # the new alerts' ``fired`` entries
    merged: dict[int, Alert] = {}  # stored alerts that took evidence, by id
    history: list[AlertEvent] = []
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
    if created:
        Alert.objects.bulk_create(created)
    if merged:
        _update_merged(tenant_id, list(merged.values()))
    if opened or history:
        AlertEvent.objects.bulk_create([*opened, *history])
    if created:
        alerts_opened.send(sender=Alert, tenant_id=tenant_id, alerts=created)
    return results


def _update_merged(tenant_id: int, alerts: list[Alert]) -> None:
    """Write the merged alerts' evidence and explanation (``_merge``) in one statement."""
    now = timezone.now()

    def jsons(values: Iterable[Any]) -> str:
        return sqlarrays.texts(json.dumps(v, cls=DjangoJSONEncoder) for v in values)

    with connection.cursor() as cursor:
        cursor.execute(
            _MERGE_UPDATE,
            {
                "tenant": tenant_id,
                "now": now,
                "id": sqlarrays.ints(a.pk for a in alerts),
                "evidence_count": sqlarrays.ints(a.evidence_count for a in alerts),
                "last_evidence_at": sqlarrays.times(a.last_evidence_at for a in alerts),
                "window_end": sqlarrays.times(a.window_end for a in alerts),
                "mentions": jsons(list(a.sample_mention_ids) for a in alerts),
                "authors": jsons(list(a.sample_authors) for a in alerts),
                "observed": [a.observed for a in alerts],
                "baseline": [a.baseline for a in alerts],
                "threshold": [a.threshold for a in alerts],
                "sigma": [a.sigma for a in alerts],
                "score": [a.score for a in alerts],
                "explanation": sqlarrays.texts(a.explanation for a in alerts),
                "subject": jsons(a.subject for a in alerts),
            },
        )
    for alert in alerts:
        alert.updated_at = now


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


def _fired_event(alert: Alert, detected: Detected) -> AlertEvent:
    """The history row of a new alert (saved after the alert, which then has its id)."""
    return AlertEvent(
        tenant_id=alert.tenant_id,
        alert=alert,
        kind=AlertEventKind.FIRED,
        at=timezone.now(),
        to_status=AlertStatus.OPEN,
        note=detected.explanation[:2000],
        data={"observed": detected.observed, "evidence_at": detected.at.isoformat()},
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
        alert.subject = _jsonable(detected.subject) or alert.subject
        fields += ["observed", "baseline", "threshold", "sigma", "score", "explanation", "subject"]
    return fields, new_mentions


def _merged_event(alert: Alert, detected: Detected, mention_ids: list[int]) -> AlertEvent:
    """The history row of one merge (``mention_ids``: those new to the alert)."""
    return AlertEvent(
        tenant_id=alert.tenant_id,
        alert=alert,
        kind=AlertEventKind.MERGED,
        at=timezone.now(),
        note=detected.explanation[:2000],
        data={
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
