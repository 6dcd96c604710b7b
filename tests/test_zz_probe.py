from typing import Any
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.monitoring.factories import MentionFactory


def test_probe(api: Any, tenant: Any, members: Any, gql: Any, client: Any) -> None:
    MentionFactory(tenant=tenant)
    c = api(members["analyst"])
    url = f"/api/v1/tenants/{tenant.slug}/mentions/"
    c.get(url)
    with CaptureQueriesContext(connection) as q:
        r = c.get(url)
    assert r.status_code == 200
    for x in q.captured_queries:
        print("REST:", x["sql"][:300])
    from tests.conftest import token_for
    tok = token_for(members["analyst"])
    import json
    body = {"query": 'query($slug: String!){ mentions(tenantSlug: $slug) { edges { node { id } } } }', "variables": {"slug": tenant.slug}}
    client.post("/graphql/", data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {tok}")
    with CaptureQueriesContext(connection) as q:
        r = client.post("/graphql/", data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {tok}")
    print(r.content[:300])
    for x in q.captured_queries:
        print("GQL:", x["sql"][:300])
