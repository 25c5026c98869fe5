"""List pages run the same number of SQL queries for 5 rows as for 40 (no N+1)."""
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select
from werkzeug.security import generate_password_hash

from backoffice.enums import Role
from backoffice.extensions import db
from backoffice.models import (
    Barrier,
    Beneficiary,
    Commission,
    Contact,
    Enrolment,
    Internship,
    Obligation,
    Phase,
    Programme,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    Workshop,
    WorkshopAttendance,
)
from tests.conftest import make_user
from tests.integration.test_admin_access import make_beneficiary, make_reference
from tests.integration.test_query_counts import filter_arg

SLUGS = ["beneficiaries", "referrals", "enrolments", "contacts", "obligations", "barriers",
         "internships", "attendances", "purchase-order-lines", "audit"]


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    monkeypatch.setattr("backoffice.models.people.generate_password_hash",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"))


def add_rows(start: int, stop: int) -> None:
    """Rows `start`…`stop - 1`, each with its own person, referent, programme, commission
    and path, so that lazy loading would show as one more query per row."""
    funder = make_reference()["funder"] if start == 0 else db.session.get(Programme, 1).funder
    for i in range(start, stop):
        programme = Programme(code=f"P{i}", name=f"Dispositif {i}", funder=funder,
                              source="001", exit_scheme="DEL")
        phase = Phase(programme=programme, position=1, code="p1", name=f"Phase {i}")
        db.session.add_all([programme, phase])
        person = make_beneficiary(f"Nom{i}", "Prénom", date(1980, 1, 1) + timedelta(days=i),
                                  external_id=f"X{i}")
        referent = make_user(Role.COUNSELLOR, email=f"referent{i}@exemple.fr",
                             name=f"Référent {i}")
        commission = Commission(programme=programme, held_on=date(2025, 1, 3))
        referral = Referral(beneficiary=person, programme=programme, commission=commission,
                            referred_on=date(2025, 1, 2))
        path = Enrolment(beneficiary=person, programme=programme, referent=referent,
                         current_phase=phase, entry_date=date(2025, 1, 6), referral=referral)
        db.session.add_all([programme, phase, commission, referral, path])
        db.session.flush()
        order = PurchaseOrder(funder=funder, programme=programme, number=f"BC-{i}",
                              issued_on=date(2025, 1, 1))
        workshop = Workshop(programme=programme, title=f"Atelier {i}",
                            held_at=datetime(2025, 2, 3, 9))
        db.session.add_all([
            Contact(enrolment=path, contact_type_id=1, occurs_at=datetime(2025, 1, 7, 10),
                    staff=referent),
            Obligation(name="Bilan", enrolment=path, programme=programme,
                       due_at=datetime(2025, 9, 1, 12)),
            Barrier(enrolment=path, barrier_type_id=1, identified_on=date(2025, 1, 7)),
            Internship(enrolment=path, company_name=f"Entreprise {i}",
                       starts_on=date(2025, 4, 1), ends_on=date(2025, 4, 15)),
            order, PurchaseOrderLine(order=order, beneficiary=person, referral=referral),
            workshop, WorkshopAttendance(workshop=workshop, enrolment=path),
        ])
    db.session.commit()


def queries_for(app, client, url: str) -> int:
    """Number of SQL statements the page runs."""
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("slug", SLUGS)
def test_list_queries_do_not_grow_with_rows(app, client, auth, slug):
    with app.app_context():
        add_rows(0, 5)
    auth.login("admin")
    url = f"/admin/{slug}/?page_size=50"
    client.get(url)  # warm-up: first request of the app
    few = queries_for(app, client, url)
    with app.app_context():
        add_rows(5, 40)
    many = queries_for(app, client, url)
    assert many == few, f"{slug}: {few} queries for 5 rows, {many} for 40"
    assert few <= 8, f"{slug}: {few} queries for one list page"


def test_a_search_lists_without_a_total_count(app, client, auth):
    """A search reads only its page (previous / next, no count query); the plain list shows
    its total and numbered pages."""
    with app.app_context():
        add_rows(0, 25)  # Nom0 … Nom24: 20 on the first page, Nom5 … Nom9 on the second
    auth.login("admin")
    plain = client.get("/admin/beneficiaries/").get_data(as_text=True)
    assert ">Liste (25)<" in plain
    assert 'href="/admin/beneficiaries/?page=1&amp;page_size=20">2<' in plain  # numbers
    searched = client.get("/admin/beneficiaries/?search=Nom")
    first = searched.get_data(as_text=True)
    assert searched.status_code == 200
    assert ">Liste<" in first  # no total
    assert '?page=1&amp;search=Nom&amp;page_size=20">&gt;<' in first  # « next »
    assert ">2<" not in first
    second = client.get("/admin/beneficiaries/?search=Nom&page=1").get_data(as_text=True)
    assert [f"Nom{i}" in second for i in (5, 6, 7, 8, 9, 0, 24)] == [True] * 5 + [False] * 2


@pytest.mark.parametrize(("slug", "index"), [
    ("beneficiaries", "ix_beneficiaries_name_key_id"),
    ("referrals", "ix_referrals_referred_on_id_beneficiary_id"),
    ("enrolments", "ix_enrolments_entry_date_id_beneficiary_id"),
    ("contacts", "ix_contacts_occurs_at_id_beneficiary_id"),
])
def test_a_deep_page_walks_the_index_of_the_default_sort_in_order(app, slug, index):
    """Issue 8: a later page finds its ids by OFFSET in the list's default order
    (ProtectedModelView._apply_pagination). The index of that order, id included, gives
    them without a sort step; on PostgreSQL an index on the sort column alone reads and
    sorts every skipped row (contacts page 16 944 at 100 000 people: 286 → 39 ms)."""
    from sqlalchemy import select

    from tests.integration.test_admin_access import registered_views
    from tests.integration.test_alerts_view import plan

    with app.test_request_context():
        view = registered_views(app)[slug]
        order = [attr.desc() if desc else attr for attr, _joins, desc in view._get_default_order()]
        assert order, f"{slug}: no default sort"
        ids = select(view.model.id).order_by(*order).limit(20).offset(40)
        found = plan(ids)
        db.session.rollback()
    assert index in found
    assert "ORDER BY" not in found and "Sort" not in found  # no sort step


def rows_statement(app, client, url: str) -> str:
    """The statement that reads the referrals shown by ``url`` (one line)."""
    statements = []

    def keep(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    rows = [s for s in statements if "AS has_path" in s]
    assert len(rows) == 1
    return " ".join(rows[0].split())


def test_a_page_reads_its_ids_first_then_joins_only_them(app, client, auth):
    """Every page, the first included, reads its rows by id from a LIMIT subquery that
    carries the search: the joins and the per-row subqueries (a referral's « has a path »)
    are planned for the page's rows, and the search runs once. Over the whole table
    PostgreSQL hashed every path's referral to answer 20 rows (referrals first page at
    100 000 people: 21 → 1 ms of SQL); with the search repeated around the ids it scanned
    every contact again (contacts search, page 2: 448 → 85 ms)."""
    with app.app_context():
        add_rows(0, 25)
    auth.login("admin")
    client.get("/admin/referrals/")  # warm-up
    for url in ("/admin/referrals/", "/admin/referrals/?page=1",
                "/admin/referrals/?search=Nom1", "/admin/referrals/?search=Nom1&page=1"):
        statement = rows_statement(app, client, url)
        outer, _, inner = statement.partition("WHERE referrals.id IN (SELECT referrals.id")
        assert inner, f"{url}: the rows are not read by id"
        assert "LIKE" not in outer and not re.search(
            r"beneficiary_id( \+ \S+)? (IN|= ANY)", outer), \
            f"{url}: the search is repeated around the ids"
        if "search" in url:  # the people found by the name search (people_search.py;
            # `+ 0` when SQLite is told to walk the list's order)
            assert re.search(r"referrals\.beneficiary_id( \+ \S+)? (IN|= ANY)", inner)
    first = client.get("/admin/referrals/").get_data(as_text=True)
    assert first.count('name="rowid"') == 20  # the page's 20 referrals, none lost
    found = client.get("/admin/referrals/?search=Nom1").get_data(as_text=True)
    assert found.count('name="rowid"') == 11  # Nom1, Nom10 … Nom19


def test_the_pager_counts_with_count_star(app, client, auth):
    """Issue 25 §3: the pager's total is `count(*)`, which SQLite answers from its fast
    path; Flask-Admin's `count('*')` sent « * » as a bound value (`count(?)`)."""
    with app.app_context():
        add_rows(0, 25)
    auth.login("admin")
    statements = []

    def keep(_conn, _cursor, statement, parameters, *_args):
        statements.append((" ".join(statement.split()), parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        page = client.get("/admin/beneficiaries/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    counts = [(s, p) for s, p in statements if "count(" in s and "FROM beneficiaries" in s]
    assert counts, "no count statement"
    assert all("count(*)" in s and "*" not in str(p) for s, p in counts), counts
    assert ">Liste (25)<" in page


def test_a_large_list_shows_postgresql_estimate_of_its_size_and_counts_its_last_pages(
        app, client, auth, monkeypatch):
    """Issue 25 §4: PostgreSQL counted every row of a large list for its pager (30-80 ms at
    a million people, its first page's rows 1-6 ms). A list without search, filter or role
    scope, larger than `ESTIMATE_FROM`, shows the engine's estimate, « environ … », on
    the first half of its pages, without counting; the later pages count, so the last
    page's link leads to the exact count and the last rows. Searched or filtered, the
    count is exact (or absent: a search's pager is previous / next); SQLite always
    counts (a few ms for a million rows)."""
    from sqlalchemy import text

    from backoffice.admin import base

    with app.app_context():
        add_rows(0, 45)
        postgresql = db.engine.dialect.name == "postgresql"
        if postgresql:  # the estimate of the statistics, as autovacuum keeps them
            db.session.execute(text("ANALYZE referrals"))
            db.session.commit()
        engine = db.engine
    monkeypatch.setattr(base, "ESTIMATE_FROM", 10)
    auth.login("admin")

    def read(url: str) -> tuple[str, bool]:
        statements = []

        def keep(_conn, _cursor, statement, *_args):
            statements.append(" ".join(statement.split()))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        assert response.status_code == 200, url
        counted = any(s.startswith("SELECT count(*)") and "FROM referrals" in s
                      for s in statements)
        return response.get_data(as_text=True), counted

    first, counted = read("/admin/referrals/")
    second, counted_second = read("/admin/referrals/?page=1")
    last, counted_last = read("/admin/referrals/?page=2")  # the second half: counted
    if postgresql:
        assert not counted and not counted_second
        assert ">Liste (environ 45)<" in first and ">Liste (environ 45)<" in second
        assert re.search(r'href="/admin/referrals/\?page=2[^"]*">3</a>', first)  # 3 pages
    else:
        assert counted and counted_second and ">Liste (45)<" in first
    assert counted_last and ">Liste (45)<" in last
    assert last.count('name="rowid"') == 5  # the last rows, none lost
    status = filter_arg(app, "referrals", "Statut", "EnumEqualFilter")
    filtered, counted = read(f"/admin/referrals/?{status}=PENDING")
    assert counted and ">Liste (45)<" in filtered
    searched, counted = read("/admin/referrals/?search=Nom1")
    assert not counted and "environ" not in searched


def test_the_later_pages_of_a_counted_list_are_read_from_its_end_with_the_same_rows(
        app, client, auth):
    """Issue 25 §4: a page in the second half of a counted list (the last page's link) is
    read in the reversed order, skipping the rows after it, not the many before it
    (OFFSET reads every row it skips); each page shows the rows of reading the list from
    its start — referrals by date then number, descending, ties on the date included;
    people by name then number — filtered or not, the last page short."""
    with app.app_context():
        add_rows(0, 45)
        for number, referral in enumerate(db.session.scalars(
                select(Referral).order_by(Referral.id))):
            referral.referred_on = date(2025, 1, 1 + number % 4)  # several on one day
        db.session.commit()
        referrals = [r.id for r in db.session.scalars(select(Referral).order_by(
            Referral.referred_on.desc(), Referral.id.desc()))]
        people = [p.id for p in db.session.scalars(select(Beneficiary).order_by(
            Beneficiary.name_key, Beneficiary.id))]
        pending = filter_arg(app, "referrals", "Statut", "EnumEqualFilter")
        engine = db.engine
    auth.login("admin")

    def pages(url: str, count: int, slug: str) -> tuple[list[int], list[str]]:
        shown, statements = [], []

        def keep(_conn, _cursor, statement, *_args):
            statements.append(" ".join(statement.split()))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            for page in range(count):
                html = client.get(f"{url}{'&' if '?' in url else '?'}page={page}&page_size=10"
                                  ).get_data(as_text=True)
                found = re.findall(rf"/admin/{slug}/details/\?id=(\d+)", html)
                shown += list(dict.fromkeys(int(number) for number in found))
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        return shown, statements

    shown, statements = pages("/admin/referrals/", 5, "referrals")
    assert shown == referrals
    # pages 3 and 4 (rows 30-44 of 45) from the end: ascending, 5 then 10 rows skipped
    assert any("ORDER BY referrals.referred_on ASC, referrals.id ASC" in s for s in statements)
    assert pages(f"/admin/referrals/?{pending}=PENDING", 5, "referrals")[0] == referrals
    assert pages("/admin/beneficiaries/", 5, "beneficiaries")[0] == people
    beyond = client.get("/admin/referrals/?page=9&page_size=10").get_data(as_text=True)
    assert "/admin/referrals/details/?id=" not in beyond  # beyond the end: empty, as before


def test_a_list_page_reads_the_role_once_and_builds_the_policy_once(app, client, auth,
                                                                     monkeypatch):
    """Issue 25 §3, the fixed cost of a page: the menu, the row icons and the links of a
    path list ask the role hundreds of times; it is read from Flask-Login once per request
    (each `current_user` went through its proxy: ≈ 300 times for 20 paths). The security
    headers' policy is built once, not hashed again on every response."""
    import flask_login.utils

    from backoffice import security

    with app.app_context():
        add_rows(0, 20)
    auth.login("admin")
    client.get("/admin/enrolments/")  # warm-up: the policy is built here
    lookups = []
    resolve = flask_login.utils._get_user
    monkeypatch.setattr(flask_login.utils, "_get_user",
                        lambda: lookups.append(1) or resolve())
    hashes = []
    hash_source = security._hash_source
    monkeypatch.setattr(security, "_hash_source",
                        lambda text: hashes.append(text) or hash_source(text))
    response = client.get("/admin/enrolments/")
    page = response.get_data(as_text=True)
    assert page.count('name="rowid"') == 20 and "fa-eye" in page  # icons and links shown
    assert len(lookups) <= 10, f"{len(lookups)} current_user lookups for one page"
    assert hashes == []
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
    assert f'nonce="{nonce}"' in page  # the policy names this request's nonce


def _menu(page: str) -> str:
    """The navbar's menu of a page (up to the menu links that follow it)."""
    return page.split('<ul class="nav navbar-nav mr-auto">', 1)[1].split(
        '<ul class="nav navbar-nav navbar-right">', 1)[0]


def test_the_menu_is_rendered_once_per_role_and_page(app, client, auth, monkeypatch):
    """Issue 25 §3: the navbar's menu asked each of its entries whether the user may open
    it on every page; it is rendered once per role and page, then reused. Each role still
    sees its own menu, each page its own active entry."""
    from flask_admin.menu import MenuView

    auth.login("admin")
    admin_list = client.get("/admin/enrolments/").get_data(as_text=True)
    asked = []
    may_open = MenuView.is_accessible
    monkeypatch.setattr(MenuView, "is_accessible",
                        lambda self: asked.append(self.name) or may_open(self))
    assert _menu(client.get("/admin/enrolments/").get_data(as_text=True)) == _menu(admin_list)
    assert asked == []  # reused
    account = _menu(client.get("/admin/account/").get_data(as_text=True))
    assert account != _menu(admin_list)  # another page: another active entry
    assert 'href="/admin/users/"' in _menu(admin_list)
    auth.logout()
    auth.login("counsellor")
    counsellor_list = _menu(client.get("/admin/enrolments/").get_data(as_text=True))
    assert 'href="/admin/enrolments/?flt' in counsellor_list  # opens on the paths not closed
    assert 'href="/admin/users/"' not in counsellor_list  # the counsellor's own menu
