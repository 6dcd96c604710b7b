"""Public fields of the tenants app, declared once for REST serializers and GraphQL types."""

USER_SUMMARY = ("id", "email", "full_name")
USER = ("id", "email", "full_name", "agency", "is_agency_admin", "date_joined")
TENANT = (
    "id",
    "slug",
    "name",
    "agency",
    "time_zone",
    "default_language",
    "status",
    "mention_retention_days",
    "raw_payload_retention_days",
    "created_at",
    "updated_at",
)
MEMBERSHIP = ("id", "user", "role", "created_at", "updated_at")
