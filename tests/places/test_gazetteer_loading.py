"""A Celery worker loads the place names before it forks its pool (config/celery.py)."""

import weakref

from celery.signals import worker_init

from assistant.places import search
from config.celery import _place_names_loaded


def test_the_worker_loads_the_place_names_when_it_starts(monkeypatch):
    receivers = [ref() if isinstance(ref, weakref.ReferenceType) else ref
                 for _key, ref in worker_init.receivers]  # fmt: skip
    assert _place_names_loaded in receivers

    monkeypatch.setattr(search, "_default", None)
    _place_names_loaded(sender=None)

    assert search._default is not None
    assert search.resolve("11550", search._default).kind == "single"  # Nassau County, NY
