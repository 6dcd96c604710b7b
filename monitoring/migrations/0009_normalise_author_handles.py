"""Author handles as stored from now on (``monitoring.ingest.normalise_handle``): no leading '@'
or surrounding whitespace, and lower case on the platforms whose handles ignore case, so
``@KopiSenja`` and ``kopisenja`` are one author in filters and top lists.

The rule is copied here (a migration must not change when the code does). Only the rows that
may change are read: a handle starting or ending with whitespace or '@', or holding a capital
(any non-ASCII character is read too, as PostgreSQL's lower() may not know its case); they are
rewritten in batches of 2,000.
"""

from django.db import migrations

CASE_INSENSITIVE = ("x", "instagram", "facebook", "tiktok", "youtube", "mastodon")
BATCH = 2000


def normalise(platform, handle):
    handle = handle.strip().lstrip("@").strip()
    return handle.lower() if platform in CASE_INSENSITIVE else handle


def forwards(apps, schema_editor):
    Mention = apps.get_model("monitoring", "Mention")
    candidates = (
        Mention.objects.filter(author_handle__regex=r"^[[:space:]@]|[[:space:]]$")
        | Mention.objects.filter(
            platform__in=CASE_INSENSITIVE, author_handle__regex=r"[A-Z]|[^\x01-\x7f]"
        )
    ).order_by("pk")
    last = 0
    while True:
        rows = list(
            candidates.filter(pk__gt=last).only("pk", "platform", "author_handle")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1].pk
        changed = []
        for row in rows:
            handle = normalise(row.platform, row.author_handle)
            if handle != row.author_handle:
                row.author_handle = handle
                changed.append(row)
        Mention.objects.bulk_update(changed, ["author_handle"])


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0008_tenant_keys")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
