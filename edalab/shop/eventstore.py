"""An append-only event store on SQLite, about a hundred lines, so the mechanics of event
sourcing are visible before a library hides them.

One table holds every event. A stream (one aggregate, e.g. one order) is the events with
the same ``stream_id``, numbered 1, 2, 3... by ``version``; ``(stream_id, version)`` is
the primary key, which is what makes optimistic concurrency safe even across processes:
two writers that both read version 3 cannot both append version 4. ``position`` is the
global order that projections follow. Old event shapes are upgraded on read (upcasting),
so stored events are never rewritten.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

Upcaster = Callable[[dict], dict]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    schema      INTEGER NOT NULL DEFAULT 1,
    data        TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS snapshots (
    stream_id TEXT PRIMARY KEY,
    version   INTEGER NOT NULL,
    state     TEXT    NOT NULL
);
"""


class ConcurrencyError(Exception):
    """Someone appended to the stream since you read it: reload, decide again, retry."""


@dataclass(frozen=True)
class StoredEvent:
    stream_id: str
    version: int
    name: str
    data: dict
    schema: int
    recorded_at: str
    position: int


def _timestamp(when: datetime | str | None) -> str:
    if when is None:
        when = datetime.now(timezone.utc)
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if not isinstance(when, datetime):
        raise TypeError(f"expected a datetime or an ISO date string, got {when!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    # One fixed format, so timestamps compare correctly as text in SQL.
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventStore:
    def __init__(self, path: str = ":memory:", *, upcasters: dict[tuple[str, int], Upcaster] | None = None):
        """`upcasters` maps (event name, schema) to a function returning the data in schema + 1."""
        self.path = str(path)
        self.upcasters = dict(upcasters or {})
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- writing --------------------------------------------------------------------------
    def append(self, stream_id: str, events: Iterable, *, expected_version: int,
               at: datetime | str | None = None) -> int:
        """Append `events` after `expected_version`; return the stream's new version.

        Each event is ``(name, data)``, ``(name, data, schema)`` or anything with ``.name``
        and ``.data`` (a shop Message). Raises ConcurrencyError if the stream has moved on.
        """
        rows = [_normalise(e) for e in events]
        if not rows:
            raise ValueError("append needs at least one event")
        recorded_at = _timestamp(at)
        self.db.execute("BEGIN IMMEDIATE")  # one writer at a time; readers carry on
        try:
            current = self.version(stream_id)
            if current != expected_version:
                raise ConcurrencyError(
                    f"stream {stream_id!r} is at version {current}, you expected {expected_version}: "
                    f"someone else changed it; reload it, decide again and retry")
            for offset, (name, data, schema) in enumerate(rows, start=1):
                self.db.execute(
                    "INSERT INTO events (stream_id, version, name, schema, data, recorded_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (stream_id, current + offset, name, schema, json.dumps(data), recorded_at))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return current + len(rows)

    # -- reading --------------------------------------------------------------------------
    def version(self, stream_id: str) -> int:
        row = self.db.execute("SELECT MAX(version) FROM events WHERE stream_id = ?", (stream_id,)).fetchone()
        return row[0] or 0

    def read(self, stream_id: str, *, after_version: int = 0, as_of: datetime | str | None = None,
             upto_version: int | None = None) -> list[StoredEvent]:
        """The stream's events in order; `as_of` keeps only those recorded by then."""
        sql = "SELECT * FROM events WHERE stream_id = ? AND version > ?"
        args: list = [stream_id, after_version]
        if upto_version is not None:
            sql += " AND version <= ?"
            args.append(upto_version)
        if as_of is not None:
            sql += " AND recorded_at <= ?"
            args.append(_timestamp(as_of))
        return [self._upcast(r) for r in self.db.execute(sql + " ORDER BY version", args)]

    def read_all(self, *, after_position: int = 0) -> list[StoredEvent]:
        """Every stream's events in the order they were stored: what projections follow."""
        rows = self.db.execute("SELECT * FROM events WHERE position > ? ORDER BY position", (after_position,))
        return [self._upcast(r) for r in rows]

    def streams(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT stream_id FROM events ORDER BY stream_id")]

    # -- snapshots ------------------------------------------------------------------------
    def save_snapshot(self, stream_id: str, version: int, state: dict) -> None:
        """Remember the folded state at `version`, so a rebuild reads only later events."""
        self.db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
                        (stream_id, version, json.dumps(state)))

    def snapshot(self, stream_id: str) -> tuple[int, dict] | None:
        row = self.db.execute("SELECT version, state FROM snapshots WHERE stream_id = ?", (stream_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def _upcast(self, row) -> StoredEvent:
        position, stream_id, version, name, schema, data, recorded_at = row
        data = json.loads(data)
        while (name, schema) in self.upcasters:
            data = self.upcasters[(name, schema)](dict(data))
            schema += 1
        return StoredEvent(stream_id, version, name, data, schema, recorded_at, position)


def _normalise(item) -> tuple[str, dict, int]:
    if hasattr(item, "name") and hasattr(item, "data"):
        name, data, schema = item.name, item.data, 1
    elif isinstance(item, tuple) and len(item) in (2, 3):
        name, data, schema = (*item, 1)[:3]
    else:
        raise TypeError(f"an event is (name, data), (name, data, schema) or a shop Message, got {item!r}")
    if not isinstance(name, str) or not name or not isinstance(data, dict):
        raise TypeError(f"an event needs a str name and a dict of data, got {item!r}")
    return name, data, int(schema)
