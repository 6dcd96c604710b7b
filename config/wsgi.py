"""The WSGI application; it refuses to start without ``SECRET_KEY`` when ``DEBUG`` is off.

Django's handler sits behind ``config.health.ProbeApplication``, which answers ``GET /healthz``
and ``GET /readyz`` itself, before any Django request is built (a flood of probes costs little
Python); everything else goes to Django.
"""

import os

from django.core.wsgi import get_wsgi_application

from config.startup import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()
require_secret_key("the WSGI application serves requests")

from config.health import ProbeApplication  # noqa: E402 - needs the apps loaded

application = ProbeApplication(django_application)
