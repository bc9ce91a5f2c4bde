"""Bulk inserts through the driver's ``executemany``, for the execution records' hot path.

Every execution writes two rows in a transaction of its own (or of a small group). With
SQLAlchemy Core statements (``connection.execute(insert(table), rows)``) SQLAlchemy's
per-statement machinery (execution context, event dispatch, parameter processing, the
result object) cost about as much as SQLite's own work on this project's 2-core
machine: handing only the statements to the driver took the record's write (two rows,
one transaction) from ~500 to ~350 µs of CPU (tests/benchmarks/README.md).

So SQLAlchemy still does everything else: it compiles each table's ``INSERT`` once per
dialect and column set (its SQL, paramstyle and casts), supplies each column type's own
bind processor (JSON serialisation, SQLite's datetime format), and owns the connection
and the transaction (pool, SQLite's ``BEGIN IMMEDIATE`` hook, commit and rollback).
Only the ``executemany`` calls go to the driver's cursor, and its errors are wrapped in
SQLAlchemy's exception classes, so callers catch ``IntegrityError`` as usual.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

Rows = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class InsertPlan:
    """One table's ``INSERT`` of a fixed set of columns, compiled for one dialect."""

    sql: str
    #: The row keys in the order the driver takes the parameters.
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool

    def parameters(self, rows: Rows) -> list[tuple[Any, ...]] | list[dict[str, Any]]:
        """The driver's parameters for ``rows``: tuples or dicts, by its paramstyle."""
        values = [[row[key] if process is None else process(row[key])
                   for key, process in zip(self.keys, self.processors, strict=True)]
                  for row in rows]
        if self.positional:
            return [tuple(row) for row in values]
        return [dict(zip(self.keys, row, strict=True)) for row in values]


@functools.lru_cache(maxsize=64)  # bounded: each engine (tests make hundreds) has its dialect
def plan(table: Table, keys: tuple[str, ...], dialect: Dialect) -> InsertPlan:
    """The plan for inserting rows with exactly ``keys`` into ``table`` (built once)."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    if sorted(compiled.bind_names.values()) != sorted(keys):
        # A key that is not a column, or a column with a default the rows leave out.
        raise ValueError(f"rows for {table.name} must give exactly its columns: {keys}")
    order = tuple(compiled.positiontup or ()) if dialect.positional else keys
    processors = tuple(table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
                       for key in order)
    return InsertPlan(sql=compiled.string, keys=order, processors=processors,
                      positional=dialect.positional)


def insert_many(connection: Connection, inserts: Sequence[tuple[Table, Rows]]) -> None:
    """Insert each table's rows, in order, on ``connection`` (in its transaction).

    Every row of one table must have the same keys, all of them columns (else
    ``ValueError``, before anything is written); column defaults are not applied."""
    dialect = connection.dialect
    plans = [(plan(table, _keys(table, rows), dialect), rows) for table, rows in inserts if rows]
    cursor = connection.connection.cursor()
    try:
        for table_plan, rows in plans:
            try:
                cursor.executemany(table_plan.sql, table_plan.parameters(rows))
            except dialect.loaded_dbapi.Error as exc:
                # Parameters hidden: they are prompts and outputs.
                # A lost connection is flagged as SQLAlchemy flags it
                # (``connection_invalidated``), so a caller can tell it from a refusal.
                lost = dialect.is_disconnect(exc, connection.connection.dbapi_connection,
                                             cursor)
                raise DBAPIError.instance(table_plan.sql, None, exc,
                                          dialect.loaded_dbapi.Error, hide_parameters=True,
                                          connection_invalidated=lost, dialect=dialect,
                                          ismulti=True) from exc
    finally:
        cursor.close()


def _keys(table: Table, rows: Rows) -> tuple[str, ...]:
    # Checked for every row (~1 µs each): a row with another key set would otherwise
    # lose a value silently or fail on a bare KeyError.
    keys = rows[0].keys()
    if any(row.keys() != keys for row in rows):
        raise ValueError(f"rows for {table.name} must all have the same keys")
    return tuple(keys)
