"""Settings for the test suite: the production settings with a test secret and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# base64 of "test-only-encryption-key-32bytes": a fixed Fernet key for the suite
os.environ.setdefault("SIGAP_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTMyYnl0ZXM=")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Child processes under test (a real cluster sending to a local SMTP server) may ask for SMTP.
EMAIL_BACKEND = os.environ.get(
    "SIGAP_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
# Quiet by default; a served process under test may ask for INFO (its request lines).
LOGGING["root"]["level"] = os.environ.get("SIGAP_TEST_LOG_LEVEL", "WARNING")  # type: ignore[index]  # noqa: F405
# A test-only subscriber of the pipeline's outbox (tests/outbox_subscriber); production has none.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.outbox_subscriber.apps.OutboxSubscriberConfig"]  # noqa: F405
# Static files straight from the apps, as in DEBUG: the suite never runs collectstatic.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
