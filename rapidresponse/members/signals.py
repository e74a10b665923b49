"""What members tell the apps above them, which connect in their AppConfig.ready()."""

from django.dispatch import Signal

#: A member opted out (and their contacts were erased): keyword argument `member`.
member_opted_out = Signal()
