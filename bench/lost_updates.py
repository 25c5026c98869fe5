"""Lost updates under load (issue 18 §3): concurrent clients do read-modify-write on the
same records through a real server, and we count the saves that were accepted but are no
longer in the record.

Each client is a browser of its own (cookies, CSRF token) logged in as the demo's
administrator. For every table in `TARGETS`, all clients open the edit form of the same
record, wait for each other (`--mode burst`: the worst case, every save made on the same
copy) or not (`--mode loop`: `--rounds` read-modify-writes each, as they come), append a
token of their own to a text field (« c07r1; ») and save (``--tamper empty|forged``: with
the version the form carries emptied or replaced by a non-number, as a hand-made request).
Afterwards the record is read from the database:

- accepted: the server answered the save with its redirect to the list;
- refused: the form came back with the « modifié entre-temps » refusal (nothing saved; the
  user is told to reload and type again);
- lost: accepted, but the token is not in the record (someone else's save overwrote it).

The server is gunicorn (4 workers, as in production) or Werkzeug's threaded server, on
127.0.0.1 only, in production mode (CSRF on) on a fresh demo database of `--people`
people: SQLite (a file under /tmp) or PostgreSQL (``--db env``: ``DATABASE_URL``, e.g. the
throwaway cluster of ``.ci/postgres.sh``; its schema is emptied first).

    .venv/bin/python bench/lost_updates.py --db sqlite
    PGPORT=55442 bash .ci/postgres.sh .venv/bin/python bench/lost_updates.py --db env
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from backoffice.extensions import db  # noqa: E402
from bench.common import ensure_demo, make_app  # noqa: E402

ADMIN = "admin@demo.fr"
#: Bounds: a run never does more than this (20 clients x 16 tables x 3 rounds at most).
MAX_CLIENTS, MAX_ROUNDS = 50, 5
TIMEOUT = 60  # seconds per request
#: (URL slug, model name, text field appended to). Every table the administrator edits
#: that has a free text field; what the issue names first.
TARGETS = (
    ("beneficiaries", "Beneficiary", "notes"),
    ("enrolments", "Enrolment", "target_job"),
    ("contacts", "Contact", "notes"),
    ("barriers", "Barrier", "notes"),
    ("internships", "Internship", "planned_activities"),
    ("suspensions", "Suspension", "notes"),
    ("referrals", "Referral", "reason"),
    ("commissions", "Commission", "minutes"),
    ("sessions", "ProgrammeSession", "place"),
    ("workshops", "Workshop", "place"),
    ("obligations", "Obligation", "document_ref"),
    ("users", "User", "name"),
    ("programmes", "Programme", "notes"),
    ("contact-types", "ContactType", "label"),
)
REFUSED = re.compile(r"modifié(e)? (par|entre-temps)|version de la fiche")


# --- the server -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(kind: str, url: str, port: int) -> subprocess.Popen:
    """gunicorn (4 workers) or Werkzeug threaded, on 127.0.0.1:port, production mode."""
    env = {**os.environ, "PARCOURS_ENV": "production", "SECRET_KEY": "bench-lost-updates",
           "SESSION_COOKIE_SECURE": "0", "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    python = sys.executable
    if kind == "gunicorn":
        command = [str(Path(python).with_name("gunicorn")), "--workers", "4",
                   "--bind", f"127.0.0.1:{port}", "--timeout", str(TIMEOUT), "wsgi:app"]
    else:
        command = [python, "-c",
                   "from werkzeug.serving import run_simple; from wsgi import app; "
                   f"run_simple('127.0.0.1', {port}, app, threaded=True)"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).read()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("le serveur n'a pas démarré :\n"
                                 + server.stderr.read().decode()[-2000:]) from None
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("le serveur ne répond pas après 60 s")


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server we started (its own process group) and wait for it."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- a browser --------------------------------------------------------------------------
class FormReader(HTMLParser):
    """What a browser would post from the page's edit form (class « admin-form »)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.inside = False
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "admin-form" in (attrs.get("class") or ""):
            self.inside = True
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value") or ("y" if kind == "checkbox"
                                                             else "")))
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields.append((self.select, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text += data


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies of its own; GET and POST on the server, redirects not followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)

    def request(self, path: str, data: list[tuple[str, str]] | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=TIMEOUT) as response:
                return response.status, response.headers.get("Location"), \
                    response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location"), answer.read().decode()

    def login(self, email: str, password: str) -> None:
        _status, _location, page = self.request("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        status, location, _ = self.request("/login", [("csrf_token", token), ("email", email),
                                                      ("password", password)])
        if status not in (302, 303) or "/login" in (location or ""):
            raise SystemExit(f"connexion de {email} refusée ({status})")

    def edit_form(self, slug: str, row_id: int) -> list[tuple[str, str]]:
        status, _location, page = self.request(f"/admin/{slug}/edit/?id={row_id}")
        if status != 200:
            raise RuntimeError(f"{slug} n° {row_id} : formulaire en {status}")
        reader = FormReader()
        reader.feed(page)
        return reader.fields

    def save(self, slug: str, row_id: int, fields) -> str:
        """accepted | refused | error: <the page's messages>"""
        status, location, page = self.request(f"/admin/{slug}/edit/?id={row_id}", fields)
        if status in (302, 303) and "/edit/" not in (location or "") \
                and "/login" not in (location or ""):
            return "accepted"
        if status == 200 and REFUSED.search(page):
            return "refused"
        messages = re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S)
        return f"error {status}: " + " | ".join(
            re.sub(r"<[^>]+>|\s+", " ", m).strip() for m in messages)[:300]


#: --tamper: what a hand-made request does to the version the form carries.
TAMPERED = {"none": None, "empty": "", "forged": "1 OR 1=1"}


def appended(fields, name: str, token: str, tamper: str = "none") -> list[tuple[str, str]]:
    """The form's fields with `token` added at the end of `name` (and the version seen
    emptied or forged when `tamper` says so)."""
    changed = TAMPERED[tamper]
    return [(key, (value + token) if key == name
             else changed if key == "version_seen" and changed is not None else value)
            for key, value in fields]


# --- the run ----------------------------------------------------------------------------
def prepare(url: str, people: int) -> None:
    """A fresh demo database: PostgreSQL's schema emptied, SQLite's file removed."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    app = make_app(url)
    if not url.startswith("sqlite"):
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    ensure_demo(app, people, log=lambda message: print("  " + message))
    with app.app_context():
        db.engine.dispose()


def pick_rows(app, browser: Browser) -> list[tuple[str, object, str, int]]:
    """Per target, a record the administrator can save as it is (tried once, the warm-up
    save also checks the form is read right); targets without one are left out."""
    import backoffice.models as models

    chosen = []
    for slug, model_name, field in TARGETS:
        model = getattr(models, model_name)
        with app.app_context():
            ids = db.session.scalars(select(model.id).order_by(model.id).limit(5)).all()
        for row_id in ids:
            try:
                outcome = browser.save(slug, row_id, appended(
                    browser.edit_form(slug, row_id), field, " "))
            except RuntimeError:
                continue
            if outcome == "accepted":
                chosen.append((slug, model, field, row_id))
                break
            print(f"  {slug} n° {row_id} : enregistrement impossible tel quel ({outcome})")
        else:
            print(f"  {slug} : aucune fiche enregistrable, table laissée de côté")
    return chosen


def client_work(browser, targets, client, rounds, mode, tamper, start, results, lock):
    """One user: for each target, `rounds` read-modify-writes (burst: in step with all)."""
    for slug, _model, field, row_id in targets:
        for round_ in range(rounds):
            token = f"c{client:02d}r{round_};"
            try:
                fields = appended(browser.edit_form(slug, row_id), field, token, tamper)
                if mode == "burst":
                    start.wait(timeout=TIMEOUT)
                outcome = browser.save(slug, row_id, fields)
            except Exception as failure:  # noqa: BLE001 (counted and shown)
                outcome = f"error: {failure!r}"[:300]
            with lock:
                results.append((slug, token, outcome))


def run(args) -> int:
    from backoffice.seeding.demo import DEMO_PASSWORD

    url = os.environ.get("DATABASE_URL", "") if args.db == "env" else \
        "sqlite:////tmp/parcours-bench-lost-updates.sqlite3"
    if args.db == "env" and not url:
        raise SystemExit("--db env : DATABASE_URL n'est pas défini")
    from backoffice.config import normalise_database_url

    url = normalise_database_url(url)
    print(f"base : {url.split('@')[-1]} ; {args.people} personnes de démo")
    prepare(url, args.people)
    port = free_port()
    server = start_server(args.server, url, port)
    app = make_app(url)
    try:
        base = f"http://127.0.0.1:{port}"
        browsers = [Browser(base) for _ in range(args.clients)]
        for browser in browsers:
            browser.login(ADMIN, DEMO_PASSWORD)
        targets = pick_rows(app, browsers[0])
        results: list[tuple[str, str, str]] = []
        lock = threading.Lock()
        started = time.perf_counter()
        for target in targets:  # one table at a time: all clients on the same record
            start = threading.Barrier(args.clients)
            threads = [threading.Thread(target=client_work, args=(
                browser, [target], index, args.rounds, args.mode, args.tamper, start, results,
                lock))
                for index, browser in enumerate(browsers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        elapsed = time.perf_counter() - started
    finally:
        stop_server(server)
    return report(app, targets, results, args, elapsed)


def report(app, targets, results, args, elapsed: float) -> int:
    totals = Counter()
    print(f"\n{args.clients} clients, mode {args.mode}, {args.rounds} tour(s), serveur "
          f"{args.server}, version vue : {args.tamper}, {elapsed:.1f} s")
    print(f"{'table':<16}{'essais':>7}{'acceptés':>9}{'refusés':>8}{'erreurs':>8}{'perdus':>7}")
    errors = []
    for slug, model, field, row_id in targets:
        with app.app_context():
            stored = getattr(db.session.get(model, row_id), field) or ""
        mine = [(token, outcome) for s, token, outcome in results if s == slug]
        accepted = [token for token, outcome in mine if outcome == "accepted"]
        refused = sum(outcome == "refused" for _token, outcome in mine)
        failed = [outcome for _token, outcome in mine
                  if outcome not in ("accepted", "refused")]
        lost = sum(token not in stored for token in accepted)
        errors += [f"{slug}: {outcome}" for outcome in failed[:2]]
        totals.update(tries=len(mine), accepted=len(accepted), refused=refused,
                      errors=len(failed), lost=lost)
        print(f"{slug:<16}{len(mine):>7}{len(accepted):>9}{refused:>8}{len(failed):>8}"
              f"{lost:>7}")
    print(f"{'total':<16}{totals['tries']:>7}{totals['accepted']:>9}{totals['refused']:>8}"
          f"{totals['errors']:>8}{totals['lost']:>7}")
    print(f"\nmises à jour perdues : {totals['lost']} sur {totals['accepted']} acceptées "
          f"({totals['tries']} essais)")
    for line in errors[:10]:
        print("  " + line)
    return 1 if totals["lost"] else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--mode", choices=("burst", "loop"), default="burst")
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--tamper", choices=tuple(TAMPERED), default="none",
                        help="empty: the forms post an empty version_seen; forged: a non-number")
    args = parser.parse_args()
    if not (2 <= args.clients <= MAX_CLIENTS and 1 <= args.rounds <= MAX_ROUNDS
            and 10 <= args.people <= 2000):
        parser.error(f"--clients 2 à {MAX_CLIENTS}, --rounds 1 à {MAX_ROUNDS}, "
                     f"--people 10 à 2000")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
