from django.apps import AppConfig


class ProlificEmulatorConfig(AppConfig):
    name = "prolific_emulator"
    verbose_name = "Local Prolific"
    default_auto_field = "django.db.models.BigAutoField"
