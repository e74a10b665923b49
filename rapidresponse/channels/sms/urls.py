from django.urls import path

from rapidresponse.channels.sms import views

urlpatterns = [
    path("hooks/twilio/sms", views.inbound_sms, name="twilio_sms"),
    path("hooks/twilio/status", views.status_callback, name="twilio_status"),
    path("console/sms/<int:thread_id>/", views.thread_detail, name="sms_thread"),
    path("console/sms/<int:thread_id>/reply/", views.thread_reply, name="sms_reply"),
    path("console/sms/<int:thread_id>/file/", views.thread_file, name="sms_file"),
    path("console/sms/<int:thread_id>/close/", views.thread_close, name="sms_close"),
]
