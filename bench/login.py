"""Measures of the login page (issue 18 §7), through the whole app (test client, CSRF off):

- **timing**: median time of a refused login for an unknown account and for a known
  account with a wrong password (its password hashed as production does, scrypt); the two
  must be the same, or the time tells which e-mails have an account;
- **race**: N clients post a wrong password for the same account at the same moment
  (threads sharing one app, as a threaded or multi-worker server does); how many tries got
  past the throttle and had their password checked, against the limit per account.

Usage::

    .venv/bin/python bench/login.py [--tries 20] [--clients 40] [--limit 5]
    PGPORT=55444 bash .ci/postgres.sh .venv/bin/python bench/login.py --db env

Prints the figures to stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from backoffice import create_app  # noqa: E402
from backoffice.config import normalise_database_url  # noqa: E402
from backoffice.enums import Role  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import AuditEntry, User  # noqa: E402

EMAIL = "compte@exemple.fr"
PASSWORD = "une phrase de passe correcte"


def make_app(url: str, limit: int):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "LOGIN_MAX_FAILURES_PER_ACCOUNT": limit,
                      "LOGIN_MAX_FAILURES_PER_ADDRESS": 10_000})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
        user = User(email=EMAIL, name="Compte", role=Role.COORDINATOR)
        user.set_password(PASSWORD)  # scrypt, as `flask users create` and the admin form
        db.session.add(user)
        db.session.commit()
    return app


def timing(app, tries: int) -> dict[str, float]:
    """Median milliseconds of a refused login, unknown account vs wrong password (the two
    kinds alternate, so that the machine's load weighs on both alike)."""
    client = app.test_client()
    kinds = (("compte inconnu", "personne@exemple.fr"), ("mauvais mot de passe", EMAIL))
    durations: dict[str, list[float]] = {label: [] for label, _email in kinds}
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 10_000
    for index in range(tries + 1):
        for label, email in kinds:
            started = time.perf_counter()
            response = client.post("/login", data={"email": email, "password": f"faux-{index}"},
                                   environ_base={"REMOTE_ADDR": f"10.1.{index}.1"})
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            if index:  # the first round warms the caches
                durations[label].append(elapsed * 1000)
    return {label: statistics.median(values) for label, values in durations.items()}


def race(app, clients: int, limit: int) -> dict[str, int]:
    """`clients` wrong passwords for one account at once: how many were checked."""
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = limit
    with app.app_context():
        db.session.execute(text("DELETE FROM login_attempts"))
        db.session.commit()
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    errors: list[str] = []

    def run(index: int) -> None:
        client = app.test_client()
        try:
            barrier.wait()
            response = client.post("/login", data={"email": EMAIL, "password": f"x{index}"},
                                   environ_base={"REMOTE_ADDR": f"10.2.{index}.1"})
            statuses.append(response.status_code)
        except Exception as error:  # noqa: BLE001  (reported)
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        failed = db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "login_failed"))
    return {"checked (200)": statuses.count(200), "throttled (429)": statuses.count(429),
            "other": len(statuses) - statuses.count(200) - statuses.count(429),
            "errors": len(errors), "login_failed audited": failed or 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = (normalise_database_url(os.environ["DATABASE_URL"]) if args.db == "env"
               else f"sqlite:///{folder}/login.sqlite3")
        app = make_app(url, args.limit)
        for label, median in timing(app, args.tries).items():
            print(f"{label}: médiane {median:.1f} ms sur {args.tries} essais")
        outcome = race(app, args.clients, args.limit)
        print(f"{args.clients} essais simultanés, limite {args.limit} : {outcome}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
