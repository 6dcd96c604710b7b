"""The reusable test base of every tenant resource, in the spirit of NetBox's API view test cases.

A resource declares what it is (model, URL names, capabilities, payloads, GraphQL fields) and
``TenantResourceTests`` turns the declaration into the tests every tenant resource owes, on REST
and on GraphQL, through the public contracts only (URLs, JSON bodies, GraphQL documents):

* **CRUD**: list, detail, create, update (PATCH, and PUT where declared) and delete succeed for a
  role holding the action's capability, and the result is visible through the API afterwards.
* **Refusals**, for every declared action: anonymous callers get 401; an outsider (an admin of
  another tenant) gets 404 with the very body of a tenant that does not exist; every role that
  lacks the action's capability in ``tenants/roles.py`` gets 403 (``missing_capability``);
  actions the resource does not declare answer 403 or 405. None of them changes a row.
* **Another tenant's object** by id in the path (404, the same body as an id that does not
  exist), in filter query parameters (400 naming the parameter, or no row of that tenant) and in
  the body (a foreign key to another tenant's object, and a ``tenant`` field: 404 or 400 naming
  the field). The model's table is compared before and after: never a change.
* **Query counts**: the REST list and the GraphQL list answer in exactly ``rest_list_queries`` /
  ``graphql_list_queries`` queries, with N rows and with 2N rows alike (no N+1).
* **GraphQL**: the declared list field returns the same rows as the REST list and no row of
  another tenant; declared mutations succeed, and refuse anonymous callers (UNAUTHENTICATED),
  outsiders (NOT_FOUND), roles without the capability (FORBIDDEN) and another tenant's objects.

Using it
--------
Subclass it in a ``test_*.py`` module; pytest collects the subclass (its name starts with
``Test``). Declare::

    from tests.resource_base import GraphQLMutation, TenantResourceTests

    class TestTrackedTerms(TenantResourceTests):
        model = TrackedTerm
        basename = "term"                      # URL names "term-list" and "term-detail"
        capabilities = {                       # action -> capability; undeclared: refused
            "list": Cap.VIEW_MONITORING,
            "retrieve": Cap.VIEW_MONITORING,
            "create": Cap.MANAGE_MONITORING,
            "update": Cap.MANAGE_MONITORING,   # PUT
            "partial_update": Cap.MANAGE_MONITORING,
            "destroy": Cap.MANAGE_MONITORING,
        }
        create_data = {"text": "  Kopi   Senja ", "kind": "product"}
        create_expect = {"text": "Kopi Senja", "kind": "product"}  # default: create_data
        update_data = {"kind": "competitor"}   # PATCH; update_expect defaults to it
        rest_list_queries = 5                  # pinned; see "Query counts" below
        graphql_list = "query($slug: String!) { tracked_terms(slug: $slug) { id } }"
        graphql_list_path = ("tracked_terms",)
        graphql_list_queries = 4

        def make(self, tenant):                # one complete row (relations filled in)
            return TrackedTermFactory(tenant=tenant)

Optional declarations and hooks (see the attributes of ``TenantResourceTests``):
``lookup_field`` / ``lookup_url_kwarg`` (rows addressed by something other than ``pk``),
``create_payload`` / ``update_payload`` (payloads that need fixtures, e.g. a member's id),
``foreign_body`` (body fields that reference other objects: return values that point at
another tenant's objects), ``foreign_filters`` (filter parameters that take ids),
``graphql_mutations`` (``GraphQLMutation`` per mutation), ``payload_variant = True`` on a
class that only changes the payloads (e.g. one class per source kind: the refusals, the
counts and delete do not depend on the kind and run once, on the main class).

Query counts: pin the number you measure (run the test, read the failure) after checking it is
what the endpoint must do (authentication, tenant and roles, the page, one query per prefetched
relation); a change of the number is a change of the contract and is reviewed as such.

Tests of the base take the ``ctx`` fixture (``Ctx``: ``tenant``, ``other_tenant``, ``members`` by
role, ``outsider``, and ``client(user)``): the same people as the fixtures of
``tests/conftest.py``, built once per class (see ``world``), so a subclass's own tests should
take ``ctx`` too rather than those fixtures.

Every subclass registers itself in ``REGISTRY`` (model -> test classes); ``tests/test_meta.py``
fails when a tenant-owned model has no test case here (or an explicit, commented allowlist
entry), so a new resource cannot skip these tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from rest_framework.test import APIClient

from tenants.models import Tenant, User
from tenants.roles import Cap, Role, roles_lacking
from tests.conftest import error_codes, token_for
from tests.factories import AgencyFactory, MembershipFactory, TenantFactory, UserFactory

# model -> the TenantResourceTests subclasses that cover it (read by tests/test_meta.py).
REGISTRY: dict[type[Model], list[type[TenantResourceTests]]] = {}

# action -> (HTTP method, on the detail URL?)
ACTIONS: dict[str, tuple[str, bool]] = {
    "list": ("get", False),
    "create": ("post", False),
    "retrieve": ("get", True),
    "update": ("put", True),
    "partial_update": ("patch", True),
    "destroy": ("delete", True),
}
MISSING_ID = "987654321"


def _has(*actions: str) -> Callable[[Any], bool]:
    return lambda cls: any(action in cls.capabilities for action in actions)


def _refusals(applies: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda cls: not cls.payload_variant and applies(cls)


def _main(applies: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return _refusals(applies)  # the same rule: a payload variant runs neither


def _always(cls: Any) -> bool:
    return True


# test name -> whether a resource class gets it
APPLIES: dict[str, Callable[[Any], bool]] = {
    "test_rest_list": _main(_has("list")),
    "test_rest_detail": _main(_has("retrieve")),
    "test_rest_create": _has("create"),
    "test_rest_partial_update": _has("partial_update"),
    "test_rest_update": _has("update"),
    "test_rest_delete": _main(_has("destroy")),
    "test_rest_anonymous_gets_401": _refusals(_always),
    "test_rest_outsider_gets_404_like_a_missing_tenant": _refusals(_always),
    "test_rest_roles_without_the_capability_get_403": _refusals(_always),
    "test_rest_undeclared_actions_are_refused": _refusals(_always),
    "test_rest_another_tenants_object_in_the_path_is_404": _refusals(
        _has("retrieve", "update", "partial_update", "destroy")
    ),
    "test_rest_another_tenants_ids_in_filters_list_nothing_of_theirs": _refusals(
        lambda cls: (
            "list" in cls.capabilities
            and cls.foreign_filters is not TenantResourceTests.foreign_filters
        )
    ),
    "test_rest_another_tenants_objects_in_the_body_change_nothing": _refusals(
        _has("create", "update", "partial_update")
    ),
    "test_rest_list_query_count_is_pinned": _main(_has("list")),
    "test_graphql_list_matches_rest": lambda cls: bool(cls.graphql_list),
    "test_graphql_list_refusals": _refusals(lambda cls: bool(cls.graphql_list)),
    "test_graphql_list_query_count_is_pinned": _main(lambda cls: bool(cls.graphql_list)),
    "test_graphql_mutations": lambda cls: bool(cls.graphql_mutations),
    "test_graphql_mutation_refusals": _refusals(lambda cls: bool(cls.graphql_mutations)),
}


@dataclass(frozen=True)
class GraphQLMutation:
    """One GraphQL mutation of a resource.

    ``document`` takes ``$slug`` and, for ``update``/``delete``/``bulk``, ``$id`` (the row's
    lookup); it must select ``id`` of the row it returns. A ``bulk`` mutation changes many rows
    (``$id`` among its ids) and answers a report with ``errors { id code }``: another tenant's
    id is reported there like a missing one (``not_found``), never changed. ``variables(ctx)``
    gives the other variables of every call; after a successful ``create``, ``update`` or
    ``bulk`` the REST detail (or list row) contains ``expect(ctx)``.
    ``foreign_variables(ctx)`` returns variables that reference another tenant's objects:
    each must be refused with BAD_USER_INPUT or NOT_FOUND, changing nothing.
    """

    action: str  # "create", "update", "delete" or "bulk"
    document: str
    capability: Cap
    variables: Callable[[Ctx], dict[str, Any]] | None = None
    expect: Callable[[Ctx], dict[str, Any]] | None = None
    foreign_variables: Callable[[Ctx], dict[str, Any]] | None = None

    @property
    def name(self) -> str:
        """The root field of the mutation, e.g. ``update_mention_triage``."""
        body = self.document.split("{", 1)[1]
        return body.split("(", 1)[0].strip()


@dataclass
class Ctx:
    """Everything a test needs: our tenant and its members, another tenant and its admin."""

    tenant: Tenant
    other_tenant: Tenant
    members: dict[str, User]
    outsider: User
    clients: dict[int | None, APIClient] = field(default_factory=dict)

    def client(self, user: User | None) -> APIClient:
        """A client signed in as ``user`` with a real token (anonymous for None); one per user
        and test, so a test issues each token once."""
        key = user.pk if user is not None else None
        if key not in self.clients:
            client = APIClient()
            if user is not None:
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
            self.clients[key] = client
        return self.clients[key]

    def holder_of(self, cap: Cap) -> User:
        """A member whose role holds ``cap`` (the first in ``Role`` order)."""
        role = next(r for r in Role if r not in roles_lacking(cap))
        return self.members[str(role)]


def world_rolled_back(django_db_blocker: Any) -> Iterator[Ctx]:
    """``build_world`` for a fixture broader than a test (a class, a module): built inside a
    transaction rolled back when the fixture ends; each test then runs in a savepoint within it
    (pytest-django's ``db``), so it sees only its own rows."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def build_world() -> Ctx:
    """What the ``tenant``, ``other_tenant``, ``members`` and ``outsider`` fixtures of
    ``tests/conftest.py`` give, built at once."""
    tenant = TenantFactory(slug="kopi-senja", name="Kopi Senja")
    other_tenant = TenantFactory(slug="bank-lestari", name="Bank Lestari", agency=AgencyFactory())
    members = {}
    for role in Role:
        agency = None if role == Role.CLIENT else tenant.agency
        user = UserFactory(email=f"{role}@kopi.test", agency=agency)
        MembershipFactory(tenant=tenant, user=user, role=role)
        members[str(role)] = user
    outsider = UserFactory(email="admin@bank.test", agency=other_tenant.agency)
    MembershipFactory(tenant=other_tenant, user=outsider, role=Role.ADMIN)
    return Ctx(tenant=tenant, other_tenant=other_tenant, members=members, outsider=outsider)


def graphql(
    client: APIClient, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = client.post(
        "/graphql/",
        data=json.dumps({"query": document, "variables": variables or {}}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def first_error(response: Any) -> dict[str, Any]:
    return response.json()["errors"][0]  # type: ignore[no-any-return]


def subset(expected: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    return {key: body.get(key) for key in expected}


class TenantResourceTests:
    """Base of every tenant resource's test class. See the module docstring."""

    __test__ = False  # the base itself is not a test class; subclasses set it back

    # --- declaration ---------------------------------------------------------------------
    model: ClassVar[type[Model]]
    basename: ClassVar[str]
    capabilities: ClassVar[dict[str, Cap]]
    lookup_field: ClassVar[str] = "pk"  # model attribute shown as the JSON "id" and in the URL
    lookup_url_kwarg: ClassVar[str] = "pk"
    create_data: ClassVar[dict[str, Any] | None] = None
    create_expect: ClassVar[dict[str, Any] | None] = None
    update_data: ClassVar[dict[str, Any] | None] = None
    update_expect: ClassVar[dict[str, Any] | None] = None
    rest_list_queries: ClassVar[int]
    graphql_list: ClassVar[str | None] = None
    graphql_list_path: ClassVar[tuple[str, ...]] = ()
    graphql_list_capability: ClassVar[Cap | None] = None  # default: capabilities["list"]
    graphql_list_queries: ClassVar[int | None] = None
    graphql_mutations: ClassVar[tuple[GraphQLMutation, ...]] = ()
    # A variant that only changes payloads (one class per source kind): it runs the create and
    # update tests and the GraphQL list (rows of each variant must render); the rest, which
    # does not depend on the payload, runs once on the main class.
    payload_variant: ClassVar[bool] = False
    rows_per_count: ClassVar[int] = 2  # N in the "N rows vs 2N rows" query count

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = cls.__name__.startswith("Test")
        if not cls.__test__:
            return  # an intermediate base
        for name in ("model", "basename", "capabilities", "rest_list_queries"):
            if not hasattr(cls, name):
                raise TypeError(f"{cls.__name__} must declare {name}.")
        unknown = set(cls.capabilities) - set(ACTIONS)
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown actions {sorted(unknown)}.")
        if (
            "create" in cls.capabilities
            and cls.create_data is None
            and cls.create_payload is TenantResourceTests.create_payload
        ):
            raise TypeError(f"{cls.__name__} declares create: give create_data.")
        if cls.graphql_list and not (cls.graphql_list_path and cls.graphql_list_queries):
            raise TypeError(f"{cls.__name__}: give graphql_list_path and graphql_list_queries.")
        for name, applies in APPLIES.items():
            if not applies(cls):
                setattr(cls, name, None)  # not collected: the resource has no such thing
        REGISTRY.setdefault(cls.model, []).append(cls)

    # --- hooks ---------------------------------------------------------------------------
    def make(self, tenant: Tenant) -> Model:
        """One complete row of ``tenant``, relations filled in (they show N+1 queries)."""
        raise NotImplementedError

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return dict(self.create_data or {})

    def update_payload(self, ctx: Ctx, obj: Model) -> dict[str, Any]:
        return dict(self.update_data or {})

    def put_payload(self, ctx: Ctx, obj: Model) -> dict[str, Any]:
        return {**self.create_payload(ctx), **self.update_payload(ctx, obj)}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        if self.create_expect is not None:
            return dict(self.create_expect)
        return self.create_payload(ctx)

    def expected_after_update(self, ctx: Ctx, obj: Model) -> dict[str, Any]:
        if self.update_expect is not None:
            return dict(self.update_expect)
        return self.update_payload(ctx, obj)

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        """Body fields referencing another tenant's objects (``ctx.other_tenant``)."""
        return {}

    def foreign_filters(self, ctx: Ctx, theirs: Model) -> dict[str, Any]:
        """Filter parameters taking ids, set to ids of ``theirs`` (a row of the other tenant)
        or of its relations, so that a leak would list ``theirs``."""
        return {}

    # --- helpers -------------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def world(cls, django_db_setup: Any, django_db_blocker: Any) -> Iterator[Ctx]:
        """The tenants and people of ``tests/conftest.py``, built once per test class inside a
        transaction that is rolled back after the class; each test runs in a savepoint within
        it (pytest-django's ``db``), so tests still see only their own rows."""
        yield from world_rolled_back(django_db_blocker)

    @pytest.fixture
    def ctx(self, world: Ctx, db: Any) -> Ctx:
        return Ctx(
            tenant=world.tenant,
            other_tenant=world.other_tenant,
            members=world.members,
            outsider=world.outsider,
        )

    def lookup(self, obj: Model) -> str:
        return str(getattr(obj, self.lookup_field))

    def list_url(self, slug: str) -> str:
        return reverse(f"{self.basename}-list", kwargs={"tenant_slug": slug})

    def detail_url(self, slug: str, lookup: str) -> str:
        return reverse(
            f"{self.basename}-detail", kwargs={"tenant_slug": slug, self.lookup_url_kwarg: lookup}
        )

    def url(self, action: str, slug: str, obj: Model | None = None) -> str:
        if ACTIONS[action][1]:
            return self.detail_url(slug, self.lookup(obj) if obj is not None else MISSING_ID)
        return self.list_url(slug)

    def payload(self, action: str, ctx: Ctx, obj: Model | None) -> dict[str, Any] | None:
        if action == "create":
            return self.create_payload(ctx)
        if action == "partial_update":
            return self.update_payload(ctx, obj)  # type: ignore[arg-type]
        if action == "update":
            return self.put_payload(ctx, obj)  # type: ignore[arg-type]
        return None

    def call(
        self, client: APIClient, action: str, slug: str, obj: Model | None, data: Any = None
    ) -> Any:
        method = ACTIONS[action][0]
        url = self.url(action, slug, obj)
        if method == "get":
            return client.get(url, data)
        return getattr(client, method)(url, data, format="json")

    def table(self) -> list[dict[str, Any]]:
        """Every row of the model, to prove that a refused request changed nothing."""
        return list(self.model._default_manager.order_by("pk").values())

    @contextmanager
    def unchanged(self) -> Iterator[None]:
        before = self.table()
        yield
        assert self.table() == before, "a refused request changed rows"

    def rows(self, response: Any) -> list[dict[str, Any]]:
        assert response.status_code == 200, response.content
        body = response.json()
        if "count" in body:
            assert body["count"] == len(body["results"])  # every test list fits in one page
        return body["results"]  # type: ignore[no-any-return]

    def ids(self, response: Any) -> list[str]:
        return [str(row["id"]) for row in self.rows(response)]

    def find(self, ctx: Ctx, lookup: str) -> dict[str, Any]:
        """The row as REST shows it: the detail, or the list row when there is no detail."""
        client = ctx.client(ctx.holder_of(self.read_capability()))
        if "retrieve" in self.capabilities:
            response = client.get(self.detail_url(ctx.tenant.slug, lookup))
            assert response.status_code == 200, response.content
            return response.json()  # type: ignore[no-any-return]
        found = [row for row in self.rows(client.get(self.list_url(ctx.tenant.slug)))]
        matches = [row for row in found if str(row["id"]) == lookup]
        assert len(matches) == 1, (lookup, found)
        return matches[0]

    def read_capability(self) -> Cap:
        return self.capabilities.get("list") or self.capabilities["retrieve"]

    def actions(self) -> list[str]:
        return [a for a in ACTIONS if a in self.capabilities]

    # --- REST: CRUD ----------------------------------------------------------------------
    def test_rest_list(self, ctx: Ctx) -> None:
        ours = [self.make(ctx.tenant) for _ in range(2)]
        theirs = self.make(ctx.other_tenant)
        client = ctx.client(ctx.holder_of(self.capabilities["list"]))
        ids = self.ids(client.get(self.list_url(ctx.tenant.slug)))
        assert {self.lookup(o) for o in ours} <= set(ids)
        assert self.lookup(theirs) not in ids
        assert len(ids) == len(set(ids))

    def test_rest_detail(self, ctx: Ctx) -> None:
        obj = self.make(ctx.tenant)
        client = ctx.client(ctx.holder_of(self.capabilities["retrieve"]))
        response = client.get(self.detail_url(ctx.tenant.slug, self.lookup(obj)))
        assert response.status_code == 200, response.content
        assert str(response.json()["id"]) == self.lookup(obj)

    def test_rest_create(self, ctx: Ctx) -> None:
        ours = self.model._default_manager.filter(tenant=ctx.tenant)
        before = ours.count()
        client = ctx.client(ctx.holder_of(self.capabilities["create"]))
        response = client.post(
            self.list_url(ctx.tenant.slug), self.create_payload(ctx), format="json"
        )
        assert response.status_code == 201, response.content
        lookup = str(response.json()["id"])
        assert ours.count() == before + 1
        assert ours.filter(**{self.lookup_field: lookup}).exists()
        expected = self.expected_after_create(ctx)
        assert subset(expected, response.json()) == expected
        assert subset(expected, self.find(ctx, lookup)) == expected

    def test_rest_partial_update(self, ctx: Ctx) -> None:
        obj = self.make(ctx.tenant)
        client = ctx.client(ctx.holder_of(self.capabilities["partial_update"]))
        response = client.patch(
            self.detail_url(ctx.tenant.slug, self.lookup(obj)),
            self.update_payload(ctx, obj),
            format="json",
        )
        assert response.status_code == 200, response.content
        expected = self.expected_after_update(ctx, obj)
        assert subset(expected, response.json()) == expected
        assert subset(expected, self.find(ctx, self.lookup(obj))) == expected

    def test_rest_update(self, ctx: Ctx) -> None:
        obj = self.make(ctx.tenant)
        client = ctx.client(ctx.holder_of(self.capabilities["update"]))
        response = client.put(
            self.detail_url(ctx.tenant.slug, self.lookup(obj)),
            self.put_payload(ctx, obj),
            format="json",
        )
        assert response.status_code == 200, response.content
        expected = self.expected_after_update(ctx, obj)
        assert subset(expected, self.find(ctx, self.lookup(obj))) == expected

    def test_rest_delete(self, ctx: Ctx) -> None:
        obj, kept = self.make(ctx.tenant), self.make(ctx.tenant)
        client = ctx.client(ctx.holder_of(self.capabilities["destroy"]))
        response = client.delete(self.detail_url(ctx.tenant.slug, self.lookup(obj)))
        assert response.status_code == 204, response.content
        reader = ctx.client(ctx.holder_of(self.read_capability()))
        if "retrieve" in self.capabilities:
            gone = reader.get(self.detail_url(ctx.tenant.slug, self.lookup(obj)))
            assert gone.status_code == 404
        if "list" in self.capabilities:
            ids = self.ids(reader.get(self.list_url(ctx.tenant.slug)))
            assert self.lookup(obj) not in ids and self.lookup(kept) in ids

    # --- REST: refusals ------------------------------------------------------------------
    def test_rest_anonymous_gets_401(self, ctx: Ctx) -> None:
        obj = self.make(ctx.tenant)
        client = ctx.client(None)
        for action in self.actions():
            with self.unchanged():
                response = self.call(
                    client, action, ctx.tenant.slug, obj, self.payload(action, ctx, obj)
                )
            assert response.status_code == 401, (action, response.content)
            assert first_error(response)["code"] == "not_authenticated", action

    def test_rest_outsider_gets_404_like_a_missing_tenant(self, ctx: Ctx) -> None:
        obj = self.make(ctx.tenant)
        client = ctx.client(ctx.outsider)
        for action in self.actions():
            data = self.payload(action, ctx, obj)
            with self.unchanged():
                theirs = self.call(client, action, ctx.tenant.slug, obj, data)
                missing = self.call(client, action, "no-such-tenant", obj, data)
            assert theirs.status_code == 404, (action, theirs.content)
            assert theirs.json() == missing.json(), action

    def test_rest_roles_without_the_capability_get_403(self, ctx: Ctx) -> None:
        obj = self.make(ctx.tenant)
        for action in self.actions():
            cap = self.capabilities[action]
            for role in roles_lacking(cap):
                client = ctx.client(ctx.members[str(role)])
                with self.unchanged():
                    response = self.call(
                        client, action, ctx.tenant.slug, obj, self.payload(action, ctx, obj)
                    )
                assert response.status_code == 403, (action, role, response.content)
                assert first_error(response)["code"] == "missing_capability", (action, role)

    def test_rest_undeclared_actions_are_refused(self, ctx: Ctx) -> None:
        obj = self.make(ctx.tenant)
        admin = ctx.client(ctx.members[str(Role.ADMIN)])
        for action in ACTIONS:
            if action in self.capabilities:
                continue
            data = self.create_payload(ctx) if action in ("create", "update") else {}
            with self.unchanged():
                response = self.call(admin, action, ctx.tenant.slug, obj, data or None)
            assert response.status_code in (403, 405), (action, response.content)

    # --- REST: another tenant's objects --------------------------------------------------
    def test_rest_another_tenants_object_in_the_path_is_404(self, ctx: Ctx) -> None:
        theirs = self.make(ctx.other_tenant)
        for action in self.actions():
            if not ACTIONS[action][1]:
                continue
            # The first role holding the action's capability (the admin, unless it lacks it).
            admin = ctx.client(ctx.holder_of(self.capabilities[action]))
            data = self.payload(action, ctx, theirs)
            with self.unchanged():
                response = self.call(admin, action, ctx.tenant.slug, theirs, data)
                missing = self.call(admin, action, ctx.tenant.slug, None, data)
            assert response.status_code == 404, (action, response.content)
            assert response.json() == missing.json(), action

    def test_rest_another_tenants_ids_in_filters_list_nothing_of_theirs(self, ctx: Ctx) -> None:
        ours = self.make(ctx.tenant)
        theirs = self.make(ctx.other_tenant)
        filters = self.foreign_filters(ctx, theirs)
        client = ctx.client(ctx.holder_of(self.capabilities["list"]))
        for name, value in filters.items():
            response = client.get(self.list_url(ctx.tenant.slug), {name: value})
            if response.status_code == 400:
                assert first_error(response)["attr"] == name, response.content
                continue
            ids = self.ids(response)
            assert self.lookup(theirs) not in ids and self.lookup(ours) not in ids, name

    def test_rest_another_tenants_objects_in_the_body_change_nothing(self, ctx: Ctx) -> None:
        writes = [a for a in ("create", "partial_update", "update") if a in self.capabilities]
        obj = self.make(ctx.tenant)
        theirs_before = list(
            self.model._default_manager.filter(tenant=ctx.other_tenant).order_by("pk").values()
        )
        foreign = {"tenant": ctx.other_tenant.pk, **self.foreign_body(ctx)}
        for action in writes:
            # The first role holding the action's capability (the admin, unless it lacks it,
            # as for drafting statements).
            admin = ctx.client(ctx.holder_of(self.capabilities[action]))
            for name, value in foreign.items():
                data = {**(self.payload(action, ctx, obj) or {}), name: value}
                if name == "tenant":
                    response = self.call(admin, action, ctx.tenant.slug, obj, data)
                    # Refused naming the field, or the field is ignored: never their row.
                    if response.status_code in (200, 201):
                        row = self.model._default_manager.get(
                            **{self.lookup_field: response.json()["id"]}
                        )
                        assert row.tenant_id == ctx.tenant.pk, action  # type: ignore[attr-defined]
                    else:
                        assert response.status_code == 400, (action, response.content)
                        assert first_error(response)["attr"] == "tenant", action
                    continue
                with self.unchanged():
                    response = self.call(admin, action, ctx.tenant.slug, obj, data)
                assert response.status_code in (400, 404), (action, name, response.content)
                if response.status_code == 400:
                    assert first_error(response)["attr"] == name, (action, response.content)
        theirs_after = list(
            self.model._default_manager.filter(tenant=ctx.other_tenant).order_by("pk").values()
        )
        assert theirs_after == theirs_before

    # --- REST: query counts --------------------------------------------------------------
    def test_rest_list_query_count_is_pinned(
        self, ctx: Ctx, django_assert_num_queries: Any
    ) -> None:
        client = ctx.client(ctx.holder_of(self.capabilities["list"]))
        url = self.list_url(ctx.tenant.slug)
        for _ in range(self.rows_per_count):
            self.make(ctx.tenant)
        client.get(url)  # the token's first use is recorded once
        for _ in range(2):  # N rows, then 2N rows
            with django_assert_num_queries(self.rest_list_queries):
                response = client.get(url)
            assert response.status_code == 200, response.content
            for _ in range(self.rows_per_count):
                self.make(ctx.tenant)

    # --- GraphQL: list -------------------------------------------------------------------
    def graphql_read_capability(self) -> Cap:
        return self.graphql_list_capability or self.read_capability()

    def graphql_ids(self, client: APIClient, slug: str) -> list[str]:
        body = graphql(client, self.graphql_list, {"slug": slug})  # type: ignore[arg-type]
        assert "errors" not in body, body
        return [str(row["id"]) for row in dig(body["data"], self.graphql_list_path)]

    def test_graphql_list_matches_rest(self, ctx: Ctx) -> None:
        ours = [self.make(ctx.tenant) for _ in range(2)]
        theirs = self.make(ctx.other_tenant)
        reader = ctx.client(ctx.holder_of(self.graphql_read_capability()))
        ids = self.graphql_ids(reader, ctx.tenant.slug)
        assert {self.lookup(o) for o in ours} <= set(ids)
        assert self.lookup(theirs) not in ids
        if "list" in self.capabilities:
            assert sorted(ids) == sorted(self.ids(reader.get(self.list_url(ctx.tenant.slug))))

    def test_graphql_list_refusals(self, ctx: Ctx) -> None:
        slug = {"slug": ctx.tenant.slug}
        assert error_codes(graphql(ctx.client(None), self.graphql_list, slug)) == [
            "UNAUTHENTICATED"
        ]
        outsider = ctx.client(ctx.outsider)
        theirs = graphql(outsider, self.graphql_list, slug)
        missing = graphql(outsider, self.graphql_list, {"slug": "no-such-tenant"})
        assert error_codes(theirs) == ["NOT_FOUND"]
        assert theirs["errors"][0]["message"] == missing["errors"][0]["message"]
        for role in Role:
            body = graphql(ctx.client(ctx.members[str(role)]), self.graphql_list, slug)
            if role in roles_lacking(self.graphql_read_capability()):
                assert error_codes(body) == ["FORBIDDEN"], role
            else:
                assert "errors" not in body, (role, body)

    def test_graphql_list_query_count_is_pinned(
        self, ctx: Ctx, django_assert_num_queries: Any
    ) -> None:
        client = ctx.client(ctx.holder_of(self.graphql_read_capability()))
        for _ in range(self.rows_per_count):
            self.make(ctx.tenant)
        self.graphql_ids(client, ctx.tenant.slug)  # the token's first use is recorded once
        for _ in range(2):  # N rows, then 2N rows
            with django_assert_num_queries(self.graphql_list_queries):
                self.graphql_ids(client, ctx.tenant.slug)
            for _ in range(self.rows_per_count):
                self.make(ctx.tenant)

    # --- GraphQL: mutations --------------------------------------------------------------
    def mutation_variables(
        self, ctx: Ctx, mutation: GraphQLMutation, obj: Model | None
    ) -> dict[str, Any]:
        extra = mutation.variables(ctx) if mutation.variables else {}
        variables = {"slug": ctx.tenant.slug, **extra}
        if mutation.action != "create":
            variables["id"] = self.lookup(obj) if obj is not None else MISSING_ID
        return variables

    def test_graphql_mutations(self, ctx: Ctx) -> None:
        for mutation in self.graphql_mutations:
            obj = self.make(ctx.tenant) if mutation.action != "create" else None
            client = ctx.client(ctx.holder_of(mutation.capability))
            body = graphql(client, mutation.document, self.mutation_variables(ctx, mutation, obj))
            assert "errors" not in body, (mutation.name, body)
            if mutation.action == "delete":
                reader = ctx.client(ctx.holder_of(self.read_capability()))
                if "retrieve" in self.capabilities:
                    gone = reader.get(self.detail_url(ctx.tenant.slug, self.lookup(obj)))  # type: ignore[arg-type]
                    assert gone.status_code == 404, mutation.name
                continue
            if mutation.action == "bulk":
                assert body["data"][mutation.name]["errors"] == [], (mutation.name, body)
                expected = mutation.expect(ctx) if mutation.expect else {}
                found = self.find(ctx, self.lookup(obj))  # type: ignore[arg-type]
                assert subset(expected, found) == expected, mutation.name
                continue
            lookup = str(body["data"][mutation.name]["id"])
            if obj is not None:
                assert lookup == self.lookup(obj), mutation.name
            else:
                assert self.model._default_manager.filter(
                    tenant=ctx.tenant, **{self.lookup_field: lookup}
                ).exists()
            expected = mutation.expect(ctx) if mutation.expect else {}
            assert subset(expected, self.find(ctx, lookup)) == expected

    def test_graphql_mutation_refusals(self, ctx: Ctx) -> None:
        for mutation in self.graphql_mutations:
            obj = self.make(ctx.tenant) if mutation.action != "create" else None
            theirs = self.make(ctx.other_tenant)
            variables = self.mutation_variables(ctx, mutation, obj)
            run = mutation.document
            with self.unchanged():
                anonymous = graphql(ctx.client(None), run, variables)
                outsider = ctx.client(ctx.outsider)
                foreign_tenant = graphql(outsider, run, variables)
                no_tenant = graphql(outsider, run, {**variables, "slug": "no-such-tenant"})
                by_role = {
                    role: graphql(ctx.client(ctx.members[str(role)]), run, variables)
                    for role in roles_lacking(mutation.capability)
                }
                admin = ctx.client(ctx.holder_of(mutation.capability))
                if mutation.action != "create":
                    their_id = graphql(admin, run, {**variables, "id": self.lookup(theirs)})
                    missing_id = graphql(admin, run, {**variables, "id": MISSING_ID})
                foreign = mutation.foreign_variables(ctx) if mutation.foreign_variables else {}
                by_variable = {
                    name: graphql(admin, run, {**variables, name: value})
                    for name, value in foreign.items()
                }
            assert error_codes(anonymous) == ["UNAUTHENTICATED"], mutation.name
            assert error_codes(foreign_tenant) == ["NOT_FOUND"], mutation.name
            assert foreign_tenant["errors"][0]["message"] == no_tenant["errors"][0]["message"]
            for role, body in by_role.items():
                assert error_codes(body) == ["FORBIDDEN"], (mutation.name, role)
            if mutation.action == "bulk":
                for body, lookup in ((their_id, self.lookup(theirs)), (missing_id, MISSING_ID)):
                    assert "errors" not in body, body
                    report = body["data"][mutation.name]["errors"]
                    assert report == [{"id": lookup, "code": "not_found"}], body
            elif mutation.action != "create":
                assert error_codes(their_id) in (["BAD_USER_INPUT"], ["NOT_FOUND"]), their_id
                assert their_id["errors"][0]["message"] == missing_id["errors"][0]["message"]
            for name, body in by_variable.items():
                assert error_codes(body) in (["BAD_USER_INPUT"], ["NOT_FOUND"]), (name, body)
