"""Parcours: back-office of insertion paths (DEL province Sud, France Travail, PLIE)."""
import sqlite3
from pathlib import Path

from flask import Flask, g, has_request_context, redirect, url_for
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import settings_from_environment
from .extensions import babel, csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


#: SQLite reads the database file through a memory map of up to this many bytes instead of
#: copying each page into its own cache of 2 MiB per connection. The pages are the system's
#: file cache, shared by every connection and worker, so a report or a search that walks
#: tens of MiB of a large database no longer re-reads them with a system call each: at
#: 100 000 people the CSP monthly table's statements take 25 % less time
#: (docs/benchmarks.md). Pages past this size are read as before.
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: enforce foreign keys, write-ahead log, wait for locks instead of failing,
    read through a shared memory map."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()


def _postgres_settings(random_page_cost: str):
    """A ``connect`` listener: the planner settings of each new PostgreSQL connection.

    PostgreSQL's default ``random_page_cost`` (4) is made for spinning disks: at 100 000
    people it hashes every contact of a period and scans every beneficiary rather than
    follow the indexes of the 2 325 paths of a PLIE interim report. 1.1 is the usual value
    for a database held in memory or on SSD; the report's statements take 144 → 80 ms
    (docs/benchmarks.md). It is a session setting, so no server access is needed.
    """

    def on_connect(dbapi_connection, _record) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside any transaction: it lasts
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET random_page_cost = {float(random_page_cost)}")
        finally:
            dbapi_connection.autocommit = autocommit

    return on_connect


def _current_actor() -> tuple[int | None, str | None]:
    """Who is acting, for the audit trail: the logged-in user, else the CLI."""
    if not has_request_context():
        return None, "ligne de commande"
    user = g.get("_login_user")  # set by Flask-Login once the request has loaded the user
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.email
    return None, "anonyme"


def create_app(config_overrides: dict | None = None) -> Flask:
    """Build the application: settings, extensions, French locale, login, admin, CLI."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings_from_environment(app.instance_path))
    app.config.update(config_overrides or {})
    if app.config.get("TESTING"):
        app.config["ENV_NAME"] = "testing"
        app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or "testing-only"
    if not app.config["SECRET_KEY"]:
        raise RuntimeError(
            "SECRET_KEY manquante : définissez la variable d'environnement SECRET_KEY "
            "(ou PARCOURS_ENV=development pour un poste de développement)."
        )

    # Each connection taken from the pool is tested first (a cheap round trip) and
    # replaced if the server closed it: no error page after a PostgreSQL restart.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": True, **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}
    db.init_app(app)
    if app.config.get("POSTGRES_RANDOM_PAGE_COST"):
        with app.app_context():
            engine = db.engine
        if engine.dialect.name == "postgresql":
            event.listen(
                engine, "connect", _postgres_settings(app.config["POSTGRES_RANDOM_PAGE_COST"])
            )
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "fr")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"

    from . import audit, models, obligation_sync, value_ranges  # noqa: F401  (the tables)

    audit.actor_provider = _current_actor
    audit.install()
    value_ranges.install()  # numbers out of range: a French message naming the field
    obligation_sync.install()
    from . import errors, redirects, security
    from .audit import access_log
    from .auth import bp as auth_bp

    security.init_app(app)  # headers, session lifetime, proxy (issue 6 §3-4)
    errors.init_app(app)  # NUL characters refused, French 500 page (issue 18 §4)
    redirects.init_app(app)  # no redirect to another site (issue 18 §6)
    access_log.init_app(app)  # audit of record views, exports, refusals (issue 6 §1)
    app.register_blueprint(auth_bp)

    from .admin import init_admin

    init_admin(app)

    from .commands import init_app as init_cli

    init_cli(app)

    @app.route("/")
    def index():
        return redirect(url_for("admin.index"))

    return app
