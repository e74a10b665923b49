from django.urls import path

from rapidresponse.responders import staff_views, views

urlpatterns = [
    path("responder/", views.me, name="responder_me"),
    path("responder/availability/", views.me_availability, name="responder_availability"),
    path("responder/languages/", views.me_languages, name="responder_languages"),
    path("responder/calendar/new/", views.me_calendar_new, name="responder_calendar_new"),
    path("responder/calendar/revoke/", views.me_calendar_revoke,
         name="responder_calendar_revoke"),
    path("shifts/<str:token>.ics", views.shift_feed, name="shift_feed"),
    path("console/responders/", staff_views.responders, name="responders"),
    path("console/responders/<int:staff_id>/", staff_views.responder, name="responder"),
    path("console/responders/<int:staff_id>/trainings/", staff_views.training_add,
         name="training_add"),
    path("console/responders/<int:staff_id>/trainings/<int:training_id>/remove/",
         staff_views.training_remove, name="training_remove"),
    path("console/shifts/", staff_views.shifts, name="shifts"),
    path("console/shifts/gaps/", staff_views.gaps, name="shift_gaps"),
    path("console/shifts/new/", staff_views.shift_form, name="shift_new"),
    path("console/shifts/<int:schedule_id>/", staff_views.shift_form, name="shift_edit"),
    path("console/shifts/<int:schedule_id>/delete/", staff_views.shift_delete,
         name="shift_delete"),
    path("console/shifts/<int:schedule_id>/swap/", staff_views.shift_swap, name="shift_swap"),
]
