"""The researcher's admin for oTree sites and experiments (`studies`), scheduled publishing
(`scheduling`, served from the Experiment admin's URLs) and a platform account's hooks (`hooks`)."""

from experiments.admin import hooks, scheduling, studies

__all__ = ["hooks", "scheduling", "studies"]
