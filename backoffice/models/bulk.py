"""Writing many rows at once, below the ORM: the demo's load (seeding/demo.py) and the
deadline engine's full rebuild (services/obligations.py)."""
from sqlalchemy import Table, insert


def insert_many(session, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the keys of the first) into ``table``.

    Each value is converted by its column type (the same conversion SQLAlchemy applies),
    then handed to the driver at once: on SQLite one ``executemany``, on PostgreSQL one
    ``COPY``. SQLAlchemy's per-row parameter handling took a third of the demo's time at a
    million people (docs/benchmarks.md, « Demo generator »). A table with a computed
    default left out goes through SQLAlchemy's own insert."""
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    defaults = [c for c in table.c if c.key not in rows[0] and c.default is not None]
    if dialect.name not in ("sqlite", "postgresql") or any(
            not c.default.is_scalar for c in defaults):
        session.execute(insert(table), rows)
        return
    columns = [table.c[key] for key in keys] + defaults
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    fixed = tuple(c.default.arg for c in defaults)
    convert = [(i, p) for i, p in enumerate(processors) if p is not None]
    values = []
    for row in rows:
        value = [row[key] for key in keys]
        value.extend(fixed)
        for i, process in convert:
            value[i] = process(value[i])
        values.append(tuple(value))
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    if dialect.name == "postgresql":
        # The request's own connection and transaction (psycopg 3's COPY)
        with connection.connection.driver_connection.cursor() as cursor, \
                cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})",
                               values)
