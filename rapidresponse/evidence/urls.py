from django.urls import path

from rapidresponse.evidence import views

urlpatterns = [
    path("evidence/", views.home, name="evidence_home"),
    path("evidence/incidents/<int:incident_id>/", views.upload, name="evidence_upload"),
    path("evidence/incidents/<int:incident_id>/package.zip", views.package,
         name="evidence_package"),
    path("evidence/incidents/<int:incident_id>/release/", views.release,
         name="evidence_release"),
    path("evidence/<int:evidence_id>/shared/", views.shared, name="evidence_shared"),
    path("evidence/<int:evidence_id>/original/", views.original, name="evidence_original"),
]
