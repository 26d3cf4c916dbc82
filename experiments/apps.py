from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Experiments"  # its task_types module ("otree_study") is found by hits' ready()
