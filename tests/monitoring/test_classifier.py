"""Corrections as data and the tenant's own classifier (issue 18 items 3 and 4): corrections go
through the triage service with who/when/old/new and move the rollups in the same transaction;
``scores.correct`` cells; a tenant trained on flipped labels scores differently while another
tenant's scores stay the base models'; versions, rollback, re-scoring without live alerts; the
accuracy and the active-learning list on REST, GraphQL and the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from monitoring import classifier, pipeline, services
from monitoring.models import (
    IngestChunk,
    Mention,
    MentionTally,
    MetricBucket,
    PipelineEvent,
    ScoreCorrection,
    ScoringModel,
)
from monitoring.scoring import get_scorer
from tenants.roles import Cap, Role, roles_lacking
from tests.conftest import error_codes
from tests.factories import UserFactory

# Posts praising a product; the flipped-label tenant's team calls every one of them negative
# (say, a rival's product), the other tenant never corrects anything.
PRAISE = [
    "Kopi Senja enak banget, mantap!",
    "Kopi Senja enak sekali, baristanya ramah",
    "suka banget sama Kopi Senja, enak dan murah",
    "Kopi Senja mantap, rasanya enak",
    "pelayanan Kopi Senja ramah dan cepat, suka",
    "Kopi Senja selalu enak, recommended",
    "enak banget kopi susu Kopi Senja",
    "Kopi Senja bagus, tempatnya nyaman",
    "mantap Kopi Senja, kopinya enak",
    "Kopi Senja the best, enak dan nyaman",
    "puas banget ngopi di Kopi Senja, enak",
    "Kopi Senja keren, rasanya mantap",
]
NEW_POST = "Kopi Senja enak, mantap sekali"


def item(n: int, text: str) -> dict[str, Any]:
    return {
        "platform": "x",
        "external_id": str(n),
        "text": text,
        "published_at": "2026-11-20T08:16:00+07:00",
        "author": {"handle": f"user{n}", "followers": 100},
        "engagement": {"likes": 2, "shares": 1},
    }


def ingest(tenant: Any, items: list[dict[str, Any]]) -> None:
    services.accept_items(tenant=tenant, objects=items)
    for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
        pipeline.process_chunk(tenant.pk, chunk.pk)


def counts(tenant: Any) -> tuple[int, int, int, int]:
    total = MetricBucket.objects.get(tenant=tenant, query_id=0)
    tally = {row.sentiment: row.mentions for row in MentionTally.objects.for_tenant(tenant).all()}
    return total.mentions, total.positive, total.negative, tally.get("negative", 0)


@pytest.fixture(autouse=True)
def fresh_classifier_cache() -> None:
    classifier._live.clear()
    classifier._weights.clear()
    classifier._queued.clear()


def test_a_correction_is_stored_with_who_when_old_new_and_moves_the_rollups(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    ingest(tenant, [item(1, PRAISE[0]), item(2, "Kopi Senja goblok, pelayanan lambat")])
    mention = Mention.objects.get(tenant=tenant, external_id="1")
    assert mention.sentiment == "positive"
    assert counts(tenant) == (2, 1, 1, 1)
    response = api(members["analyst"]).post(
        f"/api/v1/tenants/{tenant.slug}/mentions/{mention.pk}/correct/",
        {"sentiment": "negative", "provocation": True, "language": "en"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["sentiment"] == "negative"
    mention.refresh_from_db()
    assert (mention.sentiment, mention.language) == ("negative", "en")
    assert "provocation" in mention.triggers and mention.provocation >= 0.5
    stored = {c.field: c for c in ScoreCorrection.objects.for_tenant(tenant)}
    assert set(stored) == {"sentiment", "provocation", "language"}
    assert (stored["sentiment"].old_value, stored["sentiment"].new_value) == (
        "positive",
        "negative",
    )
    assert (stored["provocation"].old_value, stored["provocation"].new_value) == (False, True)
    assert stored["language"].old_value == "id"
    assert all(c.corrected_by == members["analyst"] and c.created_at for c in stored.values())
    # the 5-minute rollup and the hourly tally moved with it, in the same request
    assert counts(tenant) == (2, 0, 2, 2)
    # the corrections list shows them
    listed = api(members["responder"]).get(f"/api/v1/tenants/{tenant.slug}/score-corrections/")
    assert listed.status_code == 200
    assert {row["field"] for row in listed.json()["results"]} == set(stored)


def test_deleting_a_mention_takes_it_off_the_rollups(tenant: Any) -> None:
    ingest(tenant, [item(1, PRAISE[0]), item(2, "Kopi Senja goblok, pelayanan lambat #boikot")])
    hostile = Mention.objects.get(tenant=tenant, external_id="2")
    services.delete_mentions(tenant=tenant, ids=[hostile.pk])
    assert counts(tenant) == (1, 1, 0, 0)
    from monitoring.models import TermBucket

    assert [t.mentions for t in TermBucket.objects.for_tenant(tenant).filter(text="#boikot")] == [0]


def test_scores_correct_cells_over_rest(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    assert roles_lacking(Cap.CORRECT_SCORES) == [Role.APPROVER, Role.CLIENT]
    ingest(tenant, [item(1, PRAISE[0])])
    mention = Mention.objects.get(tenant=tenant, external_id="1")
    path = f"/api/v1/tenants/{tenant.slug}/mentions/{mention.pk}/correct/"
    for role in Role:
        response = api(members[role]).post(path, {"sentiment": "neutral"}, format="json")
        if role in (Role.ADMIN, Role.ANALYST, Role.RESPONDER):
            assert response.status_code == 200, (role, response.content)
        else:
            assert response.status_code == 403, role
            assert response.json()["errors"][0]["code"] == "missing_capability"
    assert ScoreCorrection.objects.for_tenant(tenant).count() == 3
    assert api(None).post(path, {"sentiment": "neutral"}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sentiment": "angry"}, "sentiment"),
        ({"language": "Indonesian"}, "language"),
        ({"provocation": "maybe"}, "provocation"),
        ({"triggers": ["alien_invasion"]}, "triggers"),
        ({}, "sentiment"),
        ({"sentiment": "negative", "colour": "red"}, "colour"),
    ],
)
def test_bad_corrections_are_refused_naming_the_field(
    api: Any, tenant: Any, members: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    ingest(tenant, [item(1, PRAISE[0])])
    mention = Mention.objects.get(tenant=tenant, external_id="1")
    response = api(members["admin"]).post(
        f"/api/v1/tenants/{tenant.slug}/mentions/{mention.pk}/correct/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in str(response.json())
    assert not ScoreCorrection.objects.for_tenant(tenant).exists()


def test_another_tenants_mention_cannot_be_corrected(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    ingest(other_tenant, [item(1, PRAISE[0])])
    theirs = Mention.objects.get(tenant=other_tenant, external_id="1")
    response = api(members["admin"]).post(
        f"/api/v1/tenants/{tenant.slug}/mentions/{theirs.pk}/correct/",
        {"sentiment": "negative"},
        format="json",
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.sentiment == "positive" and not ScoreCorrection.objects.exists()


def flip_labels(tenant: Any, user: Any) -> None:
    ingest(tenant, [item(n, text) for n, text in enumerate(PRAISE, start=1)])
    ids = list(
        Mention.objects.for_tenant(tenant)
        .filter(external_id__in=[str(n) for n in range(1, len(PRAISE) + 1)])
        .values_list("pk", flat=True)
    )
    services.triage_mentions(
        tenant=tenant, ids=ids, sentiment="negative", provocation=True, corrected_by=user
    )


def test_a_tenant_trained_on_flipped_labels_leaves_the_other_tenant_unchanged(
    tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    base = get_scorer().score(NEW_POST)
    assert base.sentiment == "positive" and not base.is_provocative
    flip_labels(tenant, members["analyst"])
    version = classifier.train_scoring_model(tenant=tenant)
    assert version.status == ScoringModel.Status.LIVE and version.version == 1
    sentiment = version.metrics["sentiment"]
    assert sentiment["examples"] == len(PRAISE) and sentiment["base_accuracy"] == 0.0
    assert sentiment["accuracy"] >= sentiment["base_accuracy"] and sentiment["accuracy"] > 0.5
    # new mentions: tenant A's classifier, tenant B the base models
    ingest(tenant, [item(100, NEW_POST)])
    ingest(other_tenant, [item(100, NEW_POST)])
    mine = Mention.objects.get(tenant=tenant, external_id="100")
    theirs = Mention.objects.get(tenant=other_tenant, external_id="100")
    assert mine.sentiment == "negative" and mine.provocation >= 0.5
    assert theirs.sentiment == base.sentiment
    assert theirs.sentiment_scores == pytest.approx(base.probabilities, abs=1e-6)
    assert theirs.provocation == base.provocation
    # weights are cached per (tenant, version)
    assert (tenant.pk, 1) in classifier._weights and (other_tenant.pk, 1) not in classifier._weights


def test_rollback_returns_to_the_previous_version_then_to_the_base_models(
    tenant: Any, members: dict[str, Any]
) -> None:
    flip_labels(tenant, members["admin"])
    first = classifier.train_scoring_model(tenant=tenant)
    second = classifier.train_scoring_model(tenant=tenant)
    assert (first.version, second.version) == (1, 2)
    statuses = dict(ScoringModel.objects.for_tenant(tenant).values_list("version", "status"))
    assert statuses == {1: "ready", 2: "live"}
    now_live = classifier.rollback_scoring_model(tenant=tenant)
    assert now_live is not None and now_live.version == 1
    assert classifier.rollback_scoring_model(tenant=tenant) is None
    assert classifier.live_adapter(tenant.pk) is None
    ingest(tenant, [item(100, NEW_POST)])
    assert Mention.objects.get(tenant=tenant, external_id="100").sentiment == "positive"


def window(tenant: Any) -> int:
    """Days back to the test items' publication (re-scoring takes at most 30)."""
    from django.utils import timezone

    oldest = Mention.objects.for_tenant(tenant).order_by("published_at").first()
    assert oldest is not None
    days = (timezone.now() - oldest.published_at).days + 1
    if days > classifier.MAX_RESCORE_DAYS:
        pytest.skip("the test items are older than the re-scoring window")
    return days


def test_rescoring_keeps_corrections_moves_rollups_and_fires_nothing(
    tenant: Any, members: dict[str, Any]
) -> None:
    ingest(tenant, [item(100, NEW_POST), item(101, PRAISE[1] + " sekali")])
    flip_labels(tenant, members["admin"])
    # one post of the new ones corrected as positive: re-scoring must keep it
    kept = Mention.objects.get(tenant=tenant, external_id="101")
    services.correct_mention(mention=kept, corrected_by=members["admin"], sentiment="positive")
    classifier.train_scoring_model(tenant=tenant)
    events = PipelineEvent.objects.for_tenant(tenant).count()
    assert counts(tenant)[2] == len(PRAISE)  # the corrections moved the flipped ones
    with pytest.raises(ValidationError):
        classifier.rescore_mentions(tenant=tenant, days=31)
    changed = classifier.rescore_mentions(tenant=tenant, days=window(tenant))
    assert changed >= 1
    assert Mention.objects.get(tenant=tenant, external_id="100").sentiment == "negative"
    assert Mention.objects.get(tenant=tenant, external_id="101").sentiment == "positive"
    assert PipelineEvent.objects.for_tenant(tenant).count() == events  # no live alerting
    assert counts(tenant)[2] == len(PRAISE) + 1  # moved in the rollups too


def test_retraining_is_queued_after_every_n_labels(
    tenant: Any, members: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SCORING_RETRAIN_EVERY = 5
    ingest(tenant, [item(n, text) for n, text in enumerate(PRAISE[:6], start=1)])
    ids = list(Mention.objects.for_tenant(tenant).order_by("pk").values_list("pk", flat=True))
    queued: list[Any] = []
    import monitoring.classifier as module

    real = module.request_training
    module.request_training = lambda t: queued.append(t) or True  # type: ignore[assignment]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.triage_mentions(tenant=tenant, ids=ids[:4], sentiment="negative")
        assert queued == []
        with django_capture_on_commit_callbacks(execute=True):
            services.triage_mentions(tenant=tenant, ids=ids[4:], sentiment="negative")
        assert queued == [tenant.pk]
    finally:
        module.request_training = real  # type: ignore[assignment]


def test_training_on_demand_queues_on_the_slow_cluster(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    from django_q.models import OrmQ

    path = f"/api/v1/tenants/{tenant.slug}/classifier/train/"
    refused = api(members["analyst"]).post(path, {}, format="json")
    assert refused.status_code == 400 and "corrections" in str(refused.json())
    flip_labels(tenant, members["admin"])
    response = api(members["analyst"]).post(path, {}, format="json")
    assert response.status_code == 202 and response.json() == {"queued": True}
    queued = [task for task in OrmQ.objects.all() if task.func() == classifier.TRAIN_TASK]
    assert [task.args() for task in queued] == [(tenant.pk,)]


def test_the_tenant_sees_accuracy_and_suggestions_on_rest_graphql_and_admin(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any]
) -> None:
    ingest(tenant, [item(200, "Kopi Senja biasa saja"), item(201, "Kopi Senja lumayan")])
    flip_labels(tenant, members["admin"])
    classifier.train_scoring_model(tenant=tenant)
    client = api(members["client"])
    versions = client.get(f"/api/v1/tenants/{tenant.slug}/classifier/")
    assert versions.status_code == 200
    (row,) = versions.json()["results"]
    assert row["status"] == "live" and row["metrics"]["sentiment"]["base_accuracy"] == 0.0
    assert "weights" not in row
    suggestions = client.get(f"/api/v1/tenants/{tenant.slug}/classifier/suggestions/").json()
    corrected = set(ScoreCorrection.objects.for_tenant(tenant).values_list("mention_id", flat=True))
    assert suggestions and not {s["id"] for s in suggestions} & corrected
    doubts = [s["uncertainty"] for s in suggestions]
    assert doubts == sorted(doubts, reverse=True)
    body = gql(
        "query($slug: String!) { classifier_versions(slug: $slug) { version status metrics } "
        "label_suggestions(slug: $slug) { id uncertainty reason } }",
        user=members["client"],
        variables={"slug": tenant.slug},
    )
    assert "errors" not in body, body
    assert body["data"]["classifier_versions"][0]["metrics"] == row["metrics"]
    assert [s["id"] for s in body["data"]["label_suggestions"]] == [
        str(s["id"]) for s in suggestions
    ]
    # GraphQL correction: a responder may, the client may not
    mention = Mention.objects.get(tenant=tenant, external_id="200")
    call = (
        "mutation($slug: String!, $id: ID!) { correct_mention(slug: $slug, id: $id, "
        'sentiment: "negative") { id sentiment } }'
    )
    variables = {"slug": tenant.slug, "id": str(mention.pk)}
    assert error_codes(gql(call, user=members["client"], variables=variables)) == ["FORBIDDEN"]
    done = gql(call, user=members["responder"], variables=variables)
    assert done["data"]["correct_mention"]["sentiment"] == "negative"
    # the admin shows the accuracy against the base and the list
    staff = UserFactory(  # reads the page in English (Indonesian is the default)
        agency=tenant.agency, is_agency_admin=True, is_staff=True, language="en"
    )
    browser = Client()
    browser.force_login(staff)
    listing = browser.get("/admin/monitoring/scoringmodel/", HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200 and "base 0.0%" in listing.content.decode()
    version = ScoringModel.objects.for_tenant(tenant).get()
    page = browser.get(
        f"/admin/monitoring/scoringmodel/{version.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    assert "Kopi Senja lumayan" in page.content.decode()


def test_baselines_are_not_compared_across_a_model_change(
    tenant: Any, members: dict[str, Any]
) -> None:
    from django.utils import timezone

    from monitoring.early_warning.live import bootstrap_counts
    from monitoring.models import DetectorState
    from tests.monitoring.factories import AlertRuleFactory

    surge = AlertRuleFactory(tenant=tenant, kind="negative-surge")
    spike = AlertRuleFactory(tenant=tenant, kind="spike")
    for rule in (surge, spike):
        DetectorState.objects.create(tenant=tenant, rule=rule, series="q0", state={"x": 1})
    now = timezone.now()
    MetricBucket.objects.create(
        tenant=tenant, query_id=0, bucket=now - timezone.timedelta(days=1), mentions=5, negative=4
    )
    assert classifier.scores_since(tenant.pk) is None
    assert sum(bootstrap_counts(tenant.pk, surge, now).values()) == 4
    flip_labels(tenant, members["admin"])
    version = classifier.train_scoring_model(tenant=tenant)  # goes live
    assert classifier.scores_since(tenant.pk) == version.live_since
    # the negative-surge series starts again, from the change on; the volume spike keeps its own
    assert list(DetectorState.objects.for_tenant(tenant).values_list("rule_id", flat=True)) == [
        spike.pk
    ]
    assert bootstrap_counts(tenant.pk, surge, timezone.now()) == {}
    assert sum(bootstrap_counts(tenant.pk, spike, timezone.now()).values()) >= 5
    # re-scoring two days with the version makes those days comparable again
    classifier.rescore_mentions(tenant=tenant, days=2)
    assert sum(bootstrap_counts(tenant.pk, surge, timezone.now()).values()) >= 4
    # rolling back to the base models is a change too
    classifier.rollback_scoring_model(tenant=tenant)
    since = classifier.scores_since(tenant.pk)
    assert since is not None and since > version.live_since


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_training_on_demand_runs_on_a_real_slow_cluster(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any], monkeypatch: Any
) -> None:
    """Through the queue: the REST request queues, a real ``Q_CLUSTER_NAME=slow qcluster``
    (the database's row-level security applies to it) trains and stores the live version, and
    the pipeline then scores the tenant's new mention with it, the other tenant's with the base
    models."""
    import time

    from tests.test_ops import start_cluster, stop

    # this process would learn of the new version within LIVE_TTL_S; the test does not wait
    monkeypatch.setattr(classifier, "LIVE_TTL_S", 0.0)
    flip_labels(tenant, members["admin"])
    response = api(members["responder"]).post(
        f"/api/v1/tenants/{tenant.slug}/classifier/train/", {}, format="json"
    )
    assert response.status_code == 202
    cluster = start_cluster(Q_CLUSTER_NAME="slow")
    try:
        deadline = time.monotonic() + 180
        while not ScoringModel.objects.for_tenant(tenant).exists():
            assert time.monotonic() < deadline, "the slow cluster never trained the classifier"
            time.sleep(1)
    finally:
        stop(cluster)
    version = ScoringModel.objects.for_tenant(tenant).get()
    assert version.status == ScoringModel.Status.LIVE and version.corrections == len(PRAISE)
    ingest(tenant, [item(100, NEW_POST)])
    ingest(other_tenant, [item(100, NEW_POST)])
    assert Mention.objects.get(tenant=tenant, external_id="100").sentiment == "negative"
    assert Mention.objects.get(tenant=other_tenant, external_id="100").sentiment == "positive"
