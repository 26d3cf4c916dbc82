from django.apps import AppConfig


class CrowdhrConfig(AppConfig):
    name = "crowdhr"
    verbose_name = "crowdhr"

    def ready(self) -> None:
        from django.contrib import admin

        admin.site.site_header = "crowdhr"
        admin.site.site_title = "crowdhr"
        admin.site.index_title = "Your studies, HITs, workers and payments"
