"""GraphQL mutations of early warning answer bad input as REST does: BAD_USER_INPUT naming the
same field the REST 400 names (``errors[0].attr``), and change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring.models import AlertRule
from tests.conftest import error_codes
from tests.monitoring.factories import AlertFactory, AlertRuleFactory, MonitoredQueryFactory

ACT = """mutation($slug: String!, $id: ID!, $reason: String!) {
  dismiss_alert(slug: $slug, id: $id, reason: $reason) { id status }
}"""
SNOOZE = """mutation($slug: String!, $id: ID!, $until: DateTime!) {
  snooze_alert(slug: $slug, id: $id, until: $until) { id status acknowledged_at }
}"""
CREATE = """mutation($slug: String!, $window: String, $query: ID, $params: JSON) {
  create_alert_rule(slug: $slug, name: "Uji", kind: "trigger-keywords", window: $window,
                    query: $query, params: $params) { id window }
}"""


def rest_field(api: Any, user: Any, url: str, body: dict[str, Any]) -> str:
    response = api(user).post(url, body, format="json")
    assert response.status_code == 400, response.content
    return str(response.json()["errors"][0]["attr"])


def gql_field(body: dict[str, Any]) -> str:
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    return str(body["errors"][0]["extensions"]["field"])


@pytest.mark.django_db
def test_alert_actions_name_the_same_fields_as_rest(
    gql: Any, api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    analyst = members["analyst"]
    alert = AlertFactory(tenant=tenant)
    base = f"/api/v1/tenants/{tenant.slug}/alerts/{alert.pk}"
    variables = {"slug": tenant.slug, "id": str(alert.pk)}
    # a blank reason
    body = gql(ACT, user=analyst, variables={**variables, "reason": "  "})
    assert gql_field(body) == rest_field(api, analyst, f"{base}/dismiss/", {"reason": ""})
    # a snooze in the past
    past = "2020-01-01T00:00:00+00:00"
    body = gql(SNOOZE, user=analyst, variables={**variables, "until": past})
    assert gql_field(body) == rest_field(api, analyst, f"{base}/snooze/", {"until": past})
    alert.refresh_from_db()
    assert alert.status == "open"
    # a move the alert cannot make: dismissed, then dismissed again
    done = gql(ACT, user=analyst, variables={**variables, "reason": "Promo terjadwal"})
    assert done["data"]["dismiss_alert"]["status"] == "dismissed"
    again = gql(ACT, user=analyst, variables={**variables, "reason": "lagi"})
    assert gql_field(again) == "status"
    assert rest_field(api, analyst, f"{base}/dismiss/", {"reason": "lagi"}) == "status"


@pytest.mark.django_db
def test_snoozing_through_graphql_never_acknowledges(
    gql: Any, tenant: Any, members: dict[str, Any]
) -> None:
    alert = AlertFactory(tenant=tenant)
    body = gql(
        SNOOZE,
        user=members["responder"],
        variables={"slug": tenant.slug, "id": str(alert.pk), "until": "2099-01-01T00:00:00Z"},
    )
    assert "errors" in body  # more than 30 days ahead
    alert.refresh_from_db()
    assert alert.status == "open"
    until = (timezone.now() + timedelta(hours=3)).isoformat()
    body = gql(
        SNOOZE,
        user=members["responder"],
        variables={"slug": tenant.slug, "id": str(alert.pk), "until": until},
    )
    assert body["data"]["snooze_alert"] == {
        "id": str(alert.pk),
        "status": "snoozed",
        "acknowledged_at": None,
    }


@pytest.mark.django_db
def test_invalid_rules_name_the_field_and_are_not_stored(
    gql: Any, api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    analyst = members["analyst"]
    url = f"/api/v1/tenants/{tenant.slug}/alert-rules/"
    keywords = {"keywords": ["kopi basi"]}
    before = AlertRule.objects.count()
    cases = [
        ({"window": "-01:00:00", "params": keywords}, {"window": "-01:00:00"}),
        ({"window": "bukan durasi", "params": keywords}, {"window": "bukan durasi"}),
        (
            {"query": str(MonitoredQueryFactory(tenant=other_tenant).pk), "params": keywords},
            {"query": MonitoredQueryFactory(tenant=other_tenant).pk},
        ),
        ({"params": {"keywords": []}}, {"params": {"keywords": []}}),
    ]
    for given, rest in cases:
        body = gql(CREATE, user=analyst, variables={"slug": tenant.slug, **given})
        rest_body = {"name": "Uji", "kind": "trigger-keywords", "params": keywords, **rest}
        assert gql_field(body) == rest_field(api, analyst, url, rest_body), given
    assert AlertRule.objects.count() == before
    rule = AlertRuleFactory(tenant=tenant, kind="spike")
    body = gql(
        "mutation($slug: String!, $id: ID!) { update_alert_rule(slug: $slug, id: $id, "
        'cooldown: "0:00:00") { id } }',
        user=analyst,
        variables={"slug": tenant.slug, "id": str(rule.pk)},
    )
    assert gql_field(body) == "cooldown"
