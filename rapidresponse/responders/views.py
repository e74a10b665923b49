"""The responder's own page (a phone page: availability, languages, shifts, calendar link)
and the calendar feed behind the private link."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rapidresponse.lib.errors import InvalidInput
from rapidresponse.responders import actions, feed, sections
from rapidresponse.responders.access import staff_of
from rapidresponse.responders.models import (
    SPOKEN_LANGUAGES,
    Availability,
    ResponderProfile,
    Skill,
)
from rapidresponse.responders.queries import Fitness
from rapidresponse.responders.schedule import local_day

UPCOMING_DAYS = 7


def feed_url(token: str) -> str:
    return settings.PUBLIC_URL + reverse("shift_feed", args=[token])


def _me_context(request: HttpRequest, errors: dict[str, str] | None = None) -> dict[str, object]:
    staff = staff_of(request.user)
    profile = ResponderProfile.objects.filter(staff=staff).prefetch_related(
        "skills", "trainings").first()
    now = timezone.now()
    upcoming = feed.shifts_of(staff, now, now + timedelta(days=UPCOMING_DAYS))
    fit = Fitness([staff.pk], now)
    token = actions.calendar_token(staff)
    return {
        "staff": staff, "profile": profile, "errors": errors or {},
        "availability_choices": Availability.choices,
        "spoken_languages": SPOKEN_LANGUAGES,
        "my_languages": profile.languages if profile else [],
        "away": profile is not None and fit.away(staff, now),
        "tomorrow": (local_day(now) + timedelta(days=1)).isoformat(),
        "shifts": [{"occurrence": o, "role": feed.role_label(role),
                    "skill": Skill(o.schedule.skill).label,
                    "trained": fit.trained(staff, o.schedule.skill, o.start)}
                   for o, role in upcoming],
        "skills": ([Skill(s.skill).label for s in profile.skills.all()] if profile else []),
        "trainings": list(profile.trainings.all()) if profile else [],
        "today": local_day(now),
        "feed_url": feed_url(token) if token else "",
        "sections": sections.for_staff(request, staff),
    }


@login_required
def me(request: HttpRequest) -> HttpResponse:
    return render(request, "responders/me.html", _me_context(request))


def _saved_or_errors(request: HttpRequest, fn: object, *args: object) -> HttpResponse:
    try:
        fn(*args)  # type: ignore[operator]
    except InvalidInput as exc:
        return render(request, "responders/me.html", _me_context(request, exc.errors),
                      status=400)
    messages.success(request, _("Saved."))
    return redirect("responder_me")


@login_required
@require_POST
def me_availability(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request.user)
    return _saved_or_errors(request, actions.do_set_availability, staff,
                            request.POST.get("availability"), request.POST.get("back_on"))


@login_required
@require_POST
def me_languages(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request.user)
    return _saved_or_errors(request, actions.do_set_languages, staff,
                            request.POST.getlist("languages"))


@never_cache
@login_required
@require_POST
def me_calendar_new(request: HttpRequest) -> HttpResponse:
    actions.do_new_calendar_link(staff_of(request.user))
    messages.success(request, _("Your new calendar link is below. Any earlier link no longer "
                                "works."))
    return redirect(reverse("responder_me") + "#calendar")


@login_required
@require_POST
def me_calendar_revoke(request: HttpRequest) -> HttpResponse:
    if actions.do_revoke_calendar_link(staff_of(request.user)):
        messages.success(request, _("Your calendar link no longer works."))
    return redirect(reverse("responder_me") + "#calendar")


@never_cache
@require_GET
def shift_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The calendar feed: anyone with the link (a calendar app has no session)."""
    staff = feed.staff_for_token(token)
    if staff is None:
        raise Http404
    response = HttpResponse(feed.calendar_for(staff), content_type="text/calendar; "
                                                                   "charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="shifts.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
