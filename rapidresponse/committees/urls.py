from django.urls import path

from rapidresponse.committees import member_views, views

urlpatterns = [
    path("committees/", views.committees, name="committees"),
    path("committees/<int:committee_id>/", views.committee, name="committee"),
    path("committees/<int:committee_id>/area/", views.area, name="committee_area"),
    path("committees/<int:committee_id>/members/", views.add_member,
         name="committee_add_member"),
    path("committees/<int:committee_id>/plan/", views.plan_edit, name="committee_plan"),
    path("committees/<int:committee_id>/plan/print/", views.plan_print,
         name="committee_plan_print"),
    path("committees/<int:committee_id>/plan/send/", views.plan_send,
         name="committee_plan_send"),
    path("committees/<int:committee_id>/plan/<int:number>/", views.plan_version,
         name="committee_plan_version"),
    path("console/tags/", views.tags, name="tags"),
    path("c/<str:code>/", member_views.public, name="committee_public"),
    path("me/committees/", member_views.mine, name="me_committees"),
    path("me/committees/<str:code>/join/", member_views.join, name="me_committee_join"),
    path("me/committees/<str:code>/leave/", member_views.leave, name="me_committee_leave"),
]
