"""The WSGI application; it refuses to start without ``SECRET_KEY`` when ``DEBUG`` is off, and as
a database role that bypasses row-level security unless ``SIGAP_RLS=off`` (config/startup.py).

Django's handler sits behind ``config.edge.EdgeApplication``, which answers the probes and the
requests of callers this process already refused for their rate limit itself, before any Django
request is built (a flood of them costs little Python); everything else goes to Django.
"""

import os

from django.core.wsgi import get_wsgi_application

from config.startup import require_row_security, require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()
require_secret_key("the WSGI application serves requests")
require_row_security("the WSGI application serves requests")

from config.edge import EdgeApplication  # noqa: E402 - needs the apps loaded

application = EdgeApplication(django_application)
