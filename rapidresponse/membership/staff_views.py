from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from rapidresponse.accounts.access import access_members, members_in_scope, scope_of
from rapidresponse.members.actions import CSV_COLUMNS, import_members_csv
from rapidresponse.zones.models import Zone

MAX_CSV_BYTES = 20 * 1024 * 1024


@login_required
def members(request: HttpRequest) -> HttpResponse:
    access_members(request.user)
    context: dict[str, object] = {"columns": ", ".join(CSV_COLUMNS)}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = _("Choose a CSV file to import.")
            status = 400
        elif upload.size is not None and upload.size > MAX_CSV_BYTES:
            context["error"] = _("The file is too large (20 MB at most).")
            status = 400
        else:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                context["error"] = _("The file must be CSV text in UTF-8.")
                status = 400
            else:
                scope = scope_of(request.user)
                # New tags belong to the coordinator's zone when they hold one only.
                held = list(scope.held)
                tag_zone = (Zone.objects.filter(pk=held[0]).first()
                            if len(held) == 1 and not scope.network_wide else None)
                result = import_members_csv(text, within=scope.area(), tag_zone=tag_zone)
                context["result"] = result
                if result.errors and not result.created:
                    status = 400
    # The members with a place in the coordinator's zones.
    members = members_in_scope(request.user)
    context["counts"] = {row["status"]: row["n"] for row in
                         members.values("status").annotate(n=Count("id")).order_by()}
    context["by_language"] = list(members.filter(status="active")
                                  .values("language").annotate(n=Count("id"))
                                  .order_by("language"))
    context["scope"] = scope = scope_of(request.user)
    context["zone_names"] = list(Zone.objects.filter(pk__in=scope.held).order_by("name")
                                 .values_list("name", flat=True))
    return render(request, "membership/members.html", context, status=status)
