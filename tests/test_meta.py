"""Meta-tests: every tenant-owned model is wired into the platform's safety nets.

A tenant-owned model is any installed model with a ``tenant`` foreign key to ``Tenant`` (found
through the app registry, so a new app's models are checked without registering anything).
Each one must have:

1. an admin registered on the default site that subclasses ``AgencyScopedAdminMixin``
   (``tenants/admin_mixins.py``), so staff see only their agency's rows;
2. a test case on the resource base (``tests/resource_base.py``), so its API gets the CRUD,
   refusal, other-tenant and query-count tests;
3. a GraphQL type deriving from ``TenantOwnedType`` (``tenants/graphql/types.py``), so every
   GraphQL list and nested prefetch of it is scoped.

Models that intentionally have none of one of these are named in the allowlists below, each
with its reason. The allowlists check themselves: an entry for a model that no longer exists,
is no longer tenant-owned, or now complies fails, so an exception cannot outlive its reason.

Two more checks keep the APIs and the test cases in step: every REST route of a tenant
resource (``*-list`` / ``*-detail``) and every GraphQL root field or mutation that returns a
tenant-owned type is declared by some test case.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import Model
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

import tests
from config.graphql import schema
from tenants.admin_mixins import AgencyScopedAdminMixin
from tenants.graphql.types import TenantOwnedType
from tenants.models import Tenant
from tests import resource_base
from tests.test_isolation_walk import TENANT_API

# --- allowlists: model label -> why it intentionally has none --------------------------------

NO_SCOPED_ADMIN: dict[str, str] = {
    # Replay-protection state of signed webhooks: kept for the 300 s signature tolerance and
    # pruned after; nothing in it is worth showing staff, and editing it would reopen replays.
    "monitoring.WebhookSignature": "internal replay guard, pruned within minutes",
    # Per-subscriber acknowledgements of outbox events (tenants/outbox.py): written only by the
    # delivery task; the events themselves have a read-only admin (PipelineEvent).
    "tenants.OutboxDelivery": "outbox acknowledgement, written only by the delivery task",
    # The poll scheduler's table (a scheduling table, tenants/dbtables.py): source ids and due
    # times kept in step with the sources, whose admin shows when each is next polled.
    "monitoring.PollSchedule": "scheduling table, kept in step with the sources",
    # An alert's history: shown read-only inline on its alert (AlertAdmin), written only by
    # the early-warning services.
    "monitoring.AlertEvent": "history shown inline on its alert",
    # Early-warning internals (monitoring/early_warning/live.py): detector state per series,
    # hoax members and band hashes, engagement snapshots; written and pruned by the live layer,
    # nothing staff could usefully change (clusters and alerts have their own screens).
    "monitoring.DetectorState": "detector state, internal",
    "monitoring.HoaxMember": "hoax cluster member signature, internal, pruned",
    "monitoring.HoaxBand": "LSH band hash, internal, pruned",
    "monitoring.HoaxClusterAuthor": "hoax cluster author counted once, internal, pruned",
    "monitoring.EngagementSnapshot": "velocity input, internal, pruned",
    # Action links (tenants/action_links.py): only token hashes, written when a message is
    # sent and used by their page; nothing staff could read or change usefully.
    "tenants.ActionLink": "hashed single-use link tokens, internal",
    # Agency tables (tenants/dbtables.py): a playbook's steps are edited inline on its page
    # (PlaybookAdmin, through playbooks.services.set_steps); its versions are snapshots written
    # only by the services, read through the API's ``version`` and the incidents' attachments.
    "playbooks.PlaybookStep": "edited inline on its playbook",
    "playbooks.PlaybookVersion": "snapshots written only by the services",
}

NO_RESOURCE_TESTS: dict[str, str] = {
    # What crisis mode sent to the outbound webhooks: written only by the crisis-mode services,
    # no API (tests/statements/test_crisis_and_stakeholders.py); read-only in the admin.
    "incidents.CrisisModeEvent": "crisis-mode event record, no API",
    # Pipeline internals: no API of their own, written and read only by the pipeline
    # (tests/monitoring/test_pipeline*.py, test_worker_crash.py, test_webhook_hardening.py).
    "monitoring.IngestChunk": "pipeline work unit, no API",
    "monitoring.WebhookDelivery": "webhook de-duplication record, no API",
    "monitoring.WebhookSignature": "webhook replay guard, no API",
    # Rollups read only through the metrics endpoints (aggregates, not rows), tested in
    # tests/monitoring/test_api_metrics.py and walked by tests/test_isolation_walk.py.
    "monitoring.MetricBucket": "rollup behind /metrics/, not a row resource",
    "monitoring.TermBucket": "rollup behind /metrics/top-*, not a row resource",
    "monitoring.AuthorBucket": "rollup behind /metrics/top-authors, not a row resource",
    "monitoring.AuthorSlot": "rollup behind /metrics/top-authors, not a row resource",
    "monitoring.MentionTally": "rollup behind mentions/count/, not a row resource",
    # The pipeline outbox (tenants/outbox.py, docs/outbox.md): consumed by subscribers, no API.
    "monitoring.PipelineEvent": "outbox event, consumed by subscribers, no API",
    "tenants.OutboxDelivery": "outbox acknowledgement, no API",
    # The poll scheduler's table (tests/monitoring/test_polling.py): no API, no client data.
    "monitoring.PollSchedule": "scheduling table, no API",
    # Early-warning internals (see NO_SCOPED_ADMIN), tested in tests/early_warning/.
    "monitoring.DetectorState": "detector state, no API",
    "monitoring.HoaxMember": "hoax cluster member, no API",
    "monitoring.HoaxBand": "LSH band hash, no API",
    "monitoring.HoaxClusterAuthor": "hoax cluster author, no API",
    "monitoring.EngagementSnapshot": "velocity input, no API",
    # Notifications internals (tests/notify/): hashed link tokens; each alert's escalation
    # state, shown read-only in the admin and driven only by the engine.
    "tenants.ActionLink": "hashed single-use link tokens, no API",
    "monitoring.AlertEscalation": "escalation state of one alert, engine-driven, admin read-only",
    # A playbook's steps travel inside the playbook (``steps`` of playbooks/, on its resource
    # tests); versions have no API of their own (tests/playbooks/test_templates.py).
    "playbooks.PlaybookStep": "nested in the playbook resource",
    "playbooks.PlaybookVersion": "snapshot, no API of its own",
}

NO_GRAPHQL_TYPE: dict[str, str] = {
    # A chat widget's key and origins: managed over REST and the admin (answers.manage); the
    # widget itself reads answers over its own public REST endpoint.
    "playbooks.AnswerWidget": "widget key and origins, REST and admin only",
    # Credentials stay out of GraphQL: machine keys are managed over REST by admins only.
    "tenants.TenantApiKey": "credential, REST only",
    # Managed over REST and the admin by admins (members.manage); GraphQL has no member
    # mutations either.
    "tenants.Invitation": "REST and admin only, like inviting",
    # Not (yet) exposed over GraphQL; REST is their only API today. Add the type on
    # TenantOwnedType (and a graphql_list on the test case) when they are, and drop the entry.
    "monitoring.LexiconEntry": "REST only",
    "monitoring.LowCredibilityDomain": "REST only",
    "monitoring.IngestBatch": "REST only",
    # Pipeline internals (see NO_RESOURCE_TESTS).
    "monitoring.IngestChunk": "pipeline work unit",
    "monitoring.WebhookDelivery": "webhook de-duplication record",
    "monitoring.WebhookSignature": "webhook replay guard",
    # Volume is served as MetricBucketType, a plain type built from aggregated rows, not a
    # model type; term buckets only feed the top-terms/hashtags metrics.
    "monitoring.MetricBucket": "aggregated by the volume field, not exposed as rows",
    "monitoring.TermBucket": "aggregated by the top-* metrics, not exposed as rows",
    "monitoring.AuthorBucket": "aggregated by the top-authors metric, not exposed as rows",
    "monitoring.AuthorSlot": "aggregated by the top-authors metric, not exposed as rows",
    "monitoring.MentionTally": "summed by mentions_count, not exposed as rows",
    # Outbox (see NO_RESOURCE_TESTS).
    "monitoring.PipelineEvent": "outbox event",
    "tenants.OutboxDelivery": "outbox acknowledgement",
    "monitoring.PollSchedule": "scheduling table (see NO_RESOURCE_TESTS)",
    "monitoring.DetectorState": "early-warning internal (see NO_RESOURCE_TESTS)",
    "monitoring.HoaxMember": "early-warning internal (see NO_RESOURCE_TESTS)",
    "monitoring.HoaxBand": "early-warning internal (see NO_RESOURCE_TESTS)",
    "monitoring.HoaxClusterAuthor": "early-warning internal (see NO_RESOURCE_TESTS)",
    "monitoring.EngagementSnapshot": "early-warning internal (see NO_RESOURCE_TESTS)",
    # The client portal reads incidents, their timeline and tasks over GraphQL; the team,
    # links and the incident policies are staff work, managed over REST and the admin.
    "incidents.IncidentMember": "REST and admin only (staff work)",
    "incidents.IncidentLink": "REST and admin only (staff work)",
    "incidents.SeverityPolicy": "REST and admin only (tenant policy)",
    "incidents.RolePolicy": "REST and admin only (tenant policy)",
    "tenants.ActionLink": "hashed link tokens (see NO_RESOURCE_TESTS)",
    "monitoring.AlertEscalation": "engine-driven escalation state (see NO_RESOURCE_TESTS)",
    # Shown inside the playbook type (its ``steps`` field, JSON) and not as rows.
    "playbooks.PlaybookStep": "nested in PlaybookType.steps",
    "playbooks.PlaybookVersion": "snapshot, no GraphQL of its own",
    # The client portal reads statements, their versions and the crisis mode over GraphQL and
    # decides there; templates, workflows, decisions, publish records and stakeholders are
    # staff work, managed over REST and the admin.
    "playbooks.StatementTemplate": "REST and admin only (staff material)",
    "incidents.ApprovalWorkflow": "REST and admin only (tenant policy)",
    "incidents.ApprovalStep": "REST and admin only (tenant policy)",
    "incidents.StatementApproval": "REST and admin only (staff work)",
    "incidents.PublishRecord": "REST and admin only (staff work)",
    "incidents.CrisisModeEvent": "no API: sent to the outbound webhooks",
    "incidents.Stakeholder": "REST and admin only (staff work)",
    "incidents.StakeholderInteraction": "REST and admin only (staff work)",
    "incidents.RightOfReply": "REST and admin only (staff work)",
    # The portal reads reviews with their visible lessons and action items nested; feedback
    # ratings are internal and report subscriptions are the tenant admin's settings.
    "incidents.ReviewFeedback": "REST and admin only (internal ratings)",
    "incidents.ReportSubscription": "REST and admin only (tenant settings)",
}

# REST routes of the tenant API that are not tenant-owned row resources.
NOT_RESOURCE_ROUTES: dict[str, str] = {
    "tenant-detail": "the tenant itself (tests/tenants/test_tenants_api.py)",
}


# --- what the code has -----------------------------------------------------------------------


def label(model: type[Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def tenant_owned_models() -> dict[str, type[Model]]:
    return {
        label(model): model
        for model in apps.get_models()
        if any(
            f.name == "tenant" and f.is_relation and f.related_model is Tenant
            for f in model._meta.fields
        )
    }


def has_scoped_admin(model: type[Model]) -> bool:
    model_admin = admin.site._registry.get(model)
    return isinstance(model_admin, AgencyScopedAdminMixin)


def load_every_test_module() -> None:
    """Import every test module so that every resource test case has registered itself, also
    when this file runs alone."""
    for module in pkgutil.walk_packages(tests.__path__, prefix="tests."):
        if module.name.rsplit(".", 1)[-1].startswith("test_"):
            importlib.import_module(module.name)


def models_with_resource_tests() -> set[str]:
    load_every_test_module()
    return {label(model) for model in resource_base.REGISTRY}


def strawberry_origins() -> list[tuple[str, Any]]:
    found = []
    for name, graphql_type in schema._schema.type_map.items():
        definition = (getattr(graphql_type, "extensions", None) or {}).get("strawberry-definition")
        if definition is not None:
            found.append((name, definition.origin))
    return found


def django_model_of(origin: Any) -> type[Model] | None:
    definition = getattr(origin, "__strawberry_django_definition__", None)
    return getattr(definition, "model", None)


def models_with_scoped_graphql_types() -> set[str]:
    return {
        label(model)
        for _, origin in strawberry_origins()
        if isinstance(origin, type)
        and issubclass(origin, TenantOwnedType)
        and (model := django_model_of(origin)) is not None
    }


# --- the checks ------------------------------------------------------------------------------


def test_there_are_tenant_owned_models_to_check() -> None:
    found = tenant_owned_models()
    assert {"tenants.Membership", "monitoring.Mention", "monitoring.Source"} <= set(found)


def test_every_tenant_owned_model_has_a_scoped_admin() -> None:
    missing = {name for name, model in tenant_owned_models().items() if not has_scoped_admin(model)}
    assert missing - set(NO_SCOPED_ADMIN) == set(), (
        "register an admin subclassing AgencyScopedAdminMixin (e.g. ScopedModelAdmin)"
    )


def test_every_tenant_owned_model_has_resource_tests() -> None:
    missing = set(tenant_owned_models()) - models_with_resource_tests()
    assert missing - set(NO_RESOURCE_TESTS) == set(), (
        "add a TestXxx(TenantResourceTests) case (tests/resource_base.py)"
    )


def test_every_tenant_owned_model_has_a_scoped_graphql_type() -> None:
    missing = set(tenant_owned_models()) - models_with_scoped_graphql_types()
    assert missing - set(NO_GRAPHQL_TYPE) == set(), (
        "add a strawberry_django type deriving from TenantOwnedType"
    )


def test_graphql_model_types_of_tenant_owned_models_are_scoped() -> None:
    """A strawberry_django type of a tenant-owned model that skips ``TenantOwnedType`` would
    list every tenant's rows wherever it is nested."""
    owned = set(tenant_owned_models())
    unscoped = {
        name
        for name, origin in strawberry_origins()
        if (model := django_model_of(origin)) is not None
        and label(model) in owned
        and not issubclass(origin, TenantOwnedType)
    }
    assert unscoped == set()


def test_allowlists_check_themselves() -> None:
    owned = tenant_owned_models()
    stale: list[str] = []
    for name in NO_SCOPED_ADMIN:
        if name not in owned:
            stale.append(f"NO_SCOPED_ADMIN: {name} is not a tenant-owned model")
        elif has_scoped_admin(owned[name]):
            stale.append(f"NO_SCOPED_ADMIN: {name} now has a scoped admin")
    tested = models_with_resource_tests()
    for name in NO_RESOURCE_TESTS:
        if name not in owned:
            stale.append(f"NO_RESOURCE_TESTS: {name} is not a tenant-owned model")
        elif name in tested:
            stale.append(f"NO_RESOURCE_TESTS: {name} now has a resource test case")
    typed = models_with_scoped_graphql_types()
    for name in NO_GRAPHQL_TYPE:
        if name not in owned:
            stale.append(f"NO_GRAPHQL_TYPE: {name} is not a tenant-owned model")
        elif name in typed:
            stale.append(f"NO_GRAPHQL_TYPE: {name} now has a scoped GraphQL type")
    routes = {e.name for e in TENANT_API}
    for name in NOT_RESOURCE_ROUTES:
        if name not in routes:
            stale.append(f"NOT_RESOURCE_ROUTES: {name} is not a route of the tenant API")
    assert stale == [], "remove these allowlist entries"


def test_every_rest_resource_route_has_a_test_case() -> None:
    load_every_test_module()
    declared = {case.basename for cases in resource_base.REGISTRY.values() for case in cases}
    routes = {
        e.name
        for e in TENANT_API
        if e.name.endswith(("-list", "-detail")) and e.name not in NOT_RESOURCE_ROUTES
    }
    undeclared = {name for name in routes if name.rsplit("-", 1)[0] not in declared}
    assert undeclared == set()


def unwrap(graphql_type: Any) -> Any:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return graphql_type


def returns_tenant_owned_rows(field: Any) -> bool:
    target = unwrap(field.type)
    if not isinstance(target, GraphQLObjectType):
        return False
    definition = (target.extensions or {}).get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    return isinstance(origin, type) and issubclass(origin, TenantOwnedType)


def is_list(graphql_type: Any) -> bool:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)


def list_fields_of_tenant_owned_rows() -> set[tuple[str, str]]:
    """(type, field) of every query field that lists rows of a ``TenantOwnedType``."""
    mutation_type = schema._schema.mutation_type
    found = set()
    for type_name, graphql_type in schema._schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type is mutation_type:
            continue
        for field_name, field in graphql_type.fields.items():
            if is_list(field.type) and returns_tenant_owned_rows(field):
                found.add((type_name, field_name))
    return found


def declared_graphql_list(path: tuple[str, ...]) -> tuple[str, str]:
    """(type, field) of the last step of a test case's ``graphql_list_path``."""
    current: Any = schema._schema.query_type
    step = ("", "")
    for name in path:
        step = (current.name, name)
        current = unwrap(current.fields[name].type)
    return step


# Mutations that act on the tenant as a whole (no row id: they queue a job or move the live
# version), which the resource base cannot drive: each is tested in the module named here (an
# allowed role, anonymous, every role without the capability, another tenant, bad input).
TENANT_WIDE_MUTATIONS: dict[str, str] = {
    "train_classifier": "monitoring/test_classifier_graphql.py",
    "rollback_classifier": "monitoring/test_classifier_graphql.py",
    "rescore_mentions": "monitoring/test_classifier_graphql.py",
}


def test_every_graphql_list_and_mutation_of_tenant_owned_rows_has_a_test_case() -> None:
    load_every_test_module()
    cases = [case for cases in resource_base.REGISTRY.values() for case in cases]
    listed = {declared_graphql_list(c.graphql_list_path) for c in cases if c.graphql_list}
    assert list_fields_of_tenant_owned_rows() - listed == set(), (
        "declare graphql_list on the resource's test case"
    )
    mutations = {m.name for case in cases for m in case.graphql_mutations}
    mutation_type = schema._schema.mutation_type
    fields = set(mutation_type.fields if mutation_type else ())
    undeclared = fields - mutations - set(TENANT_WIDE_MUTATIONS)
    assert undeclared == set(), "declare graphql_mutations on the resource's test case"
    assert set(TENANT_WIDE_MUTATIONS) <= fields - mutations, "stale TENANT_WIDE_MUTATIONS"
    here = Path(tests.__file__).parent
    for name, module in TENANT_WIDE_MUTATIONS.items():
        assert f"{name}(" in (here / module).read_text(), (name, module)
