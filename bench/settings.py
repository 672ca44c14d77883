"""Settings for the benchmarks: the real settings, plus a bare view as the floor."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
