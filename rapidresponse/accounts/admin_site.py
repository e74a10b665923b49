"""The admin site (embedded deployment only: production does not route it, see urls.py).

It is django-otp's OTPAdminSite, so a session without a verified second factor is not let
in. It shows every row of every zone, so only network-wide coordinators are let in, whatever
`is_staff` says (accounts/access.py). It has no sign-in form of its own: /admin/login/ sends
people to the one staff sign-in (password, then second factor, with its lockout), and back
here afterwards.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from rapidresponse.accounts.access import has_role, scope_of
from rapidresponse.accounts.models import Role


class SecondFactorAdminSite(OTPAdminSite):
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def has_permission(self, request: HttpRequest) -> bool:
        return (super().has_permission(request)
                and has_role(request.user, (Role.COORDINATOR,))
                and scope_of(request.user).network_wide)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None
              ) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
