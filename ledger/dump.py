"""Table rows as JSON lines, for `lianzheng backup` and `restore`: one file per table, one row per
line.

The codec is by column type, so a dump taken on SQLite restores into
PostgreSQL and back: bytes as base64, times as RFC 3339 in UTC, the rest as
JSON's own numbers, strings and nulls.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, DateTime, LargeBinary, MetaData, Table, func, select, text

from ledger.events import as_utc
from ledger.models import UTCDateTime

BATCH = 1000


def encode_row(table: Table, row: Any) -> dict[str, Any]:
    """A row of `table` as JSON-ready values."""
    encoded = {}
    for column in table.columns:
        value = getattr(row, column.name)
        if value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64encode(value).decode()
        elif value is not None and isinstance(column.type, DateTime | UTCDateTime):
            value = as_utc(value).isoformat()
        encoded[column.name] = value
    return encoded


def decode_row(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `encode_row`; unknown or missing columns are an error, not a silent
    default."""
    names = {column.name for column in table.columns}
    if set(values) != names:
        raise ValueError(
            f"a row of {table.name} has columns {sorted(values)}, expected {sorted(names)}"
        )
    decoded = dict(values)
    for column in table.columns:
        value = values[column.name]
        if value is not None and isinstance(column.type, LargeBinary):
            decoded[column.name] = base64.b64decode(value, validate=True)
        elif value is not None and isinstance(column.type, DateTime | UTCDateTime):
            decoded[column.name] = datetime.fromisoformat(value)
    return decoded


class LineSink(Protocol):
    """Where a table's lines go: a text file, or a hashing writer of a backup."""

    def write(self, line: str, /) -> object: ...


def write_table(connection: Connection, table: Table, out: LineSink) -> int:
    """Every row of `table`, in primary-key order, as lines on `out`; returns how many."""
    count = 0
    rows = connection.execution_options(yield_per=BATCH).execute(
        select(table).order_by(*table.primary_key)
    )
    for row in rows:
        out.write(
            json.dumps(encode_row(table, row), ensure_ascii=False, separators=(",", ":")) + "\n"
        )
        count += 1
    return count


def read_table(table: Table, lines: Iterable[str]) -> Iterator[list[dict[str, Any]]]:
    """The rows of a `write_table` file, decoded, in batches."""
    batch: list[dict[str, Any]] = []
    for line in lines:
        batch.append(decode_row(table, json.loads(line)))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def row_counts(connection: Connection, metadata: MetaData) -> dict[str, int]:
    return {
        table.name: connection.scalar(select(func.count()).select_from(table)) or 0
        for table in metadata.sorted_tables
    }


def reset_sequences(connection: Connection, metadata: MetaData) -> None:
    """PostgreSQL: move each serial key's sequence past the restored rows, so new rows get new
    ids."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's INTEGER PRIMARY KEY takes max(rowid) + 1 by itself
    for table in metadata.sorted_tables:
        key = list(table.primary_key)
        if len(key) == 1 and key[0].autoincrement is not False and key[0].type.python_type is int:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
                    f"COALESCE(MAX({key[0].name}), 1), MAX({key[0].name}) IS NOT NULL) FROM "
                    f"{table.name}"
                )
            )
