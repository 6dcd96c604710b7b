# The mention lists ordered by risk or reach (monitoring.filtersets.MENTION_ORDERINGS) page by
# (risk | followers, published_at, id): these indexes hold the whole key, so every page, however
# deep, is an index walk. They replace the (tenant, risk) and (tenant, -followers) indexes, which
# served the risk filters and top authors and still do through the new ones. Built before the old
# ones are dropped, concurrently, so a large mention table keeps taking writes.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("monitoring", "0009_normalise_author_handles"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(
                fields=["tenant", "risk", "published_at", "id"], name="mention_by_risk"
            ),
        ),
        AddIndexConcurrently(
            model_name="mention",
            index=models.Index(
                fields=["tenant", "-author_followers", "-published_at", "-id"],
                name="mention_by_reach",
            ),
        ),
        RemoveIndexConcurrently(model_name="mention", name="mention_risk"),
        RemoveIndexConcurrently(model_name="mention", name="mention_reach"),
    ]
