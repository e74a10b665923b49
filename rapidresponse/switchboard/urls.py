from django.urls import path

from rapidresponse.switchboard import hotline, views

urlpatterns = [
    path("hooks/twilio/voice", hotline.voice, name="voice"),
    path("hooks/twilio/voice/next", hotline.voice_next, name="voice_next"),
    path("hooks/twilio/voice/recorded", hotline.voice_recorded, name="voice_recorded"),
    path("console/voicemails/<int:voicemail_id>/", views.voicemail, name="voicemail"),
    path("console/voicemails/<int:voicemail_id>/recording", views.voicemail_recording,
         name="voicemail_recording"),
    path("console/voicemails/<int:voicemail_id>/file/", views.voicemail_file,
         name="voicemail_file"),
    path("console/voicemails/<int:voicemail_id>/dismiss/", views.voicemail_dismiss,
         name="voicemail_dismiss"),
    path("console/offers/<int:offer_id>/take/", views.offer_take, name="offer_take"),
]
