"""The emulator's state: one SQLite database, in memory by default or in a file.

Records of each catalog definition live in their own table ``r_<Definition>`` as a JSON document
(hyphenated keys) beside an integer id and an optional parent link (nested collections such as
``/suppliers/{supplier_id}/addresses``). Inside a document:

- datetimes are UTC text ``YYYY-MM-DDTHH:MM:SS`` (fixed width, so text order is time order);
- decimals are strings (exact), compared through the ``DECIMAL`` collation;
- a single association is the referenced record's id, a collection a list of ids.

Emulator bookkeeping (OAuth clients, tokens, settings) lives in ``_``-prefixed tables of the same
database, so a file-backed instance survives a restart whole.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

_SAFE = re.compile(r"[^A-Za-z0-9_]")

# Fields indexed in every table that has them: the ones integrations poll and filter on.
INDEXED_FIELDS = ("updated-at", "created-at", "status", "exported")
# Flags that integrations combine with ``updated-at[gt]`` while paging by id
# (``status=approved&updated-at[gt]=...&id[gt]=...``): their index is (flag, id, updated-at), so
# the rows the updated-at bound rejects are skipped inside the index, without reading a document.
COVERED_BY_UPDATED_AT = ("status", "exported")
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


def table_name(definition: str) -> str:
    return "r_" + _SAFE.sub("_", definition)


def _json_path(field: str) -> str:
    """The expression filters use for a document field (query_sql writes it the same way, so
    that SQLite matches it with the index)."""
    return f"json_extract(doc, '$.\"{field}\"')"


def _decimal_collation(a: str, b: str) -> int:
    try:
        da, db = Decimal(a), Decimal(b)
    except (InvalidOperation, TypeError):
        return (a > b) - (a < b)
    return (da > db) - (da < db)


def _icontains(haystack: object, needle: object) -> int | None:
    if haystack is None or needle is None:
        return None
    return int(str(needle).lower() in str(haystack).lower())


def _istarts(haystack: object, needle: object) -> int | None:
    if haystack is None or needle is None:
        return None
    return int(str(haystack).lower().startswith(str(needle).lower()))


def _iends(haystack: object, needle: object) -> int | None:
    if haystack is None or needle is None:
        return None
    return int(str(haystack).lower().endswith(str(needle).lower()))


class Store:
    """Thin, thread-safe access to the emulator database."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.create_collation("DECIMAL", _decimal_collation)
        self._conn.create_function("icontains", 2, _icontains, deterministic=True)
        self._conn.create_function("istarts", 2, _istarts, deterministic=True)
        self._conn.create_function("iends", 2, _iends, deterministic=True)
        self._tables: set[str] = self._existing_tables()
        self._in_tx = 0
        # Caches of rendered records follow the data through ``watch`` callbacks naming each
        # record written, and ``generation``, bumped when records may have changed in a way not
        # reported record by record (a rollback, a wipe, a raw write statement): it empties them.
        self.generation = 0
        self._watchers: list[Callable[[str, Iterable[int]], None]] = []
        # Which JSON fields to index when a record table is first created (set by the emulator).
        self.index_fields: Callable[[str], Iterable[str]] = lambda definition: ()
        self._init_meta()

    def _existing_tables(self) -> set[str]:
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        return {row[0] for row in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- change tracking -----------------------------------------------------------------------
    def watch(self, callback: Callable[[str, Iterable[int]], None]) -> None:
        """Call ``callback(definition, ids)`` after records are inserted, updated or deleted."""
        self._watchers.append(callback)

    @property
    def lock(self) -> threading.RLock:
        """Held by every statement and by a whole transaction; watchers run under it. A cache that
        reads and stores while holding it cannot keep what a concurrent write made stale."""
        return self._lock

    def _changed(self, definition: str, ids: Iterable[int]) -> None:
        for callback in self._watchers:
            callback(definition, ids)

    def _everything_changed(self) -> None:
        self.generation += 1

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes of one request commit together or not at all."""
        with self._lock:
            outer = self._in_tx == 0
            if outer:
                self._conn.execute("BEGIN")
            self._in_tx += 1
            try:
                yield
            except BaseException:
                self._in_tx -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                    # DDL rolls back too: forget tables this transaction created.
                    self._tables = self._existing_tables()
                    self._everything_changed()
                raise
            self._in_tx -= 1
            if outer:
                self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Raw SQL. A statement that is not a read may change any record: caches start over."""
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
            if not sql.lstrip()[:7].upper().startswith(_READS):
                self._everything_changed()
            return rows

    # -- record tables -------------------------------------------------------------------------
    def ensure_table(self, definition: str) -> str:
        """Create a record table on first use, with indexes on the fields integrations poll."""
        name = table_name(definition)
        if name in self._tables:
            return name
        indexed = list(self.index_fields(definition))
        with self._lock:
            self._conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{name}" (id INTEGER PRIMARY KEY AUTOINCREMENT, '
                "parent_res TEXT, parent_id INTEGER, doc TEXT NOT NULL)"
            )
            # Partial: only records of nested collections have a parent (most records have none).
            self._conn.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}_parent" ON "{name}"(parent_res, parent_id) '
                "WHERE parent_id IS NOT NULL"
            )
            for f in indexed:
                col = _SAFE.sub("_", f)
                columns = f"{_json_path(f)}, id"
                if f in COVERED_BY_UPDATED_AT and "updated-at" in indexed:
                    columns += f", {_json_path('updated-at')}"
                self._conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}_{col}" ON "{name}"({columns})')
            self._tables.add(name)
        return name

    def insert(
        self,
        definition: str,
        doc: dict[str, Any],
        *,
        record_id: int | None = None,
        parent: tuple[str, int] | None = None,
    ) -> int:
        name = table_name(definition)
        if name not in self._tables:
            self.ensure_table(definition)
        with self._lock:
            cur = self._conn.execute(
                f'INSERT INTO "{name}" (id, parent_res, parent_id, doc) VALUES (?, ?, ?, ?)',
                (record_id, parent[0] if parent else None, parent[1] if parent else None, b"{}"),
            )
            new_id = int(cur.lastrowid or 0)
            doc["id"] = new_id
            self._conn.execute(f'UPDATE "{name}" SET doc = ? WHERE id = ?', (orjson.dumps(doc).decode(), new_id))
            self._changed(definition, (new_id,))
        return new_id

    def insert_many(self, definition: str, docs: Sequence[dict[str, Any]]) -> None:
        """Bulk insert of documents that already carry their ids (used by the data generator)."""
        name = self.ensure_table(definition)
        with self._lock:
            self._conn.executemany(
                f'INSERT INTO "{name}" (id, parent_res, parent_id, doc) VALUES (?, NULL, NULL, ?)',
                [(d["id"], orjson.dumps(d).decode()) for d in docs],
            )
            self._changed(definition, [d["id"] for d in docs])

    def update(self, definition: str, record_id: int, doc: dict[str, Any]) -> None:
        name = table_name(definition)
        with self._lock:
            self._conn.execute(f'UPDATE "{name}" SET doc = ? WHERE id = ?', (orjson.dumps(doc).decode(), record_id))
            self._changed(definition, (record_id,))

    def delete(self, definition: str, record_id: int) -> None:
        name = table_name(definition)
        if name in self._tables:
            with self._lock:
                self._conn.execute(f'DELETE FROM "{name}" WHERE id = ?', (record_id,))
                self._changed(definition, (record_id,))

    def get(self, definition: str, record_id: int) -> dict[str, Any] | None:
        name = table_name(definition)
        if name not in self._tables:
            return None
        with self._lock:
            row = self._conn.execute(f'SELECT doc FROM "{name}" WHERE id = ?', (record_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def get_with_parent(self, definition: str, record_id: int) -> tuple[dict[str, Any], tuple[str, int] | None] | None:
        name = table_name(definition)
        if name not in self._tables:
            return None
        with self._lock:
            row = self._conn.execute(
                f'SELECT doc, parent_res, parent_id FROM "{name}" WHERE id = ?', (record_id,)
            ).fetchone()
        if not row:
            return None
        return orjson.loads(row[0]), ((row[1], row[2]) if row[1] is not None else None)

    def get_many(self, definition: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        name = table_name(definition)
        wanted = sorted({i for i in ids if isinstance(i, int)})
        if not wanted or name not in self._tables:
            return {}
        out: dict[int, dict[str, Any]] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for rid, doc in self._conn.execute(f'SELECT id, doc FROM "{name}" WHERE id IN ({marks})', chunk):
                    out[rid] = orjson.loads(doc)
        return out

    def documents(self, definition: str) -> dict[int, dict[str, Any]]:
        """Every record of a definition, by id."""
        name = table_name(definition)
        if name not in self._tables:
            return {}
        with self._lock:
            return {rid: orjson.loads(doc) for rid, doc in self._conn.execute(f'SELECT id, doc FROM "{name}"')}

    def max_id(self, definition: str) -> int:
        """The highest id in use (0 for none): at least the number of records, found at once."""
        name = table_name(definition)
        if name not in self._tables:
            return 0
        with self._lock:
            return int(self._conn.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{name}"').fetchone()[0])

    def existing(self, definition: str, ids: Iterable[int]) -> set[int]:
        """Which of these ids have a record (no document is read)."""
        name = table_name(definition)
        wanted = sorted({i for i in ids if isinstance(i, int)})
        if not wanted or name not in self._tables:
            return set()
        out: set[int] = set()
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                out.update(r[0] for r in self._conn.execute(f'SELECT id FROM "{name}" WHERE id IN ({marks})', chunk))
        return out

    def select(
        self,
        definition: str,
        where: str = "",
        params: Sequence[Any] = (),
        order: str = "t.id ASC",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        name = table_name(definition)
        if name not in self._tables:
            return []
        sql = f'SELECT t.doc FROM "{name}" t'
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        with self._lock:
            return [orjson.loads(r[0]) for r in self._conn.execute(sql, params)]

    def count(self, definition: str) -> int:
        name = table_name(definition)
        if name not in self._tables:
            return 0
        with self._lock:
            return int(self._conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])

    def has_table(self, definition: str) -> bool:
        return table_name(definition) in self._tables

    # -- emulator bookkeeping ------------------------------------------------------------------
    def _init_meta(self) -> None:
        with self._lock:
            self._conn.execute("CREATE TABLE IF NOT EXISTS _settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS _oauth_clients (client_id TEXT PRIMARY KEY, doc TEXT NOT NULL)"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS _grants (token TEXT PRIMARY KEY, kind TEXT NOT NULL, doc TEXT NOT NULL)"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS _blobs "
                "(key TEXT PRIMARY KEY, content_type TEXT NOT NULL, data BLOB NOT NULL)"
            )
            self._tables |= {"_settings", "_oauth_clients", "_grants", "_blobs"}

    def setting(self, key: str) -> Any:
        with self._lock:
            row = self._conn.execute("SELECT value FROM _settings WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def set_setting(self, key: str, value: Any) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO _settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, orjson.dumps(value).decode()),
            )

    def put_blob(self, key: str, content_type: str, data: bytes) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO _blobs (key, content_type, data) VALUES (?, ?, ?)", (key, content_type, data)
            )

    def get_blob(self, key: str) -> tuple[str, bytes] | None:
        with self._lock:
            row = self._conn.execute("SELECT content_type, data FROM _blobs WHERE key = ?", (key,)).fetchone()
        return (str(row[0]), bytes(row[1])) if row else None

    def put_meta(self, table: str, key: str, doc: dict[str, Any], kind: str | None = None) -> None:
        with self._lock:
            if table == "_grants":
                self._conn.execute(
                    "INSERT OR REPLACE INTO _grants (token, kind, doc) VALUES (?, ?, ?)",
                    (key, kind or "", orjson.dumps(doc).decode()),
                )
            else:
                self._conn.execute(
                    f"INSERT OR REPLACE INTO {table} (client_id, doc) VALUES (?, ?)",
                    (key, orjson.dumps(doc).decode()),
                )

    def get_meta(self, table: str, key: str) -> dict[str, Any] | None:
        col = "token" if table == "_grants" else "client_id"
        with self._lock:
            row = self._conn.execute(f"SELECT doc FROM {table} WHERE {col} = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def delete_meta(self, table: str, key: str) -> None:
        col = "token" if table == "_grants" else "client_id"
        with self._lock:
            self._conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (key,))

    def all_meta(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return [orjson.loads(r[0]) for r in self._conn.execute(f"SELECT doc FROM {table}")]

    def wipe(self) -> None:
        """Drop every table: the instance becomes brand new (reset)."""
        with self._lock:
            for name in list(self._tables):
                self._conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            self._tables.clear()
            self._conn.execute("DELETE FROM sqlite_sequence") if self._has_sequence() else None
            self._init_meta()
            self._everything_changed()

    def _has_sequence(self) -> bool:
        row = self._conn.execute("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").fetchone()
        return row is not None
