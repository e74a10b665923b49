from django.apps import AppConfig


class ZonesConfig(AppConfig):
    """Named areas of H3 cells: the neighbourhoods people choose and staff work in."""

    name = "rapidresponse.zones"
    label = "zones"

    def ready(self) -> None:
        # Declares zones in the privacy manifest.
        from rapidresponse.zones import privacy  # noqa: F401
