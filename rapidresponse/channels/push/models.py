from __future__ import annotations

from django.db import models


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
