"""The endpoints that answer without credentials, by design. Nothing else may.

``tests/test_isolation_walk.py`` walks every URL pattern and GraphQL field: any route not named
here must refuse anonymous callers (401), callers outside the tenant (404) and members without
the capability (403). Entries are (HTTP method, URL pattern name).
"""

PUBLIC_ENDPOINTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "healthz"),
        ("GET", "readyz"),
        ("GET", "schema"),
        ("GET", "swagger-ui"),
        ("GET", "graphql"),  # the GraphiQL page; queries still need credentials
        ("GET", "admin:login"),
        ("POST", "admin:login"),
        ("POST", "token-list"),  # sign in: email + password -> personal token
        ("POST", "source-webhook"),  # checked by its HMAC signature instead
        ("GET", "invitation"),  # the invitation link's page: checked by its token instead
        ("POST", "invitation"),
        ("GET", "widget-answers"),  # the chat widget: its publishable key instead (read-only)
        ("GET", "action-link"),  # a notification's action link: checked by its token instead
        ("POST", "action-link"),
    }
)
