"""Settings read from the environment.

`DATABASE_URL` chooses the database (default: a SQLite file under `instance/`);
`SECRET_KEY` signs sessions and CSRF tokens and is required outside development and tests.
"""
import os
from pathlib import Path

DEV_SECRET = "dev-only-not-secret"


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` forms and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


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
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # HTTPS-only cookie in production; SESSION_COOKIE_SECURE=0 for plain-HTTP loopback
        # tests of a production-like server (tests/e2e).
        "SESSION_COOKIE_SECURE": os.environ.get(
            "SESSION_COOKIE_SECURE", "1" if env == "production" else "0"
        ) == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "FLASK_ADMIN_SWATCH": "default",
        "ADMIN_PAGE_SIZE": 20,
    }
