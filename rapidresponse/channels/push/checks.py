"""Start-up checks (`manage.py check`, run by migrate): the web push settings are usable."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from py_vapid import _check_sub

from rapidresponse.channels.push import vapid


@register()
def check_vapid(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    live = settings.CHANNEL_BACKENDS.get("push", "").endswith(".WebPushBackend")
    if settings.VAPID_PRIVATE_KEY or (live and settings.PRODUCTION):
        try:
            vapid.keys()
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="push.E001"))
    if live and not _check_sub(settings.VAPID_SUBJECT):
        errors.append(Error("VAPID_SUBJECT must be a mailto: address or an https: URL",
                            id="push.E002"))
    return errors
