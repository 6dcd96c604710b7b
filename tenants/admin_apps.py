"""The admin application with Sigap's own site (``tenants.admin_site.SigapAdminSite``).

Listed in ``INSTALLED_APPS`` instead of ``django.contrib.admin``: Django's documented way to
replace the default site, so ``admin.site`` and every ``admin.register`` use Sigap's.
"""

from django.contrib.admin.apps import AdminConfig


class SigapAdminConfig(AdminConfig):
    default_site = "tenants.admin_site.SigapAdminSite"
