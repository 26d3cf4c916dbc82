from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    """Hosted tasks: Intro -> Qualification -> Training -> Tasks, served by crowdhr itself."""

    name = "experiments.workflow"
    label = "workflow"
    verbose_name = "Hosted tasks"
    default_auto_field = "django.db.models.BigAutoField"
