"""REST and GraphQL show the same fields of every resource that both serve.

The pairs are found, not listed: every model-backed serializer of a REST endpoint (walking the
URL patterns) meets the GraphQL object type of the same model (the type named like the model).
A difference must be in ``ALLOWED`` with its reason; an entry that no longer matches a real
difference fails too, so the list cannot go stale.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import serializers
from strawberry_django.utils.typing import get_django_definition

from config.graphql import schema
from monitoring.api.serializers import VolumePointSerializer

# model label -> (only in REST, only in GraphQL), each with the reason it is meant.
ALLOWED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # GraphQL nests the members in the tenant (guarded by members.view); REST has /members/.
    "tenants.Tenant": (frozenset(), frozenset({"members"})),
    # REST's /me/ lists the caller's memberships inline; GraphQL reaches them via tenants.
    "tenants.User": (frozenset({"memberships"}), frozenset()),
    # GraphQL nests an alert's history in every alert; REST lists it in the alert's detail
    # (with the sample mentions), not in the list rows.
    "monitoring.Alert": (frozenset(), frozenset({"history"})),
    # A channel's URL or token and a webhook's signing key: write-only fields of the REST
    # serializer (never in an answer); GraphQL takes them as mutation arguments only.
    "tenants.Channel": (frozenset({"secret", "signing_secret"}), frozenset()),
}

# Pairs whose REST side is not a model serializer: (label, serializer, GraphQL type name).
EXTRA_PAIRS = (("monitoring.MetricBucket", VolumePointSerializer, "MetricBucket"),)

# The walk must find at least these, or it is looking in the wrong place.
EXPECTED = {
    "monitoring.MonitoredQuery",
    "monitoring.Source",
    "monitoring.Mention",
    "monitoring.TrackedTerm",
    "monitoring.MetricBucket",
    "tenants.Tenant",
    "tenants.Membership",
    "tenants.User",
    "monitoring.AlertRule",
    "monitoring.Alert",
    "monitoring.HoaxCluster",
    "monitoring.OwnedAccount",
}


def _views(patterns: list[Any]) -> list[Any]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view = pattern.callback
            found.append(getattr(view, "cls", None) or getattr(view, "view_class", None))
    return [view for view in found if view is not None]


def rest_fields() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for view in _views(get_resolver().url_patterns):
        serializer_class = getattr(view, "serializer_class", None)
        if serializer_class is None or not issubclass(
            serializer_class, serializers.ModelSerializer
        ):
            continue
        model: type[models.Model] = serializer_class.Meta.model
        result.setdefault(model._meta.label, set()).update(serializer_class().fields)
    for label, serializer_class, _name in EXTRA_PAIRS:
        result[label] = set(serializer_class().fields)
    return result


def graphql_fields() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for definition in schema.schema_converter.type_map.values():
        origin = getattr(definition.definition, "origin", None)
        django = get_django_definition(origin) if origin is not None else None
        if django is None or django.model._meta.object_name != definition.definition.name:
            continue
        result[django.model._meta.label] = set(
            schema._schema.type_map[definition.definition.name].fields
        )  # type: ignore[union-attr]
    for label, _serializer, name in EXTRA_PAIRS:
        result[label] = set(schema._schema.type_map[name].fields)  # type: ignore[union-attr]
    return result


def differences() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    rest, graphql = rest_fields(), graphql_fields()
    return {
        label: (frozenset(rest[label] - graphql[label]), frozenset(graphql[label] - rest[label]))
        for label in rest.keys() & graphql.keys()
    }


def test_every_rest_graphql_pair_shows_the_same_fields() -> None:
    found = differences()
    assert found.keys() >= EXPECTED, f"pairs not found: {EXPECTED - found.keys()}"
    unexpected = {
        label: diff
        for label, diff in found.items()
        if diff != ALLOWED.get(label, (frozenset(), frozenset()))
    }
    assert unexpected == {}, "fields differ between REST and GraphQL (fix, or allow with a reason)"


def test_every_allowed_difference_is_still_real() -> None:
    found = differences()
    stale = {
        label: allowed
        for label, allowed in ALLOWED.items()
        if found.get(label) != allowed or allowed == (frozenset(), frozenset())
    }
    assert stale == {}, "these allowlist entries no longer match a difference: remove or update"
