from django.contrib import admin
from django.urls import include, path

from rapidresponse.api.v1 import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("rapidresponse.channels.sms.urls")),
    path("", include("rapidresponse.web.urls")),
]
