"""Issue 6 §8: several processes and threads write to the same SQLite database at once
(WAL, busy timeout: backoffice/__init__.py) — no « database is locked », no lost row, and
every row has its audit entry."""
import multiprocessing
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from backoffice import create_app
from backoffice.enums import Sex
from backoffice.extensions import db
from backoffice.models import AuditEntry, Beneficiary

ROWS_PER_WORKER = 30


def write_people(url: str, worker: int) -> list[str]:
    """A process of its own: its own app on the shared database file."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    errors = write_with(app, worker)
    with app.app_context():
        db.engine.dispose()
    return errors


def write_with(app, worker: int, rows: int = ROWS_PER_WORKER) -> list[str]:
    """Insert `rows` people, one transaction each, then update each once; return errors."""
    errors = []
    with app.app_context():
        ids = []
        for index in range(rows):
            try:
                person = Beneficiary(last_name=f"Travailleur{worker}", first_name=f"N{index}",
                                     birth_date=date(1990, 1, 1), sex=Sex.FEMALE)
                db.session.add(person)
                db.session.commit()
                ids.append(person.id)
            except Exception as error:  # noqa: BLE001  (reported by the test)
                db.session.rollback()
                errors.append(repr(error))
        for person_id in ids:
            try:
                db.session.get(Beneficiary, person_id).commune = f"Commune {worker}"
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                db.session.rollback()
                errors.append(repr(error))
        db.session.remove()
    return errors


def _check(app, workers: int) -> None:
    with app.app_context():
        people = db.session.scalar(select(func.count(Beneficiary.id)))
        updated = db.session.scalar(select(func.count(Beneficiary.id)).where(
            Beneficiary.commune.is_not(None), Beneficiary.version == 2))
        created = db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.table_name == "beneficiaries", AuditEntry.action == "create"))
    assert people == updated == created == workers * ROWS_PER_WORKER


@pytest.fixture
def sqlite_url(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite concurrency (PostgreSQL has its own row locks)")
    return url


def test_concurrent_processes_lose_nothing(app, sqlite_url):
    workers = 4
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        results = pool.starmap(write_people, [(sqlite_url, w) for w in range(workers)])
    errors = [error for result in results for error in result]
    assert errors == []
    _check(app, workers)


def test_concurrent_threads_lose_nothing(app, sqlite_url):
    """One app served by several threads, as a threaded WSGI server does. The app is built
    before the threads start: building Flask apps in parallel threads trips a CPython 3.11
    bug in `ast` (« AST constructor recursion depth mismatch », python/cpython#106905) when
    Werkzeug compiles the URL rules."""
    workers = 6
    errors: list[str] = []
    shared = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlite_url,
                         "SECRET_KEY": "test"})

    def run(worker):
        try:
            errors.extend(write_with(shared, worker))
        except Exception as error:  # noqa: BLE001  (a dead thread must fail the test)
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with shared.app_context():
        db.engine.dispose()
    assert not any("locked" in error for error in errors), errors
    assert errors == []
    _check(app, workers)
