"""The researcher's admin for oTree sites and experiments (`studies`) and scheduled publishing
(`scheduling`, served from the Experiment admin's URLs)."""

from experiments.admin import scheduling, studies

__all__ = ["scheduling", "studies"]
