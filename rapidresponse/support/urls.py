from django.urls import path

from rapidresponse.support import views

urlpatterns = [
    path("support/", views.cases, name="support_cases"),
    path("support/<int:case_id>/", views.case, name="support_case"),
    path("support/<int:case_id>/<slug:name>/", views.case_action, name="support_case_action"),
    path("support/partners/", views.partners, name="support_partners"),
    path("support/partners/<int:partner_id>/", views.partner, name="support_partner"),
    path("support/partners/<int:partner_id>/delete/", views.partner_delete,
         name="support_partner_delete"),
    path("support/incidents/<int:incident_id>/detention/", views.detention,
         name="support_detention"),
    path("support/detentions/<int:detention_id>/case/", views.open_case,
         name="support_open_case"),
]
