"""Benchmark of the person's page (issue 20 « Speed »): at 100 000 beneficiaries, the page
of a person whose path has 30 contacts — under 100 ms median, and a constant number of
SQL statements whatever the length of the story.

- **the long story**: the demo's path with the most contacts (ties: the smallest id),
  brought to ``--contacts`` contacts (30) when it has fewer — the missing ones are copied
  from its first contact (type, staff member) one day apart, written below the ORM (no
  audit entry, no deadline engine) and deleted when the bench ends;
- **the short story**: a path of the demo with exactly 3 contacts;
- each person's page (``/admin/beneficiaries/details/?id=…``) and path's page
  (``/admin/enrolments/details/?id=…``) is requested through the real WSGI app (Flask's
  test client logged in as the demo coordinator through the login form, CSRF on)
  ``--repeat`` times after a warm-up: median and p95 of wall-clock and of this process's
  CPU time (the machine is shared; on SQLite the database works in this process);
- **statements**: SQL statements of one request, for the short and the long story (the
  same number: no statement per contact);
- **bare SQL**: those statements replayed on a raw DBAPI cursor (``bench/run.py``).

Usage::

    nice .venv/bin/python bench/person_page.py --beneficiaries 100000 --repeat 30 --db sqlite
    PGPORT=55470 bash .ci/postgres.sh .venv/bin/python bench/person_page.py \
        --beneficiaries 100000 --db env

Prints a Markdown section (to merge into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    COORDINATOR,
    NOW,
    database_url,
    ensure_demo,
    logged_in_client,
    make_app,
    stats,
)
from run import capture, replay  # noqa: E402
from sqlalchemy import delete, func, insert, select  # noqa: E402

from backoffice.extensions import db  # noqa: E402
from backoffice.models import Contact, Enrolment  # noqa: E402

#: Issue 20 « Speed »: the person's page under 100 ms median.
TARGET_MS = 100


def path_with_contacts(exactly: int | None = None) -> tuple[int, int, int]:
    """(person id, path id, contacts) of the path with the most contacts, or of the first
    path with ``exactly`` that many."""
    n = func.count(Contact.id)
    query = (select(Enrolment.beneficiary_id, Enrolment.id, n)
             .join(Contact, Contact.enrolment_id == Enrolment.id)
             .group_by(Enrolment.beneficiary_id, Enrolment.id))
    if exactly is None:
        query = query.order_by(n.desc(), Enrolment.id)
    else:
        query = query.having(n == exactly).order_by(Enrolment.id)
    return db.session.execute(query.limit(1)).one()


def lengthen(path_id: int, have: int, wanted: int) -> list[int]:
    """Contacts added to reach ``wanted`` (copies of the path's first one, a day apart,
    after its last one); their ids, for :func:`shorten`."""
    if have >= wanted:
        return []
    first = db.session.scalars(select(Contact).where(Contact.enrolment_id == path_id)
                               .order_by(Contact.occurs_at, Contact.id).limit(1)).one()
    last = db.session.scalar(select(func.max(Contact.occurs_at))
                             .where(Contact.enrolment_id == path_id))
    start = db.session.scalar(select(func.max(Contact.id))) + 1
    rows = [{"id": start + i, "enrolment_id": path_id, "beneficiary_id": first.beneficiary_id,
             "contact_type_id": first.contact_type_id, "staff_id": first.staff_id,
             "occurs_at": last + timedelta(days=i + 1), "duration_minutes": 45,
             "attendance": first.attendance, "version": 1}
            for i in range(wanted - have)]
    db.session.execute(insert(Contact.__table__), rows)
    db.session.commit()
    return [row["id"] for row in rows]


def shorten(ids: list[int]) -> None:
    """Delete the contacts :func:`lengthen` added."""
    if ids:
        db.session.execute(delete(Contact.__table__).where(Contact.__table__.c.id.in_(ids)))
        db.session.commit()


def measure(app, client, url: str, repeat: int) -> dict:
    """Wall and CPU milliseconds of ``repeat`` GETs after a warm-up, statements of one,
    and those statements replayed on a raw cursor."""
    statements, status = capture(app, client, url)
    assert status == 200, f"{url}: HTTP {status}"
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
        response.close()
    bare, _rows = replay(app, statements, repeat)
    return {"url": url, "wall": stats(wall), "cpu": stats(cpu), "bare": stats(bare)[0],
            "statements": len(statements)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--contacts", type=int, default=30,
                        help="contacts du long parcours (défaut 30)")
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    parser.add_argument("--output", type=Path, help="fichier Markdown (défaut : stdout)")
    parser.add_argument("--now", type=datetime.fromisoformat, default=NOW,
                        help="le « maintenant » de la démo (défaut : celui de bench/common.py) ; "
                             "celui du jour où elle a été construite, sinon le badge compte "
                             "des échéances d'une autre date")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    app = make_app(database_url(args.beneficiaries, args.db))
    import backoffice.admin.alerts as alerts_view

    alerts_view.current_moment = lambda: args.now  # the demo's « now »
    ensure_demo(app, args.beneficiaries, log)
    with app.app_context():
        engine = ("PostgreSQL " + db.session.scalar(select(func.current_setting(
            "server_version"))) if db.engine.dialect.name == "postgresql" else
            "SQLite " + db.session.scalar(select(func.sqlite_version())))
        long_person, long_path, had = path_with_contacts()
        short_person, short_path, _three = path_with_contacts(exactly=3)
        added = lengthen(long_path, had, args.contacts)
        db.session.remove()
    results = []
    try:
        client = logged_in_client(app)
        for story, person, path in (("3 contacts", short_person, short_path),
                                    (f"{max(had, args.contacts)} contacts", long_person,
                                     long_path)):
            for page, url in (("person", f"/admin/beneficiaries/details/?id={person}"),
                              ("path", f"/admin/enrolments/details/?id={path}")):
                found = measure(app, client, url, args.repeat)
                results.append((story, page, found))
                log(f"{story:12} {page:7} {found['wall'][0]:6.1f} ms "
                    f"(CPU {found['cpu'][0]:.1f}) {found['statements']} statements")
    finally:
        with app.app_context():
            shorten(added)
            db.session.remove()
    lines = [
        f"### Person's page — {engine}, "
        + f"{args.beneficiaries:,} beneficiaries".replace(",", " "),
        "",
        f"Test client logged in as `{COORDINATOR}` (CSRF on); median and p95 of "
        f"{args.repeat} requests after a warm-up, wall-clock and CPU time of the process; "
        f"the long story's path had {had} contacts in the demo"
        + (f", {len(added)} added for the bench and removed after" if added else "") + ".",
        "",
        "| story | page | median (ms) | p95 (ms) | CPU median (ms) | bare SQL (ms) "
        "| statements | issue 20 target (< 100 ms) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for story, page, found in results:
        median, p95 = found["wall"]
        verdict = "ok" if median < TARGET_MS else "**no**"
        lines.append(f"| {story} | {page} `{found['url']}` | {median:.1f} | {p95:.1f} "
                     f"| {found['cpu'][0]:.1f} | {found['bare']:.1f} "
                     f"| {found['statements']} | {verdict} |")
    counts = {page: {found["statements"] for story, p, found in results if p == page}
              for page in ("person", "path")}
    lines += ["", "Statements per request: " + "; ".join(
        f"{page} page {'constant' if len(n) == 1 else '**not constant**'} ({sorted(n)})"
        for page, n in counts.items()) + "."]
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text(text)
        log(f"écrit : {args.output}")
    else:
        print(text)


if __name__ == "__main__":
    main()
