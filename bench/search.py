"""Benchmark of the name search (issue 25 §2) on every list and form select that finds
people, at 100 000 or 1 000 000 beneficiaries.

For each searched text and each page (the beneficiaries, referrals, paths and contacts
lists, the person select of a referral's form and the path select of a contact's form),
the page is requested through the real WSGI app (test client logged in as the demo
coordinator, CSRF on) ``--repeat`` times after a warm-up; beside it, **SQL**: the
statements that read the rows shown (Flask-Login's user and the badge left out, as in
bench/run.py) replayed on a raw DBAPI cursor, median; and **plan**: what the engine's
EXPLAIN (SQLite: EXPLAIN QUERY PLAN) of those statements reads — « trigrams » when it names
the name index (models/search_index.py), else the tables it scans or walks.

« before »: the beneficiaries list's statement of the search as it was before issue 25
(Flask-Admin: each word inside the last name, first name, external id or commune, ILIKE),
run on the same database for comparison (a few runs: it reads the whole table).

The searched texts are taken from the data (same rule on both engines): the most frequent
last name, its first three letters (a prefix), four inner letters of it, the first and last
name of one person in that order (a rare match), five characters of an external id, one
letter, and a text nobody matches.

Usage::

    .venv/bin/python bench/search.py --beneficiaries 100000 --db sqlite \
        --url sqlite:////tmp/search-bench-100000.sqlite3 --output /tmp/search-sqlite.md
    PGPORT=55466 bash .ci/postgres.sh bash -c '… flask db upgrade && flask seed demo
        --beneficiaries 100000 && .venv/bin/python bench/search.py --db env …'
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import database_url, ensure_demo, logged_in_client, make_app, stats  # noqa: E402
from run import capture, replay, rows_statements  # noqa: E402
from sqlalchemy import Unicode, and_, cast, func, or_, select  # noqa: E402

from backoffice.extensions import db  # noqa: E402
from backoffice.models import Beneficiary, Contact, Enrolment, search_index  # noqa: E402

#: Target of issue 25 §2: SQL of the name search at a million people.
SQL_TARGET_MS = 30.0

PAGES = [
    ("beneficiaries", "/admin/beneficiaries/?search={q}"),
    ("referrals", "/admin/referrals/?search={q}"),
    ("paths", "/admin/enrolments/?search={q}"),
    ("contacts", "/admin/contacts/?search={q}"),
    ("person select", "/admin/referrals/ajax/lookup/?name=beneficiary&query={q}"),
    ("path select", "/admin/contacts/ajax/lookup/?name=enrolment&query={q}"),
]
#: The lists whose later pages are measured too (``--later-pages``): page 2 and page 5.
LISTS = ("beneficiaries", "referrals", "paths", "contacts")
LATER_PAGES = (1, 4)


@dataclass
class Case:
    page: str
    query: str
    url: str
    page_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    rows: int = 0
    plan: str = ""


def thousands(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def searched_texts(app) -> list[tuple[str, str]]:
    """(what it shows, text) pairs chosen from the data (see the module's docstring)."""
    with app.app_context():
        s = db.session
        common = s.scalar(select(Beneficiary.last_name).group_by(Beneficiary.last_name)
                          .order_by(func.count().desc(), Beneficiary.last_name).limit(1))
        one = s.execute(select(Beneficiary.first_name, Beneficiary.last_name)
                        .where(Beneficiary.last_name == common)
                        .order_by(Beneficiary.id).limit(1)).one()
        external = s.scalar(select(Beneficiary.external_id)
                            .where(Beneficiary.external_id.is_not(None))
                            .order_by(Beneficiary.id).limit(1))
        s.remove()
    return [
        ("most frequent last name", common),
        ("its prefix", common[:3].lower()),
        ("inner letters", common[1:5].lower()),
        ("first and last name", f"{one[0]} {one[1]}"),
        ("external id part", external[1:6]),
        ("one letter", "e"),
        ("nobody", "zzqx"),
    ]


def plan_of(app, statements) -> str:
    """What the engine's plan of the rows' statements reads (short)."""
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            postgres = db.engine.dialect.name == "postgresql"
            lines = []
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ")
                               + statement, parameters)
                lines += [str(row[0] if postgres else row[-1]) for row in cursor.fetchall()]
            raw.rollback()
        finally:
            raw.close()
    text = "\n".join(lines)
    if search_index.TRIGRAM_INDEX in text or search_index.FTS_TABLE in text:
        return "trigrams"
    scans = sorted({line.split()[1] for line in text.splitlines()
                    if line.strip().startswith("SCAN ") and "INDEX" not in line} |
                   {line.split(" on ")[1].split()[0] for line in text.splitlines()
                    if "Seq Scan on" in line})
    return "scan " + ", ".join(scans) if scans else "index walk"


def build_people_only(app, people: int, log=print) -> None:
    """``--people-only``: a database of ``people`` beneficiaries and the coordinator's
    account, nothing else (the full demo of a million could not be built in time on the
    loaded machine, docs/benchmarks.md): names drawn from the demo's lists
    (seeds/demo/names.yaml, the weights of `flask seed demo` left out), one external id
    each, bulk Core inserts; the name index is filled by its triggers / GIN index."""
    import random
    from datetime import date, timedelta

    import yaml
    from sqlalchemy import insert

    from backoffice.enums import Role, Sex
    from backoffice.maintenance import refresh_statistics
    from backoffice.models import User, name_key, search_key
    from backoffice.seeding.demo import DEMO_INPUT_DIR, DEMO_PASSWORD

    names = yaml.safe_load((DEMO_INPUT_DIR / "names.yaml").read_text(encoding="utf-8"))
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(func.count(Beneficiary.id))):
            return
        started = time.perf_counter()
        coordinator = User(email="coordination@demo.fr", name="Coordinateur",
                           role=Role.COORDINATOR)
        coordinator.set_password(DEMO_PASSWORD)
        db.session.add(coordinator)
        rng, seen, rows = random.Random(1), set(), []
        groups = list(names.values())
        number = 0
        while number < people:
            group = rng.choice(groups)
            sex = rng.choice((Sex.FEMALE, Sex.MALE))
            first = rng.choice(group["female" if sex is Sex.FEMALE else "male"])
            last = rng.choice(group["last"])
            born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 16000))
            if (name_key(last, first), born) in seen:
                continue
            seen.add((name_key(last, first), born))
            number += 1
            external = f"{1_000_000 + number}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
            rows.append({"id": number, "last_name": last, "first_name": first,
                         "name_key": name_key(last, first),
                         "search_key": search_key(last, first, external),
                         "birth_date": born, "sex": sex, "external_id": external})
            if len(rows) == 20_000:
                db.session.execute(insert(Beneficiary.__table__), rows)
                rows = []
        if rows:
            db.session.execute(insert(Beneficiary.__table__), rows)
        db.session.commit()
        refresh_statistics(db.engine)
        db.session.remove()
        log(f"{people} personnes créées en {time.perf_counter() - started:.0f} s")


def old_statement(text: str):
    """The beneficiaries list's page before issue 25 (Flask-Admin's `_apply_search`)."""
    columns = (Beneficiary.last_name, Beneficiary.first_name, Beneficiary.external_id,
               Beneficiary.commune)
    words = [word for word in text.split(" ") if word]
    clause = and_(*(or_(*(cast(c, Unicode).ilike(f"%{w}%") for c in columns))
                    for w in words))
    return (select(Beneficiary.id).where(clause)
            .order_by(Beneficiary.name_key, Beneficiary.id).limit(21))


def time_old(app, text: str, runs: int) -> float:
    with app.app_context():
        statement = old_statement(text)
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            db.session.execute(statement).all()
            times.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    return stats(times[1:])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description="Banc d'essai de la recherche par nom.")
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    parser.add_argument("--url", help="base à utiliser (par défaut celle de bench/common.py)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--old-repeat", type=int, default=3)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--pages", help="les pages mesurées, séparées par des virgules "
                        "(par défaut toutes : " + ", ".join(name for name, _ in PAGES) + ")")
    parser.add_argument("--texts", help="les recherches mesurées, par leur numéro à partir "
                        "de 1, séparés par des virgules (par défaut toutes)")
    parser.add_argument("--later-pages", action="store_true",
                        help="mesurer aussi les pages 2 et 5 des listes")
    parser.add_argument("--people-only", action="store_true",
                        help="une base de bénéficiaires seuls (listes des personnes et choix "
                             "d'une personne), sans le reste de la démo")
    args = parser.parse_args()

    url = args.url or database_url(args.beneficiaries, args.db)
    app = make_app(url)
    pages = PAGES
    if args.people_only:
        build_people_only(app, args.beneficiaries)
        pages = [page for page in PAGES if page[0] in ("beneficiaries", "person select")]
    else:
        ensure_demo(app, args.beneficiaries)
    if args.pages:
        wanted = [name.strip() for name in args.pages.split(",")]
        pages = [page for page in pages if page[0] in wanted]
    if args.later_pages:
        pages = [*pages, *((f"{name}, page {number + 1}", f"{pattern}&page={number}")
                           for number in LATER_PAGES
                           for name, pattern in pages if name in LISTS)]
    with app.app_context():
        version = ".".join(str(part) for part in db.engine.dialect.server_version_info)
        engine = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[db.engine.dialect.name]
        engine = f"{engine} {version}"
        people = db.session.scalar(select(func.count(Beneficiary.id)))
        sizes = {m.__tablename__: db.session.scalar(select(func.count(m.id)))
                 for m in (Enrolment, Contact)}
        db.session.remove()
    client = logged_in_client(app)
    texts = searched_texts(app)
    if args.texts:
        texts = [texts[int(number) - 1] for number in args.texts.split(",")]
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    cases: list[Case] = []
    for label, text in texts:
        for page, pattern in pages:
            case = Case(page, f"{label} « {text} »", pattern.format(q=quote(text)))
            statements, status = capture(app, client, case.url)  # also the warm-up
            assert status == 200, f"{case.url}: HTTP {status}"
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(case.url)
                case.page_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            # the rows' statements, and the search's count of the people found (SQLite)
            own = [(sql, params) for sql, params in statements
                   if (sql, params) in rows_statements(statements)
                   or search_index.FTS_TABLE in sql]
            case.sql_ms, case.rows = replay(app, own, args.repeat)
            case.plan = plan_of(app, own)
            cases.append(case)
            print(f"{page:14} {case.query:45} page {stats(case.page_ms)[0]:7.1f} ms  "
                  f"SQL {stats(case.sql_ms)[0]:7.1f} ms  {case.plan}", flush=True)
    before = {text: time_old(app, text, args.old_repeat) if args.old_repeat else 0.0
              for _label, text in texts}
    cpu = time.process_time() - cpu_started
    wall = time.perf_counter() - wall_started

    lines = [
        f"### {engine} — {thousands(people)} beneficiaries",
        "",
        f"{thousands(sizes['enrolments'])} paths, {thousands(sizes['contacts'])} contacts. "
        f"Median of "
        f"{args.repeat} requests after a warm-up; SQL = the rows' statements on a raw cursor "
        f"(median of {args.repeat}); « before » = the beneficiaries list's statement of the "
        f"old search (median of {args.old_repeat}). Bench process: {cpu:.0f} s CPU for "
        f"{wall:.0f} s wall.",
        "",
        "| searched | page | page (ms) | SQL (ms) | plan | SQL < 30 ms |",
        "|---|---|---:|---:|---|---|",
    ]
    for case in cases:
        sql = stats(case.sql_ms)[0]
        lines.append(f"| {case.query} | {case.page} | {stats(case.page_ms)[0]:.1f} | "
                     f"{sql:.1f} | {case.plan} | {'yes' if sql < SQL_TARGET_MS else '**no**'} |")
    if args.old_repeat and pages[0][0] == "beneficiaries":
        lines += ["", "| searched | beneficiaries list before (ms) | now: SQL (ms) |",
                  "|---|---:|---:|"]
        for (label, text), case in zip(texts, cases[::len(pages)], strict=True):
            lines.append(f"| {label} « {text} » | {before[text]:.1f} | "
                         f"{stats(case.sql_ms)[0]:.1f} |")
    output = "\n".join(lines) + "\n"
    print(output)
    if args.output:
        args.output.write_text(output, encoding="utf-8")


if __name__ == "__main__":
    main()
