from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from crowdhr import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("study/", include("experiments.urls")),
    path("study/", include("experiments.workflow.urls")),
    path("hooks/", include("experiments.hook_urls")),
    path("", views.home, name="home"),
]

if settings.EMULATOR_ENABLED:
    urlpatterns.append(path("emulator/prolific/", include("prolific_emulator.urls")))
    urlpatterns.append(path("emulator/", include("mturk_emulator.urls")))
