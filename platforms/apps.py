from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    """Crowd platforms: the Platform interface, one client per platform, fees, accounts."""

    name = "platforms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crowdhr.warm import on_start
        from platforms import mturk

        on_start(mturk.warm_up)
