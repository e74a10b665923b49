from __future__ import annotations

from django.db import models


class SignInCode(models.Model):
    """A one-time code that opens a member's own settings page (members have no passwords).

    Only a hash of the code is kept; a code is deleted a day after it expires (see
    rapidresponse/channels/push/retention.py) and when the member asks for a new one.
    """

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("members.ContactPoint", on_delete=models.CASCADE,
                                related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)


class PushEndpoint(models.Model):
    """One browser of a member's push contact point, found by the blind index of its push
    endpoint (a keyed hash: useless without BLIND_INDEX_KEY).

    The browsers themselves (endpoint and keys) are kept, encrypted, in the contact point's
    value: that is what the sender reads, with no extra query per message. These rows exist
    only so that a browser can be found without decrypting every contact point: the same
    browser subscribed again is not added twice, and a browser someone else subscribed
    before moves to whoever subscribed it last. They are written with the contact point's
    value (rapidresponse/channels/push/subscriptions.py), deleted with it, and deleted by the
    retention job once the value is erased (a member who left).
    """

    contact = models.ForeignKey("members.ContactPoint", on_delete=models.CASCADE,
                                related_name="push_endpoints")
    endpoint_index = models.CharField(max_length=64, unique=True)
