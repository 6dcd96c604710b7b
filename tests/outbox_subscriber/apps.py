from django.apps import AppConfig


class OutboxSubscriberConfig(AppConfig):
    name = "tests.outbox_subscriber"
    label = "outbox_subscriber"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants import outbox

        outbox.register_subscriber(
            "monitoring.PipelineEvent", "test_recorder", "tests.outbox_subscriber.handlers.record"
        )
