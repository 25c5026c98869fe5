"""The app factory, settings from the environment, and SQLite / PostgreSQL connection
settings."""
import pytest
from sqlalchemy import text

from backoffice import SQLITE_MMAP_BYTES, create_app
from backoffice.config import normalise_database_url
from backoffice.extensions import db


def test_testing_config(app):
    assert app.testing
    assert app.config["BABEL_DEFAULT_LOCALE"] == "fr"


def test_factory_can_run_twice(tmp_path):
    """Two apps in one process (the admin is created inside the factory)."""
    for name in ("a", "b"):
        app = create_app({"TESTING": True,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}.db"})
        assert "admin" in app.blueprints


def test_database_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PARCOURS_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.setenv("PARCOURS_ENV", "development")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and "/instance/" in uri


@pytest.mark.parametrize("env", ["production", "staging"])
def test_refuses_to_start_without_secret_key_outside_development(monkeypatch, env):
    monkeypatch.setenv("PARCOURS_ENV", env)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_uses_given_secret_and_secure_cookie(monkeypatch):
    monkeypatch.setenv("PARCOURS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-long-production-secret"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalise_database_url(given, expected):
    assert normalise_database_url(given) == expected


def test_sqlite_pragmas(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite connection settings")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert conn.execute(text("PRAGMA mmap_size")).scalar() == SQLITE_MMAP_BYTES


def _postgres_only(app) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL connection settings")


def test_postgres_connections_cost_random_reads_as_on_ssd(app):
    """Each connection tells the planner a random read costs 1.1, not the default 4."""
    _postgres_only(app)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SHOW random_page_cost")).scalar() == "1.1"
        conn.rollback()  # the setting outlives the transaction: it is the session's
        assert conn.execute(text("SHOW random_page_cost")).scalar() == "1.1"


def test_postgres_random_page_cost_left_to_the_server_when_empty(app, monkeypatch):
    _postgres_only(app)
    monkeypatch.setenv("POSTGRES_RANDOM_PAGE_COST", "")
    other = create_app({"TESTING": True,
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    with other.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SHOW random_page_cost")).scalar() == "4"
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("value", ["quatre", "0", "-1"])
def test_random_page_cost_must_be_a_positive_number(monkeypatch, value):
    monkeypatch.setenv("PARCOURS_ENV", "development")
    monkeypatch.setenv("POSTGRES_RANDOM_PAGE_COST", value)
    with pytest.raises(RuntimeError, match="POSTGRES_RANDOM_PAGE_COST doit être un nombre"):
        create_app()


def test_random_page_cost_from_environment(monkeypatch):
    monkeypatch.setenv("PARCOURS_ENV", "development")
    monkeypatch.setenv("POSTGRES_RANDOM_PAGE_COST", "2")
    assert create_app().config["POSTGRES_RANDOM_PAGE_COST"] == "2"
    monkeypatch.delenv("POSTGRES_RANDOM_PAGE_COST")
    assert create_app().config["POSTGRES_RANDOM_PAGE_COST"] == "1.1"


def test_root_redirects_to_admin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")
