from django.urls import path

from rapidresponse.dispatch import views

urlpatterns = [
    path("console/incidents/<int:incident_id>/dispatches/", views.dispatch_new,
         name="dispatch_new"),
    path("console/incidents/<int:incident_id>/witnesses/", views.witnesses_new,
         name="witnesses_new"),
    path("responder/dispatches/<int:dispatch_id>/<slug:action>/", views.responder_action,
         name="responder_dispatch"),
]
