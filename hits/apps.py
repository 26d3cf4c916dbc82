from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class HitsConfig(AppConfig):
    name = "hits"
    verbose_name = "HITs"

    def ready(self) -> None:
        # Every app's task_types module registers its kinds of task (as the admin finds admin.py).
        autodiscover_modules("task_types")
