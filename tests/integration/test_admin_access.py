"""Who may open and change what in the admin: every view × every role, against the role
table (auth/permissions.py), plus counsellors' row filtering and the French 403."""
from datetime import date, datetime

import pytest
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from backoffice.admin.base import AREA_OF_MODEL, ProtectedModelView, ScopedAjaxSelectField
from backoffice.auth.permissions import NOMINATIVE, can
from backoffice.enums import CspRule, DelayUnit, Role, Sex, Territory
from backoffice.extensions import db
from backoffice.models import (
    AuditEntry,
    Barrier,
    BarrierType,
    Beneficiary,
    Commission,
    Contact,
    ContactType,
    DeadlineRule,
    Enrolment,
    EsfEntry,
    EsfExit,
    ExitType,
    Funder,
    ImportPreset,
    Internship,
    Obligation,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    Suspension,
    SuspensionReason,
    User,
    Workshop,
    WorkshopAttendance,
)
from tests.conftest import make_user, post_edit

# Every admin view: URL slug → permission area. A view registered without a line here
# fails `test_every_registered_view_is_in_the_table`.
SLUG_AREAS = {
    "beneficiaries": "beneficiaries",
    "enrolments": "enrolments",
    "phase-records": "phase_records",
    "suspensions": "suspensions",
    "contacts": "contacts",
    "internships": "internships",
    "barriers": "barriers",
    "obligations": "obligations",
    "esf-entries": "esf_records",
    "esf-exits": "esf_records",
    "referrals": "referrals",
    "commissions": "commissions",
    "purchase-orders": "purchase_orders",
    "purchase-order-lines": "purchase_order_lines",
    "sessions": "sessions",
    "workshops": "workshops",
    "attendances": "workshop_attendances",
    "funders": "funders",
    "programmes": "programmes",
    "phases": "phases",
    "deadline-rules": "deadline_rules",
    "exit-types": "exit_types",
    "barrier-types": "barrier_types",
    "contact-types": "contact_types",
    "suspension-reasons": "suspension_reasons",
    "import-presets": "import_presets",
    "users": "users",
    "audit": "audit",
}
ROLES = [role.value for role in Role]


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    """One cheap hash instead of scrypt: these tests log in hundreds of times."""
    monkeypatch.setattr("backoffice.models.people.generate_password_hash",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"))


# --- minimal rows (shared with test_admin_crud.py and test_admin_queries.py) -----------

def make_reference() -> dict[str, object]:
    """A funder, a programme with one phase, and one row of each closed list."""
    funder = Funder(code="DEL", name="DEL province Sud", territory=Territory.NC)
    programme = Programme(code="DEL-L1", name="Accompagnement renforcé", funder=funder,
                          source="001", exit_scheme="DEL")
    rows = {
        "funder": funder,
        "programme": programme,
        "phase": Phase(programme=programme, position=1, code="etape1",
                       name="Étape 1 accompagnement"),
        "deadline_rule": DeadlineRule(programme=programme, code="bilan", name="Bilan de fin",
                                      trigger_event="exit", offset_value=1,
                                      unit=DelayUnit.MONTHS),
        "exit_type": ExitType(code="cdi", label="CDI", schemes="DEL,CSP",
                              csp_rule=CspRule.POSITIVE),
        "barrier_type": BarrierType(code="mobilite", label="Mobilité"),
        "contact_type": ContactType(code="individuel", label="Entretien individuel"),
        "suspension_reason": SuspensionReason(code="maladie", label="Maladie"),
        "import_preset": ImportPreset(programme=programme, name="Liste DEL", columns={
            "last_name": ["Nom"], "first_name": ["Prénom"], "birth_date": ["Né le"],
            "referred_on": ["Prescrit le"]}),
    }
    db.session.add_all(rows.values())
    db.session.flush()
    return rows


def make_beneficiary(last_name="Wamytan", first_name="Léa", birth_date=date(1990, 5, 4),
                     external_id=None, **extra) -> Beneficiary:
    person = Beneficiary(last_name=last_name, first_name=first_name, birth_date=birth_date,
                         sex=Sex.FEMALE, external_id=external_id, commune="Nouméa", **extra)
    db.session.add(person)
    db.session.flush()
    return person


def make_path(programme, referent_id, person=None, entry_date=date(2025, 1, 6)) -> Enrolment:
    """A path (with its person) followed by `referent_id`."""
    path = Enrolment(beneficiary=person or make_beneficiary(), programme=programme,
                     referent_id=referent_id, entry_date=entry_date)
    db.session.add(path)
    db.session.flush()
    return path


def make_world(referent_id) -> dict[type, int]:
    """One row in every table the admin shows; returns model → id."""
    ref = make_reference()
    person = make_beneficiary()
    programme = ref["programme"]
    referral = Referral(beneficiary=person, programme=programme, referred_on=date(2025, 1, 2))
    order = PurchaseOrder(funder=ref["funder"], programme=programme, number="BC-1",
                          issued_on=date(2025, 1, 1))
    session = ProgrammeSession(programme=programme, label="Session 1",
                               starts_on=date(2025, 1, 6))
    db.session.add_all([referral, order, session])
    path = make_path(programme, referent_id, person)
    workshop = Workshop(programme=programme, title="Atelier CV", held_at=datetime(2025, 2, 3, 9))
    rows = [
        referral, order, session, path, workshop,
        Commission(programme=programme, held_on=date(2025, 1, 3)),
        PurchaseOrderLine(order=order, beneficiary=person),
        PhaseRecord(enrolment=path, phase=ref["phase"], started_on=date(2025, 1, 6)),
        Suspension(enrolment=path, reason=ref["suspension_reason"], starts_on=date(2025, 3, 1)),
        Contact(enrolment=path, contact_type=ref["contact_type"],
                occurs_at=datetime(2025, 1, 7, 10)),
        WorkshopAttendance(workshop=workshop, enrolment=path),
        Internship(enrolment=path, company_name="Boulangerie Kanak", starts_on=date(2025, 4, 1),
                   ends_on=date(2025, 4, 15)),
        Barrier(enrolment=path, barrier_type=ref["barrier_type"], identified_on=date(2025, 1, 7)),
        Obligation(name="Bilan de fin de parcours", enrolment=path,
                   due_at=datetime(2025, 9, 1, 12)),
        EsfEntry(enrolment=path, entered_on=path.entry_date),
        EsfExit(enrolment=path, left_on=path.entry_date),
    ]
    db.session.add_all(rows)
    db.session.commit()
    ids = {type(row): row.id for row in [*ref.values(), person, *rows]}
    return ids


def registered_views(app) -> dict[str, ModelView]:
    """slug → the ModelView registered in the app's admin."""
    admin = app.extensions["admin"][0]
    return {view.url.rsplit("/", 1)[-1]: view for view in admin._views
            if isinstance(view, ModelView)}


def row_count(app, model) -> int:
    """Rows of `model` (audit: other than the logins' own entries on `users`)."""
    query = select(func.count()).select_from(model)
    if model is AuditEntry:
        query = query.where(AuditEntry.table_name != "users")
    with app.app_context():
        return db.session.scalar(query)


def link_viewer_to_funder(user_id: int, funder_id: int) -> None:
    """The funder's account represents this funder (it sees only its programmes)."""
    db.session.get(User, user_id).funder_id = funder_id
    db.session.commit()


@pytest.fixture
def world(app, users):
    with app.app_context():
        ids = make_world(users["counsellor"])
        link_viewer_to_funder(users["viewer"], ids[Funder])
        return ids


# --- the table is complete ------------------------------------------------------------

def test_every_registered_view_is_in_the_table(app):
    views = registered_views(app)
    assert set(views) == set(SLUG_AREAS), "a view was added or removed: update SLUG_AREAS"
    for slug, view in views.items():
        assert view.area == SLUG_AREAS[slug], slug
        assert view.endpoint == slug.replace("-", "_")
    admin = app.extensions["admin"][0]
    for view in admin._views:
        if isinstance(view, ModelView):
            assert isinstance(view, ProtectedModelView), view.endpoint
        else:  # the home page, the indicators: their own check, never Flask-Admin's default
            assert type(view).is_accessible is not BaseView.is_accessible, view.endpoint


# --- the matrix: list pages ------------------------------------------------------------

@pytest.mark.parametrize("slug", SLUG_AREAS)
@pytest.mark.parametrize("role", ROLES)
def test_list_page_follows_the_role_table(client, auth, world, role, slug):
    auth.login(role)
    response = client.get(f"/admin/{slug}/")
    if can(role, SLUG_AREAS[slug], "read"):
        assert response.status_code == 200
        details = client.get(f"/admin/{slug}/details/?id=1")
        assert details.status_code == 200
    else:
        assert response.status_code == 403
        assert "Accès refusé" in response.get_data(as_text=True)


@pytest.mark.parametrize("slug", SLUG_AREAS)
def test_anonymous_is_sent_to_the_login_page(client, slug):
    response = client.get(f"/admin/{slug}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/login?next=/admin/{slug}/")


def test_admin_home_requires_login_and_lists_the_role_menus(client, auth):
    assert client.get("/admin/").headers["Location"].startswith("/login")
    auth.login("viewer")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Financeur (lecture seule)" in page and "Se déconnecter" in page
    assert "Dispositifs" in page and "Bénéficiaires" not in page
    auth.logout()
    auth.login("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Bénéficiaires" in page and "Utilisateurs" in page


# --- the matrix: writes are refused on the server, nothing changes -----------------------

@pytest.mark.parametrize("slug", SLUG_AREAS)
def test_create_edit_delete_refused_without_the_verb(app, client, auth, world, slug):
    model = registered_views(app)[slug].model
    before = row_count(app, model)
    for role in ROLES:
        auth.login(role)
        area = SLUG_AREAS[slug]
        if not can(role, area, "create") or slug == "audit":
            assert client.get(f"/admin/{slug}/new/").status_code == 403, role
            assert client.post(f"/admin/{slug}/new/", data={}).status_code == 403, role
        if not can(role, area, "edit") or slug == "audit":
            assert client.post(f"/admin/{slug}/edit/?id=1", data={}).status_code == 403, role
        if not can(role, area, "delete") or slug == "audit":
            assert client.post(f"/admin/{slug}/delete/", data={"id": "1"}).status_code == 403
            bulk = client.post(f"/admin/{slug}/action/",
                               data={"action": "delete", "rowid": ["1"]})
            assert bulk.status_code == 403, role
        if not can(role, area, "export"):
            assert client.get(f"/admin/{slug}/export/csv/").status_code == 403, role
        auth.logout()
        assert row_count(app, model) == before, (slug, role)


def test_audit_is_read_only_even_for_the_administrator(client, auth, world):
    auth.login("admin")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "/admin/audit/new/" not in page and "/admin/audit/edit/" not in page
    assert client.post("/admin/audit/delete/", data={"id": "1"}).status_code == 403


def test_commission_member_may_export_beneficiaries(client, auth, world):
    auth.login("commission")
    response = client.get("/admin/beneficiaries/export/csv/")
    assert response.status_code == 200
    assert "Wamytan" in response.get_data(as_text=True)


# --- counsellors see their own paths only ----------------------------------------------

@pytest.fixture
def two_paths(app, users):
    """Path `mine` followed by counsellor@, path `other` by another counsellor."""
    with app.app_context():
        ref = make_reference()
        other_counsellor = make_user(Role.COUNSELLOR, email="autre@exemple.fr", name="Autre")
        mine = make_path(ref["programme"], users["counsellor"],
                         make_beneficiary("Mine", "Anne", external_id="A1"))
        other = make_path(ref["programme"], other_counsellor.id,
                          make_beneficiary("Autrui", "Paul", external_id="B2"))
        contact = Contact(enrolment=other, contact_type=ref["contact_type"],
                          occurs_at=datetime(2025, 2, 1, 9))
        db.session.add(contact)
        db.session.commit()
        return {"mine": mine.id, "other": other.id, "other_counsellor": other_counsellor.id,
                "other_person": other.beneficiary_id, "other_contact": contact.id,
                "contact_type": ref["contact_type"].id}


def test_counsellor_lists_only_their_paths_and_people(client, auth, two_paths):
    auth.login("counsellor")
    for slug in ("enrolments", "beneficiaries"):
        page = client.get(f"/admin/{slug}/").get_data(as_text=True)
        assert "MINE" in page.upper() and "AUTRUI" not in page.upper(), slug
    contacts = client.get("/admin/contacts/").get_data(as_text=True)
    assert "Autrui" not in contacts


def test_counsellor_cannot_open_another_path_by_url(app, client, auth, two_paths):
    auth.login("counsellor")
    other = two_paths["other"]
    assert client.get(f"/admin/enrolments/edit/?id={other}").status_code == 404
    assert client.get(f"/admin/enrolments/details/?id={other}").status_code == 404
    assert client.get(f"/admin/beneficiaries/details/?id={two_paths['other_person']}") \
        .status_code == 404
    assert client.get(f"/admin/contacts/edit/?id={two_paths['other_contact']}").status_code == 404
    response = client.post(f"/admin/enrolments/edit/?id={other}",
                           data={"target_job": "Pirate", "entry_date": "2025-01-06"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Enrolment, other).target_job is None
    assert client.get(f"/admin/enrolments/edit/?id={two_paths['mine']}").status_code == 200


def test_counsellor_enrolment_lookup_and_create_only_reach_their_paths(app, client, auth,
                                                                     two_paths):
    auth.login("counsellor")
    found = client.get("/admin/contacts/ajax/lookup/?name=enrolment&query=").get_json()
    assert [row[0] for row in found] == [two_paths["mine"]]
    before = row_count(app, Contact)
    response = client.post("/admin/contacts/new/", data={
        "enrolment": str(two_paths["other"]), "occurs_at": "2025-03-01 10:00:00",
        "contact_type": str(two_paths["contact_type"]), "attendance": "present",
    })
    assert response.status_code == 200  # the form again, with an error
    assert row_count(app, Contact) == before
    response = client.post("/admin/contacts/new/", data={
        "enrolment": str(two_paths["mine"]), "occurs_at": "2025-03-01 10:00:00",
        "contact_type": str(two_paths["contact_type"]), "attendance": "present",
    })
    assert response.status_code == 302
    assert row_count(app, Contact) == before + 1


def test_counsellor_cannot_hand_their_path_to_someone_else(app, client, auth, users, two_paths):
    auth.login("counsellor")
    mine = two_paths["mine"]
    with app.app_context():
        person = db.session.get(Enrolment, mine).beneficiary_id
    response = post_edit(client, f"/admin/enrolments/edit/?id={mine}", {
        "beneficiary": str(person), "programme": "1", "entry_date": "2025-01-06",
        "status": "active", "referent": str(two_paths["other_counsellor"]),
    })
    assert "seul un coordinateur" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Enrolment, mine).referent_id == users["counsellor"]


# --- issue 18 §2: form foreign keys and lookups follow the read rights -------------------

@pytest.fixture
def foreign_rows(app, two_paths):
    """A referral of the other counsellor's person and a purchase order (a counsellor
    reads neither), plus the counsellor's own path's current values."""
    with app.app_context():
        other = db.session.get(Enrolment, two_paths["other"])
        referral = Referral(beneficiary_id=other.beneficiary_id, programme_id=other.programme_id,
                            referred_on=date(2025, 1, 2))
        order = PurchaseOrder(funder_id=other.programme.funder_id,
                              programme_id=other.programme_id, number="BC-9",
                              issued_on=date(2025, 1, 1))
        db.session.add_all([referral, order])
        db.session.commit()
        mine = db.session.get(Enrolment, two_paths["mine"])
        return {"referral": referral.id, "order": order.id, "person": mine.beneficiary_id,
                "programme": mine.programme_id}


def _edit_mine(client, app, two_paths, rows, **posted):
    with app.app_context():
        version = db.session.get(Enrolment, two_paths["mine"]).version
    return client.post(f"/admin/enrolments/edit/?id={two_paths['mine']}", data={
        "beneficiary": str(rows["person"]), "programme": str(rows["programme"]),
        "entry_date": "2025-01-06", "version_seen": str(version), **posted,
    }, follow_redirects=True)


@pytest.mark.parametrize("field", ["referral", "purchase_order"])
def test_counsellor_cannot_attach_a_row_they_may_not_read(app, client, auth, users, two_paths,
                                                          foreign_rows, field):
    auth.login("counsellor")
    value = foreign_rows["referral" if field == "referral" else "order"]
    page = _edit_mine(client, app, two_paths, foreign_rows, referent=str(users["counsellor"]),
                      **{field: str(value)}).get_data(as_text=True)
    assert "Choix impossible : cette fiche n&#39;existe pas ou vous n&#39;y avez pas accès." \
        in page
    assert "AUTRUI" not in page.upper()  # the refusal names no one
    with app.app_context():
        path = db.session.get(Enrolment, two_paths["mine"])
        assert (path.referral_id, path.purchase_order_id) == (None, None)


def test_a_path_keeps_a_current_value_its_counsellor_may_not_search(app, client, auth, users,
                                                                     two_paths, foreign_rows):
    """The coordinator (who reads orders) attaches one; the counsellor saves the path
    with it unchanged, and cannot search orders."""
    auth.login("coordinator")
    _edit_mine(client, app, two_paths, foreign_rows, referent=str(users["counsellor"]),
               purchase_order=str(foreign_rows["order"]))
    with app.app_context():
        assert db.session.get(Enrolment, two_paths["mine"]).purchase_order_id == \
            foreign_rows["order"]
    auth.logout()
    auth.login("counsellor")
    page = _edit_mine(client, app, two_paths, foreign_rows, referent=str(users["counsellor"]),
                      purchase_order=str(foreign_rows["order"]), target_job="Boulanger")
    assert "Choix impossible" not in page.get_data(as_text=True)
    with app.app_context():
        path = db.session.get(Enrolment, two_paths["mine"])
        assert (path.target_job, path.purchase_order_id) == ("Boulanger", foreign_rows["order"])
    found = client.get("/admin/enrolments/ajax/lookup/?name=purchase_order&query=").get_json()
    assert found == []


def test_staff_are_found_by_name_never_by_email(client, auth, two_paths):
    auth.login("counsellor")
    for view, name in (("enrolments", "referent"), ("contacts", "staff")):
        lookup = f"/admin/{view}/ajax/lookup/?name={name}&query="
        assert client.get(lookup + "exemple.fr").get_json() == []
        assert client.get(lookup + "@").get_json() == []
        found = client.get(lookup + "Autre").get_json()
        assert [label for _id, label in found] == ["Autre"]


# --- issue 18 §1: a funder's account reads its own funder's programmes only -------------

def test_a_funder_reads_only_its_funders_rows(app, client, auth, users, world):
    with app.app_context():
        france_travail = Funder(code="FT", name="France Travail", territory=Territory.FR)
        csp = Programme(code="CSP", name="Contrat de sécurisation", funder=france_travail,
                        source="002", exit_scheme="CSP")
        cohort = ProgrammeSession(programme=csp, label="Session CSP", starts_on=date(2025, 2, 3))
        db.session.add_all([france_travail, csp, cohort])
        db.session.commit()
        hidden = {"programmes": csp.id, "sessions": cohort.id, "funders": france_travail.id}
    auth.login("viewer")
    assert "DEL-L1" in client.get("/admin/programmes/").get_data(as_text=True)
    assert "CSP" not in client.get("/admin/programmes/").get_data(as_text=True)
    assert "Session CSP" not in client.get("/admin/sessions/").get_data(as_text=True)
    for slug, row_id in hidden.items():
        if can("viewer", SLUG_AREAS[slug]):
            assert client.get(f"/admin/{slug}/details/?id={row_id}").status_code == 404, slug
    assert client.get("/admin/purchase-order-lines/").status_code == 403  # lines name people
    # the other roles are not scoped by funder
    auth.logout()
    auth.login("coordinator")
    assert "Session CSP" in client.get("/admin/sessions/").get_data(as_text=True)


def test_a_funders_account_linked_to_no_funder_reads_nothing(app, client, auth, users, world):
    with app.app_context():
        db.session.get(User, users["viewer"]).funder_id = None
        db.session.commit()
    auth.login("viewer")
    assert "DEL-L1" not in client.get("/admin/programmes/").get_data(as_text=True)
    assert client.get("/admin/programmes/details/?id=1").status_code == 404


def test_users_form_links_a_funders_account_to_one_funder(app, client, auth, world):
    auth.login("admin")
    form = {"name": "Représentant DEL", "email": "del@exemple.fr", "role": "viewer",
            "active": "y", "password": "une-phrase-de-passe-solide"}
    page = client.post("/admin/users/new/", data=form).get_data(as_text=True)
    assert "Financeur représenté : obligatoire pour un compte financeur" in page
    page = client.post("/admin/users/new/", data={**form, "role": "coordinator",
                                                  "funder": str(world[Funder])})
    assert "seulement pour un compte financeur" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "del@exemple.fr")) is None
    client.post("/admin/users/new/", data={**form, "funder": str(world[Funder])})
    with app.app_context():
        created = db.session.scalar(select(User).where(User.email == "del@exemple.fr"))
        assert created.funder_id == world[Funder]


def test_no_funder_reads_a_table_that_names_people():
    """Issue 18 §1: the role table gives a funder's account no nominative area."""
    for area in NOMINATIVE:
        for verb in ("read", "export", "create", "edit", "delete"):
            assert not can("viewer", area, verb), (area, verb)


def test_every_form_relation_to_personal_rows_is_checked(app):
    """Issue 18 §2: a form field that picks a row naming a person is a checked AJAX select
    (read rights and row filter, on read and on write); plain selects only offer rows
    that name no one (programmes, sessions, reference lists)."""
    unchecked = []
    for slug, view in registered_views(app).items():
        if slug == "audit":  # read-only: no form is ever shown
            continue
        for form_class in (view._create_form_class, view._edit_form_class):
            for relationship in view.model.__mapper__.relationships:
                unbound = vars(form_class).get(relationship.key)
                remote = relationship.mapper.class_
                if unbound is not None and (AREA_OF_MODEL.get(remote) in NOMINATIVE
                                            or remote is User) \
                        and unbound.field_class is not ScopedAjaxSelectField:
                    unchecked.append(f"{slug}.{relationship.key}")
    assert unchecked == []


def test_cli_links_a_funders_account_to_its_funder(app, runner):
    with app.app_context():
        make_reference()
        db.session.commit()
    base = ["users", "create", "--name", "Représentant", "--password",
            "une-phrase-de-passe-solide"]
    refused = {
        ("--email", "a@exemple.fr", "--role", "viewer"):
            "--funder : obligatoire pour un compte financeur (rôle viewer) ; codes : DEL.",
        ("--email", "b@exemple.fr", "--role", "viewer", "--funder", "FT"):
            "--funder : financeur « FT » inconnu ; codes : DEL.",
        ("--email", "c@exemple.fr", "--role", "coordinator", "--funder", "DEL"):
            "--funder : seulement pour un compte financeur (rôle viewer).",
    }
    for args, message in refused.items():
        result = runner.invoke(args=[*base, *args])
        assert result.exit_code != 0 and message in result.output, result.output
    with app.app_context():  # nothing created
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
    result = runner.invoke(args=[*base, "--email", "d@exemple.fr", "--role", "viewer",
                                 "--funder", "del"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["users", "list"]).output
    assert "d@exemple.fr\tReprésentant\t" in listed and listed.rstrip().endswith("\tDEL")
    with app.app_context():
        created = db.session.scalar(select(User).where(User.email == "d@exemple.fr"))
        assert created.funder.code == "DEL"


def test_a_funder_does_not_read_the_commissions_minutes(app, client, auth, world):
    """The minutes may name the people discussed (issue 18 §1)."""
    with app.app_context():
        db.session.get(Commission, world[Commission]).minutes = "Dossier de Mme Wamytan ajourné"
        db.session.commit()
    url = f"/admin/commissions/details/?id={world[Commission]}"
    auth.login("viewer")
    page = client.get(url).get_data(as_text=True)
    assert "Wamytan" not in page and "Non communiqué" in page
    auth.logout()
    auth.login("commission")
    assert "Dossier de Mme Wamytan ajourné" in client.get(url).get_data(as_text=True)
