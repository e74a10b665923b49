"""The voice hotline's TwiML (Twilio Voice webhooks, signed like the SMS webhook):

1. `POST /hooks/twilio/voice` — a call comes in: a greeting in English and Spanish, then the
   phones of every dispatcher on shift (the primaries) ring at once; the first to answer
   takes the call. Nobody on shift: straight to the voicemail prompt.
2. `POST /hooks/twilio/voice/next?stage=backup` — Twilio's word on that <Dial>: answered and
   finished → hang up; else ring the backups (then `stage=voicemail`); none → voicemail.
3. `POST /hooks/twilio/voice/recorded` — the message left: stored (voicemails.py), then
   thanks in both languages and hang up.

The dispatchers see the hotline's number (callerId), not the caller's."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import VoiceResponse

from rapidresponse.accounts.models import Staff
from rapidresponse.channels.sms.signature import is_from_twilio
from rapidresponse.switchboard.ringing import dispatchers_on_shift, phones_of
from rapidresponse.switchboard.voicemails import do_store_voicemail

#: Twilio's <Say> voices by our language codes.
SAY_LANGUAGES = (("en", "en-US"), ("es", "es-MX"))


def _twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def _refused() -> HttpResponse:
    return HttpResponse(_("This request is not signed by Twilio."), status=403,
                        content_type="text/plain; charset=utf-8")


def _say(response: VoiceResponse, what: str) -> None:
    for code, voice_language in SAY_LANGUAGES:
        with translation.override(code):
            response.say(_text(what), language=voice_language)


def _text(what: str) -> str:
    if what == "greeting":
        return _("You have reached the rapid response hotline. Please hold: we are "
                 "connecting you with a dispatcher.")
    if what == "voicemail":
        return _("Nobody can answer right now. After the tone, say what you see, where, "
                 "and when. A dispatcher will listen to your message.")
    return _("Thank you. A dispatcher will listen to your message. Goodbye.")


def _url(name: str, stage: str = "") -> str:
    url = settings.PUBLIC_URL.rstrip("/") + reverse(name)
    return f"{url}?stage={stage}" if stage else url


def _dial(response: VoiceResponse, people: list[Staff], next_stage: str) -> bool:
    numbers = phones_of(people)
    if not numbers:
        return False
    dial = response.dial(timeout=settings.VOICE_RING_SECONDS,
                         caller_id=settings.HOTLINE_NUMBER,
                         action=_url("voice_next", next_stage), method="POST")
    for number in numbers:
        dial.number(number)
    return True


def _voicemail(response: VoiceResponse) -> None:
    _say(response, "voicemail")
    response.record(max_length=settings.VOICE_MESSAGE_SECONDS, play_beep=True,
                    action=_url("voice_recorded"), method="POST")
    response.hangup()  # nothing recorded: Twilio goes on here


@csrf_exempt
@require_POST
def voice(request: HttpRequest) -> HttpResponse:
    """POST /hooks/twilio/voice: a call to the hotline number."""
    if not is_from_twilio(request):
        return _refused()
    response = VoiceResponse()
    _say(response, "greeting")
    on_shift = dispatchers_on_shift()
    if not (_dial(response, on_shift.primaries, "backup")
            or _dial(response, on_shift.backups, "voicemail")):
        _voicemail(response)
    return _twiml(response)


@csrf_exempt
@require_POST
def voice_next(request: HttpRequest) -> HttpResponse:
    """POST /hooks/twilio/voice/next?stage=backup|voicemail: after a <Dial>."""
    if not is_from_twilio(request):
        return _refused()
    response = VoiceResponse()
    if request.POST.get("DialCallStatus", "") == "completed":
        response.hangup()
        return _twiml(response)
    if request.GET.get("stage") == "backup" and _dial(
            response, dispatchers_on_shift().backups, "voicemail"):
        return _twiml(response)
    _voicemail(response)
    return _twiml(response)


@csrf_exempt
@require_POST
def voice_recorded(request: HttpRequest) -> HttpResponse:
    """POST /hooks/twilio/voice/recorded: the message the caller left."""
    if not is_from_twilio(request):
        return _refused()
    do_store_voicemail(request.POST.get("CallSid", ""), request.POST.get("From", ""),
                       request.POST.get("RecordingUrl", ""),
                       request.POST.get("RecordingDuration", ""))
    response = VoiceResponse()
    _say(response, "thanks")
    response.hangup()
    return _twiml(response)
