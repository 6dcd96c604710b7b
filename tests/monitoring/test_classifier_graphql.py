"""The tenant's classifier over GraphQL: training on demand, activation, rollback and
re-scoring go through the services REST uses (``monitoring.classifier``), need the capability
REST needs (``scores.correct``), answer bad input with BAD_USER_INPUT naming the field the REST
400 names, and reach only the caller's tenant."""

from __future__ import annotations

from typing import Any

import pytest
from django_q.models import OrmQ

from monitoring import classifier
from monitoring.models import ScoreCorrection, ScoringModel
from tenants.models import Tenant
from tenants.roles import Cap, Role, roles_lacking
from tests.conftest import error_codes
from tests.monitoring.factories import MentionFactory

TRAIN = "mutation($slug: String!) { train_classifier(slug: $slug) }"
ACTIVATE = """mutation($slug: String!, $id: ID!) {
  activate_classifier(slug: $slug, id: $id) { id version status }
}"""
ROLLBACK = "mutation($slug: String!) { rollback_classifier(slug: $slug) { id version status } }"
RESCORE = "mutation($slug: String!, $days: Int!) { rescore_mentions(slug: $slug, days: $days) }"


@pytest.fixture(autouse=True)
def fresh_classifier_cache() -> None:
    classifier._live.clear()
    classifier._weights.clear()
    classifier._queued.clear()


def allowed(members: dict[str, Any]) -> Any:
    """A member whose role may train, activate, roll back and re-score (not an admin)."""
    role = next(r for r in Role if r != Role.ADMIN and r not in roles_lacking(Cap.CORRECT_SCORES))
    return members[str(role)]


def queued(task: str) -> list[tuple[Any, ...]]:
    return [tuple(row.args()) for row in OrmQ.objects.all() if row.func() == task]


def version(tenant: Tenant, number: int, status: str) -> ScoringModel:
    return ScoringModel.objects.create(
        tenant=tenant,
        version=number,
        status=status,
        weights=b"",
        base="test",
        metrics={"sentiment": {"examples": 0}},
    )


def statuses(tenant: Tenant) -> dict[int, str]:
    return dict(ScoringModel.objects.for_tenant(tenant).values_list("version", "status"))


def gql_field(body: dict[str, Any]) -> str:
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    return str(body["errors"][0]["extensions"]["field"])


def rest_field(api: Any, user: Any, url: str, body: dict[str, Any]) -> str:
    response = api(user).post(url, body, format="json")
    assert response.status_code == 400, response.content
    return str(response.json()["errors"][0]["attr"])


def refusals(
    gql: Any, document: str, variables: dict[str, Any], members: dict[str, Any], outsider: Any
) -> None:
    """Anonymous: UNAUTHENTICATED; the client and every role without ``scores.correct``:
    FORBIDDEN; another tenant's admin: NOT_FOUND."""
    assert error_codes(gql(document, variables=variables)) == ["UNAUTHENTICATED"]
    lacking = roles_lacking(Cap.CORRECT_SCORES)
    assert Role.CLIENT in lacking
    for role in lacking:
        body = gql(document, user=members[str(role)], variables=variables)
        assert error_codes(body) == ["FORBIDDEN"], (role, body)
    assert error_codes(gql(document, user=outsider, variables=variables)) == ["NOT_FOUND"]


def test_training_on_demand_is_queued_on_the_slow_queue(
    gql: Any, api: Any, tenant: Tenant, other_tenant: Tenant, members: dict[str, Any], outsider: Any
) -> None:
    analyst = allowed(members)
    slug = {"slug": tenant.slug}
    # nothing to learn from: the field REST names
    body = gql(TRAIN, user=analyst, variables=slug)
    url = f"/api/v1/tenants/{tenant.slug}/classifier/train/"
    assert gql_field(body) == rest_field(api, analyst, url, {}) == "corrections"
    # another tenant's corrections do not count
    ScoreCorrection.objects.create(
        tenant=other_tenant,
        mention=MentionFactory(tenant=other_tenant),
        field="sentiment",
        old_value="positive",
        new_value="negative",
    )
    assert gql_field(gql(TRAIN, user=analyst, variables=slug)) == "corrections"
    ScoreCorrection.objects.create(
        tenant=tenant,
        mention=MentionFactory(tenant=tenant),
        field="sentiment",
        old_value="positive",
        new_value="negative",
    )
    refusals(gql, TRAIN, slug, members, outsider)
    assert queued(classifier.TRAIN_TASK) == []
    body = gql(TRAIN, user=analyst, variables=slug)
    assert body == {"data": {"train_classifier": True}}
    assert queued(classifier.TRAIN_TASK) == [(tenant.pk,)]
    # at most once a minute per tenant, as on REST
    assert gql(TRAIN, user=analyst, variables=slug) == {"data": {"train_classifier": False}}
    assert queued(classifier.TRAIN_TASK) == [(tenant.pk,)]


def test_activating_a_version_names_the_field_rest_names(
    gql: Any, api: Any, tenant: Tenant, other_tenant: Tenant, members: dict[str, Any], outsider: Any
) -> None:
    analyst = allowed(members)
    ready = version(tenant, 1, ScoringModel.Status.READY)
    rejected = version(tenant, 2, ScoringModel.Status.REJECTED)
    theirs = version(other_tenant, 1, ScoringModel.Status.READY)
    base = f"/api/v1/tenants/{tenant.slug}/classifier"
    body = gql(ACTIVATE, user=analyst, variables={"slug": tenant.slug, "id": str(rejected.pk)})
    assert gql_field(body) == rest_field(api, analyst, f"{base}/{rejected.pk}/activate/", {})
    for bad in (str(theirs.pk), "987654", "abc", "-1"):
        body = gql(ACTIVATE, user=analyst, variables={"slug": tenant.slug, "id": bad})
        assert gql_field(body) == "id", bad
    variables = {"slug": tenant.slug, "id": str(ready.pk)}
    refusals(gql, ACTIVATE, variables, members, outsider)
    assert statuses(tenant) == {1: "ready", 2: "rejected"}
    assert statuses(other_tenant) == {1: "ready"}
    body = gql(ACTIVATE, user=analyst, variables=variables)
    assert body["data"]["activate_classifier"] == {
        "id": str(ready.pk),
        "version": 1,
        "status": "live",
    }
    assert statuses(tenant) == {1: "live", 2: "rejected"}
    assert statuses(other_tenant) == {1: "ready"}


def test_rollback_goes_to_the_earlier_version_then_to_the_base_models(
    gql: Any, api: Any, tenant: Tenant, other_tenant: Tenant, members: dict[str, Any], outsider: Any
) -> None:
    analyst = allowed(members)
    slug = {"slug": tenant.slug}
    first = version(tenant, 1, ScoringModel.Status.READY)
    version(tenant, 2, ScoringModel.Status.LIVE)
    version(other_tenant, 1, ScoringModel.Status.LIVE)
    refusals(gql, ROLLBACK, slug, members, outsider)
    assert statuses(tenant) == {1: "ready", 2: "live"}
    body = gql(ROLLBACK, user=analyst, variables=slug)
    assert body["data"]["rollback_classifier"] == {
        "id": str(first.pk),
        "version": 1,
        "status": "live",
    }
    assert statuses(tenant) == {1: "live", 2: "ready"}
    assert gql(ROLLBACK, user=analyst, variables=slug) == {"data": {"rollback_classifier": None}}
    assert statuses(tenant) == {1: "ready", 2: "ready"}
    # nothing live: the field REST names
    body = gql(ROLLBACK, user=analyst, variables=slug)
    url = f"/api/v1/tenants/{tenant.slug}/classifier/rollback/"
    assert gql_field(body) == rest_field(api, analyst, url, {}) == "version"
    assert statuses(other_tenant) == {1: "live"}


def test_rescoring_is_queued_for_1_to_30_days(
    gql: Any, api: Any, tenant: Tenant, members: dict[str, Any], outsider: Any
) -> None:
    analyst = allowed(members)
    url = f"/api/v1/tenants/{tenant.slug}/classifier/rescore/"
    for days in (0, -1, classifier.MAX_RESCORE_DAYS + 1):
        body = gql(RESCORE, user=analyst, variables={"slug": tenant.slug, "days": days})
        assert gql_field(body) == rest_field(api, analyst, url, {"days": days}) == "days", days
    variables = {"slug": tenant.slug, "days": 7}
    refusals(gql, RESCORE, variables, members, outsider)
    assert queued(classifier.RESCORE_TASK) == []
    body = gql(RESCORE, user=analyst, variables=variables)
    assert body == {"data": {"rescore_mentions": True}}
    last = {"slug": tenant.slug, "days": classifier.MAX_RESCORE_DAYS}
    assert gql(RESCORE, user=analyst, variables=last) == {"data": {"rescore_mentions": True}}
    assert queued(classifier.RESCORE_TASK) == [
        (tenant.pk, 7),
        (tenant.pk, classifier.MAX_RESCORE_DAYS),
    ]
    # REST queues through the same service
    assert api(analyst).post(url, {"days": 2}, format="json").status_code == 202
    assert queued(classifier.RESCORE_TASK)[-1] == (tenant.pk, 2)
