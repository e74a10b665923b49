"""Staff accounts' retention rules (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from rapidresponse.accounts.models import ApiToken, AuditEntry
from rapidresponse.jobs.registry import not_personal, personal_data, retention
from rapidresponse.jobs.retention import deleted


@retention("tokens", model="accounts.ApiToken", rule=_("deleted once expired"))
def tokens(now: datetime) -> int:
    return deleted(ApiToken.objects.filter(expires_at__lt=now))


@retention("audit", model="accounts.AuditEntry", rule=_("deleted after RETENTION_AUDIT_DAYS"))
def audit(now: datetime) -> int:
    return deleted(AuditEntry.objects.filter(
        at__lt=now - timedelta(days=settings.RETENTION_AUDIT_DAYS)))


@retention("sessions", model="sessions.Session",
           rule=_("signed-in sessions: deleted once expired"))
def sessions(now: datetime) -> int:
    return deleted(Session.objects.filter(expire_date__lt=now))


@retention("admin_log", model="admin.LogEntry", rule=_("deleted after RETENTION_AUDIT_DAYS"))
def admin_log(now: datetime) -> int:
    return deleted(LogEntry.objects.filter(
        action_time__lt=now - timedelta(days=settings.RETENTION_AUDIT_DAYS)))


@retention("former_staff", model="auth.User",
           rule=_("a staff login switched off: name, email and password erased after "
                "RETENTION_FORMER_STAFF_DAYS (the row stays, as 'former-<id>', for the records "
                "that name who did what)"))
def former_staff(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_FORMER_STAFF_DAYS)
    gone = User.objects.filter(is_active=False).exclude(username__startswith="former-").filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
    done = 0
    for user in gone:
        user.username = f"former-{user.pk}"
        user.first_name = user.last_name = user.email = ""
        user.set_unusable_password()
        user.save(update_fields=["username", "first_name", "last_name", "email", "password"])
        done += 1
    return done


@retention("staff_authenticators", model="otp_totp.TOTPDevice",
           rule=_("the authenticator secret and recovery codes of a switched-off staff login: "
                  "deleted at the next hourly run"))
def staff_authenticators(now: datetime) -> dict[str, int]:
    return {"staff_authenticators": deleted(TOTPDevice.objects.filter(user__is_active=False)),
            "staff_recovery_codes": deleted(StaticDevice.objects.filter(
                user__is_active=False))}


personal_data(
    "otp_totp.TOTPDevice", fields=("user", "name", "key"), category="staff",
    purpose=_("the second factor of a staff sign-in (an authenticator app)"),
    protection=_("the secret is kept as django-otp keeps it, in clear: a seized database and "
                 "a cracked password together would let someone in; deleted when the login "
                 "is switched off"), retention=("staff_authenticators",))
personal_data(
    "otp_static.StaticDevice", fields=("user", "name"), category="staff",
    purpose=_("a staff member's recovery codes"), protection=_("plain"),
    retention=("staff_authenticators",))
personal_data(
    "otp_static.StaticToken", fields=("token",), category="staff",
    purpose=_("one recovery code, good once"),
    protection=_("in clear, as django-otp keeps them; deleted once used, and with the login"),
    retention=("staff_authenticators",), dated_by="")
personal_data(
    "auth.User", fields=("username", "first_name", "last_name", "email", "password"),
    category="staff", purpose=_("staff sign in and are named on what they did"),
    protection=_("password hashed; staff choose their user name (a nickname is fine)"),
    retention=("former_staff",), dated_by="date_joined")
personal_data(
    "accounts.Staff", fields=("user", "member"), category="staff",
    purpose=_("a staff member's role, and the member record that reaches them"),
    protection=_("plain"), retention=("former_staff",), dated_by="")
personal_data(
    "accounts.ApiToken", fields=("user", "key_hash"), category="staff",
    purpose=_("API access of a staff member"), protection=_("only a hash of the token is kept"),
    retention=("tokens",))
personal_data(
    "accounts.AuditEntry", fields=("actor", "detail"), category="audit",
    purpose=_("who did what, when (never a phone number, email or message text in the detail)"),
    protection=_("plain"), retention=("audit",), dated_by="at")
personal_data(
    "sessions.Session", fields=("session_key", "session_data"), category="staff",
    purpose=_("a signed-in browser"), protection=_("signed; the key is random"),
    retention=("sessions",), dated_by="expire_date")
personal_data(
    "admin.LogEntry", fields=("user", "object_repr", "change_message"), category="audit",
    purpose=_("changes made in the embedded admin (not served in production)"),
    protection=_("plain"), retention=("admin_log",), dated_by="action_time")
not_personal("auth.Permission", fields=("name",), why=_("names of permissions"))
not_personal("auth.Group", fields=("name",), why=_("names of groups"))
