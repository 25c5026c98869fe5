"""`flask db upgrade` on an empty database yields exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from backoffice import create_app
from backoffice.extensions import db
from backoffice.models.search_index import is_search_object
from tests.conftest import _database_url


def _fresh_app(tmp_path):
    """An app on an EMPTY database of the engine under test (SQLite file or PostgreSQL)."""
    url = _database_url(tmp_path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    if url.startswith("postgres"):
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return app


def test_upgrade_matches_models(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                # the name search's index: engine-specific DDL outside the metadata
                "include_name": lambda name, _kind, _parents: not is_search_object(name),
            })
            differences = compare_metadata(context, db.metadata)
        assert differences == []


def test_upgrade_creates_every_table_and_downgrade_removes_them(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        downgrade(revision="base")
        db.engine.dispose()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
