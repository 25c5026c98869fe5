"""Benchmark of the audit row of a record view (issue 25 §3): does a person's page wait
behind a writer holding SQLite's write lock, and what does the spool cost a request?

- **record page, quiet**: ``/admin/beneficiaries/details/?id=…`` through the real WSGI app
  (test client logged in through the login form, CSRF on), ``--repeat`` times;
- **record page, a writer holding the lock 200 ms**: before each GET another connection
  starts ``BEGIN IMMEDIATE`` + an UPDATE and commits ``--hold`` ms later (a save, an
  import); the page's time is until the response is built (what the user waits for),
  the « close » time is what runs once it is sent (the spool's drain);
- **per request**: appending one entry to the spool (``write()``, then with ``fsync``)
  against writing it to the table in its own transaction (what a page did before).

Wall and CPU milliseconds (median, p95). Works on the code before the spool too (then
only the page figures): run it from a checkout of that commit for the « before ».

Usage::

    nice .venv/bin/python bench/audit_spool.py --beneficiaries 1000 --repeat 30
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import COORDINATOR, ensure_demo, logged_in_client, make_app, stats  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from backoffice import audit  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import Beneficiary, User  # noqa: E402

try:
    from backoffice.audit import spool
except ImportError:  # the code before issue 25 §3
    spool = None


def hold_lock(path: str, hold_s: float, held: threading.Event) -> None:
    """Another writer: the write lock for ``hold_s`` seconds."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE funders SET name = name")
    held.set()
    time.sleep(hold_s)
    connection.execute("COMMIT")
    connection.close()


def page(client, url: str, repeat: int, database: str | None, hold_s: float) -> dict:
    wall, cpu, close, close_cpu = [], [], [], []
    for _ in range(repeat):
        writer = None
        if database:
            held = threading.Event()
            writer = threading.Thread(target=hold_lock, args=(database, hold_s, held))
            writer.start()
            held.wait()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, buffered=False)  # as a server: built, sent, then closed
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        started, started_cpu = time.perf_counter(), time.process_time()
        response.close()
        close.append((time.perf_counter() - started) * 1000)
        close_cpu.append((time.process_time() - started_cpu) * 1000)
        if writer:
            writer.join()
    return {"wall": stats(wall), "cpu": stats(cpu), "close": stats(close),
            "close_cpu": stats(close_cpu)}


def per_request(app, repeat: int) -> dict[str, tuple[float, float]]:
    """Milliseconds (wall median, CPU median) of writing one entry, per way."""
    results = {}

    def timed(name: str, write) -> None:
        wall, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            write()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        results[name] = (stats(wall)[0], stats(cpu)[0])

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == COORDINATOR))
        actor = (user.id, user.email)  # not anonymous: no limit per address
    with app.test_request_context("/admin/beneficiaries/details/?id=1"):
        def to_table() -> None:
            with db.engine.begin() as connection:
                audit.record(connection, "view", "beneficiaries", 1, detail="banc d'essai",
                             actor=actor)

        timed("table (transaction à part, avant)", to_table)
        if spool is not None:
            def to_spool() -> None:
                spool.append(app, [{**audit.entry("view", "beneficiaries", 1,
                                                  detail="banc d'essai", actor=actor),
                                    "entry_key": spool.new_key()}])

            for fsync in ("0", "1"):
                app.config["AUDIT_SPOOL_FSYNC"] = fsync
                timed(f"fichier d'attente ({'write + fsync' if fsync == '1' else 'write'})",
                      to_spool)
            app.config["AUDIT_SPOOL_FSYNC"] = "auto"
            with app.app_context():
                spool.drain(app, wait=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--hold-ms", type=int, default=200)
    parser.add_argument("--database", default="/tmp/auditspool-bench-{n}.sqlite3")
    args = parser.parse_args()
    database = args.database.format(n=args.beneficiaries)
    app = make_app(f"sqlite:///{database}")
    ensure_demo(app, args.beneficiaries, lambda message: print(message, file=sys.stderr))
    with app.app_context():
        person = db.session.scalar(select(func.min(Beneficiary.id)))
    client = logged_in_client(app)
    url = f"/admin/beneficiaries/details/?id={person}"
    page(client, url, 3, None, 0)  # warm-up
    print(f"Fiche {url}, {args.repeat} requêtes ; ms (médiane / p95)")
    for label, locked in (("sans écrivain", None), (f"écrivain {args.hold_ms} ms", database)):
        figures = page(client, url, args.repeat, locked, args.hold_ms / 1000)
        print(f"- {label} : page {figures['wall'][0]:.1f} / {figures['wall'][1]:.1f} "
              f"(CPU {figures['cpu'][0]:.1f} / {figures['cpu'][1]:.1f}) ; "
              f"après l'envoi {figures['close'][0]:.1f} / {figures['close'][1]:.1f} "
              f"(CPU {figures['close_cpu'][0]:.1f} / {figures['close_cpu'][1]:.1f})")
    print("Écriture d'une entrée (ms, médiane mur / CPU) :")
    for name, (wall, cpu) in per_request(app, max(args.repeat, 200)).items():
        print(f"- {name} : {wall:.3f} / {cpu:.3f}")


if __name__ == "__main__":
    main()
