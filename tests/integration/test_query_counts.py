"""Issue 8 §4: the main pages run a fixed number of SQL queries, whatever the page size
and however many rows the database holds — an N+1 cannot come back unnoticed.

tests/integration/test_admin_queries.py covers the first page of ten lists; here: the four
main lists with a search, a filter and a later page at 5 and 50 rows a page, a person's
and a path's record (details and edit) however long their history, the alerts view and
the indicators page. Counts only, never times (speed is measured by bench/run.py).
"""
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from backoffice.enums import Attendance
from backoffice.extensions import db
from backoffice.models import Barrier, Beneficiary, Contact, Enrolment, PhaseRecord
from backoffice.obligation_sync import engine_writes
from backoffice.seeding.demo import DEMO_PASSWORD, build_demo
from backoffice.services.obligations import rebuild

TODAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 15, 9, 0)
COORDINATOR = "coordination@demo.fr"

#: Statements of a list page: logged-in user, pager count, rows, navbar badge, and the
#: audit entry of a list that names people (audit/access_log.py, issue 18 §8).
LIST_QUERIES = 5


@pytest.fixture
def demo(app, monkeypatch):
    """A small demo (with obligations) and a test client logged in as the coordinator."""
    monkeypatch.setattr("backoffice.admin.alerts.current_moment", lambda: NOW)
    # One cheap hash for the demo accounts (scrypt is tested elsewhere).
    monkeypatch.setattr("backoffice.seeding.demo.generate_password_hash",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"))
    with app.app_context():
        _build(people=30)
    return login(app)


def login(app):
    client = app.test_client()
    response = client.post("/login", data={"email": COORDINATOR, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def _build(people: int) -> None:
    """An empty database, then the demo and its obligations (as `flask seed demo`)."""
    db.session.remove()
    with db.engine.begin() as connection:  # below the ORM (the audit trail refuses it)
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    build_demo(db.session, beneficiaries=people, seed=1, today=TODAY)
    db.session.commit()
    with engine_writes(db.session):
        rebuild(db.session, NOW)
        db.session.commit()


def grow(app, people: int = 150):
    """The demo again with five times more people, paths, contacts and obligations; a
    client logged in on it."""
    with app.app_context():
        before = db.session.scalar(select(func.count(Beneficiary.id)))
        _build(people)
        assert db.session.scalar(select(func.count(Beneficiary.id))) >= 4 * before
    return login(app)


def queries(app, client, url: str) -> int:
    """Number of SQL statements one GET of ``url`` runs (the page must answer 200)."""
    seen = []

    def count(*_args):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
    return len(seen)


def filter_arg(app, endpoint: str, label: str, operation_class: str) -> str:
    """The URL argument of a list filter (``flt0_N``), found by label and class."""
    view = next(v for v in app.extensions["admin"][0]._views
                if getattr(v, "endpoint", None) == endpoint)
    for index, flt in enumerate(view._filters):
        if str(flt.name) == label and operation_class in {c.__name__ for c in type(flt).__mro__}:
            return f"flt0_{view.get_filter_arg(index, flt)}"
    raise LookupError(f"{endpoint}: no filter {label!r}")


def list_urls(app, slug: str) -> list[str]:
    """First page, a search, a filter and the second page, at 5 and at 50 rows a page."""
    filters = {
        "beneficiaries": ("Commune", "FilterEqual", "Montpellier"),
        "referrals": ("Statut", "EnumEqualFilter", "PENDING"),
        "enrolments": ("Statut", "EnumEqualFilter", "ACTIVE"),
        "contacts": ("Présence", "EnumEqualFilter", Attendance.UNEXCUSED.name),
    }
    label, operation, value = filters[slug]
    variants = [{}, {"search": "ma"}, {filter_arg(app, slug, label, operation): value},
                {"page": 1}]
    return [f"/admin/{slug}/?{urlencode({**args, 'page_size': size})}"
            for args in variants for size in (5, 50)]


def test_list_pages_run_the_same_queries_whatever_the_page_size_and_rows(app, demo):
    urls = [url for slug in ("beneficiaries", "referrals", "enrolments", "contacts")
            for url in list_urls(app, slug)]
    before = {url: queries(app, demo, url) for url in urls}
    client = grow(app)
    after = {url: queries(app, client, url) for url in urls}
    # contacts and every search: simple pager, no count over the whole table; PostgreSQL
    # asks the estimate of a whole table's size first (admin/base.py, `estimated_rows`)
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    expected = {url: LIST_QUERIES - ("/contacts/" in url or "search=" in url)
                + (postgresql and "/contacts/" not in url and "search=" not in url
                   and "flt0_" not in url)
                for url in urls}
    assert before == expected
    assert after == before


def busiest_path(app) -> tuple[int, int]:
    """(person id, path id) of the path with the most contacts."""
    with app.app_context():
        return db.session.execute(
            select(Enrolment.beneficiary_id, Enrolment.id)
            .join(Contact, Contact.enrolment_id == Enrolment.id)
            .group_by(Enrolment.beneficiary_id, Enrolment.id)
            .order_by(func.count().desc(), Enrolment.id).limit(1)).one()


def lengthen_history(app, path_id: int) -> None:
    """Thirty more contacts, five more barriers and phase records on the path, and a
    second path for its person."""
    with app.app_context():
        path = db.session.get(Enrolment, path_id)
        first_contact = db.session.scalar(select(Contact).where(Contact.enrolment_id == path_id))
        for i in range(30):
            db.session.add(Contact(enrolment=path, contact_type_id=first_contact.contact_type_id,
                                   occurs_at=datetime(2025, 3, 3, 9) + timedelta(days=i),
                                   staff_id=first_contact.staff_id))
        barrier_type = db.session.scalar(select(Barrier.barrier_type_id).limit(1))
        phase = db.session.scalar(select(PhaseRecord.phase_id)
                                  .where(PhaseRecord.enrolment_id == path_id).limit(1))
        for i in range(5):
            db.session.add(Barrier(enrolment=path, barrier_type_id=barrier_type,
                                   identified_on=date(2025, 3, 3) + timedelta(days=i)))
            db.session.add(PhaseRecord(enrolment=path, phase_id=phase,
                                       started_on=date(2024, 1, 1) + timedelta(days=i),
                                       ended_on=date(2024, 1, 1) + timedelta(days=i)))
        other = db.session.scalar(select(Enrolment).where(Enrolment.id != path_id).limit(1))
        other.beneficiary_id = path.beneficiary_id
        db.session.commit()


def record_urls(app) -> list[str]:
    person, path = busiest_path(app)
    return [f"/admin/beneficiaries/details/?id={person}",
            f"/admin/beneficiaries/edit/?id={person}",
            f"/admin/enrolments/details/?id={path}",
            f"/admin/enrolments/edit/?id={path}"]


def test_record_pages_run_the_same_queries_however_long_the_history(app, demo):
    before = [queries(app, demo, url) for url in record_urls(app)]
    client = grow(app)
    lengthen_history(app, busiest_path(app)[1])
    after = [queries(app, client, url) for url in record_urls(app)]
    assert after == before
    # the path's page: 17 with its documents (issue 21 §4), one statement for them all
    assert max(before) <= 17, before


def test_alerts_and_indicators_run_the_same_queries_whatever_the_rows(app, demo):
    indicators = "/admin/indicators/?" + urlencode({
        "report": "del-annual", "programme": "DEL-L1",
        "date_from": "2025-01-01", "date_to": "2025-12-31"})
    urls = ["/admin/alerts/", "/admin/alerts/?days=30&group=programme", indicators]
    before = {url: queries(app, demo, url) for url in urls}
    client = grow(app)
    after = {url: queries(app, client, url) for url in urls}
    assert after == before


def story_of(app, contacts: int) -> tuple[int, int]:
    """(person id, path id) of the demo's busiest path, its contacts brought to exactly
    ``contacts`` (copies of its first one, a day apart, or the latest ones removed)."""
    person, path_id = busiest_path(app)
    with app.app_context():
        rows = db.session.scalars(select(Contact).where(Contact.enrolment_id == path_id)
                                  .order_by(Contact.occurs_at, Contact.id)).all()
        for extra in rows[contacts:]:
            db.session.delete(extra)
        first = rows[0]
        for i in range(contacts - len(rows)):
            db.session.add(Contact(enrolment_id=path_id, contact_type_id=first.contact_type_id,
                                   staff_id=first.staff_id, attendance=Attendance.PRESENT,
                                   occurs_at=first.occurs_at + timedelta(days=i + 1)))
        db.session.commit()
        assert db.session.scalar(select(func.count(Contact.id))
                                 .where(Contact.enrolment_id == path_id)) == contacts
    return person, path_id


def test_the_person_page_runs_the_same_statements_for_3_and_30_contacts(app, demo):
    """Issue 20 « Speed »: the person's page (and the path's) of a 3-contact story and of
    a 30-contact story run the same number of statements: none per contact."""
    def counts(contacts: int) -> list[int]:
        person, path = story_of(app, contacts)
        return [queries(app, demo, f"/admin/beneficiaries/details/?id={person}"),
                queries(app, demo, f"/admin/enrolments/details/?id={path}")]

    short = counts(3)
    assert counts(30) == short
    assert max(short) <= 16, short
