"""The WSGI application; it refuses to start without ``SECRET_KEY`` when ``DEBUG`` is off, and as
a database role that bypasses row-level security unless ``SIGAP_RLS=off`` (config/startup.py)."""

import os

from django.core.wsgi import get_wsgi_application

from config.startup import require_row_security, require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
require_secret_key("the WSGI application serves requests")
require_row_security("the WSGI application serves requests")
