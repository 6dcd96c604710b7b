"""Enumerations of the monitoring app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    X = "x", "X (Twitter)"
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    MASTODON = "mastodon", "Mastodon"
    RSS = "rss", "News / RSS"
    NEWS = "news", "News site"
    FORUM = "forum", "Forum"
    OTHER = "other", "Other"


# Platforms whose account handles are case-insensitive (``@KopiSenja`` and ``kopisenja`` are one
# account): their handles are stored in lower case. Elsewhere (news bylines, RSS authors, forums,
# other) the case is kept. Every platform's handle is stored without a leading '@'
# (``monitoring.ingest.normalise_handle``).
CASE_INSENSITIVE_HANDLES = frozenset(
    {
        Platform.X,
        Platform.INSTAGRAM,
        Platform.FACEBOOK,
        Platform.TIKTOK,
        Platform.YOUTUBE,
        Platform.MASTODON,
    }
)


class SourceKind(models.TextChoices):
    WEBHOOK = "webhook", "Signed webhook"
    API = "api", "Ingest API"
    UPLOAD = "upload", "File upload"
    RSS = "rss", "RSS/Atom feed"
    MASTODON = "mastodon", "Mastodon timeline"


class SourceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    FAILING = "failing", "Failing"


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class TriageStatus(models.TextChoices):
    NEW = "new", "New"
    RELEVANT = "relevant", "Relevant"
    IRRELEVANT = "irrelevant", "Irrelevant"
    RESPONDED = "responded", "Responded"


class RiskBand(models.TextChoices):
    """The bands of the 0-100 risk score. Their thresholds are
    ``monitoring.scoring.risk.RISK_BANDS``, the one place of the formula and the bands."""

    LOW = "low", _("Low")
    ELEVATED = "elevated", _("Elevated")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class TermKind(models.TextChoices):
    BRAND = "brand", "Brand"
    PRODUCT = "product", "Product"
    SPOKESPERSON = "spokesperson", "Spokesperson"
    COMPETITOR = "competitor", "Competitor"
    OTHER = "other", "Other"


class AlertKind(models.TextChoices):
    """The early-warning rules (``monitoring.alerting``; docs/alerts.md)."""

    SPIKE = "spike", _("Volume spike")
    NEGATIVE_SURGE = "negative-surge", _("Negative surge")
    VELOCITY = "velocity", _("Engagement velocity")
    INFLUENTIAL_AUTHOR = "influential-author", _("Influential author")
    TRIGGER_KEYWORDS = "trigger-keywords", _("Trigger keywords")
    PROVOCATION_BURST = "provocation-burst", _("Provocation burst")
    HOAX_SPREAD = "hoax-spread", _("Hoax spread")
    OWNED_ACCOUNT = "owned-account", _("Owned-account anomaly")


class Sensitivity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class AlertStatus(models.TextChoices):
    """An alert's state. Open, acknowledged and snoozed are *active*: the episode is still
    running and later evidence merges into it."""

    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed as false positive")


ACTIVE_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)


class AlertEventKind(models.TextChoices):
    FIRED = "fired", _("Fired")
    MERGED = "merged", _("Merged evidence")
    STATUS = "status", _("Status changed")
