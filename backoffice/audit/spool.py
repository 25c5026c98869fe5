"""The audit spool: a request's « view » / « export » / « refused » entries are made safe on
local disk before its response leaves, and reach `audit_entries` after it (issue 25 §3).

Why: on SQLite every write, the audit row of a record view included, waits for the one
write lock; a person's page read while an import or a save holds it waited with it. The
page now waits for an append to a local file only; the database write happens once the
response is sent (Werkzeug's `call_on_close`, run by the WSGI server after the last byte;
Flask's `after_this_request` and `teardown_request` run before the body leaves).

What is kept (issue 6 §1): nothing personal is shown unrecorded. The entry is complete
(key, time, who, address, what) and on disk before the page leaves; if it cannot be
appended, the request answers 503 as before (audit/access_log.py). An entry then reaches
the table exactly once: each carries a unique `entry_key` (a unique index of
`audit_entries`), the drain skips the keys already written, and it removes what it wrote
only after its transaction is committed. A crash at any point leaves the entries on disk;
the next drain of any process (every request that records something drains) or
`flask audit flush` writes them. Not at the app's start: `flask db upgrade` builds the app
before the key's column exists (a drain that fails leaves the entries where they are).

Files, in one folder per database (`AUDIT_SPOOL_DIR`; by default beside a SQLite file,
`<base>.audit-spool`, else `instance/audit-spool/<base>-<hash of the address>`; a
temporary folder of the app for an in-memory SQLite), owner-only (they hold what `detail`
holds):
- `entries.jsonl`: one JSON object a line, appended under `append.lock` (flock).
- `batch-*.jsonl`: what a drain took. The drain holds `drain.lock` (flock, one drainer per
  folder across threads and processes), renames `entries.jsonl` to a batch under
  `append.lock` (appenders wait microseconds, never for the database), writes every batch
  in one transaction, then deletes them. A batch left by a crash is written by the next
  drain; a line that cannot be read is kept in `rejected.jsonl` and logged.
- A drain finding `drain.lock` taken does not wait: the drainer, once it has released the
  lock, looks at the folder again and drains what arrived meanwhile, so no entry is left
  behind by two drains crossing (up to `MAX_ROUNDS` rounds: under a steady flow of
  entries, the next request's drain takes the rest).

Durability: the append is a `write()` to the system (it survives the process; measured
≈ 60 µs a request). `os.fsync` (≈ 2.5 ms on this machine, docs/benchmarks.md) also
survives a power cut; `AUDIT_SPOOL_FSYNC=auto` (default) does it on PostgreSQL, whose
commit fsyncs, and not on SQLite, whose commit does not (WAL with synchronous=NORMAL,
backoffice/__init__.py): the entry is as safe in the spool as it was in the table.
"""
import fcntl
import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from .. import audit
from ..extensions import db

SPOOL = "entries.jsonl"
APPEND_LOCK = "append.lock"
DRAIN_LOCK = "drain.lock"
BATCH_GLOB = "batch-*.jsonl"
REJECTED = "rejected.jsonl"
#: Drains in a row by one caller while entries keep arriving (the others' turn after).
MAX_ROUNDS = 5


def folder(app: Flask) -> Path:
    """The spool folder of `app`'s database."""
    configured = app.config.get("AUDIT_SPOOL_DIR")
    if configured:
        return Path(configured)
    known = app.extensions.setdefault("parcours_audit_spool", {})
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url not in known:
        known[url] = _default_folder(app, url)
    return known[url]


def _default_folder(app: Flask, address: str) -> Path:
    """Beside a SQLite file; else under the instance folder, named after the database."""
    url = make_url(address)
    database = url.database or ""
    if url.get_backend_name() == "sqlite":
        if database in ("", ":memory:") or database.startswith("file:"):
            # a database of this process only (tests): a spool of this app only
            return Path(tempfile.mkdtemp(prefix="parcours-audit-spool-"))
        return Path(database + ".audit-spool")
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()
    name = Path(database).name or "memoire"
    return Path(app.instance_path) / "audit-spool" / f"{name}-{digest[:12]}"


def _fsync(app: Flask) -> bool:
    setting = str(app.config.get("AUDIT_SPOOL_FSYNC", "auto")).strip().lower()
    if setting == "auto":
        return not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    return setting in ("1", "true", "oui", "yes")


@contextmanager
def _locked(path: Path, blocking: bool = True) -> Iterator[bool]:
    """An exclusive flock on `path` (each call opens the file: threads of one process
    exclude each other as processes do); yields False if not blocking and taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def new_key() -> str:
    return str(uuid.uuid4())


def append(app: Flask, rows: list[dict]) -> None:
    """Append entries (rows of `audit_entries` with an `entry_key`) to the spool; raises
    if they are not all written (a partial line is cut off again)."""
    path = folder(app)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = "".join(json.dumps({**row, "at": row["at"].isoformat()}, ensure_ascii=False) + "\n"
                   for row in rows).encode()
    with _locked(path / APPEND_LOCK):
        fd = os.open(path / SPOOL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            start = os.fstat(fd).st_size
            try:
                if os.write(fd, data) != len(data):
                    raise OSError("écriture partielle du fichier d'attente d'audit")
                if _fsync(app):
                    os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, start)  # no half line before the next entry
                raise
        finally:
            os.close(fd)


def pending(app: Flask) -> bool:
    """Whether entries wait in the spool (appended or taken by an unfinished drain)."""
    path = folder(app)
    try:
        if (path / SPOOL).stat().st_size > 0:
            return True
    except FileNotFoundError:
        pass
    return path.is_dir() and any(path.glob(BATCH_GLOB))


def _read(batch: Path, rejected: list[str]) -> list[dict]:
    rows = []
    for line in batch.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row["at"] = datetime.fromisoformat(row["at"])
            rows.append(row)
        except (ValueError, KeyError, TypeError):
            rejected.append(line)
    return rows


def _drain_once(app: Flask, path: Path) -> int:
    """Take the spool and write every batch (drain lock held)."""
    with _locked(path / APPEND_LOCK):
        spool = path / SPOOL
        if spool.exists() and spool.stat().st_size > 0:
            spool.rename(path / f"batch-{datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex}.jsonl")
    batches = sorted(path.glob(BATCH_GLOB), key=lambda batch: batch.stat().st_mtime)
    if not batches:
        return 0
    rejected: list[str] = []
    rows = [row for batch in batches for row in _read(batch, rejected)]
    with db.engine.begin() as connection:
        written = audit.write_spooled(connection, rows)
    if rejected:
        fd = os.open(path / REJECTED, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as kept:
            kept.write("".join(line + "\n" for line in rejected))
        app.logger.error("%d ligne(s) illisible(s) du fichier d'attente d'audit, gardées "
                         "dans %s", len(rejected), path / REJECTED)
    for batch in batches:
        batch.unlink()
    return written


def drain(app: Flask, wait: bool = False) -> int:
    """Write the spooled entries into `audit_entries` (an app context is needed); returns
    how many were written. Without `wait`, gives way to a drain already running (it takes
    what this caller appended, see the module's docstring)."""
    path = folder(app)
    written = 0
    for _ in range(MAX_ROUNDS):
        if not pending(app):
            break
        with _locked(path / DRAIN_LOCK, blocking=wait) as held:
            if not held:
                break
            written += _drain_once(app, path)
    return written


def drainer(app: Flask):
    """What the response runs once it is sent: the drain, its failure logged (the entries
    stay in the spool for the next drain)."""

    def run() -> None:
        with app.app_context():
            try:
                drain(app)
            except Exception:
                app.logger.exception("Entrées d'audit gardées en attente (écriture "
                                     "différée en échec) : %s", folder(app))

    return run
