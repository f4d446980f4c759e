"""Rows written from a query in one statement: ``INSERT INTO table (columns) SELECT ...``.

What a program's batch writes per person (its lines, its support records, their timeline
steps) is copied from rows the database already holds; building a model instance per person in
Python costs more than the whole statement.  The SELECT is an ordinary queryset, so its filters
and scoping are the ones the rest of the code uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast
from django.utils import timezone


def insert_select(
    model: type[models.Model], queryset: models.QuerySet, values: Mapping[str, Any]
) -> int:
    """Insert one ``model`` row per row of ``queryset``; ``values`` maps each field's name
    to an expression over the queryset's model (``F("member_id")``) or a constant.  Fields
    left out get their default (``auto_now`` ones the current time); returns the rows
    inserted."""
    now = timezone.now()
    connection = connections[queryset.db]
    columns: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.name in values or field.attname in values:
            value = values.get(field.name, values.get(field.attname))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            # The field's default; for a text field without one, "" as the ORM writes.
            value = field.get_default()
            if value is None and not field.null:
                raise ValueError(f"{model.__name__}.{field.name} needs a value")
        if not isinstance(value, Combinable):
            kind = getattr(field, "target_field", field) if field.is_relation else field
            value = Value(value, output_field=kind)
            if connection.vendor == "postgresql":
                # Typed: an untyped parameter in a SELECT list is read as text.
                value = Cast(value, output_field=kind)
        columns[field.column] = value
    aliases = {f"_c{n}": expression for n, expression in enumerate(columns.values())}
    select = queryset.annotate(**aliases).values_list(*aliases)
    try:
        sql, params = select.query.sql_with_params()
    except EmptyResultSet:  # a filter such as ``pk__in=[]``: no row to select, none to insert
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({names}) {sql}", params)
        return cursor.rowcount


def update_each(objects: Sequence[models.Model], fields: list[str]) -> int:
    """Save ``fields`` of each of ``objects`` (of one model) in one statement: on PostgreSQL
    ``UPDATE ... FROM (VALUES ...)``, typed by the fields; elsewhere Django's
    ``bulk_update``.  Django's builds a ``CASE WHEN`` per object and field, which for the
    thousands of batches a program-wide run changes cost more than the rows' own writing.
    ``auto_now`` fields are not set here: name them and set them."""
    if not objects:
        return 0
    model = type(objects[0])
    connection = connections[model._default_manager.db]
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(objects, fields)
    meta = model._meta
    chosen = [cast(models.Field, meta.get_field(name)) for name in fields]
    quote = connection.ops.quote_name
    assert meta.pk is not None
    key = quote(meta.pk.column)
    casts = [f"%s::{meta.pk.db_type(connection)}"] + [
        f"%s::{field.db_type(connection)}"
        if not field.is_relation
        else f"%s::{field.target_field.rel_db_type(connection)}"  # type: ignore[attr-defined]
        for field in chosen
    ]
    row = f"({', '.join(casts)})"
    params: list[Any] = []
    for obj in objects:
        params.append(obj.pk)
        for field in chosen:
            value = getattr(obj, field.attname)
            if value is None and field.is_relation and field.is_cached(obj):  # type: ignore[attr-defined]
                # An object saved after it was assigned (as ``bulk_update`` reads it).
                related = field.get_cached_value(obj)  # type: ignore[attr-defined]
                value = None if related is None else related.pk
            params.append(field.get_db_prep_save(value, connection))
    names = ", ".join(["_pk", *(f"_c{n}" for n in range(len(chosen)))])
    assignments = ", ".join(f"{quote(field.column)} = v._c{n}" for n, field in enumerate(chosen))
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {', '.join([row] * len(objects))}) AS v ({names}) WHERE t.{key} = v._pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
