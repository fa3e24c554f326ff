"""Bulk inserts for imports: many rows in one statement, their new ids back in input order.

On SQLite the rows go straight to the driver's `executemany` with each column's own bind
processor (the same conversion SQLAlchemy applies row by row, without its per-row overhead), and
the ids are read back from the table: writers hold SQLite's write lock (BEGIN IMMEDIATE), so the
rows get the ids following the largest one, in order; that is checked, and the ids are matched
by value if it ever does not hold. Other databases use INSERT … RETURNING.
"""

from collections.abc import Sequence
from operator import itemgetter

from sqlalchemy import Table, func, insert, select
from sqlmodel import Session

CHUNK = 2000


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def insert_rows(session: Session, table: Table, rows: list[dict], columns: Sequence[str], *,
                want_ids: bool = True) -> list[int]:
    """Insert `rows` (dicts holding every name in `columns`) into `table` in the session's
    transaction; return the new ids in the order of `rows` (empty when not `want_ids`)."""
    if not rows:
        return []
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        return _insert_returning(session, table, rows, columns, want_ids)
    before = 0
    if want_ids:
        before = connection.execute(select(func.max(table.c.id))).scalar() or 0
    processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    getter = itemgetter(*columns)
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    if len(columns) == 1:
        params = [(getter(row),) for row in rows]
    else:
        params = [getter(row) for row in rows]
    if converted:
        # a value repeated down a column (the batch's timestamp, its user) is converted once
        last: list = [(object(), None) for _ in converted]
        for n, values in enumerate(params):
            values = list(values)
            for j, (i, process) in enumerate(converted):
                value = values[i]
                seen, done = last[j]
                if value is not seen:
                    done = process(value)
                    last[j] = (value, done)
                values[i] = done
            params[n] = values
    cursor = connection.connection.driver_connection.cursor()
    try:
        for part in _chunks(params, 10_000):
            cursor.executemany(sql, part)
    finally:
        cursor.close()
    if not want_ids:
        return []
    count, low, high = connection.execute(
        select(func.count(), func.min(table.c.id), func.max(table.c.id))
        .where(table.c.id > before)).one()
    n = len(rows)
    if count == n and low == before + 1 and high == before + n:
        return list(range(before + 1, before + n + 1))
    return _match_ids(session, table, rows, columns, before)  # pragma: no cover - see above


def _match_ids(session: Session, table: Table, rows: list[dict], columns: Sequence[str],
               after: int) -> list[int]:
    cols = [table.c[c] for c in columns]
    ids: dict[tuple, list[int]] = {}
    for found in session.execute(select(table.c.id, *cols).where(table.c.id > after)
                                 .order_by(table.c.id.desc())):
        ids.setdefault(tuple(found[1:]), []).append(found[0])
    return [ids[tuple(row[c] for c in columns)].pop() for row in rows]


def _insert_returning(session: Session, table: Table, rows: list[dict],
                      columns: Sequence[str], want_ids: bool) -> list[int]:
    """INSERT … RETURNING in chunks; each returned id is matched to its row by the inserted
    values (RETURNING promises no order); rows with identical values are interchangeable."""
    cols = [table.c[c] for c in columns]
    if not want_ids:
        for part in _chunks(rows):
            session.execute(insert(table), part)
        return []
    ids: dict[tuple, list[int]] = {}
    for part in _chunks(rows):
        for returned in session.execute(insert(table).returning(table.c.id, *cols), part):
            ids.setdefault(tuple(returned[1:]), []).append(returned[0])
    return [ids[tuple(row[c] for c in columns)].pop() for row in rows]
