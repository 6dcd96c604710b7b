"""The shared platform pieces in ``tenants/``: enums the crisis apps share, the typed row filter
and the write helpers every app's services use."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from monitoring import services
from monitoring.models import MonitoredQuery, TrackedTerm
from monitoring.scoring import TRIGGER_LABELS
from tenants.choices import CrisisTrigger, IncidentRole, Severity
from tests.monitoring.factories import MonitoredQueryFactory, SourceFactory


def test_crisis_triggers_are_the_scorers_labels() -> None:
    # The scorer is a pure package (no Django): its labels and the shared enum stay equal.
    assert tuple(CrisisTrigger.values) == TRIGGER_LABELS


def test_severities_run_from_sev1_to_sev4() -> None:
    assert list(Severity.values) == ["sev1", "sev2", "sev3", "sev4"]
    assert [Severity.rank(value) for value in Severity.values] == [1, 2, 3, 4]


def test_incident_roles_are_documented() -> None:
    doc = IncidentRole.__doc__ or ""
    for role in IncidentRole.values:
        assert f"``{role}``" in doc, role


def test_for_tenant_takes_one_tenant_or_several(tenant: Any, other_tenant: Any) -> None:
    ours = MonitoredQueryFactory(tenant=tenant)
    theirs = MonitoredQueryFactory(tenant=other_tenant)
    assert list(MonitoredQuery.objects.for_tenant(tenant)) == [ours]
    assert list(MonitoredQuery.objects.for_tenant(tenant.pk)) == [ours]
    both = MonitoredQuery.objects.for_tenant([tenant, other_tenant.pk])
    assert set(both) == {ours, theirs}
    from tenants.models import Tenant

    assert list(MonitoredQuery.objects.for_tenant(Tenant.objects.filter(pk=other_tenant.pk))) == [
        theirs
    ]


def test_services_keep_tenant_wide_uniqueness_as_a_field_error(
    tenant: Any, other_tenant: Any
) -> None:
    services.create_tracked_term(tenant=tenant, text="Kopi  Senja")
    services.create_tracked_term(tenant=other_tenant, text="Kopi Senja")  # another tenant: fine
    with pytest.raises(ValidationError) as refused:
        services.create_tracked_term(tenant=tenant, text=" kopi senja ".title())
    assert refused.value.error_dict["text"][0].code == "unique"
    assert TrackedTerm.objects.for_tenant(tenant).get().text == "Kopi Senja"  # normalised


def test_a_batch_cannot_name_another_tenants_source(tenant: Any, other_tenant: Any) -> None:
    theirs = SourceFactory(tenant=other_tenant)
    with pytest.raises(ValidationError) as refused:
        services.accept_items(tenant=tenant, objects=[], source=theirs)
    assert "source" in refused.value.error_dict


def test_an_update_cannot_touch_read_only_fields(tenant: Any) -> None:
    query = MonitoredQueryFactory(tenant=tenant)
    with pytest.raises(ValidationError) as refused:
        services.update_query(instance=query, created_at=None)
    assert refused.value.error_dict["created_at"][0].code == "read_only"
