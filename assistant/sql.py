"""Writes a burst of texts makes thousands of times, with their SQL built once.

Django compiles each query anew, every time. On the way of a text through a worker
(answer, reply, send), compiling its updates took more CPU than PostgreSQL took to run them
(py-spy --gil on a worker during a 3,000-text drain). These helpers issue the same statements
as ``Model.save(update_fields=...)`` and ``Model.save(force_insert=True)``.

- The SQL text is built once per model, set of columns and database, from the model's own
  table and column names.
- The values are bound as Django binds them: ``pre_save`` fills what the model fills itself
  (``auto_now`` times), and ``get_db_prep_save`` adapts each value (JSON, for one).

No signal is sent: keep them to models that no signal handler or history follows.
"""

from collections.abc import Sequence
from functools import lru_cache

from django.db import connection
from django.db.models import Model


def insert_values(instance: Model) -> tuple[list, list]:
    """Return the fields an INSERT of ``instance`` writes and their values, as Django's would."""
    fields = [field for field in instance._meta.concrete_fields if not field.primary_key]
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    return fields, values


@lru_cache
def _update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    columns = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    # Built from the model's own table and column names; the values are parameters.
    return f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


def save_fields(instance: Model, names: Sequence[str]) -> None:
    """Write ``names`` of ``instance`` to its row, as ``instance.save(update_fields=names)``.

    List an ``auto_now`` field to have it set, as ``save`` would.
    """
    names = tuple(names)
    fields = [instance._meta.get_field(name) for name in names]
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=False), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _update_sql(type(instance), names, connection.vendor), [*values, instance.pk]
        )
