from django.contrib.postgres.fields import ArrayField
from django.db import models


class Application(models.Model):
    """One row per (subscriber, event) a handler applied; ``applications`` counts how often."""

    subscriber = models.CharField(max_length=100)
    event_id = models.BigIntegerField()
    tenant_id = models.BigIntegerField()
    applications = models.PositiveIntegerField(default=1)
    query_ids = ArrayField(models.BigIntegerField(), default=list)
    buckets = ArrayField(models.DateTimeField(), default=list)
    inserted_ids = ArrayField(models.BigIntegerField(), default=list)
    updated_ids = ArrayField(models.BigIntegerField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "event_id"], name="applied_once")
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} applied {self.event_id} x{self.applications}"
