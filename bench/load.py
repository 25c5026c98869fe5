"""Load test (issue 7 §4): N concurrent logged-in users against gunicorn + PostgreSQL.

Starts its own gunicorn (``--workers``, 127.0.0.1 only) on ``DATABASE_URL`` (build the demo
there first when empty, see bench/common.py), then ``--users`` asyncio tasks (httpx), each
logged in through the login form, loop over a realistic mix for ``--seconds`` (and at most
``--max-requests`` in all), each pausing ``--think`` seconds on average between two actions
(0, the default: no pause, a saturation test):

- list the beneficiaries, search them by a common name;
- open a path (its page);
- add a contact: GET the create form (CSRF token), POST it with a marker in the notes;
- validate referrals in bulk: POST the ``validate`` action of /admin/referrals/ on two
  pending referrals of one programme no other user has, then POST the decision form it
  leads to (with the first commission it offers: 001 « Organisation »);
- download a report (csp-monthly, the monthly figures of the CSP).

Counsellors (the ``referent…@demo.fr`` accounts) work on their own paths; a few
coordinators validate and download. Afterwards it reports throughput, median and p95 per
request type and the errors (any status other than the expected one, or a transport
error), then checks in the database that every contact it created is there exactly once
(by marker) and that every referral it validated is validated.

Usage (throwaway cluster, demo of 20 000 people built in it)::

    bash .ci/postgres.sh .venv/bin/python bench/load.py --beneficiaries 20000 \
        --users 50 --seconds 60 --workers 4 --output /tmp/load.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from common import database_url, ensure_demo, make_app, stats  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from backoffice.enums import EnrolmentStatus, ReferralStatus, Role  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import Beneficiary, Contact, Enrolment, Referral, User  # noqa: E402
from backoffice.seeding.demo import DEMO_PASSWORD  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only

#: (request type, weight) of a counsellor's loop; coordinators validate and download.
COUNSELLOR_MIX = (("list", 30), ("search", 25), ("open path", 25), ("add contact", 20))
COORDINATOR_MIX = (("list", 35), ("search", 30), ("open path", 20), ("report", 15))
#: Only the commission decides on entries (auth/permissions.py: ACTIONS); it does not
#: read paths.
COMMISSION_MIX = (("list", 30), ("search", 30), ("validate", 40))


class FormReader(HTMLParser):
    """The fields of the page's first POST form (not the navbar's logout), with their
    default values."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action: str | None = None
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and (a.get("method") or "").lower() == "post" \
                and not (a.get("action") or "").endswith("/logout"):  # the navbar's form
            self._in_form, self.action = True, a.get("action")
        if not self._in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.fields[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


class Stats:
    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.requests = 0

    def add(self, kind: str, ms: float):
        self.times[kind].append(ms)


class Budget:
    """Stops every user at the deadline or after the maximum number of requests."""

    def __init__(self, seconds: float, max_requests: int):
        self.deadline = time.monotonic() + seconds
        self.left = max_requests

    def take(self) -> bool:
        if time.monotonic() >= self.deadline or self.left <= 0:
            return False
        self.left -= 1
        return True


async def timed(stats: Stats, kind: str, call, expect=(200,)):
    """One HTTP exchange, timed; an unexpected status or a transport error is an error."""
    started = time.perf_counter()
    try:
        response = await call()
    except httpx.HTTPError as error:
        stats.errors[kind].append(f"{type(error).__name__}: {error}")
        return None
    stats.add(kind, (time.perf_counter() - started) * 1000)
    stats.requests += 1
    if response.status_code not in expect:
        stats.errors[kind].append(f"HTTP {response.status_code} {response.request.url}")
        return None
    return response


class User_:
    """One virtual user: an account, its paths, and what it did."""

    def __init__(self, number: int, email: str, role: Role, paths: list[int], run: str):
        self.number, self.email, self.role, self.paths, self.run = number, email, role, paths, run
        self.created: list[str] = []
        self.validated: list[int] = []
        self.sequence = 0


async def login(client: httpx.AsyncClient, user: User_, stats: Stats) -> bool:
    page = await timed(stats, "login", lambda: client.get("/login"))
    if page is None:
        return False
    form = read_form(page.text)
    data = {**form.fields, "email": user.email, "password": DEMO_PASSWORD}
    done = await timed(stats, "login", lambda: client.post("/login", data=data), expect=(302,))
    return done is not None


async def add_contact(client, user: User_, stats: Stats, contact_type: str) -> None:
    page = await timed(stats, "add contact", lambda: client.get("/admin/contacts/new/"))
    if page is None:
        return
    form = read_form(page.text)
    user.sequence += 1
    marker = f"load-{user.run}-{user.number}-{user.sequence}"
    data = {**form.fields, "enrolment": str(random.choice(user.paths)),
            # today: after the entry of any open path, whatever day the demo was built
            "occurs_at": f"{date.today():%Y-%m-%d} {9 + user.sequence % 8:02d}:00:00",
            "contact_type": contact_type, "duration_minutes": "30",
            "attendance": "present", "notes": marker, "staff": ""}
    done = await timed(stats, "add contact",
                       lambda: client.post("/admin/contacts/new/?url=/admin/contacts/",
                                           data=data), expect=(302,))
    if done is not None:
        user.created.append(marker)


def first_option(page: str, name: str) -> str:
    """The first non-empty option of the select ``name`` of a page ("" if none)."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    values = re.findall(r'<option[^>]*value="([^"]+)"', select_html.group(1)) \
        if select_html else []
    return next((v for v in values if v not in ("", "__None")), "")


async def validate(client, user: User_, stats: Stats, pending: list[list[int]]) -> None:
    if not pending:
        return
    ids = pending.pop()
    page = await timed(stats, "validate", lambda: client.get("/admin/referrals/"))
    if page is None:
        return
    token = read_form(page.text).fields.get("csrf_token") or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    action = await timed(stats, "validate", lambda: client.post(
        "/admin/referrals/action/",
        data={"action": "validate", "rowid": [str(i) for i in ids], "csrf_token": token,
              "url": "/admin/referrals/"}), expect=(302,))
    if action is None:
        return
    target = action.headers["location"]
    form_page = await timed(stats, "validate", lambda: client.get(target))
    if form_page is None:
        return
    form = read_form(form_page.text)
    if not form.fields.get("commission"):
        # 001 « Organisation »: a DEL entry is validated in commission; pick the first
        # commission the form offers (the commission member would choose theirs).
        form.fields["commission"] = first_option(form_page.text, "commission")
    done = await timed(stats, "validate", lambda: client.post(target, data=form.fields),
                       expect=(302,))
    if done is not None:
        user.validated += ids


async def run_user(user: User_, base: str, budget: Budget, stats: Stats, shared: dict,
                   think: float = 0.0):
    async with httpx.AsyncClient(base_url=base, timeout=120, follow_redirects=False) as client:
        if not await login(client, user, stats):
            return
        mix = {Role.COUNSELLOR: COUNSELLOR_MIX, Role.COMMISSION: COMMISSION_MIX}.get(
            user.role, COORDINATOR_MIX)
        kinds, weights = zip(*mix, strict=True)
        if think:  # users do not all start in the same second
            await asyncio.sleep(random.uniform(0, think))
        while budget.take():
            kind = random.choices(kinds, weights)[0]
            if kind == "list":
                await timed(stats, kind, lambda: client.get(
                    f"/admin/beneficiaries/?page={random.randrange(50)}"))
            elif kind == "search":
                await timed(stats, kind, lambda: client.get(
                    "/admin/beneficiaries/", params={"search": random.choice(shared["names"])}))
            elif kind == "open path":
                path = random.choice(user.paths or shared["paths"])
                await timed(stats, kind, lambda p=path: client.get(
                    f"/admin/enrolments/details/?id={p}"))
            elif kind == "add contact":
                await add_contact(client, user, stats, shared["contact_type"])
            elif kind == "validate":
                await validate(client, user, stats, shared["pending"])
            elif kind == "report":
                await timed(stats, kind, lambda: client.get(
                    "/admin/indicators/telecharger/", params=shared["report"]))
            if think:  # reading the page before the next action: half to one and a half
                await asyncio.sleep(random.uniform(0.5, 1.5) * think)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, workers: int, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "load-test-" + uuid.uuid4().hex,
           "PARCOURS_ENV": "production", "SESSION_COOKIE_SECURE": "0"}
    log = open(log_path, "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers),
         "--bind", f"{HOST}:{port}", "--timeout", "120", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(300):
        try:
            if httpx.get(f"http://{HOST}:{port}/login", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn s'est arrêté ; voir {log_path}")
        time.sleep(0.2)
    raise SystemExit("gunicorn ne répond pas")


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)  # graceful: workers finish their request
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def prepare(app, users: int, run: str) -> tuple[list[User_], dict]:
    """Accounts (counsellors with their paths, and coordinators) and shared inputs."""
    with app.app_context():
        s = db.session
        counsellors = s.execute(
            select(User.id, User.email).where(User.role == Role.COUNSELLOR,
                                              User.email.like("referent%@demo.fr"))
            .order_by(User.id)).all()
        # A counsellor adds contacts to their open paths (a closed path refuses them: at a
        # million people most paths of the history are closed)
        paths = defaultdict(list)
        for referent_id, path_id in s.execute(
                select(Enrolment.referent_id, Enrolment.id)
                .where(Enrolment.status != EnrolmentStatus.CLOSED).order_by(Enrolment.id)):
            if len(paths[referent_id]) < 200:
                paths[referent_id].append(path_id)
        names = s.scalars(select(Beneficiary.last_name).group_by(Beneficiary.last_name)
                          .order_by(func.count().desc()).limit(20)).all()
        # Pairs of pending referrals of one programme: one decision form, one commission.
        by_programme = defaultdict(list)
        for referral_id, programme_id in s.execute(
                select(Referral.id, Referral.programme_id)
                .where(Referral.status == ReferralStatus.PENDING).order_by(Referral.id)):
            by_programme[programme_id].append(referral_id)
        pending = [ids[i:i + 2] for ids in by_programme.values()
                   for i in range(0, len(ids) - 1, 2)]
        contact_type = s.scalar(select(Contact.contact_type_id).limit(1))
        programme = "CSP"
        s.remove()
    coordinators = max(1, users // 10)
    people = []
    for n in range(users):
        if n < coordinators:
            email = ("coordination@demo.fr", "commission@demo.fr")[n % 2]
            role = Role.COORDINATOR if n % 2 == 0 else Role.COMMISSION
            people.append(User_(n, email, role, [], run))
        else:
            referent_id, email = counsellors[n % len(counsellors)]
            people.append(User_(n, email, Role.COUNSELLOR, paths[referent_id], run))
    all_paths = [p for ps in paths.values() for p in ps]
    shared = {"names": names, "pending": list(pending), "contact_type": str(contact_type),
              "paths": all_paths,
              "report": {"report": "csp-monthly", "programme": programme,
                         "date_from": "2025-01-01", "date_to": "2025-12-31"}}
    return people, shared


def check_writes(app, people: list[User_], run: str) -> dict:
    """Every contact created is stored exactly once; every validation is stored."""
    created = [m for u in people for m in u.created]
    validated = [i for u in people for i in u.validated]
    with app.app_context():
        s = db.session
        stored = s.scalars(select(Contact.notes).where(Contact.notes.like(f"load-{run}-%"))).all()
        statuses = dict(s.execute(select(Referral.id, Referral.status)
                                  .where(Referral.id.in_(validated or [-1]))).all())
        s.remove()
    return {
        "contacts_posted": len(created),
        "contacts_stored": len(stored),
        "contacts_missing": len(set(created) - set(stored)),
        "contacts_duplicated": len(stored) - len(set(stored)),
        "contacts_unexpected": len(set(stored) - set(created)),
        "referrals_validated": len(validated),
        "referrals_not_validated": sum(1 for i in validated
                                       if statuses.get(i) is not ReferralStatus.VALIDATED),
    }


def markdown(args, engine: str, stats: Stats, elapsed: float, writes: dict,
             cpu: dict | None = None) -> str:
    total_errors = sum(len(e) for e in stats.errors.values())
    lines = [
        f"### {args.users} users, {elapsed:.0f} s, gunicorn {args.workers} workers, {engine}, "
        + f"{args.beneficiaries:,} beneficiaries".replace(",", " ")
        + (f", think time {args.think:g} s" if args.think else ", no think time"),
        "",
        f"Throughput: **{stats.requests / elapsed:.1f} requests/s** ({stats.requests} "
        f"requests); errors: **{total_errors}**.",
        "",
    ]
    if cpu:
        lines += [
            f"CPU on this machine ({os.cpu_count()} cores, {elapsed:.0f} s): load generator "
            f"{cpu['generator']:.1f} s ({cpu['generator'] / elapsed:.0%} of one core); "
            f"gunicorn and its workers {cpu['server']:.1f} s "
            f"({cpu['server'] / elapsed:.0%} of one core, start-up included); the database "
            "server's share is not counted.",
            "",
        ]
    lines += [
        "| request type | requests | median (ms) | p95 (ms) | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in sorted(stats.times):
        median, p95 = stats_of(stats.times[kind])
        lines.append(f"| {kind} | {len(stats.times[kind])} | {median:.0f} | {p95:.0f} "
                     f"| {len(stats.errors.get(kind, []))} |")
    lines += ["", "Writes checked in the database afterwards: "
              + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in writes.items()) + "."]
    for kind, errors in stats.errors.items():
        for error in errors[:5]:
            lines.append(f"- error ({kind}): {error}")
    return "\n".join(lines) + "\n"


def stats_of(values):
    return stats(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--db", choices=("env", "sqlite"), default="env")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a user reads a page before the next action (each pause "
                        "drawn between half and one and a half of it); 0: no pause, a "
                        "saturation test")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    def log(message):
        print(message, file=sys.stderr, flush=True)

    url = database_url(args.beneficiaries, args.db)
    app = make_app(url)
    ensure_demo(app, args.beneficiaries, log)
    with app.app_context():
        engine = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    run = uuid.uuid4().hex[:8]
    people, shared = prepare(app, args.users, run)
    port = free_port()
    gunicorn_log = Path(f"/tmp/parcours-load-gunicorn-{run}.log")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = start_gunicorn(url, args.workers, port, gunicorn_log)
    log(f"gunicorn {args.workers} workers sur http://{HOST}:{port} (journal {gunicorn_log})")
    stats = Stats()
    try:
        budget = Budget(args.seconds, args.max_requests)
        started, generator = time.perf_counter(), time.process_time()

        async def everyone():
            await asyncio.gather(*(run_user(u, f"http://{HOST}:{port}", budget, stats, shared,
                                            args.think) for u in people))

        asyncio.run(everyone())
        elapsed = time.perf_counter() - started
        generator = time.process_time() - generator
    finally:
        stop_gunicorn(server)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, once stopped
    cpu = {"generator": generator,
           "server": (after.ru_utime + after.ru_stime)
           - (children.ru_utime + children.ru_stime)}
    writes = check_writes(app, people, run)
    text = markdown(args, engine, stats, elapsed, writes, cpu)
    if args.output:
        args.output.write_text(text)
    print(text)
    bad = sum(len(e) for e in stats.errors.values()) + writes["contacts_missing"] + \
        writes["contacts_duplicated"] + writes["referrals_not_validated"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
