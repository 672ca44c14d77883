from . import sqlite  # noqa: F401  (logs how the embedded SQLite database is set up)
from .celery import app as celery_app

__all__ = ("celery_app",)
