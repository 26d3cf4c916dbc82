"""crowdhr's settings plus the benchmark's baseline URL (`bench._baseline`)."""

from crowdhr.settings import *  # noqa: F403

ROOT_URLCONF = "bench._baseline"
