from __future__ import annotations

from django.db import models


class SignInCode(models.Model):
    """A one-time code that opens a member's own settings page (members have no passwords).

    Only a hash of the code is kept; a code is deleted a day after it expires (see
    rapidresponse/web/retention.py) and when the member asks for a new one.
    """

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("members.ContactPoint", on_delete=models.CASCADE,
                                related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
