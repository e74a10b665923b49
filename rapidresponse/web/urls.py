from django.urls import include, path

from rapidresponse.alerts import views as alert_views
from rapidresponse.channels.push import pwa
from rapidresponse.delivery import views as delivery_views
from rapidresponse.incidents import hotline_views
from rapidresponse.incidents import views as incident_views
from rapidresponse.membership import me_views, staff_views
from rapidresponse.membership import views as membership_views
from rapidresponse.web import held, tiles, views

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("report/thanks/", views.report_thanks, name="report_thanks"),
    path("map/", views.public_map, name="map"),
    path("tiles/<int:z>/<int:x>/<int:y>.png", tiles.tile, name="tile"),
    path("rights/", views.know_your_rights, name="rights"),
    path("join/", membership_views.join, name="join"),
    path("join/welcome/", membership_views.joined, name="joined"),
    path("code/<str:code_id>/", membership_views.confirm_code, name="confirm_code"),
    path("confirm/<str:token>/", membership_views.confirm_contact, name="confirm_contact"),
    path("leave/", membership_views.leave, name="leave"),
    path("leave/confirm/", membership_views.leave_confirm, name="leave_confirm"),
    path("leave/done/", membership_views.left, name="left"),
    path("me/", me_views.me, name="me"),
    path("me/code/", me_views.me_code, name="me_code"),
    path("me/save/", me_views.me_save, name="me_save"),
    path("me/leave/", me_views.me_leave, name="me_leave"),
    path("me/sign-out/", me_views.me_sign_out, name="me_sign_out"),
    path("me/push/subscribe/", me_views.me_push_subscribe, name="me_push_subscribe"),
    path("me/push/unsubscribe/", me_views.me_push_unsubscribe, name="me_push_unsubscribe"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("", include("rapidresponse.accounts.urls")),
    path("", include("rapidresponse.responders.urls")),
    # Before the incident actions (console/incidents/<id>/<name>/): its own pages.
    path("", include("rapidresponse.dispatch.urls")),
    path("", include("rapidresponse.evidence.urls")),
    path("", include("rapidresponse.support.urls")),
    path("", include("rapidresponse.switchboard.urls")),
    path("", include("rapidresponse.committees.urls")),
    path("console/", incident_views.console, name="console"),
    path("console/queue/", incident_views.console_queue, name="console_queue"),
    path("console/reports/new/", incident_views.phone_report, name="phone_report"),
    path("console/incidents/<int:incident_id>/", incident_views.incident_detail,
         name="incident"),
    path("console/incidents/<int:incident_id>/timeline/", incident_views.incident_timeline,
         name="incident_timeline"),
    path("console/incidents/<int:incident_id>/<slug:name>/", incident_views.incident_action,
         name="incident_action"),
    path("console/sms/<int:thread_id>/", hotline_views.thread_detail, name="sms_thread"),
    path("console/sms/<int:thread_id>/reply/", hotline_views.thread_reply, name="sms_reply"),
    path("console/sms/<int:thread_id>/file/", hotline_views.thread_file, name="sms_file"),
    path("console/sms/<int:thread_id>/close/", hotline_views.thread_close, name="sms_close"),
    path("console/privacy/", held.what_we_hold, name="what_we_hold"),
    path("console/members/", staff_views.members, name="members"),
    path("console/messages/", delivery_views.message_log, name="message_log"),
    path("console/phone/<int:member_id>/", delivery_views.phone, name="phone"),
    path("console/deliveries/dead/", delivery_views.dead_letters, name="dead_letters"),
    path("console/deliveries/<int:delivery_id>/retry/", delivery_views.retry_delivery,
         name="delivery_retry"),
    path("verify/", incident_views.verify_list, name="verify_list"),
    path("verify/<int:incident_id>/", incident_views.verify, name="verify"),
    path("alerts/<int:alert_id>.cap", alert_views.cap, name="alert_cap"),
    path("feeds/alerts.atom", alert_views.feed, name="alerts_feed"),
]
