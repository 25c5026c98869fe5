"""Shared fixtures: an app on a fresh database per test, a client, and logins per role.

`DATABASE_URL` chooses the engine the integration tests run on: a SQLite file per test by
default; when it points to PostgreSQL, each test gets an empty schema.

The suite runs in parallel (pytest-xdist, `make test`): SQLite files live in each test's own
folder; on PostgreSQL each worker has its own database in the one server (`parcours_gw0`,
`parcours_gw1`… created on first use), so no two tests share tables.
"""
import atexit
import html
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from backoffice import create_app
from backoffice.config import normalise_database_url
from backoffice.enums import Role
from backoffice.extensions import db
from backoffice.models import User

PASSWORD = "motdepasse-de-test-123"
# One cheap hash computed once: tests log in thousands of times; scrypt is tested apart.
FAST_HASH = generate_password_hash(PASSWORD, "pbkdf2:sha256:1")




class ClosingClient(FlaskClient):
    """The test client, closing each response as a WSGI server does once it is sent: what
    a response runs on close (the audit spool's drain, audit/spool.py) has run when
    `client.get` returns. `buffered=False` keeps a response open (test_audit.py)."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


Flask.test_client_class = ClosingClient

_WORKER_DATABASES: dict[str, str] = {}


def _worker_database(url: str) -> str:
    """Under pytest-xdist, this worker's own database in the server of `url` (created once,
    emptied by each test as usual); the database of `url` itself when tests run serially."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    if url not in _WORKER_DATABASES:
        parsed = make_url(normalise_database_url(url))
        name = f"{parsed.database}_{worker}"
        server = create_engine(parsed, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                               {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        _WORKER_DATABASES[url] = parsed.set(database=name).render_as_string(
            hide_password=False)
    return _WORKER_DATABASES[url]


def _database_url(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url and url.startswith("postgres"):
        return _worker_database(url)
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


_SQLITE_SCHEMA: Path | None = None


def _sqlite_with_schema(path: Path) -> None:
    """Put the models' schema in the SQLite file `path`: `create_all` once per process
    into a template file, then a file copy for each test (the same bytes, ten times
    faster than creating 40 tables and their indexes again)."""
    global _SQLITE_SCHEMA
    if _SQLITE_SCHEMA is None:
        folder = Path(tempfile.mkdtemp(prefix="parcours-schema-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "schema.sqlite3"
        engine = create_engine(f"sqlite:///{template}")
        db.metadata.create_all(engine)
        engine.dispose()
        _SQLITE_SCHEMA = template
    shutil.copyfile(_SQLITE_SCHEMA, path)


def _empty_postgres_database() -> None:
    """Empty every table (fast); rebuild the schema when a test changed it."""
    tables = ", ".join(f'"{name}"' for name in db.metadata.tables)
    try:
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    except Exception:  # a table is missing (e.g. after a migration downgrade test)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()


def empty_app(folder):
    """An application on an empty database (a SQLite file in `folder`, or the PostgreSQL
    of DATABASE_URL) holding the models' schema, CSRF off as in every test."""
    url = _database_url(folder)
    settings = {
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
        # the test's own audit spool (audit/spool.py): not shared by tests on one database
        "AUDIT_SPOOL_DIR": str(Path(folder) / "audit-spool"),
    }
    if url.startswith("postgres"):
        # A connection left open in a transaction fails the waiting test, never hangs CI.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": "-c lock_timeout=20000"}}
    if url.startswith("sqlite"):
        _sqlite_with_schema(Path(make_url(url).database))
    app = create_app(settings)
    if url.startswith("postgres"):
        with app.app_context():
            _empty_postgres_database()
    return app


@pytest.fixture
def app(tmp_path):
    """An application on an empty database holding the models' schema."""
    app = empty_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def reference_app(app):
    """The app with the reference data of seeds/ loaded."""
    from backoffice.seeding.reference import load_reference

    with app.app_context():
        load_reference(db.session)
        db.session.commit()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(role: Role, email: str | None = None, name: str | None = None) -> User:
    """Add a staff account of `role` (password PASSWORD) to the session and flush it."""
    user = User(email=email or f"{role.value}@exemple.fr", name=name or f"Test {role.label}",
                role=role)
    user.password_hash = FAST_HASH
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def users(app):
    """One account per role, keyed by role value."""
    with app.app_context():
        created = {role.value: make_user(role) for role in Role}
        db.session.commit()
        return {role: user.id for role, user in created.items()}


def hidden_value(page: str, name: str) -> str:
    """The value of the page's hidden input `name` ("" when the page has none)."""
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"',
                      page)
    return html.unescape(match.group(1) or match.group(2) or "") if match else ""


def version_in_page(page: str) -> str:
    """The version an edit page hands its form (hidden field `version_seen`)."""
    return hidden_value(page, "version_seen")


def version_seen(client, url: str) -> str:
    """What a browser posts back with a save: the version its edit page loaded (a save
    without it is refused, admin/concurrency.py)."""
    return version_in_page(client.get(url).get_data(as_text=True))


def post_edit(client, url: str, data: dict, **options):
    """Save an edit form as a browser does: with the version its page loaded."""
    return client.post(url, data={**data, "version_seen": version_seen(client, url)},
                       **options)


def post_action(client, url: str, data: dict, **options):
    """Post a lifecycle action's page as a browser does: with the versions of the records
    its page showed (admin/lifecycle.py; the exit type chosen at the first step of
    « Clôturer » is part of the page's address)."""
    page_url = url + (f"&exit_type={data['exit_type']}" if "exit_type" in data else "")
    seen = hidden_value(client.get(page_url).get_data(as_text=True), "versions_seen")
    return client.post(url, data={**data, "versions_seen": seen}, **options)


class AuthActions:
    """Log in and out through the real login form (CSRF disabled in tests by default)."""

    def __init__(self, client):
        self._client = client

    def login(self, role: str = "admin", password: str = PASSWORD):
        email = role if "@" in role else f"{role}@exemple.fr"
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client, users):
    return AuthActions(client)
