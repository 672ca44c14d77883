"""Writes a burst of texts makes thousands of times, with their SQL built once.

Django compiles each query anew, every time. On the way of a text through a worker
(answer, reply, send), compiling its updates took more CPU than PostgreSQL took to run them
(py-spy --gil on a worker during a 3,000-text drain). These helpers issue the same statements
as ``Model.save(update_fields=...)`` and ``Model.save(force_insert=True)``;
``save_fields_together`` sends the updates of several rows in one round trip.

- The SQL text is built once per model, set of columns and database, from the model's own
  table and column names.
- The values are bound as Django binds them: ``pre_save`` fills what the model fills itself
  (``auto_now`` times), and ``get_db_prep_save`` adapts each value (JSON, for one).

No signal is sent: keep them to models that no signal handler or history follows.

``instance_from_row`` makes a model instance of a row a hand-written SELECT or RETURNING
read, as ``raw()`` would, without ``raw()``'s work of matching columns to fields each time.
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
    save_fields_together([(instance, names)])


def save_fields_together(writes: Sequence[tuple[Model, Sequence[str]]]) -> None:
    """``save_fields`` for each (instance, names) of ``writes``: on PostgreSQL in one statement
    (each UPDATE but the last in a WITH), so one round trip; elsewhere one statement each."""
    statements, params = [], []
    for instance, names in writes:
        names = tuple(names)
        fields = [instance._meta.get_field(name) for name in names]
        params.append(
            [
                *(
                    field.get_db_prep_save(field.pre_save(instance, add=False), connection)
                    for field in fields
                ),
                instance.pk,
            ]
        )
        statements.append(_update_sql(type(instance), names, connection.vendor))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            cursor.execute(_together_sql(tuple(statements)), [v for p in params for v in p])
        else:
            for statement, values in zip(statements, params, strict=True):
                cursor.execute(statement, values)


@lru_cache
def _together_sql(statements: tuple[str, ...]) -> str:
    # Each statement is one built above from the models' own names; the values are parameters.
    firsts = ", ".join(f"write{index} AS ({sql})" for index, sql in enumerate(statements[:-1]))
    return f"WITH {firsts} {statements[-1]}"


@lru_cache
def _insert_sql(model: type[Model], rows: int, vendor: str) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    row = f"({', '.join(['%s'] * len(fields))})"
    # Built from the model's own table and column names; the values are parameters.
    return (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(meta.pk.column)}"
    )


def insert_all(instances: Sequence[Model]) -> None:
    """Insert ``instances`` (of one model) in one statement and set their ids, as
    ``bulk_create`` does on PostgreSQL and SQLite (no signal, no history)."""
    if not instances:
        return
    model = type(instances[0])
    values = []
    for instance in instances:
        values.extend(insert_values(instance)[1])
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(instances), connection.vendor), values)
        ids = [row[0] for row in cursor.fetchall()]
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias


@lru_cache
def _converters(model: type[Model], vendor: str) -> list[tuple[int, list, object]]:
    meta = model._meta
    found = []
    for index, field in enumerate(meta.concrete_fields):
        column = field.get_col(meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((index, converters, column))
    return found


def instance_from_row(model: type[Model], row: Sequence) -> Model:
    """Return the ``model`` instance a row of all its concrete columns, in their order, holds,
    with the values converted as the ORM would (a JSON column parsed, for one)."""
    values = list(row)
    for index, converters, column in _converters(model, connection.vendor):
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    return model.from_db(connection.alias, None, values)
