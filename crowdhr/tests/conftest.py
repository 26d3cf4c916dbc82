"""The running Procfile processes, shared by the process tests of this folder."""

from crowdhr.tests.test_processes import production_processes  # noqa: F401 (a fixture)
