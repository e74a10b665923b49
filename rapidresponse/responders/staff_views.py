"""Coordinators' and dispatchers' pages: responders (profiles, skills, trainings), the
week's shifts as a calendar, a shift's form with swaps, and the gaps in coverage. Every
page is scoped by zone (access.py): outside the viewer's zones it answers 404."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapidresponse.accounts.models import Role, Staff
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.responders import actions
from rapidresponse.responders.access import (
    access_coordinator,
    access_managed_staff,
    access_schedule,
    access_shift_viewer,
    managed_staff,
    schedules_in_scope,
    visible_zones,
    zone_in_scope,
)
from rapidresponse.responders.models import (
    SPOKEN_LANGUAGES,
    ResponderProfile,
    ShiftRole,
    ShiftSchedule,
    Skill,
    Training,
    Weekday,
)
from rapidresponse.responders.queries import (
    NOBODY,
    Fitness,
    coverage_gaps,
    people_of,
    scheduled_skills,
)
from rapidresponse.responders.schedule import (
    local_day,
    occurrences,
    start_of_local_day,
    week_start,
)
from rapidresponse.zones.queries import neighbourhoods

GAP_DAYS = 7


def name_of(staff: Staff | None) -> str:
    if staff is None:
        return ""
    return staff.user.get_full_name() or staff.user.username


def training_state(profile: ResponderProfile, skill: str, today: date) -> str:
    """"current", "expired" or "none" for one skill of a profile (trainings prefetched)."""
    trainings = [t for t in profile.trainings.all() if t.skill == skill]
    if any(t.completed_on <= today and (t.expires_on is None or today <= t.expires_on)
           for t in trainings):
        return "current"
    return "expired" if trainings else "none"


# --- responders -------------------------------------------------------------------------------


@login_required
def responders(request: HttpRequest) -> HttpResponse:
    coordinator = access_coordinator(request.user)
    today = local_day(timezone.now())
    now = timezone.now()
    people = list(managed_staff(coordinator).select_related("user", "responder")
                  .prefetch_related("zones", "responder__skills", "responder__trainings")
                  .order_by("user__username"))
    rows = []
    for staff in people:
        profile = getattr(staff, "responder", None)
        skills = []
        if profile is not None:
            skills = [{"label": Skill(s.skill).label,
                       "state": training_state(profile, s.skill, today)}
                      for s in profile.skills.all()]
        rows.append({"staff": staff, "name": name_of(staff), "profile": profile,
                     "skills": skills, "zones": [z.name for z in staff.zones.all()],
                     "away": profile is not None and profile.away_until is not None
                     and profile.away_until > now})
    return render(request, "responders/responders.html", {"rows": rows})


def _responder_context(request: HttpRequest, staff: Staff,
                       errors: dict[str, str] | None = None) -> dict[str, Any]:
    profile = (ResponderProfile.objects.filter(staff=staff)
               .prefetch_related("skills", "trainings").first())
    today = local_day(timezone.now())
    return {
        "person": staff, "name": name_of(staff), "profile": profile,
        "errors": errors or {}, "skill_choices": Skill.choices,
        "my_skills": [s.skill for s in profile.skills.all()] if profile else [],
        "spoken_languages": SPOKEN_LANGUAGES,
        "my_languages": profile.languages if profile else [],
        "trainings": [{"training": t, "label": Skill(t.skill).label,
                       "current": t.completed_on <= today
                       and (t.expires_on is None or today <= t.expires_on)}
                      for t in (profile.trainings.all() if profile else [])],
        "neighbourhoods": neighbourhoods(), "zones": list(staff.zones.order_by("name")),
        "today": today.isoformat(),
    }


@login_required
def responder(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = access_managed_staff(request.user, staff_id)
    if request.method == "POST":
        home = request.POST.get("home", "")
        zone = next((z for z in neighbourhoods() if str(z.pk) == home), None)
        try:
            actions.do_save_profile(request.user, staff,
                                    skills=request.POST.getlist("skills"),
                                    languages=request.POST.getlist("languages"),
                                    home_zone=zone, clear_home=home == "none")
        except InvalidInput as exc:
            return render(request, "responders/responder.html",
                          _responder_context(request, staff, exc.errors), status=400)
        messages.success(request, _("Saved."))
        return redirect("responder", staff_id=staff.pk)
    return render(request, "responders/responder.html", _responder_context(request, staff))


@login_required
@require_POST
def training_add(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = access_managed_staff(request.user, staff_id)
    try:
        actions.do_add_training(request.user, staff, request.POST.get("skill"),
                                request.POST.get("completed_on"),
                                request.POST.get("expires_on"))
    except InvalidInput as exc:
        return render(request, "responders/responder.html",
                      _responder_context(request, staff, exc.errors), status=400)
    messages.success(request, _("Training added."))
    return redirect("responder", staff_id=staff.pk)


@login_required
@require_POST
def training_remove(request: HttpRequest, staff_id: int, training_id: int) -> HttpResponse:
    staff = access_managed_staff(request.user, staff_id)
    training = Training.objects.filter(pk=training_id, profile__staff=staff).first()
    if training is None:
        raise Http404
    actions.do_remove_training(request.user, training)
    messages.success(request, _("Training removed."))
    return redirect("responder", staff_id=staff.pk)


# --- the week's shifts --------------------------------------------------------------------


def _week(raw: str | None) -> date:
    try:
        day = date.fromisoformat(raw) if raw else local_day(timezone.now())
    except ValueError:
        day = local_day(timezone.now())
    return week_start(day)


@login_required
def shifts(request: HttpRequest) -> HttpResponse:
    """The week as a list of days (a phone shows one column): each shift with its times in
    TIME_ZONE, zone, skill, primary and backup, and who does not count (no current training,
    or away)."""
    viewer = access_shift_viewer(request.user)
    monday = _week(request.GET.get("week"))
    zones = visible_zones(viewer)
    chosen = zone_in_scope(viewer, request.GET.get("zone")) if request.GET.get("zone") \
        else None
    schedules = schedules_in_scope(viewer)
    if chosen is not None:
        schedules = schedules.filter(zone=chosen)
    start, end = start_of_local_day(monday), start_of_local_day(monday + timedelta(days=7))
    found = occurrences(schedules, start, end)
    fit = Fitness(people_of(found), timezone.now())
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        items = []
        for o in found:
            if o.day != day:
                continue
            people = []
            for role in (ShiftRole.PRIMARY, ShiftRole.BACKUP):
                person = o.person(role)
                people.append({"role": ShiftRole(role).label, "name": name_of(person),
                               "counts": fit.counts(person, o.schedule.skill, o.start),
                               "empty": person is None})
            items.append({"o": o, "skill": Skill(o.schedule.skill).label, "people": people})
        days.append({"day": day, "items": items})
    return render(request, "responders/shifts.html", {
        "days": days, "monday": monday, "zones": zones, "chosen": chosen,
        "previous": (monday - timedelta(days=7)).isoformat(),
        "next": (monday + timedelta(days=7)).isoformat(),
        "this_week": week_start(local_day(timezone.now())).isoformat(),
        "is_coordinator": viewer.role == Role.COORDINATOR,
        "schedules": list(schedules) if viewer.role == Role.COORDINATOR else [],
    })


@login_required
def gaps(request: HttpRequest) -> HttpResponse:
    """Hours of the next seven days with nobody on call, or no backup, per zone and skill."""
    coordinator = access_coordinator(request.user)
    zones = visible_zones(coordinator)
    # Neighbourhoods, not the region that holds them (its shifts count in each of them).
    shown = [z for z in zones if z.parent_id is not None] or zones
    skills = scheduled_skills()
    rows = [{"coverage": c, "skill": Skill(c.skill).label,
             "gaps": [{"gap": g, "nobody": g.kind == NOBODY} for g in c.gaps]}
            for c in coverage_gaps(shown, skills, timezone.now(), GAP_DAYS)]
    return render(request, "responders/gaps.html", {"rows": rows, "days": GAP_DAYS})


# --- a shift's form -------------------------------------------------------------------------


def _form_context(request: HttpRequest, coordinator: Staff, schedule: ShiftSchedule | None,
                  data: Any = None, errors: dict[str, str] | None = None) -> dict[str, Any]:
    people = list(managed_staff(coordinator).select_related("user")
                  .order_by("user__username"))
    if data is None and schedule is not None:
        data = {"zone": schedule.zone_id, "skill": schedule.skill,
                "weekdays": list(schedule.weekdays),
                "starts_at": schedule.starts_at.strftime("%H:%M"),
                "ends_at": schedule.ends_at.strftime("%H:%M"),
                "first_day": schedule.first_day.isoformat(),
                "last_day": schedule.last_day.isoformat() if schedule.last_day else "",
                "primary": schedule.primary_id or "", "backup": schedule.backup_id or ""}
    elif data is None:
        data = {"weekdays": [], "first_day": local_day(timezone.now()).isoformat(),
                "starts_at": "18:00", "ends_at": "06:00"}
    else:
        data = {**data.dict(), "weekdays": data.getlist("weekdays")}
    overrides = (list(schedule.overrides.filter(day__gte=local_day(timezone.now()))
                      .select_related("staff__user").order_by("day", "role"))
                 if schedule is not None else [])
    return {"schedule": schedule, "data": {k: str(v) if k != "weekdays" else v
                                           for k, v in data.items()},
            "errors": errors or {}, "zones": visible_zones(coordinator),
            "skills": Skill.choices, "weekday_choices": [(str(v), label) for v, label
                                                         in Weekday.choices],
            "people": [(str(p.pk), name_of(p)) for p in people],
            "roles": ShiftRole.choices,
            "overrides": [{"o": o, "name": name_of(o.staff),
                           "role": ShiftRole(o.role).label} for o in overrides]}


@login_required
def shift_form(request: HttpRequest, schedule_id: int | None = None) -> HttpResponse:
    coordinator = access_coordinator(request.user)
    schedule = access_schedule(request.user, schedule_id) if schedule_id else None
    if request.method == "POST":
        try:
            data = actions.build_schedule_input(request.POST, zones=visible_zones(coordinator),
                                                people=managed_staff(coordinator))
            schedule = actions.do_save_schedule(request.user, data, schedule)
        except InvalidInput as exc:
            return render(request, "responders/shift_form.html",
                          _form_context(request, coordinator, schedule, request.POST,
                                        exc.errors), status=400)
        messages.success(request, _("Shift saved."))
        return redirect("shift_edit", schedule_id=schedule.pk)
    return render(request, "responders/shift_form.html",
                  _form_context(request, coordinator, schedule))


@login_required
@require_POST
def shift_delete(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule(request.user, schedule_id)
    actions.do_delete_schedule(request.user, schedule)
    messages.success(request, _("Shift deleted."))
    return redirect("shifts")


@login_required
@require_POST
def shift_swap(request: HttpRequest, schedule_id: int) -> HttpResponse:
    coordinator = access_coordinator(request.user)
    schedule = access_schedule(request.user, schedule_id)
    try:
        actions.do_swap(request.user, schedule, request.POST.get("day"),
                        request.POST.get("role"), request.POST.get("person"),
                        people=managed_staff(coordinator))
    except InvalidInput as exc:
        return render(request, "responders/shift_form.html",
                      _form_context(request, coordinator, schedule, None, exc.errors),
                      status=400)
    messages.success(request, _("Swap saved."))
    return redirect("shift_edit", schedule_id=schedule.pk)
