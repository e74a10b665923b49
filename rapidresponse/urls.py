from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from rapidresponse.api.v1 import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("rapidresponse.channels.sms.urls")),
    path("", include("rapidresponse.web.urls")),
]
# No admin site in production at all: not even its sign-in page answers. On a laptop it asks
# for the second factor like every staff page (accounts/admin_site.py).
if not settings.PRODUCTION:
    urlpatterns.append(path("admin/", admin.site.urls))
