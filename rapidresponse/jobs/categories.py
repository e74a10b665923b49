"""The categories of personal data in the privacy manifest, as the "What we hold" page
names them."""

from django.utils.translation import gettext_lazy as _

CATEGORIES = {
    "members": _("Members: names, phone numbers and emails, places"),
    "reports": _("Reports and incidents"),
    "messages": _("Messages sent and their deliveries"),
    "conversations": _("SMS conversations with the hotline"),
    "codes": _("One-time codes"),
    "staff": _("Staff accounts and sign-in"),
    "audit": _("Audit log"),
    "evidence": _("Evidence: photos, video, audio and notes, and their custody log"),
    "support": _("Family support: detentions, support cases and their notes"),
    "organizing": _("Organizing: who is in which block committee, and response plans"),
}
