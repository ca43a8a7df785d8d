"""The identity map every repository keeps for one transaction: load once, lock in sets, write once.

One verb set for every service:
- `lock(ids)`: take the aggregates' advisory locks (`shared.locks`, key order) and load them, in two
  statements for the whole set, whatever its size;
- `load(ids)`: load without locking (reads, and what a handler only looks at);
- `get(id)`: the value, from memory once loaded (loads it alone otherwise); `None` if never stored;
- `save(id, value)`: replaces the value in the map and marks it for writing;
- `flush()`: one `INSERT ... ON CONFLICT DO UPDATE` of every saved value (one JSON array bound), just
  before the commit.

What an earlier event of the same transaction saved is what a later one reads. The columns written
are derived from the `Table` (every column but the server-side defaults the row mapping leaves out),
so a new column is declared once, in `tables.py`.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.locks import lock_keys
from shared.sql import any_of, rows_json, upsert_statement

V = TypeVar("V")


class IdentityMap(Generic[V]):
    """Values of one table keyed by one text column, for the length of one transaction.

    `value_of(row)` maps a row (a mapping of column name to value) to the frozen domain value;
    `row_of(value)` maps it back to the columns to write. `read_columns` (default: every column)
    narrows what is read when the code on the map needs only part of a wide row: `value_of` then sees
    only those, while a saved value still writes every column `row_of` gives. Keeps no state beyond
    the transaction.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        *,
        table: Table,
        key: str,
        lock_scope: str,
        value_of: Callable[[Mapping[str, Any]], V],
        row_of: Callable[[V], dict[str, Any]],
        touch_column: str | None = "updated_at",
        read_columns: Sequence[str] | None = None,
    ) -> None:
        self._connection = connection
        self._table = table
        self._key = table.c[key]
        self._lock_scope = lock_scope
        self._value_of = value_of
        self._row_of = row_of
        self._touch_column = touch_column if touch_column is not None and touch_column in table.c else None
        self._read_columns = [table.c[name] for name in read_columns] if read_columns else list(table.columns)
        self._loaded: dict[str, V | None] = {}
        self._locked: set[str] = set()
        self._dirty: dict[str, dict[str, Any]] = {}

    def is_locked(self, key: str) -> bool:
        return key in self._locked

    async def lock(self, keys: Iterable[str]) -> None:
        """Lock and load the aggregates not locked yet in this transaction (locked ones are already current)."""
        wanted = sorted(set(keys) - self._locked)
        if not wanted:
            return
        await lock_keys(self._connection, scope=self._lock_scope, keys=wanted)
        self._locked.update(wanted)
        await self._read([key for key in wanted if key not in self._loaded])

    async def load(self, keys: Iterable[str]) -> None:
        """Load without locking what is not in the map yet."""
        await self._read(sorted(set(keys) - set(self._loaded)))

    async def get(self, key: str) -> V | None:
        if key not in self._loaded:
            await self._read([key])
        return self._loaded[key]

    def loaded(self, key: str) -> V | None:
        """The value already in the map (after `lock` or `load`); a key never loaded is a bug."""
        return self._loaded[key]

    def save(self, key: str, value: V) -> None:
        """Replace the value and write it at `flush`. The caller holds the key's lock."""
        if key not in self._locked:
            raise RuntimeError(f"saving {self._table.name} {key} without holding its lock")
        self._loaded[key] = value
        self._dirty[key] = self._row_of(value)

    def forget(self, key: str) -> None:
        """Drop a key from the map (after a statement outside the map changed its row)."""
        self._loaded.pop(key, None)
        self._dirty.pop(key, None)

    async def flush(self) -> None:
        """Write every saved value in one statement (`shared.sql.upsert_statement`)."""
        if not self._dirty:
            return
        rows = list(self._dirty.values())
        self._dirty.clear()
        statement = upsert_statement(
            self._table, columns=tuple(rows[0]), key=self._key.name, touch_column=self._touch_column
        )
        await self._connection.execute(statement, {"rows": rows_json(rows)})

    async def _read(self, keys: list[str]) -> None:
        if not keys:
            return
        rows = await self._connection.execute(
            select(*self._read_columns).where(any_of(self._key, "keys")), {"keys": keys}
        )
        self._loaded.update(dict.fromkeys(keys))
        for row in rows:
            mapping = row._mapping
            self._loaded[mapping[self._key.name]] = self._value_of(
                {column.name: mapping[column] for column in self._read_columns}
            )
