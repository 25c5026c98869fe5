"""Issue 6 §5: every registered endpoint × every role (and anonymous) × GET/POST is
requested and must answer as the role table (auth/permissions.py) says.

`EXPECTED` is the explicit table of what each endpoint requires. It is built from three
hand-written tables: the model views' slugs (`SLUG_AREAS`, shared with
test_admin_access.py), the verb of each Flask-Admin view function (`VERB_OF_FUNCTION`),
and every other endpoint (`SPECIAL`). An endpoint registered without an entry fails
`test_every_endpoint_has_an_expectation` — a new view or route cannot slip in unprotected.

Requests carry no useful data (empty POST, no ids), so nothing is changed; an answer is
« allowed » when it is neither 403 nor a redirect to the login page, and never a 500.
"""
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import select

from backoffice import create_app
from backoffice.auth.permissions import can, may_run
from backoffice.enums import Role
from backoffice.extensions import db
from backoffice.models import Beneficiary, DeadlineRule, Enrolment, Funder, Programme, User
from backoffice.reports import REPORTS, XLSX_MIMETYPE
from backoffice.seeding.demo import DEMO_PASSWORD, build_demo
from tests.conftest import PASSWORD, empty_app, make_user
from tests.integration.test_admin_access import SLUG_AREAS, make_world

ROLES = [role.value for role in Role]
ANONYMOUS = None


@dataclass(frozen=True)
class Rule:
    """Who may call an endpoint with a method: `allowed(role)` for a logged-in role;
    `public` endpoints answer anonymous users too. `query` is added to the URL."""

    allowed: Callable[[str], bool]
    public: bool = False
    query: str = ""
    methods: tuple[str, ...] = ("GET", "POST")
    ends_at_login: bool = False  # logout: the allowed answer is the login page


def everyone(_role):
    return True


def nobody(_role):
    return False


def needs(area: str, verb: str) -> Callable[[str], bool]:
    return lambda role: can(role, area, verb)


def runs(area: str, action: str) -> Callable[[str], bool]:
    """A lifecycle page: the view must be readable and the action allowed."""
    return lambda role: can(role, area, "read") and may_run(role, action)


# Flask-Admin's model-view functions → the verb of the role table they need
# (the same mapping as admin/base.py VERB_OF_VIEW; « action_view » is posted with the
# built-in « delete » bulk action, which needs the delete verb).
VERB_OF_FUNCTION = {
    "index_view": "read",
    "details_view": "read",
    "ajax_lookup": "read",
    "export": "export",
    "create_view": "create",
    "edit_view": "edit",
    "ajax_update": "edit",
    "delete_view": "delete",
    "action_view": "delete",
}
READ_ONLY_VIEWS = {"audit"}  # nothing but reading, whatever the role table says
QUERY_OF_FUNCTION = {"details_view": "?id=1", "edit_view": "?id=1",
                     "ajax_lookup": "?name=__none__&query=a"}

SPECIAL: dict[str, Rule] = {
    "index": Rule(everyone, public=True, methods=("GET",)),
    "static": Rule(everyone, public=True, methods=("GET",)),
    "admin.static": Rule(everyone, public=True, methods=("GET",)),
    "auth.login": Rule(everyone, public=True),
    "auth.logout": Rule(everyone, methods=("POST",), ends_at_login=True),
    "admin.index": Rule(everyone, methods=("GET",)),
    "account.index_view": Rule(everyone),  # each user changes their own password
    "alerts.index_view": Rule(needs("alerts", "read"), methods=("GET",)),
    "alerts.mark_done_view": Rule(needs("alerts", "edit"), methods=("POST",)),
    "alerts.mark_many_done_view": Rule(needs("alerts", "edit"), methods=("POST",)),
    "alerts.close_view": Rule(needs("alerts", "close"), methods=("POST",)),
    "indicators.index_view": Rule(needs("indicators", "read"), methods=("GET",)),
    "targets.index_view": Rule(needs("indicators", "read"), methods=("GET",)),
    "indicators.download": Rule(needs("indicators", "export"), methods=("GET",),
                                query="?report=del_annual"),
    # the ledger's late obligations (issue 22 §4): names to those who get the nominative
    # reports, pseudonyms to a funder's account
    "indicators.late_view": Rule(needs("indicators", "read"), methods=("GET",),
                                 query="?report=csp-monthly"),
    "enrolments.transition_view": Rule(runs("enrolments", "suspend"), query="?action=suspend"),
    "referrals.decide_view": Rule(runs("referrals", "validate"), query="?action=validate"),
    "purchase_orders.receive_view": Rule(runs("purchase_orders", "receive_purchase_order"),
                                         query="?action=receive_purchase_order"),
    "workshops.sheet_view": Rule(runs("workshops", "attendance_sheet"),
                                 query="?action=attendance_sheet"),
    # issue 21: documents from the record, and the administrators' templates
    "documents.index_view": Rule(needs("documents", "read"), methods=("GET",)),
    "documents.produce": Rule(needs("documents", "read"), methods=("POST",)),
    "documents.download": Rule(needs("documents", "read"), methods=("GET",)),
    "documents.bulk": Rule(needs("documents", "read"), methods=("GET",)),
    "documents.bulk_zip": Rule(needs("documents", "read"), methods=("POST",)),
    "documents.transmitted": Rule(needs("documents", "read"), methods=("POST",)),
    "document_templates.index_view": Rule(needs("document_templates", "read"), methods=("GET",)),
    "document_templates.download": Rule(needs("document_templates", "read"),
                                        methods=("GET",)),
    "document_templates.upload": Rule(needs("document_templates", "edit"), methods=("POST",)),
    "document_templates.restore": Rule(needs("document_templates", "edit"),
                                       methods=("POST",)),
    "esf_checks.index_view": Rule(needs("esf", "read"), methods=("GET",)),
    "esf_checks.download": Rule(needs("esf", "export"), methods=("GET",),
                                query="?format=csv"),
    # issue 23: Commission › Importer des prescriptions
    "referral_imports.index_view": Rule(needs("referral_imports", "read"), methods=("GET",)),
    "referral_imports.upload_view": Rule(needs("referral_imports", "create"),
                                         methods=("POST",)),
    "referral_imports.mapping_view": Rule(needs("referral_imports", "create")),
    "referral_imports.preview_view": Rule(needs("referral_imports", "create"),
                                          methods=("GET",)),
    "referral_imports.rows_view": Rule(needs("referral_imports", "create"), methods=("POST",)),
    "referral_imports.confirm_view": Rule(needs("referral_imports", "create"),
                                          methods=("POST",)),
    "referral_imports.cancel_view": Rule(needs("referral_imports", "create"),
                                         methods=("POST",)),
    "referral_imports.undo_view": Rule(needs("referral_imports", "delete"), methods=("POST",)),
}


def _model_view_rule(endpoint: str) -> Rule | None:
    view, _, function = endpoint.partition(".")
    slug = view.replace("_", "-")
    if slug not in SLUG_AREAS or function not in VERB_OF_FUNCTION:
        return None
    verb = VERB_OF_FUNCTION[function]
    area = SLUG_AREAS[slug]
    if slug in READ_ONLY_VIEWS and verb not in ("read", "export"):
        allowed = nobody
    else:
        allowed = needs(area, verb)
    methods = {"delete_view": ("POST",), "action_view": ("POST",), "ajax_update": ("POST",),
               "export": ("GET",), "index_view": ("GET",), "details_view": ("GET",),
               "ajax_lookup": ("GET",)}.get(function, ("GET", "POST"))
    return Rule(allowed, query=QUERY_OF_FUNCTION.get(function, ""), methods=methods)


def expectation(endpoint: str) -> Rule | None:
    return SPECIAL.get(endpoint) or _model_view_rule(endpoint)


# --- one app and one small world for the whole module (requests change nothing) ---------
@pytest.fixture(scope="module")
def sweep_app(tmp_path_factory):
    app = empty_app(tmp_path_factory.mktemp("sweep"))
    with app.app_context():
        users = {role.value: make_user(role) for role in Role}
        db.session.commit()
        make_world(users["counsellor"].id)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _rules(app):
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def _url(app, endpoint: str, rule: Rule) -> str:
    with app.test_request_context():
        arguments = {}
        werkzeug_rule = _rules(app)[endpoint]
        if "filename" in werkzeug_rule.arguments:
            arguments["filename"] = "admin/js/helpers.js"
        if "export_type" in werkzeug_rule.arguments:
            arguments["export_type"] = "csv"
        if "document_id" in werkzeug_rule.arguments:
            arguments["document_id"] = 1
        if "code" in werkzeug_rule.arguments:
            arguments["code"] = "inconnu"
        return url_for(endpoint, **arguments) + rule.query


def test_every_endpoint_has_an_expectation(sweep_app):
    missing = sorted(e for e in _rules(sweep_app) if expectation(e) is None)
    assert missing == [], f"Endpoints without an access rule in this file: {missing}"


def _endpoints() -> list[str]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "SECRET_KEY": "test"})
    return sorted(endpoint for endpoint in _rules(app) if expectation(endpoint) is not None)


def _logged_in(app, role):
    client = app.test_client()
    if role is not ANONYMOUS:
        response = client.post("/login", data={"email": f"{role}@exemple.fr",
                                               "password": PASSWORD})
        assert response.status_code == 302, f"login of {role} failed"
    return client


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and \
        "/login" in response.headers.get("Location", "")


@pytest.fixture(scope="module")
def role_clients(sweep_app):
    """One logged-in client per role (and an anonymous one), shared by the sweep."""
    return {role: _logged_in(sweep_app, role) for role in [ANONYMOUS, *ROLES]}


@pytest.mark.parametrize("endpoint", _endpoints())
def test_endpoint_follows_the_role_table(sweep_app, role_clients, endpoint):
    rule = expectation(endpoint)
    url = _url(sweep_app, endpoint, rule)
    allowed_methods = _rules(sweep_app)[endpoint].methods
    failures = []
    for role in [ANONYMOUS, *ROLES]:
        client = role_clients[role]
        for method in ("GET", "POST"):
            data = {"action": "delete"} if endpoint.endswith(".action_view") else {}
            response = client.open(url, method=method, data=data if method == "POST" else None)
            status = response.status_code
            label = f"{role or 'anonyme'} {method} {url} → {status}"
            if status >= 500:
                failures.append(f"{label} (erreur serveur)")
            elif method not in allowed_methods or method not in rule.methods:
                if status not in (405, 400) and not (role is ANONYMOUS and
                                                     _is_login_redirect(response)):
                    failures.append(f"{label} (méthode non prévue : 405 attendu)")
            elif role is ANONYMOUS:
                if not rule.public and not _is_login_redirect(response):
                    failures.append(f"{label} (redirection vers la connexion attendue)")
            elif rule.allowed(role):
                if status == 403 or (_is_login_redirect(response) and not rule.ends_at_login):
                    failures.append(f"{label} (devrait être permis)")
            elif status != 403:
                failures.append(f"{label} (403 attendu)")
        if endpoint == "auth.logout":  # it closed every session of the account
            role_clients[role] = _logged_in(sweep_app, role)
    assert failures == []


# --- issue 18 §4 and §6: bad values and foreign return addresses on every endpoint ---------
BAD_ARGUMENTS = {
    "page négative": "page=-1",
    "page au-delà de 64 bits": f"page={2**70}",
    "id au-delà de 64 bits": f"id={2**70}&ids={2**70}",
    "tri absurde": f"sort={2**70}&desc=-1&page_size=-1",
    "caractère nul": "search=a%00b&id=1%00",
}
RAW_ERRORS = ("[SQL:", "[parameters:", "psycopg", "sqlite3.", "Traceback", "OverflowError",
              "Internal Server Error")


@pytest.mark.parametrize("endpoint", _endpoints())
def test_no_server_error_from_bad_arguments(sweep_app, role_clients, endpoint):
    """Every endpoint, as the administrator, GET and POST, with each kind of bad value in
    its URL: a page or a clean 4xx, never a 500 or a database message (issue 18's probe,
    before the fix: 80 of 259 id cases and 25 of 300 page cases gave a 500 on SQLite, 104
    and 50 on PostgreSQL, and a NUL character in a search 41 of 59 on PostgreSQL)."""
    rule = expectation(endpoint)
    client = role_clients["admin"]
    failures = []
    for name, arguments in BAD_ARGUMENTS.items():
        url = _url(sweep_app, endpoint, rule)
        url += ("&" if "?" in url else "?") + arguments
        for method in rule.methods:
            response = client.open(url, method=method,
                                   data={"rowid": str(2**70), "action": "delete"}
                                   if method == "POST" else None)
            page = response.get_data(as_text=True)
            leak = next((text for text in RAW_ERRORS if text in page), None)
            if response.status_code >= 500 or leak:
                failures.append(f"{name} : {method} {url} → {response.status_code} {leak or ''}")
        if endpoint == "auth.logout":
            role_clients["admin"] = _logged_in(sweep_app, "admin")
            client = role_clients["admin"]
    assert failures == []


FOREIGN_TARGETS = ["/%09/evil.example", "//evil.example", "https://evil.example",
                   "/%5Cevil.example", "/%0A/evil.example", "javascript:alert(1)"]


def _is_foreign(location: str) -> bool:
    from backoffice.redirects import safe_target

    local = location.removeprefix("http://localhost")
    return bool(location) and safe_target(local) is None


@pytest.mark.parametrize("endpoint", _endpoints())
def test_no_redirect_to_another_site(sweep_app, role_clients, endpoint):
    """Every endpoint, GET and POST, with `url` and `next` naming another site: a redirect,
    if any, stays on this site (`url=/%09/evil.example` gave `Location: //evil.example`
    after a lifecycle action)."""
    rule = expectation(endpoint)
    failures = []
    for target in FOREIGN_TARGETS:
        for role in ("admin", ANONYMOUS):
            client = role_clients[role]
            url = _url(sweep_app, endpoint, rule)
            url += ("&" if "?" in url else "?") + f"url={target}&next={target}"
            for method in rule.methods:
                response = client.open(url, method=method, data={
                    "url": target.replace("%09", "\t").replace("%0A", "\n"),
                    "next": target.replace("%09", "\t")} if method == "POST" else None)
                location = response.headers.get("Location", "")
                response.close()
                if _is_foreign(location):
                    failures.append(f"{role} {method} {url} → {location!r}")
            if endpoint == "auth.logout" and role is not ANONYMOUS:
                role_clients[role] = _logged_in(sweep_app, role)
    assert failures == []


# --- issue 18 §1, §2: what each page tells, on a small demo ------------------------------
# Every list (with and without a search), every record, every lookup, every export and
# the indicators (page and workbooks) answered to a funder's account is read for the
# names and birth dates of the demo's people; a counsellor's pages for those of the
# people outside their paths. Only the role table and the row filters of admin/base.py
# stand between them: a new view, column or lookup that shows a person fails here.
DEMO_TODAY = date(2025, 11, 20)
DETAILS_PER_VIEW = 25  # the first rows of each table, in and out of the account's reach


@dataclass
class DemoSweep:
    app: object
    people: dict[int, tuple[str, ...]]  # beneficiary id → what identifies them on a page
    followed_by: dict[int, set[int]]  # counsellor id → the people of their paths
    ids: dict[str, list[int]]  # view endpoint → first ids of its table
    lookups: dict[str, list[str]]  # view endpoint → its AJAX lookups
    other_funders_programmes: list[str]
    programmes: list[str]
    last_names: list[str]


@pytest.fixture(scope="module")
def demo_sweep(tmp_path_factory):
    app = empty_app(tmp_path_factory.mktemp("demo-sweep"))
    with app.app_context():
        build_demo(db.session, beneficiaries=40, seed=3, today=DEMO_TODAY)
        db.session.commit()
        people = {
            p.id: (p.full_name, f"{p.last_name} {p.first_name}", f"{p.birth_date:%d/%m/%Y}",
                   p.birth_date.isoformat())
            for p in db.session.scalars(select(Beneficiary))
        }
        followed_by: dict[int, set[int]] = {}
        for referent, person in db.session.execute(
                select(Enrolment.referent_id, Enrolment.beneficiary_id)):
            followed_by.setdefault(referent, set()).add(person)
        views = [v for v in app.extensions["admin"][0]._views if hasattr(v, "area")]
        sweep = DemoSweep(
            app=app, people=people, followed_by=followed_by,
            ids={v.endpoint: list(db.session.scalars(
                select(v.model.id).order_by(v.model.id).limit(DETAILS_PER_VIEW)))
                for v in views},
            lookups={v.endpoint: sorted(v._form_ajax_refs or {}) for v in views},
            # how a programme or a funder shows in a page: « CSP — Contrat de… », its name
            other_funders_programmes=[
                *(f"{code} —" for code in db.session.scalars(
                    select(Programme.code).join(Funder).where(Funder.code != "DEL"))),
                *db.session.scalars(select(Funder.name).where(Funder.code != "DEL"))],
            programmes=list(db.session.scalars(select(Programme.code))),
            last_names=sorted({p.last_name for p in db.session.scalars(select(Beneficiary))}),
        )
    yield sweep
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _demo_login(app, email):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, email
    return client


def _page_text(response) -> str:
    """The text of a page, of a CSV export, or of every sheet of a workbook."""
    if response.mimetype == XLSX_MIMETYPE:
        with zipfile.ZipFile(io.BytesIO(response.data)) as book:
            return "\n".join(book.read(name).decode() for name in book.namelist()
                             if name.endswith(".xml"))
    return response.get_data(as_text=True)


def _crawl(sweep: DemoSweep, client) -> dict[str, str]:
    """Every page of the admin this client may open: url → text (answers 200 only)."""
    urls = ["/admin/", "/admin/alerts/", "/admin/indicators/"]
    with sweep.app.test_request_context():
        for endpoint, ids in sweep.ids.items():
            base = url_for(f"{endpoint}.index_view")
            urls += [base, f"{base}?search={sweep.last_names[0]}", f"{base}?search=a",
                     url_for(f"{endpoint}.export", export_type="csv")]
            urls += [url_for(f"{endpoint}.details_view", id=i) for i in ids]
            urls += [url_for(f"{endpoint}.edit_view", id=i) for i in ids[:3]]
            for name in sweep.lookups[endpoint]:
                lookup = url_for(f"{endpoint}.ajax_lookup")
                urls += [f"{lookup}?name={name}&query=", f"{lookup}?name={name}&query=a",
                         f"{lookup}?name={name}&query={sweep.last_names[-1]}"]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code == 200:
            pages[url] = _page_text(response)
    for code, report in REPORTS.items():  # every workbook this account may download
        if report.needs_session or report.needs_order:
            continue
        for programme in sweep.programmes:
            url = (f"/admin/indicators/telecharger/?report={code}&programme={programme}"
                   f"&date_from=2024-01-01&date_to=2025-12-31")
            response = client.get(url)
            if response.status_code == 200:
                pages[url] = _page_text(response)
            # the ledger's drill-down to the late ones of each rule (issue 22 §4)
            with sweep.app.app_context():
                rules = db.session.scalars(select(DeadlineRule.id).join(
                    Programme, DeadlineRule.programme_id == Programme.id)
                    .where(Programme.code == programme)).all()
            for rule in rules:
                late = (f"/admin/indicators/retards/?report={code}&programme={programme}"
                        f"&date_from=2024-01-01&date_to=2025-12-31&rule={rule}")
                response = client.get(late)
                assert response.status_code < 500, late
                if response.status_code == 200:
                    pages[late] = _page_text(response)
    return pages


def _named(pages: dict[str, str], who: dict[int, tuple[str, ...]]) -> list[str]:
    return [f"{url} : {mark}" for url, text in pages.items()
            for marks in who.values() for mark in marks if mark in text]


def test_a_funder_sees_no_name_nor_birth_date_anywhere(demo_sweep):
    """Issue 18 §1: financeur@demo.fr (the DEL's representative) on every page it may open."""
    pages = _crawl(demo_sweep, _demo_login(demo_sweep.app, "financeur@demo.fr"))
    assert len(pages) > 40  # the crawl did reach the funder's pages (lists, records…)
    assert any("telecharger" in url for url in pages)  # and a workbook
    assert _named(pages, demo_sweep.people) == []


def test_a_funder_sees_only_its_own_funders_programmes(demo_sweep):
    """Issue 18 §1: a DEL representative, not France Travail's or the PLIE's."""
    pages = _crawl(demo_sweep, _demo_login(demo_sweep.app, "financeur@demo.fr"))
    shown = [f"{url} : {mark}" for url, text in pages.items()
             for mark in demo_sweep.other_funders_programmes if mark in text]
    assert "/admin/programmes/" in pages and "DEL-L1" in pages["/admin/programmes/"]
    assert shown == []


def test_a_counsellor_sees_no_one_outside_their_paths(demo_sweep):
    """Issue 18 §2: every page a counsellor may open names only the people they follow."""
    with demo_sweep.app.app_context():
        user = db.session.scalar(select(User).where(User.email == "referent2@demo.fr"))
        mine = demo_sweep.followed_by.get(user.id, set())
    pages = _crawl(demo_sweep, _demo_login(demo_sweep.app, "referent2@demo.fr"))
    assert mine and any(mark in text for text in pages.values()
                        for who in mine for mark in demo_sweep.people[who])
    others = {i: marks for i, marks in demo_sweep.people.items() if i not in mine}
    assert _named(pages, others) == []
