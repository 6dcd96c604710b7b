"""Enumerations of the monitoring app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    X = "x", _("X (Twitter)")
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    MASTODON = "mastodon", "Mastodon"
    RSS = "rss", _("News / RSS")
    NEWS = "news", _("News site")
    FORUM = "forum", "Forum"
    OTHER = "other", _("Other")


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
    WEBHOOK = "webhook", _("Signed webhook")
    API = "api", _("Ingest API")
    UPLOAD = "upload", _("File upload")
    RSS = "rss", _("RSS/Atom feed")
    MASTODON = "mastodon", _("Mastodon timeline")


class SourceStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    FAILING = "failing", _("Failing")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class TriageStatus(models.TextChoices):
    NEW = "new", _("New")
    RELEVANT = "relevant", _("Relevant")
    IRRELEVANT = "irrelevant", _("Irrelevant")
    RESPONDED = "responded", _("Responded")


class RiskBand(models.TextChoices):
    """The bands of the 0-100 risk score. Their thresholds are
    ``monitoring.scoring.risk.RISK_BANDS``, the one place of the formula and the bands."""

    LOW = "low", _("Low")
    ELEVATED = "elevated", _("Elevated")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class TermKind(models.TextChoices):
    BRAND = "brand", _("Brand")
    PRODUCT = "product", _("Product")
    SPOKESPERSON = "spokesperson", _("Spokesperson")
    COMPETITOR = "competitor", _("Competitor")
    OTHER = "other", _("Other")


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
