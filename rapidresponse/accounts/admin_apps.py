"""The admin app with our admin site (admin_site.py); its own module, because an app config
is imported before any model is."""

from django.contrib.admin.apps import AdminConfig


class SecondFactorAdminConfig(AdminConfig):
    default_site = "rapidresponse.accounts.admin_site.SecondFactorAdminSite"
