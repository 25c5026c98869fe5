"""Settings read from the environment.

`DATABASE_URL` chooses the database (default: a SQLite file under `instance/`);
`SECRET_KEY` signs sessions and CSRF tokens and is required outside development and tests.
"""
import os
from datetime import timedelta
from pathlib import Path

DEV_SECRET = "dev-only-not-secret"


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` forms and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _int_env(name: str, default: int) -> int:
    """An integer setting from the environment (a clear error if it is not a number)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as err:
        raise RuntimeError(f"{name} doit être un nombre entier (reçu : {value!r}).") from err


def _cost_env(name: str, default: str) -> str:
    """A planner cost from the environment: a positive number, or empty for the server's."""
    value = os.environ.get(name, default).strip()
    if value:
        try:
            if float(value) <= 0:
                raise ValueError
        except ValueError as err:
            raise RuntimeError(
                f"{name} doit être un nombre positif, ou vide pour garder la valeur du "
                f"serveur (reçu : {value!r})."
            ) from err
    return value


def settings_from_environment(instance_path: str) -> dict:
    """Build the Flask configuration from environment variables."""
    env = os.environ.get("PARCOURS_ENV", os.environ.get("FLASK_ENV", "production"))
    default_db = "sqlite:///" + str(Path(instance_path) / "parcours.sqlite3")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": (
            os.environ.get("SECRET_KEY") or (DEV_SECRET if env == "development" else None)
        ),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL", default_db)
        ),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # PostgreSQL: what the planner takes a random page read to cost, set on each
        # connection (backoffice/__init__.py, _postgres_settings); "" keeps the server's.
        "POSTGRES_RANDOM_PAGE_COST": _cost_env("POSTGRES_RANDOM_PAGE_COST", "1.1"),
        "BABEL_DEFAULT_LOCALE": "fr",
        # Times shown to users (e.g. « modifié par X à HH:MM »); stored times are UTC.
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("DISPLAY_TIMEZONE", "Europe/Paris"),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # HTTPS-only cookie in production; SESSION_COOKIE_SECURE=0 for plain-HTTP loopback
        # tests of a production-like server (tests/e2e).
        "SESSION_COOKIE_SECURE": os.environ.get(
            "SESSION_COOKIE_SECURE", "1" if env == "production" else "0"
        ) == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": env == "production",
        # Sessions (security.py): 30 min without activity, 12 h at most after the login.
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=_int_env("SESSION_IDLE_MINUTES", 30)),
        "SESSION_ABSOLUTE_LIFETIME": timedelta(hours=_int_env("SESSION_MAX_HOURS", 12)),
        # Failed logins allowed in the window before HTTP 429 (per account / per address).
        "LOGIN_THROTTLE_WINDOW": timedelta(minutes=_int_env("LOGIN_THROTTLE_MINUTES", 15)),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int_env("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int_env("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        # Number of reverse proxies in front of gunicorn (their X-Forwarded-For is trusted).
        "PROXY_FIX_HOPS": _int_env("PROXY_FIX_HOPS", 0),
        # Retention (privacy.py, README « Données personnelles »): CNIL social-support
        # reference: 2 years after the last exit or contact; audit log: 12 months.
        "PRIVACY_RETENTION_MONTHS": _int_env("PRIVACY_RETENTION_MONTHS", 24),
        "AUDIT_RETENTION_MONTHS": _int_env("AUDIT_RETENTION_MONTHS", 12),
        # Entries of anonymous callers (CSRF refusals, failed or blocked logins) written per
        # address and minute; beyond, one entry says so and the rest are not written
        # (issue 18 §8: nobody can flood the audit table without logging in).
        "AUDIT_ANONYMOUS_PER_MINUTE": _int_env("AUDIT_ANONYMOUS_PER_MINUTE", 20),
        # The audit spool (audit/spool.py, issue 25 §3): the folder where a request's read,
        # export and refusal entries wait for the table (empty: beside the SQLite file, or
        # under instance/audit-spool/), and whether each append is fsynced ("auto": on
        # PostgreSQL, whose commits are; "1" always; "0" never).
        "AUDIT_SPOOL_DIR": os.environ.get("AUDIT_SPOOL_DIR", "").strip() or None,
        "AUDIT_SPOOL_FSYNC": os.environ.get("AUDIT_SPOOL_FSYNC", "auto").strip() or "auto",
        "FLASK_ADMIN_SWATCH": "default",
        "ADMIN_PAGE_SIZE": 20,
    }
