from django.urls import path

from rapidresponse.channels.sms import views

urlpatterns = [
    path("hooks/twilio/sms", views.inbound_sms, name="twilio_sms"),
    path("hooks/twilio/status", views.status_callback, name="twilio_status"),
]
