"""Enumerations of the monitoring app."""

from django.db import models


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
