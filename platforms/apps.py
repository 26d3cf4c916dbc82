from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    """Crowd platforms: the Platform interface, one client per platform, fees, accounts."""

    name = "platforms"
    default_auto_field = "django.db.models.BigAutoField"
