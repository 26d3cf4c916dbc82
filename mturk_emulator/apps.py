from django.apps import AppConfig


class MturkEmulatorConfig(AppConfig):
    name = "mturk_emulator"
    verbose_name = "Local Mechanical Turk"
