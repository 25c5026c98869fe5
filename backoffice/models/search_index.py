"""The index of the name search (issue 25 §2): trigrams of `beneficiaries.search_key`.

A word typed in a search box is found *inside* a person's folded names or external id
(« dup » finds « Dupont », « pon » too), which no B-tree can answer. Each engine has its
trigram index of the key, which answers « contains » for any word of three letters or more:

- PostgreSQL: a GIN index with the `pg_trgm` operator class; the search's
  ``search_key LIKE '%dup%'`` uses it by itself. `pg_trgm` ships with PostgreSQL (contrib;
  it is in Debian's postgresql-15 package used by .ci/postgres.sh) and is a trusted
  extension (a database owner may create it). Where it cannot be created, the index is
  left out with a warning and the same search reads the whole table: slower, same results.
  With it, a B-tree of each person's key by their id (`KEY_BY_ID_INDEX`).
- SQLite: an FTS5 table with the trigram tokenizer (SQLite ≥ 3.34) holding the key of each
  person (external content: the key is not stored twice), kept by three triggers; the
  search asks it ``search_key LIKE '%dup%'`` for the ids (backoffice/people_search.py).

The objects are attached to the table for `create_all` and created by migration 0022;
they are not in the models' metadata (no such type there), so the schema comparison of
tests/integration/test_migrations.py leaves them out by name (`is_search_object`).
"""
import logging
import sqlite3
from functools import lru_cache

from sqlalchemy import event, text

from .people import Beneficiary

log = logging.getLogger(__name__)

#: The SQLite FTS5 table of the keys (its rowid is the person's id).
FTS_TABLE = "beneficiary_search"
#: The PostgreSQL trigram index (not « ix_… »: bench/common.py drops undeclared ix_ indexes).
TRIGRAM_INDEX = "trgm_beneficiaries_search_key"

SQLITE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(search_key, content='beneficiaries', "
    "content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON beneficiaries BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_key) VALUES (new.id, new.search_key); END""",
    f"""CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON beneficiaries BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_key)
        VALUES ('delete', old.id, old.search_key); END""",
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF search_key ON beneficiaries BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_key)
        VALUES ('delete', old.id, old.search_key);
        INSERT INTO {FTS_TABLE}(rowid, search_key) VALUES (new.id, new.search_key); END""",
    # the rows already there (a migration on a filled database)
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{verb}"
               for verb in ("insert", "delete", "update")] + [f"DROP TABLE IF EXISTS {FTS_TABLE}"]

#: PostgreSQL: each person's key by their id, for the lists walked in their order that ask
#: each row whether its person matches (people_search.search_rows: a first page of a
#: frequent name). From the table, each row read a person's row (5.4 µs: « Garnier »,
#: contacts' page 1, 3 600 rows walked in 19 ms at a million people); from this index
#: alone, 9 ms (migration 0034).
KEY_BY_ID_INDEX = "search_beneficiaries_key_by_id"
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX {TRIGRAM_INDEX} ON beneficiaries USING gin (search_key gin_trgm_ops)",
    f"CREATE INDEX {KEY_BY_ID_INDEX} ON beneficiaries (id) INCLUDE (search_key)",
]
POSTGRESQL_DROP = [f"DROP INDEX IF EXISTS {name}" for name in (TRIGRAM_INDEX, KEY_BY_ID_INDEX)]


def is_search_object(name: str | None) -> bool:
    """True for the tables and indexes of this module (FTS5 keeps its own shadow tables,
    « beneficiary_search_data », « …_idx », « …_docsize », « …_config »)."""
    return bool(name) and (name in (TRIGRAM_INDEX, KEY_BY_ID_INDEX)
                           or name.startswith(FTS_TABLE))


def create(connection) -> bool:
    """Create the index on `connection` (SQLite or PostgreSQL) and fill it; False, with a
    warning, when the engine cannot have it (the search then reads the table)."""
    dialect = connection.dialect.name
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect)
    if statements is None:
        return False
    if dialect == "sqlite":
        if not _sqlite_has_trigram_fts(connection):
            log.warning("SQLite sans FTS5 ou trop ancien (trigrammes : 3.34) : la recherche "
                        "par nom lira toute la table.")
            return False
        for sql in statements:
            connection.execute(text(sql))
        return True
    if not connection.scalar(text(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        log.warning("Extension pg_trgm absente : la recherche par nom lira toute la table.")
        return False
    try:
        with connection.begin_nested():  # a refusal leaves the caller's transaction usable
            for sql in statements:
                connection.execute(text(sql))
    except Exception as exc:  # noqa: BLE001 — e.g. no right to create the extension
        log.warning("Index de recherche par nom non créé (%s) : la recherche lira toute la "
                    "table.", str(exc).splitlines()[0])
        return False
    return True


def _sqlite_has_trigram_fts(_connection=None) -> bool:
    """Whether this Python's SQLite library has FTS5 with the trigram tokenizer (3.34):
    a property of the library, the same for every database it opens."""
    return sqlite_library_has_trigrams()


@lru_cache(maxsize=1)
def sqlite_library_has_trigrams() -> bool:
    """Asked once per process, of an in-memory database (no query on the application's)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.Error:
        return False
    finally:
        connection.close()


def drop(connection) -> None:
    """Remove the index (migration downgrade, `drop_all`)."""
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(
        connection.dialect.name, [])
    for sql in statements:
        connection.execute(text(sql))


event.listen(Beneficiary.__table__, "after_create",
             lambda _table, connection, **_kw: create(connection))
event.listen(Beneficiary.__table__, "before_drop",
             lambda _table, connection, **_kw: drop(connection))
