"""The audit trail: every insert, update and delete flushed through the ORM session is
written to `audit_entries` in the same transaction, with who did it and the fields
before/after. Admin forms, lifecycle actions and CLI commands are covered alike because
the hook sits on the session, not in each view.

Who the actor is comes from `actor_provider` (the app installs one reading the logged-in
user; the CLI gets « ligne de commande »). Free text that may hold health or social
details is recorded as « modifié », never copied (CNIL: minimise sensitive data).

Entries are never changed or deleted once written: the ORM refuses it
(`AuditTrailIsReadOnly`) except inside `purging()`, the retention purge of privacy.py.
Reads of personal records, exports and refusals are added by audit/access_log.py, through
a spool written before the response and drained into the table after it (audit/spool.py).
Entries written during a request keep the caller's address; those of anonymous callers
are limited per address and minute (`AUDIT_ANONYMOUS_PER_MINUTE`, issue 18 §8).
"""
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum

from flask import current_app, has_request_context
from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.base import NO_VALUE, PASSIVE_NO_INITIALIZE

from ..models import AuditEntry
from ..models._types import utcnow

# (table, column) whose content is never copied into the trail.
SENSITIVE_COLUMNS = frozenset({
    ("beneficiaries", "notes"),
    ("barriers", "notes"),
    ("contacts", "notes"),
    ("contacts", "objective"),
    ("enrolments", "difficulties"),
    ("enrolments", "recommendations"),
    ("enrolments", "no_internship_reason"),  # may give a health reason (001 stage)
    ("obligations", "late_reason"),  # why a deliverable was late (may be a health reason)
    ("referrals", "non_entry_notes"),
    ("referrals", "decision_reason"),
    ("suspensions", "notes"),
})
SECRET_COLUMNS = frozenset({("users", "password_hash")})
# login_attempts: the throttling counter; logins are recorded as « login » entries instead.
# referral_import_rows: an import's working copy of a file (issue 23); the import itself
# (referral_imports) and the people and referrals it writes are audited.
NOT_AUDITED_TABLES = frozenset({"audit_entries", "login_attempts", "referral_import_rows"})
# Bookkeeping columns whose change alone is not worth an entry (logout bumps the version).
# The search key repeats the names and the external id, audited themselves (issue 25 §2).
NOT_AUDITED_COLUMNS = frozenset({("users", "session_version"), ("beneficiaries", "search_key")})
HIDDEN = "modifié"


def _no_actor() -> tuple[int | None, str | None]:
    return None, "ligne de commande"


actor_provider: Callable[[], tuple[int | None, str | None]] = _no_actor


def _plain(value):
    """A JSON-safe copy of a column value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):  # a stored file (a document, a template): its size only
        return f"fichier de {len(value)} octets"
    return value


def _shown(table: str, column: str, value):
    if (table, column) in SECRET_COLUMNS:
        return "***" if value is not None else None
    if (table, column) in SENSITIVE_COLUMNS and value not in (None, ""):
        return HIDDEN
    return _plain(value)


def row_changes(obj, action: str, stored: dict | None = None) -> dict[str, list]:
    """{column: [before, after]} for the columns an insert, update or delete touches.

    `stored` holds values read from the database for columns changed while unloaded.
    """
    state = inspect(obj)
    table = obj.__table__.name
    stored = stored or {}
    changes: dict[str, list] = {}
    loaded = state.dict
    for attr in state.mapper.column_attrs:
        key = attr.key
        if (table, key) in NOT_AUDITED_COLUMNS:
            continue
        # what `state.attrs[key].history` / `.loaded_value` return, without building the
        # state of every attribute of the row first (a 5 000-row import writes 10 000)
        history = state.get_history(key, PASSIVE_NO_INITIALIZE)
        if action == "update":
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else stored.get(key)
            after = history.added[0] if history.added else None
            if before == after:
                continue
        else:
            current = loaded.get(key, NO_VALUE)
            if current is None or current is NO_VALUE:
                continue
            before, after = (None, current) if action == "create" else (current, None)
        changes[key] = [_shown(table, key, before), _shown(table, key, after)]
    return changes


def _before_flush(session: Session, _context, _instances) -> None:
    """Read the stored value of columns changed on an expired (unloaded) object."""
    stored_values = session.info.setdefault("audit_stored", {})
    for obj in session.dirty:
        state = inspect(obj)
        if state.key is None or getattr(obj, "__tablename__", None) in NOT_AUDITED_TABLES:
            continue
        unloaded = [
            attr for attr in state.mapper.column_attrs
            if state.attrs[attr.key].history.added and not state.attrs[attr.key].history.deleted
        ]
        if not unloaded:
            continue
        mapper = state.mapper
        where = [col == value for col, value in zip(mapper.primary_key, state.key[1], strict=True)]
        row = session.connection().execute(
            select(*[attr.columns[0] for attr in unloaded]).where(*where)
        ).first()
        if row is not None:
            stored_values[id(obj)] = dict(zip([a.key for a in unloaded], row, strict=True))


def _entries(session: Session) -> list[dict]:
    user_id, email = actor_provider()
    address = _request_address()
    now = utcnow()
    stored = session.info.pop("audit_stored", {})
    # Rows a system process derives (e.g. the deadline engine's obligations), not user edits.
    system_tables = session.info.get("audit_system_tables", ())
    rows = []
    for action, objects in (("create", session.new), ("update", session.dirty),
                            ("delete", session.deleted)):
        for obj in objects:
            table = getattr(obj, "__tablename__", None)
            if table is None or table in NOT_AUDITED_TABLES or table in system_tables:
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = row_changes(obj, action, stored.get(id(obj)))
            if action == "update" and not changes:
                continue
            primary_key = inspect(obj).mapper.primary_key_from_instance(obj)
            rows.append({
                "at": now, "user_id": user_id, "user_email": email, "action": action,
                "table_name": table, "row_id": primary_key[0] if len(primary_key) == 1 else None,
                "changes": changes, "address": address,
            })
    return rows


def _after_flush(session: Session, _context) -> None:
    rows = _entries(session)
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def entry(action: str, table: str | None = None, row_id: int | None = None,
          detail: str | None = None, changes: dict | None = None,
          actor: tuple[int | None, str | None] | None = None) -> dict:
    """An entry for something that is not a row change (login, refusal, export…), as a
    row of `audit_entries`: who, from where and when are read now, not when it is written
    (audit/spool.py writes the entries of a request after its response)."""
    user_id, email = actor or actor_provider()
    return {
        "at": utcnow(), "user_id": user_id, "user_email": email, "action": action,
        "table_name": table, "row_id": row_id, "changes": changes, "detail": detail,
        "address": _request_address(),
    }


def record(session: Session, action: str, table: str | None = None,
           row_id: int | None = None, detail: str | None = None,
           changes: dict | None = None,
           actor: tuple[int | None, str | None] | None = None) -> None:
    """Write an entry for something that is not a row change (login, refusal, export…).

    `session` may also be a Connection. `actor` overrides who acted (a login is recorded
    before the session knows the user).
    """
    row = entry(action, table, row_id, detail, changes, actor)
    if _limited(session, row):
        session.execute(insert(AuditEntry.__table__), [row])


def write_spooled(connection, rows: list[dict]) -> int:
    """Write entries taken from the spool (audit/spool.py), each once: an `entry_key`
    already in the table is skipped by its unique index (a spool drained twice), and the
    anonymous limit is applied as `record` does, at the time each entry was made.
    Returns the number of entries written."""
    unique = list({row["entry_key"]: row for row in rows}.values())
    statement = _SPOOLED_INSERT[connection.dialect.name]
    identified = [row for row in unique if row["user_id"] is not None or row["address"] is None]
    written = len(connection.execute(statement, identified).all()) if identified else 0
    for row in unique:  # anonymous ones in order: each counts those written before it
        if (row["user_id"] is None and row["address"] is not None
                and _limited(connection, row)):
            written += len(connection.execute(statement, [row]).all())
    return written


# Built once (compiled once, then from SQLAlchemy's cache): an insert that skips a key
# already written, returning the ids it wrote (a count both engines give, one row or many).
_SPOOLED_INSERT = {
    name: dialect.insert(AuditEntry.__table__)
    .on_conflict_do_nothing(index_elements=["entry_key"]).returning(AuditEntry.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _limited(session, row: dict) -> bool:
    """Whether to write `row`: always for a known user or the command line; for an
    anonymous caller under the limit, else changed into the one « audit_limited » entry
    (issue 18 §8) or dropped (False)."""
    if row["user_id"] is not None or row["address"] is None:
        return True
    action, detail = _anonymous_limit(session, row["address"], row["action"], row["detail"],
                                      row["at"])
    if action is None:
        return False
    row.update(action=action, detail=detail)
    return True


def _request_address() -> str | None:
    """The caller's address during a request (None from the command line)."""
    if not has_request_context():
        return None
    from ..security import client_address  # security.py imports the models, not this

    return client_address()


def _anonymous_limit(session, address: str, action: str, detail: str | None,
                     at: datetime):
    """(action, detail) to write for an anonymous caller: as asked under the limit, one
    « audit_limited » entry when it is reached, (None, None) beyond (not written).
    Counted over the minute before `at`, when the entry was made."""
    limit = current_app.config.get("AUDIT_ANONYMOUS_PER_MINUTE", 20)
    recent = session.scalar(
        select(func.count()).select_from(AuditEntry.__table__).where(
            AuditEntry.address == address, AuditEntry.user_id.is_(None),
            AuditEntry.at >= at - timedelta(minutes=1), AuditEntry.at <= at)
    )
    if recent < limit:
        return action, detail
    if recent == limit:
        current_app.logger.warning("Entrées d'audit anonymes limitées pour %s", address)
        return "audit_limited", (f"Plus de {limit} entrées anonymes en une minute depuis "
                                 f"{address} : les suivantes ne sont pas écrites")
    return None, None


class AuditTrailIsReadOnly(RuntimeError):
    """An audit entry was about to be changed or deleted outside the retention purge."""


@contextmanager
def purging(session: Session) -> Iterator[None]:
    """The one place allowed to delete audit entries: the retention purge (privacy.py)."""
    session.info["audit_purge"] = True
    try:
        yield
    finally:
        session.info.pop("audit_purge", None)


def _refuse_row_change(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is None or not session.info.get("audit_purge"):
        raise AuditTrailIsReadOnly("Le journal d'audit ne peut être ni modifié ni supprimé.")


def _refuse_bulk_change(state) -> None:
    """`update(AuditEntry)` / `delete(AuditEntry)` through the ORM bypass the mapper events."""
    if not (state.is_update or state.is_delete) or state.session.info.get("audit_purge"):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) == AuditEntry.__tablename__:
        raise AuditTrailIsReadOnly("Le journal d'audit ne peut être ni modifié ni supprimé.")


def install() -> None:
    """Listen to every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _refuse_bulk_change)
        event.listen(AuditEntry, "before_update", _refuse_row_change)
        event.listen(AuditEntry, "before_delete", _refuse_row_change)
