from typing import Any

from django.apps import AppConfig


class PushConfig(AppConfig):
    """Web push and the installable web app."""

    name = "rapidresponse.channels.push"
    label = "push"

    def ready(self) -> None:
        # Registers the system checks and the retention rules of web push.
        from rapidresponse.channels.push import checks, retention  # noqa: F401
        from rapidresponse.channels.push.models import PushEndpoint
        from rapidresponse.channels.push.subscriptions import describe
        from rapidresponse.members.models import MASKERS, Channel
        from rapidresponse.members.signals import member_opted_out

        MASKERS[Channel.PUSH] = describe

        def forget_browsers(member: Any, **_kwargs: Any) -> None:
            # A member who left: the indexes of their browsers go with their subscriptions.
            PushEndpoint.objects.filter(contact__member=member).delete()

        member_opted_out.connect(forget_browsers, weak=False,
                                 dispatch_uid="push.forget_browsers")
