"""Walks every URL pattern and every GraphQL field and proves the three refusals.

Anonymous callers get 401 (with ``WWW-Authenticate: Bearer``), callers outside the tenant get
404, members whose role lacks the endpoint's capability get 403. Only the endpoints named in
``config.public.PUBLIC_ENDPOINTS`` may answer anonymous callers. A new endpoint is walked
automatically, so it cannot skip these checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from strawberry.permission import PermissionExtension

from config.graphql import schema
from config.public import PUBLIC_ENDPOINTS
from tenants import services
from tenants.graphql.permissions import HasTenantCapability
from tenants.roles import Cap, Role, roles_lacking
from tests.conftest import error_codes
from tests.resource_base import Ctx, world_rolled_back

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
FAKE_VALUES = {
    "pk": "987654",
    "id": "nokey987",
    "source_id": "987654",
    "object_id": "987654",
    "content_type_id": "1",
}


@dataclass
class Endpoint:
    name: str
    regex: str
    callback: Any

    @property
    def kwargs(self) -> list[str]:
        return list(re.compile(self.regex).groupindex)

    def methods(self) -> list[str]:
        actions = getattr(self.callback, "actions", None)
        if actions:
            return [m.upper() for m in actions if m in HTTP_METHODS]
        view_class = getattr(self.callback, "cls", None) or getattr(
            self.callback, "view_class", None
        )
        if view_class is not None:
            return [m.upper() for m in HTTP_METHODS if hasattr(view_class, m)]
        return ["GET"]

    def capability(self, method: str) -> Any:
        view_class = self.callback.cls
        actions = getattr(self.callback, "actions", None) or {}
        action = actions.get(method.lower(), method.lower())
        return view_class.capabilities[action]

    def url(self, slug: str) -> str:
        values: dict[str, str] = {}
        for kwarg in self.kwargs:
            if kwarg == "tenant_slug":
                values[kwarg] = slug
            elif kwarg == "app_label":
                values[kwarg] = "tenants"
            else:
                values[kwarg] = FAKE_VALUES[kwarg]
        return reverse(self.name, kwargs=values)


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Endpoint]:
    for entry in patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry.url_patterns, regex, full_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Endpoint(name=name or "", regex=regex, callback=entry.callback)


ALL = list(walk(get_resolver().url_patterns))
API = [e for e in ALL if e.regex.startswith("api/v1/")]
TENANT_API = [e for e in API if "tenant_slug" in e.kwargs]
ADMIN = [e for e in ALL if e.name.startswith("admin:")]


def cases(endpoints: list[Endpoint]) -> list[Any]:
    return [
        pytest.param(e, m, id=f"{m} {e.name}")
        for e in endpoints
        for m in e.methods()
        if (m, e.name) not in PUBLIC_ENDPOINTS
    ]


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Ctx]:
    """The tenants and people of ``tests/conftest.py``, built once for the module's walk inside
    a transaction rolled back after it (as ``tests/resource_base.py`` does per class); each test
    runs in a savepoint within it (pytest-django's ``db``), so its requests' changes and tokens
    are undone after it."""
    yield from world_rolled_back(django_db_blocker)


@pytest.fixture
def tenant(world: Ctx, db: Any) -> Any:
    return world.tenant


@pytest.fixture
def members(world: Ctx, db: Any) -> dict[str, Any]:
    return world.members


@pytest.fixture
def outsider(world: Ctx, db: Any) -> Any:
    return world.outsider


def test_every_pattern_is_named_and_known() -> None:
    unnamed = [e.regex for e in ALL if not e.name and not e.regex.startswith("admin/")]
    assert unnamed == []
    names = {e.name for e in ALL}
    missing = {name for _, name in PUBLIC_ENDPOINTS} - names
    assert missing == set(), "PUBLIC_ENDPOINTS names routes that do not exist"
    assert len(API) >= 8 and len(TENANT_API) >= 5


@pytest.mark.parametrize(
    ("endpoint", "method"), cases(API + [e for e in ALL if e.name == "graphql"])
)
def test_anonymous_gets_401(client: Any, tenant: Any, endpoint: Endpoint, method: str) -> None:
    response = client.generic(method, endpoint.url(tenant.slug), "{}", "application/json")
    assert response.status_code == 401 or (
        endpoint.name == "graphql" and "UNAUTHENTICATED" in response.content.decode()
    ), response.content
    if endpoint.name != "graphql":
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["code"] == "not_authenticated"


@pytest.mark.parametrize(("endpoint", "method"), cases(TENANT_API))
def test_outsider_gets_404_like_for_a_missing_tenant(
    api: Any, tenant: Any, outsider: Any, endpoint: Endpoint, method: str
) -> None:
    client = api(outsider)
    theirs = client.generic(method, endpoint.url(tenant.slug), "{}", "application/json")
    missing = client.generic(method, endpoint.url("no-such-tenant"), "{}", "application/json")
    assert theirs.status_code == 404, theirs.content
    assert theirs.json() == missing.json()


@pytest.mark.parametrize(("endpoint", "method"), cases(TENANT_API))
def test_members_without_the_capability_get_403(
    api: Any, tenant: Any, members: dict[str, Any], endpoint: Endpoint, method: str
) -> None:
    cap = endpoint.capability(method)
    for role in Role:
        response = api(members[role]).generic(
            method, endpoint.url(tenant.slug), "{}", "application/json"
        )
        if role in roles_lacking(cap):
            assert response.status_code == 403, (role, response.content)
            assert response.json()["errors"][0]["code"] == "missing_capability"
        else:
            assert response.status_code not in (401, 403), (role, response.content)


@pytest.mark.parametrize(("endpoint", "method"), cases(API))
def test_machine_keys_reach_nothing_but_ingestion(
    client: Any, tenant: Any, endpoint: Endpoint, method: str
) -> None:
    _, key = services.create_api_key(tenant=tenant, name="walker")
    response = client.generic(
        method,
        endpoint.url(tenant.slug),
        "{}",
        "application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    ingests = "tenant_slug" in endpoint.kwargs and endpoint.capability(method) == Cap.INGEST
    if not ingests:
        assert response.status_code == 403, response.content


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ADMIN if ("GET", e.name) not in PUBLIC_ENDPOINTS and e.name != "admin:logout"],
    ids=lambda e: e.name,
)
def test_admin_pages_send_anonymous_callers_to_login(
    client: Any, db: Any, endpoint: Endpoint
) -> None:
    response = client.get(endpoint.url("x"))
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith("/admin/login/")


# --- GraphQL ---------------------------------------------------------------------------------
# Every root field needs an entry; a new field without one fails test_every_graphql_field_is_walked.
ROOT_QUERIES = {
    "me": "{ me { id } }",
    "tenants": "{ tenants { slug } }",
    "tenant": "query($slug: String!) { tenant(slug: $slug) { slug } }",
    "monitored_queries": "query($slug: String!) { monitored_queries(slug: $slug) { id } }",
    "sources": "query($slug: String!) { sources(slug: $slug) { id } }",
    "tracked_terms": "query($slug: String!) { tracked_terms(slug: $slug) { id } }",
    "mentions": "query($slug: String!) { mentions(slug: $slug) { id assignee { email } } }",
    "volume": 'query($slug: String!) { volume(slug: $slug, interval: "1d") { bucket } }',
    "mentions_count": "query($slug: String!) { mentions_count(slug: $slug) }",
    "share_of_voice": "query($slug: String!) { share_of_voice(slug: $slug) { total } }",
    "top_authors": "query($slug: String!) { top_authors(slug: $slug) { results { reach } } }",
    "top_hashtags": "query($slug: String!) { top_hashtags(slug: $slug) { results { text } } }",
    "top_terms": "query($slug: String!) { top_terms(slug: $slug) { results { text } } }",
    "alerts": (
        "query($slug: String!) { alerts(slug: $slug) { id acknowledged_by { email } "
        "history { id actor { email } } } }"
    ),
    "alerts_count": "query($slug: String!) { alerts_count(slug: $slug) }",
    "alert_rules": (
        "query($slug: String!) { alert_rules(slug: $slug) { id false_positive_rate { rate } } }"
    ),
    "hoax_clusters": "query($slug: String!) { hoax_clusters(slug: $slug) { id authors } }",
    "owned_accounts": "query($slug: String!) { owned_accounts(slug: $slug) { id handle } }",
    "incidents": "query($slug: String!) { incidents(slug: $slug) { id } }",
    "incident_timeline": "query($slug: String!) { incident_timeline(slug: $slug) { id } }",
    "incident_tasks": "query($slug: String!) { incident_tasks(slug: $slug) { id } }",
    "replies": "query($slug: String!) { replies(slug: $slug) { id created_by { email } } }",
    "consistency_check": (
        'query($slug: String!) { consistency_check(slug: $slug, text: "Refund besok") '
        "{ flagged findings { category } } }"
    ),
    "answer_suggestions": (
        'query($slug: String!) { answer_suggestions(slug: $slug, mention: "987654") { id } }'
    ),
    "canned_answers": "query($slug: String!) { canned_answers(slug: $slug) { id } }",
    "channels": "query($slug: String!) { channels(slug: $slug) { id has_secret } }",
    "deliveries": "query($slug: String!) { deliveries(slug: $slug) { id status } }",
    "on_call_shifts": "query($slug: String!) { on_call_shifts(slug: $slug) { id user } }",
    "quiet_hours": "query($slug: String!) { quiet_hours(slug: $slug) { id starts } }",
    "escalation_policies": "query($slug: String!) { escalation_policies(slug: $slug) { id } }",
    "incident_playbooks": "query($slug: String!) { incident_playbooks(slug: $slug) { id } }",
    "incident_advice": "query($slug: String!) { incident_advice(slug: $slug) { id } }",
    "playbooks": "query($slug: String!) { playbooks(slug: $slug) { id } }",
    "statements": "query($slug: String!) { statements(slug: $slug) { id } }",
    "statement_versions": "query($slug: String!) { statement_versions(slug: $slug) { id } }",
    "crisis_mode": "query($slug: String!) { crisis_mode(slug: $slug) { id } }",
    "incident_reviews": (
        "query($slug: String!) { incident_reviews(slug: $slug) { id lessons { id } "
        "action_items { id owner { email } } } }"
    ),
    "client_reports": "query($slug: String!) { client_reports(slug: $slug) { id } }",
    "score_corrections": (
        "query($slug: String!) { score_corrections(slug: $slug) { id corrected_by { email } } }"
    ),
    "classifier_versions": (
        "query($slug: String!) { classifier_versions(slug: $slug) { id version metrics } }"
    ),
    "label_suggestions": "query($slug: String!) { label_suggestions(slug: $slug) { id } }",
}
# Every mutation, with its capability and a call in tenant $slug (on an object that does not
# exist: members holding the capability get BAD_USER_INPUT, never FORBIDDEN or NOT_FOUND).
MUTATIONS = {
    "update_mention_triage": (
        Cap.TRIAGE_MENTIONS,
        'mutation($slug: String!) { update_mention_triage(slug: $slug, id: "987654") { id } }',
    ),
    "bulk_triage_mentions": (
        Cap.TRIAGE_MENTIONS,
        'mutation($slug: String!) { bulk_triage_mentions(slug: $slug, ids: ["987654"]) '
        "{ updated } }",
    ),
    "draft_reply": (
        Cap.DRAFT_REPLIES,
        'mutation($slug: String!) { draft_reply(slug: $slug, mention: "987654", text: "Halo") '
        "{ id } }",
    ),
    "update_reply": (
        Cap.DRAFT_REPLIES,
        'mutation($slug: String!) { update_reply(slug: $slug, id: "987654", text: "Halo") { id } }',
    ),
    "submit_reply": (
        Cap.DRAFT_REPLIES,
        'mutation($slug: String!) { submit_reply(slug: $slug, id: "987654") { id } }',
    ),
    "approve_reply": (
        Cap.APPROVE_STATEMENTS,
        'mutation($slug: String!) { approve_reply(slug: $slug, id: "987654") { id } }',
    ),
    "override_reply_check": (
        Cap.MANAGE_INCIDENTS,
        'mutation($slug: String!) { override_reply_check(slug: $slug, id: "987654", '
        'reason: "x") { id } }',
    ),
    "create_canned_answer": (
        Cap.MANAGE_ANSWERS,
        'mutation($slug: String!) { create_canned_answer(slug: $slug, question: " ", '
        'answer: "x") { id } }',
    ),
    "update_canned_answer": (
        Cap.MANAGE_ANSWERS,
        'mutation($slug: String!) { update_canned_answer(slug: $slug, id: "987654") { id } }',
    ),
    **{
        name: (
            Cap.ACK_ALERTS,
            f'mutation($slug: String!) {{ {name}(slug: $slug, id: "987654"{extra}) {{ id }} }}',
        )
        for name, extra in (
            ("acknowledge_alert", ""),
            ("resolve_alert", ""),
            ("snooze_alert", ', until: "2030-01-01T00:00:00+00:00"'),
            ("dismiss_alert", ', reason: "promo"'),
        )
    },
    "create_alert_rule": (
        Cap.MANAGE_ALERTS,
        'mutation($slug: String!) { create_alert_rule(slug: $slug, name: "x", kind: "spike", '
        'window: "-01:00:00") { id } }',
    ),
    "update_alert_rule": (
        Cap.MANAGE_ALERTS,
        'mutation($slug: String!) { update_alert_rule(slug: $slug, id: "987654") { id } }',
    ),
    "delete_alert_rule": (
        Cap.MANAGE_ALERTS,
        'mutation($slug: String!) { delete_alert_rule(slug: $slug, id: "987654") }',
    ),
    "create_owned_account": (
        Cap.MANAGE_ALERTS,
        'mutation($slug: String!) { create_owned_account(slug: $slug, platform: "nope", '
        'handle: "x") { id } }',
    ),
    "update_owned_account": (
        Cap.MANAGE_ALERTS,
        'mutation($slug: String!) { update_owned_account(slug: $slug, id: "987654", '
        'label: "x") { id } }',
    ),
    "delete_owned_account": (
        Cap.MANAGE_ALERTS,
        'mutation($slug: String!) { delete_owned_account(slug: $slug, id: "987654") }',
    ),
    "create_channel": (
        Cap.MANAGE_CHANNELS,
        'mutation($slug: String!) { create_channel(slug: $slug, name: "x", kind: "email") { id } }',
    ),
    "update_channel": (
        Cap.MANAGE_CHANNELS,
        'mutation($slug: String!) { update_channel(slug: $slug, id: "987654") { id } }',
    ),
    "delete_channel": (
        Cap.MANAGE_CHANNELS,
        'mutation($slug: String!) { delete_channel(slug: $slug, id: "987654") }',
    ),
    "create_escalation_policy": (
        Cap.MANAGE_ESCALATION,
        'mutation($slug: String!) { create_escalation_policy(slug: $slug, name: "x", '
        'severity: "sev1", steps: []) { id } }',
    ),
    "update_escalation_policy": (
        Cap.MANAGE_ESCALATION,
        'mutation($slug: String!) { update_escalation_policy(slug: $slug, id: "987654") { id } }',
    ),
    "delete_escalation_policy": (
        Cap.MANAGE_ESCALATION,
        'mutation($slug: String!) { delete_escalation_policy(slug: $slug, id: "987654") }',
    ),
    "attach_playbook": (
        Cap.MANAGE_INCIDENTS,
        'mutation($slug: String!) { attach_playbook(slug: $slug, incident: "987654", '
        'playbook: "987654") { id } }',
    ),
    "update_incident_advice": (
        Cap.MANAGE_INCIDENTS,
        'mutation($slug: String!) { update_incident_advice(slug: $slug, id: "987654", '
        'posture: "rebuild") { id } }',
    ),
    "client_decide_statement": (
        Cap.CLIENT_APPROVE_STATEMENTS,
        'mutation($slug: String!) { client_decide_statement(slug: $slug, id: "987654", '
        'decision: "approved") { id } }',
    ),
    "sign_off_review": (
        Cap.SIGN_OFF_REVIEWS,
        'mutation($slug: String!) { sign_off_review(slug: $slug, id: "987654") { id } }',
    ),
    "correct_mention": (
        Cap.CORRECT_SCORES,
        'mutation($slug: String!) { correct_mention(slug: $slug, id: "987654", '
        'sentiment: "negative") { id } }',
    ),
    "activate_classifier": (
        Cap.CORRECT_SCORES,
        'mutation($slug: String!) { activate_classifier(slug: $slug, id: "987654") { id } }',
    ),
    "train_classifier": (
        Cap.CORRECT_SCORES,
        "mutation($slug: String!) { train_classifier(slug: $slug) }",
    ),
    "rollback_classifier": (
        Cap.CORRECT_SCORES,
        "mutation($slug: String!) { rollback_classifier(slug: $slug) { id } }",
    ),
    "rescore_mentions": (
        Cap.CORRECT_SCORES,
        "mutation($slug: String!) { rescore_mentions(slug: $slug, days: 0) }",
    ),
}
# Every capability-guarded field, as (type, field): a query reaching it in tenant $slug.
GUARDED_QUERIES = {
    ("Tenant", "members"): "query($slug: String!) { tenant(slug: $slug) { members { id } } }",
}


def guarded_fields() -> dict[tuple[str, str], Any]:
    found = {}
    for type_name, graphql_type in schema._schema.type_map.items():
        definition = getattr(graphql_type, "extensions", {}).get("strawberry-definition")
        for field in getattr(definition, "fields", []) or []:
            for extension in field.extensions:
                if isinstance(extension, PermissionExtension):
                    for permission in extension.permissions:
                        if isinstance(permission, HasTenantCapability):
                            found[(type_name, field.name)] = permission.cap
    return found


def test_every_graphql_field_is_walked() -> None:
    assert set(schema._schema.query_type.fields) == set(ROOT_QUERIES)
    mutation_type = schema._schema.mutation_type
    assert set(mutation_type.fields if mutation_type else ()) == set(MUTATIONS)
    assert set(guarded_fields()) == set(GUARDED_QUERIES)


@pytest.mark.parametrize("field", sorted(ROOT_QUERIES))
def test_graphql_anonymous_is_unauthenticated(gql: Any, tenant: Any, field: str) -> None:
    body = gql(
        ROOT_QUERIES[field],
        variables={"slug": tenant.slug} if "$slug" in ROOT_QUERIES[field] else None,
    )
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "query",
    [
        q
        for q in [
            *ROOT_QUERIES.values(),
            *GUARDED_QUERIES.values(),
            *(call for _, call in MUTATIONS.values()),
        ]
        if "$slug" in q
    ],
)
def test_graphql_outsider_is_not_found(gql: Any, tenant: Any, outsider: Any, query: str) -> None:
    theirs = gql(query, user=outsider, variables={"slug": tenant.slug})
    missing = gql(query, user=outsider, variables={"slug": "no-such-tenant"})
    assert error_codes(theirs) == ["NOT_FOUND"]
    assert theirs["errors"][0]["message"] == missing["errors"][0]["message"]


@pytest.mark.parametrize("key", sorted(GUARDED_QUERIES))
def test_graphql_members_without_capability_are_forbidden(
    gql: Any, tenant: Any, members: dict[str, Any], key: tuple[str, str]
) -> None:
    cap = guarded_fields()[key]
    for role in Role:
        body = gql(GUARDED_QUERIES[key], user=members[role], variables={"slug": tenant.slug})
        if role in roles_lacking(cap):
            assert error_codes(body) == ["FORBIDDEN"], role
        else:
            assert "errors" not in body, (role, body)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_graphql_mutations_refuse_anonymous_and_members_without_capability(
    gql: Any, tenant: Any, members: dict[str, Any], name: str
) -> None:
    cap, call = MUTATIONS[name]
    assert error_codes(gql(call, variables={"slug": tenant.slug})) == ["UNAUTHENTICATED"]
    for role in Role:
        codes = error_codes(gql(call, user=members[role], variables={"slug": tenant.slug}))
        if role in roles_lacking(cap):
            assert codes == ["FORBIDDEN"], role
        else:
            assert codes == ["BAD_USER_INPUT"], (role, codes)
