"""The lifecycle actions through the admin, posted as a browser would (issue 3): each
action done by a role that may (state changed and audited with the user), refused with
403 for the others (nothing changed), refused in French on wrong input (nothing
changed), counsellors limited to their own paths, CSRF required. Real seeds
(`reference_app`): programmes, phases, exit types, suspension reasons, barrier types."""
import html
import itertools
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from backoffice import create_app
from backoffice.auth.permissions import ACTIONS, may_run
from backoffice.enums import EnrolmentStatus, ReferralStatus, Role, Sex
from backoffice.extensions import db
from backoffice.models import (
    AuditEntry,
    BarrierType,
    Beneficiary,
    Commission,
    Enrolment,
    ExitType,
    Funder,
    Internship,
    Phase,
    PhaseRecord,
    Programme,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    Suspension,
    SuspensionReason,
    User,
)
from backoffice.seeding.reference import load_reference
from backoffice.services import lifecycle as svc
from tests.conftest import PASSWORD, hidden_value, make_user, post_action, post_edit
from tests.integration.test_admin_crud import csrf_token_in, text_of

ROLES = [role.value for role in Role]
ENTRY = date(2026, 3, 2)  # a Monday, in the past
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    monkeypatch.setattr("backoffice.models.people.generate_password_hash",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"))


# --- building rows (through the services, as the app would) ------------------------------

def _programme(code: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def _person(**extra) -> Beneficiary:
    n = next(_names)
    person = Beneficiary(last_name=f"Personne{n}", first_name="Test",
                         birth_date=date(1980, 1, n % 28 + 1), sex=Sex.FEMALE, **extra)
    db.session.add(person)
    db.session.flush()
    return person


def new_referral(app, code: str, status=ReferralStatus.PENDING, referred_on=date(2026, 2, 2),
                 months: int | None = None) -> int:
    with app.app_context():
        referral = Referral(beneficiary=_person(), programme=_programme(code),
                            referred_on=referred_on, status=status, validated_months=months)
        if status is ReferralStatus.VALIDATED and referral.programme.requires_commission:
            # 001 « Organisation »: a validated entry was validated by its commission
            referral.commission = Commission(programme=referral.programme,
                                             held_on=referred_on)
        db.session.add(referral)
        db.session.commit()
        return referral.id


def new_path(app, code: str, referent_id: int, entry: date = ENTRY, months=None,
             **person) -> int:
    """A started path: referral validated, path opened on `entry` (services)."""
    with app.app_context():
        decider = db.session.get(User, referent_id)
        referral = Referral(beneficiary=_person(**person), programme=_programme(code),
                            referred_on=min(entry, date(2026, 2, 2)))
        db.session.add(referral)
        db.session.flush()
        commission = None
        if referral.programme.requires_commission:  # 001 « Organisation »
            commission = Commission(programme=referral.programme, held_on=referral.referred_on)
        svc.decide_referrals(db.session, [referral], "validate", decider, entry,
                             validated_months=months, commission=commission)
        path = svc.start_path(db.session, referral, entry, date.today(),
                              referent=decider)
        db.session.commit()
        return path.id


def close(app, path_id: int, exit_code: str, exit_date: date) -> None:
    """Close the path by a rupture-type exit on ``exit_date`` (services, as the app would)."""
    with app.app_context():
        exit_type = db.session.scalar(select(ExitType).filter_by(code=exit_code))
        svc.close_with_exit(db.session, db.session.get(Enrolment, path_id), exit_type,
                            svc.ExitInput(exit_date=exit_date, difficulties="Santé",
                                          recommendations="Soins"), date(2026, 11, 20))
        db.session.commit()


def referral_of(app, referral_id) -> Referral:
    with app.app_context():
        row = db.session.get(Referral, referral_id)
        db.session.expunge(row)
        return row


def path_state(app, path_id) -> dict:
    with app.app_context():
        path = db.session.get(Enrolment, path_id)
        return {
            "status": path.status, "phase": path.current_phase.code if path.current_phase
            else None, "exit_date": path.exit_date,
            "exit_type": path.exit_type.code if path.exit_type else None,
            "planned_end": path.planned_end_date, "follow_up_end": path.follow_up_end_date,
            "closed_on": path.closed_on, "suspensions": len(path.suspensions),
            "version": path.version, "phases": len(path.phase_records),
        }


def row_id(app, model, **where) -> int:
    with app.app_context():
        return db.session.scalar(select(model.id).filter_by(**where))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def status_changes(app, table: str, record_id: int, user_id: int, column: str = "status"):
    """[before, after] of `column` in the audit entries the user's actions wrote."""
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.table_name == table, AuditEntry.row_id == record_id,
            AuditEntry.user_id == user_id, AuditEntry.action == "update")
            .order_by(AuditEntry.id)).all()
        return [entry.changes[column] for entry in entries if column in (entry.changes or {})]


def refusals(app, table: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(
            AuditEntry.table_name == table, AuditEntry.action == "refused")).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def decide(client, action: str, ids, **data):
    ids = ",".join(str(i) for i in ids)
    return post_action(client, f"/admin/referrals/decide/?action={action}&ids={ids}", data)


def transition(client, action: str, ids, query: str = "", **data):
    ids = ",".join(str(i) for i in ids)
    return post_action(client, f"/admin/enrolments/transition/?action={action}&ids={ids}{query}",
                       data)


def bulk(client, slug: str, action: str, ids):
    return client.post(f"/admin/{slug}/action/",
                       data={"action": action, "rowid": [str(i) for i in ids]})


def flash_text(response) -> str:
    return text_of(response)


@pytest.fixture
def app(app):
    """Every test here runs on the real reference data (seeds/)."""
    with app.app_context():
        load_reference(db.session)
        db.session.commit()
    return app


# --- who may run what: the table, the menus, the 403s ------------------------------------

def test_action_table_matches_the_domain_roles():
    """domain.md « Users and roles »: the commission decides, the coordinator starts,
    abandons and closes, the counsellor moves their own paths on."""
    allowed = {name: sorted(role for role in ROLES if may_run(role, name)) for name in ACTIONS}
    decide_roles = ["admin", "commission"]
    assert allowed == {
        "validate": decide_roles, "reject": decide_roles, "defer": decide_roles,
        "withdraw": decide_roles, "not_entered": decide_roles,
        "create_purchase_order": ["admin", "coordinator"],
        "start_path": ["admin", "coordinator"],
        "receive_purchase_order": ["admin", "coordinator"],
        "next_phase": ["admin", "coordinator", "counsellor"],
        "suspend": ["admin", "coordinator", "counsellor"],
        "resume": ["admin", "coordinator", "counsellor"],
        "declare_abandon": ["admin", "coordinator"],
        "close_with_exit": ["admin", "coordinator"],
        "end_follow_up": ["admin", "coordinator"],
        "attendance_sheet": ["admin", "coordinator"],
        # documents (issue 21): whoever reads the paths, a counsellor for their own only
        "produce_documents": ["admin", "commission", "coordinator", "counsellor"],
    }
    assert not may_run("admin", "delete_everything") and not may_run(None, "validate")


@pytest.mark.parametrize("role", ["admin", "coordinator", "commission"])
def test_bulk_menus_offer_only_the_roles_actions(client, auth, app, users, role):
    new_referral(app, "DEL-L1")
    auth.login(role)
    page = client.get("/admin/referrals/").get_data(as_text=True)
    for name in ("validate", "reject", "defer", "withdraw", "not_entered",
                 "create_purchase_order"):
        assert (f'data-model-action="{name}"' in page) == may_run(role, name), name
    if role == "commission":
        assert "Valider l&#39;entrée" in page and "Créer un bon de commande" not in page


def test_enrolment_bulk_menu_labels_are_french(client, auth, app, users):
    new_path(app, "DEL-L1", users["counsellor"], months=7)
    auth.login("coordinator")
    page = client.get("/admin/enrolments/").get_data(as_text=True)
    for name, label in (("next_phase", "Passer à la phase suivante"), ("suspend", "Suspendre"),
                        ("declare_abandon", "Déclarer un abandon"),
                        ("close_with_exit", "Clôturer avec un type de sortie")):
        assert f'data-model-action="{name}"' in page and label in page


REFERRAL_ACTIONS = ["validate", "reject", "defer", "withdraw", "not_entered",
                    "create_purchase_order", "start_path"]


@pytest.mark.parametrize("name", REFERRAL_ACTIONS)
def test_referral_actions_refused_with_403_for_other_roles(client, auth, app, users, name):
    status = ReferralStatus.VALIDATED if name in ("create_purchase_order", "start_path") \
        else ReferralStatus.PENDING
    referral = new_referral(app, "PLIE-L1", status=status)
    data = {"decided_on": "2026-03-01", "reason": "x", "number": "BC-1",
            "issued_on": "2026-03-01", "entry_date": "2026-03-02"}
    for role in ROLES:
        if may_run(role, name):
            continue
        auth.login(role)
        assert client.get(f"/admin/referrals/decide/?action={name}&ids={referral}") \
            .status_code == 403, role
        assert decide(client, name, [referral], **data).status_code == 403, role
        if name != "start_path":
            assert bulk(client, "referrals", name, [referral]).status_code == 403, role
        auth.logout()
    assert referral_of(app, referral).status is status
    assert count(app, PurchaseOrder) == 0 and count(app, Enrolment) == 0


ENROLMENT_ACTIONS = ["next_phase", "suspend", "resume", "declare_abandon", "close_with_exit",
                     "end_follow_up"]


@pytest.mark.parametrize("name", ENROLMENT_ACTIONS)
def test_enrolment_actions_refused_with_403_for_other_roles(client, auth, app, users, name):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    before = path_state(app, path)
    data = {"on_date": "2026-04-01", "starts_on": "2026-04-01", "reason": "moved",
            "exit_type": str(row_id(app, ExitType, code="tribal_life")),
            "exit_date": "2026-04-01"}
    for role in ROLES:
        if may_run(role, name):
            continue
        auth.login(role)
        assert client.get(f"/admin/enrolments/transition/?action={name}&ids={path}") \
            .status_code == 403, role
        assert transition(client, name, [path], **data).status_code == 403, role
        if name in ("next_phase", "suspend", "declare_abandon", "close_with_exit"):
            assert bulk(client, "enrolments", name, [path]).status_code == 403, role
        auth.logout()
    assert path_state(app, path) == before


def test_unknown_action_or_missing_record_is_not_found(client, auth, app, users):
    referral = new_referral(app, "PLIE-L1")
    auth.login("admin")
    assert client.get(f"/admin/referrals/decide/?action=explode&ids={referral}") \
        .status_code == 404
    assert client.get("/admin/referrals/decide/?action=validate&ids=999").status_code == 404
    assert client.get("/admin/referrals/decide/?action=validate&ids=abc").status_code == 404


# --- commission decisions ----------------------------------------------------------------

def test_bulk_validation_of_two_del_l1_referrals_asks_and_stores_the_duration(
        client, auth, app, users):
    first, second = new_referral(app, "DEL-L1"), new_referral(app, "DEL-L1")
    with app.app_context():
        commission = Commission(programme=_programme("DEL-L1"), held_on=date(2026, 3, 1))
        db.session.add(commission)
        db.session.commit()
        commission_id = commission.id
    auth.login("commission")
    response = bulk(client, "referrals", "validate", [first, second])
    assert response.status_code == 302
    form_url = response.headers["Location"]
    assert form_url.startswith(f"/admin/referrals/decide/?action=validate&ids={first},{second}")
    page = client.get(form_url)
    raw = page.get_data(as_text=True)
    assert 'name="validated_months"' in raw and 'value="7"' in raw  # 001: 7 months average
    assert "Durée validée (mois)" in text_of(page) and "Commission DEL-L1 du 01/03/2026" in raw
    assert f'data-id="{first}"' in raw and f'data-id="{second}"' in raw

    response = decide(client, "validate", [first, second], decided_on="2026-03-01",
                      validated_months="9", commission=str(commission_id))
    assert response.status_code == 302
    assert "2 prescriptions validées — durée validée : 9 mois." in \
        text_of(client.get(response.headers["Location"]))
    for referral_id in (first, second):
        row = referral_of(app, referral_id)
        assert (row.status, row.validated_months, row.decided_on, row.decided_by_id,
                row.commission_id) == (ReferralStatus.VALIDATED, 9, date(2026, 3, 1),
                                       users["commission"], commission_id)
        assert status_changes(app, "referrals", referral_id, users["commission"]) == \
            [["pending", "validated"]]


def test_duration_is_not_asked_outside_del_l1(client, auth, app, users):
    referral = new_referral(app, "CSP")
    auth.login("admin")
    raw = client.get(f"/admin/referrals/decide/?action=validate&ids={referral}") \
        .get_data(as_text=True)
    assert 'name="validated_months"' not in raw
    response = decide(client, "validate", [referral], decided_on="2026-03-01")
    assert response.status_code == 302
    row = referral_of(app, referral)
    assert (row.status, row.validated_months) == (ReferralStatus.VALIDATED, None)


@pytest.mark.parametrize(("months", "message"), [
    ("13", "Durée validée (mois) : de 1 à 12 mois"),
    ("sept", "N'est pas un entier valide"),
])
def test_duration_out_of_range_is_refused_and_nothing_changes(client, auth, app, users,
                                                              months, message):
    referral = new_referral(app, "DEL-L1")
    auth.login("commission")
    response = decide(client, "validate", [referral], decided_on="2026-03-01",
                      validated_months=months)
    assert response.status_code == 200
    assert message in text_of(response)
    assert referral_of(app, referral).status is ReferralStatus.PENDING


def test_a_batch_with_one_closed_referral_changes_none(client, auth, app, users):
    good = new_referral(app, "PLIE-L1")
    rejected = new_referral(app, "PLIE-L1", status=ReferralStatus.REJECTED)
    auth.login("commission")
    response = decide(client, "validate", [good, rejected], decided_on="2026-03-01")
    assert response.status_code == 200
    assert f"Impossible de valider : Prescription n° {rejected}" in text_of(response)
    assert referral_of(app, good).status is ReferralStatus.PENDING
    refused = refusals(app, "referrals")
    assert len(refused) == 1 and refused[0].user_id == users["commission"]
    assert f"n° {rejected}" in refused[0].detail


def test_decision_date_in_the_future_is_refused(client, auth, app, users):
    referral = new_referral(app, "PLIE-L1")
    auth.login("commission")
    response = decide(client, "validate", [referral], decided_on="2099-01-01")
    assert "Date de la décision : elle ne peut pas être dans le futur" in text_of(response)
    assert referral_of(app, referral).status is ReferralStatus.PENDING


def test_decision_before_the_referral_is_refused_in_french(client, auth, app, users):
    referral = new_referral(app, "PLIE-L1", referred_on=date(2026, 2, 2))
    auth.login("commission")
    response = decide(client, "validate", [referral], decided_on="2026-01-10")
    assert response.status_code == 200
    assert "Date de décision : elle ne peut pas être antérieure à la date de prescription " \
        "(02/02/2026)" in text_of(response)
    assert "Impossible de valider" in text_of(response)
    assert referral_of(app, referral).status is ReferralStatus.PENDING


def test_reject_needs_a_reason(client, auth, app, users):
    referral = new_referral(app, "PLIE-L1")
    auth.login("commission")
    response = decide(client, "reject", [referral], decided_on="2026-03-01", reason="  ")
    assert response.status_code == 200
    assert "Motif du refus" in text_of(response)
    assert referral_of(app, referral).status is ReferralStatus.PENDING

    response = decide(client, "reject", [referral], decided_on="2026-03-01",
                      reason="Hors critères PLIE")
    assert response.status_code == 302
    row = referral_of(app, referral)
    assert (row.status, row.decision_reason) == (ReferralStatus.REJECTED, "Hors critères PLIE")
    assert status_changes(app, "referrals", referral, users["commission"]) == \
        [["pending", "rejected"]]


# --- issue 20 §7: the commission's session ---------------------------------------------

def new_commission(app, code: str, held_on: date) -> int:
    with app.app_context():
        commission = Commission(programme=_programme(code), held_on=held_on)
        db.session.add(commission)
        db.session.commit()
        return commission.id


def commissions_of(app, code: str) -> list[date]:
    with app.app_context():
        return sorted(db.session.scalars(select(Commission.held_on).join(Programme).where(
            Programme.code == code)).all())


def in_days(days: int) -> date:
    return date.fromordinal(date.today().toordinal() + days)


def selected(raw: str, value) -> bool:
    return re.search(rf'<option selected value="{value}">|<option value="{value}" selected',
                     raw) is not None


def test_the_commissions_actions_come_in_the_order_it_takes_them(client, auth, app, users):
    pending = new_referral(app, "PLIE-L1")
    auth.login("commission")
    raw = client.get("/admin/referrals/").get_data(as_text=True)
    menu = re.findall(r'data-model-action="(\w+)"', raw)
    assert menu[:5] == ["validate", "defer", "reject", "withdraw", "not_entered"]
    page = text_of(client.get(f"/admin/referrals/details/?id={pending}"))
    buttons = [page.index(label) for label in ("Valider l'entrée", "Ajourner", "Refuser",
                                               "Enregistrer un désistement")]
    assert buttons == sorted(buttons)


def test_one_confirmation_the_actions_page(client, auth, app, users):
    """The list's menu asks no browser confirmation before an action's page: that page,
    with the selected records and one button, is the confirmation."""
    first, second = new_referral(app, "PLIE-L1"), new_referral(app, "PLIE-L1")
    auth.login("commission")
    raw = client.get("/admin/referrals/").get_data(as_text=True)
    for text in ("Valider l'entrée des prescriptions", "Ajourner les prescriptions",
                 "Refuser les prescriptions"):
        assert text not in raw
    for name in ("validate", "defer", "reject"):
        response = bulk(client, "referrals", name, [first, second])
        assert response.headers["Location"].startswith(
            f"/admin/referrals/decide/?action={name}&ids={first},{second}")
    assert referral_of(app, first).status is ReferralStatus.PENDING  # nothing done yet


def test_todays_commission_is_offered(client, auth, app, users):
    referral = new_referral(app, "DEL-L1")
    new_commission(app, "DEL-L1", date(2026, 2, 20))
    new_commission(app, "DEL-L1", in_days(10))
    today = new_commission(app, "DEL-L1", date.today())
    auth.login("commission")
    for name in ("validate", "defer", "reject"):
        raw = client.get(f"/admin/referrals/decide/?action={name}&ids={referral}") \
            .get_data(as_text=True)
        assert selected(raw, today), name
        assert 'value="new"' not in raw  # today's exists: no second one offered


def test_todays_commission_is_created_with_the_validation(client, auth, app, users):
    first, second = new_referral(app, "DEL-L1"), new_referral(app, "DEL-L1")
    new_commission(app, "DEL-L1", date(2026, 2, 20))  # an older one: not proposed
    auth.login("commission")
    raw = client.get(f"/admin/referrals/decide/?action=validate&ids={first},{second}") \
        .get_data(as_text=True)
    assert selected(raw, "new")
    assert "Nouvelle commission DEL-L1 à la date de la décision" in raw
    response = decide(client, "validate", [first, second], decided_on=date.today().isoformat(),
                      commission="new", validated_months="7")
    assert response.status_code == 302
    assert commissions_of(app, "DEL-L1") == [date(2026, 2, 20), date.today()]
    assert referral_of(app, first).commission_id == referral_of(app, second).commission_id
    assert referral_of(app, first).status is ReferralStatus.VALIDATED


def test_a_refused_validation_creates_no_commission(client, auth, app, users):
    good = new_referral(app, "DEL-L1")
    rejected = new_referral(app, "DEL-L1", status=ReferralStatus.REJECTED)
    auth.login("commission")
    response = decide(client, "validate", [good, rejected], decided_on=date.today().isoformat(),
                      commission="new", validated_months="7")
    assert response.status_code == 200 and "Impossible de valider" in text_of(response)
    assert commissions_of(app, "DEL-L1") == []  # one transaction: nothing half-written
    assert referral_of(app, good).status is ReferralStatus.PENDING


def test_defer_asks_the_reason_and_the_commission_it_is_deferred_to(client, auth, app, users):
    first, second = new_referral(app, "PLIE-L1"), new_referral(app, "PLIE-L1")
    sooner = new_commission(app, "PLIE-L1", in_days(14))
    new_commission(app, "PLIE-L1", in_days(40))
    auth.login("commission")
    response = bulk(client, "referrals", "defer", [first, second])
    raw = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Motif de l&#39;ajournement" in raw and 'name="deferred_to"' in raw
    assert 'name="next_commission_on"' in raw
    assert selected(raw, sooner)  # the next planned commission is proposed

    today = date.today().isoformat()
    response = decide(client, "defer", [first, second], decided_on=today, commission="",
                      reason="  ", deferred_to=str(sooner))
    assert response.status_code == 200 and "Motif de l'ajournement" in text_of(response)
    assert referral_of(app, first).status is ReferralStatus.PENDING

    response = decide(client, "defer", [first, second], decided_on=today, commission="",
                      reason="Pièces manquantes : attestation France Travail",
                      deferred_to=str(sooner))
    assert response.status_code == 302
    message = text_of(client.get("/admin/referrals/"))
    assert "2 prescriptions ajournées, reportées à la Commission PLIE-L1 du " \
        f"{in_days(14):%d/%m/%Y}." in message
    for referral_id in (first, second):
        row = referral_of(app, referral_id)
        assert (row.status, row.decision_reason, row.deferred_to_id) == (
            ReferralStatus.DEFERRED, "Pièces manquantes : attestation France Travail", sooner)
        assert status_changes(app, "referrals", referral_id, users["commission"]) == \
            [["pending", "deferred"]]
    page = text_of(client.get(f"/admin/referrals/details/?id={first}"))
    assert "Reportée à la commission" in page and "Pièces manquantes" in page

    # Deferring again is refused by the state machine, in French, nothing changes.
    response = decide(client, "defer", [first], decided_on=today, reason="Encore",
                      deferred_to=str(sooner))
    assert "Impossible d'ajourner : Prescription n°" in text_of(response)
    assert "n'est pas possible au statut « Ajournée »" in text_of(response)


def test_defer_to_a_new_commission_creates_it_in_the_same_transaction(
        client, auth, app, users):
    referral = new_referral(app, "PLIE-L1")
    auth.login("commission")
    today = date.today()
    response = decide(client, "defer", [referral], decided_on=today.isoformat(),
                      commission="", reason="Absent", deferred_to="",
                      next_commission_on=today.isoformat())
    assert "Commission de report : elle doit se tenir après la décision" in text_of(response)
    response = decide(client, "defer", [referral], decided_on=today.isoformat(),
                      commission="", reason="Absent", deferred_to="", next_commission_on="")
    assert "Commission de report : obligatoire" in text_of(response)
    assert commissions_of(app, "PLIE-L1") == []
    assert referral_of(app, referral).status is ReferralStatus.PENDING

    response = decide(client, "defer", [referral], decided_on=today.isoformat(),
                      commission="", reason="Absent", deferred_to="",
                      next_commission_on=f"{in_days(21):%d/%m/%Y}")
    assert response.status_code == 302
    assert commissions_of(app, "PLIE-L1") == [in_days(21)]
    with app.app_context():
        row = db.session.get(Referral, referral)
        assert (row.status, row.deferred_to.held_on) == (ReferralStatus.DEFERRED, in_days(21))


def list_ids(raw: str) -> set[int]:
    return {int(i) for i in re.findall(r'name="rowid"[^>]*value="(\d+)"', raw)}


def test_deferred_referrals_stay_in_the_commissions_working_view(client, auth, app, users):
    deferred, pending = new_referral(app, "PLIE-L1"), new_referral(app, "PLIE-L1")
    decided = new_referral(app, "PLIE-L1", status=ReferralStatus.REJECTED)
    commission = new_commission(app, "PLIE-L1", in_days(7))
    auth.login("commission")
    home = client.get("/admin/").get_data(as_text=True)
    link = re.search(r'href="([^"]+)"[^>]*>(?:(?!</a>).)*prescriptions à décider', home,
                     re.S)
    working_view = html.unescape(link.group(1))
    assert list_ids(client.get(working_view).get_data(as_text=True)) == {deferred, pending}
    decide(client, "defer", [deferred], decided_on=date.today().isoformat(), reason="Absent",
           deferred_to=str(commission))
    assert referral_of(app, deferred).status is ReferralStatus.DEFERRED
    raw = client.get(working_view).get_data(as_text=True)
    assert list_ids(raw) == {deferred, pending} and decided not in list_ids(raw)


def row_offers(raw: str, name: str, referral_id: int) -> bool:
    return re.search(rf"action={name}&amp;ids={referral_id}(&|\")", raw) is not None


@pytest.mark.parametrize(("status", "offered"), [
    (ReferralStatus.PENDING, {"validate", "defer", "reject"}),
    (ReferralStatus.DEFERRED, {"validate", "reject"}),
    (ReferralStatus.REJECTED, set()),
    (ReferralStatus.WITHDRAWN, set()),
])
def test_a_row_offers_only_the_actions_that_can_succeed(client, auth, app, users, status,
                                                        offered):
    """rules/lifecycle.py REFERRAL_TRANSITIONS: a row's icons are the decisions its status
    allows; the others are not offered (issue 20 §7)."""
    referral = new_referral(app, "PLIE-L1", status=status)
    auth.login("commission")
    raw = client.get("/admin/referrals/").get_data(as_text=True)
    assert {name for name in ("validate", "defer", "reject")
            if row_offers(raw, name, referral)} == offered


def test_the_decision_icons_are_not_offered_to_a_coordinator(client, auth, app, users):
    referral = new_referral(app, "PLIE-L1")
    auth.login("coordinator")
    raw = client.get("/admin/referrals/").get_data(as_text=True)
    assert not any(row_offers(raw, name, referral) for name in ("validate", "defer", "reject"))


def test_a_coordinator_may_not_defer_nor_create_a_commission(client, auth, app, users):
    referral = new_referral(app, "PLIE-L1")
    auth.login("coordinator")
    url = f"/admin/referrals/decide/?action=defer&ids={referral}"
    assert client.get(url).status_code == 403
    response = client.post(url, data={
        "decided_on": date.today().isoformat(), "reason": "Absent", "commission": "new",
        "next_commission_on": in_days(7).isoformat()})
    assert response.status_code == 403
    assert commissions_of(app, "PLIE-L1") == []
    row = referral_of(app, referral)
    assert (row.status, row.deferred_to_id, row.decision_reason) == (
        ReferralStatus.PENDING, None, None)


def test_referral_page_offers_the_decisions_its_status_allows(client, auth, app, users):
    pending = new_referral(app, "PLIE-L1")
    auth.login("commission")
    page = text_of(client.get(f"/admin/referrals/details/?id={pending}"))
    for label in ("Valider l'entrée", "Refuser", "Ajourner", "Enregistrer un désistement",
                  "Enregistrer une non-entrée"):
        assert label in page, label
    assert "Démarrer le parcours" not in page  # pending, and the coordinator's action
    raw = client.get(f"/admin/referrals/decide/?action=defer&ids={pending}") \
        .get_data(as_text=True)
    assert 'name="commission"' in raw and 'name="validated_months"' not in raw
    later = new_commission(app, "PLIE-L1", in_days(7))
    response = decide(client, "defer", [pending], decided_on=date.today().isoformat(),
                      commission="",
                      reason="Absent", deferred_to=str(later))
    assert response.status_code == 302
    assert referral_of(app, pending).status is ReferralStatus.DEFERRED
    page = text_of(client.get(f"/admin/referrals/details/?id={pending}"))
    assert "Ajourner" not in page.split("Filtre")[0] and "Valider l'entrée" in page


def test_withdrawal_creates_the_linked_replacement_referral(client, auth, app, users):
    referral = new_referral(app, "DEL-L1", status=ReferralStatus.VALIDATED, months=7)
    with app.app_context():
        replacement_person = _person().id
        db.session.commit()
    auth.login("commission")
    page = client.get(f"/admin/referrals/decide/?action=withdraw&ids={referral}")
    assert 'data-role="select2-ajax"' in page.get_data(as_text=True)  # searchable select
    response = decide(client, "withdraw", [referral], decided_on="2026-03-05",
                      reason="Déménagement", replacement=str(replacement_person))
    assert response.status_code == 302
    row = referral_of(app, referral)
    assert row.status is ReferralStatus.WITHDRAWN
    with app.app_context():
        new = db.session.scalar(select(Referral).where(Referral.replaces_id == referral))
        assert (new.beneficiary_id, new.status, new.programme.code) == \
            (replacement_person, ReferralStatus.PENDING, "DEL-L1")
    assert status_changes(app, "referrals", referral, users["commission"]) == \
        [["validated", "withdrawn"]]


def test_withdrawing_with_the_same_person_as_replacement_is_refused(client, auth, app, users):
    referral = new_referral(app, "DEL-L1", status=ReferralStatus.VALIDATED, months=7)
    same = referral_of(app, referral).beneficiary_id
    auth.login("commission")
    response = decide(client, "withdraw", [referral], decided_on="2026-03-05",
                      replacement=str(same))
    assert "Candidat de remplacement : choisir une autre personne" in text_of(response)
    assert referral_of(app, referral).status is ReferralStatus.VALIDATED
    assert count(app, Referral) == 1


def test_non_entry_records_the_barriers(client, auth, app, users):
    referral = new_referral(app, "DEL-L1", status=ReferralStatus.VALIDATED, months=7)
    housing = row_id(app, BarrierType, code="housing")
    mobility = row_id(app, BarrierType, code="mobility")
    auth.login("commission")
    response = decide(client, "not_entered", [referral], decided_on="2026-03-05")
    assert "Freins ayant empêché l'entrée : obligatoire." in text_of(response)
    assert referral_of(app, referral).status is ReferralStatus.VALIDATED

    response = decide(client, "not_entered", [referral], decided_on="2026-03-05",
                      barrier_types=[str(housing), str(mobility)], notes="Sans logement")
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Referral, referral)
        assert row.status is ReferralStatus.NOT_ENTERED
        assert sorted(b.code for b in row.non_entry_barriers) == ["housing", "mobility"]
    assert status_changes(app, "referrals", referral, users["commission"]) == \
        [["validated", "not_entered"]]


# --- purchase orders and start of a path ----------------------------------------------------

def test_purchase_order_from_validated_referrals(client, auth, app, users):
    first = new_referral(app, "DEL-L1", status=ReferralStatus.VALIDATED, months=6)
    second = new_referral(app, "DEL-L1", status=ReferralStatus.VALIDATED, months=8)
    auth.login("coordinator")
    response = bulk(client, "referrals", "create_purchase_order", [first, second])
    assert "/admin/referrals/decide/?action=create_purchase_order" in response.headers["Location"]
    raw = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="number"' in raw and 'name="company_name"' not in raw  # ARJLJ only
    response = decide(client, "create_purchase_order", [first, second], number="BC-2026-01",
                      issued_on="2026-03-03")
    assert response.status_code == 302
    with app.app_context():
        order = db.session.scalars(select(PurchaseOrder)).one()
        assert (order.number, order.beneficiary_count, order.programme.code) == \
            ("BC-2026-01", 2, "DEL-L1")
        assert sorted(line.duration_months for line in order.lines) == [6, 8]
        created = db.session.scalar(select(AuditEntry).where(
            AuditEntry.table_name == "purchase_orders", AuditEntry.action == "create"))
        assert created.user_id == users["coordinator"]


def test_arjlj_order_needs_the_company(client, auth, app, users):
    referral = new_referral(app, "ARJLJ", status=ReferralStatus.VALIDATED)
    auth.login("coordinator")
    raw = client.get(f"/admin/referrals/decide/?action=create_purchase_order&ids={referral}") \
        .get_data(as_text=True)
    assert 'name="company_name"' in raw and 'name="support_start_on"' in raw
    response = decide(client, "create_purchase_order", [referral], number="BC-9",
                      issued_on="2026-03-03")
    assert response.status_code == 200
    assert "Impossible de créer le bon de commande : Entreprise et date de début : " \
        "obligatoires pour un bon de commande ARJLJ" in text_of(response)
    assert count(app, PurchaseOrder) == 0
    response = decide(client, "create_purchase_order", [referral], number="BC-9",
                      issued_on="2026-03-03", company_name="Menuiserie Dupont (LJ)",
                      support_start_on="2026-03-04")
    assert response.status_code == 302
    assert count(app, PurchaseOrder) == 1


def test_pending_referral_cannot_go_on_an_order(client, auth, app, users):
    referral = new_referral(app, "DEL-L1")
    auth.login("coordinator")
    response = decide(client, "create_purchase_order", [referral], number="BC-1",
                      issued_on="2026-03-03")
    assert "seules les prescriptions validées entrent sur un bon de commande" in text_of(response)
    assert count(app, PurchaseOrder) == 0


def test_start_path_from_a_validated_referral(client, auth, app, users):
    referral = new_referral(app, "DEL-L1", status=ReferralStatus.VALIDATED, months=7,
                            referred_on=date(2026, 1, 5))
    auth.login("coordinator")
    details = client.get(f"/admin/referrals/details/?id={referral}").get_data(as_text=True)
    assert "Démarrer le parcours" in details
    assert f"/admin/referrals/decide/?action=start_path&amp;ids={referral}" in details
    assert "fa fa-play-circle" in client.get("/admin/referrals/").get_data(as_text=True)
    form = client.get(f"/admin/referrals/decide/?action=start_path&ids={referral}") \
        .get_data(as_text=True)
    assert "Test Référent" in form  # the counsellors are offered as referents

    response = decide(client, "start_path", [referral], entry_date="2026-01-15",
                      referent=str(users["counsellor"]), programme_session="",
                      purchase_order="")
    assert response.status_code == 302
    with app.app_context():
        path = db.session.scalars(select(Enrolment)).one()
        # 001: 7 months from 15/01 → 14/08/2026 inclusive
        assert (path.referral_id, path.referent_id, path.status, path.current_phase.code,
                path.planned_end_date) == (referral, users["counsellor"],
                                           EnrolmentStatus.ACTIVE, "etape_1", date(2026, 8, 14))
        created = db.session.scalar(select(AuditEntry).where(
            AuditEntry.table_name == "enrolments", AuditEntry.action == "create"))
        assert created.user_id == users["coordinator"]
        assert created.changes["status"] == [None, "active"]
    assert response.headers["Location"] == f"/admin/enrolments/details/?id={path.id}"
    assert "fin prévue le 14/08/2026" in text_of(client.get(response.headers["Location"]))
    # Started once: neither the list's icon nor the record's button offers it again.
    assert "fa fa-play-circle" not in client.get("/admin/referrals/").get_data(as_text=True)
    details = client.get(f"/admin/referrals/details/?id={referral}").get_data(as_text=True)
    assert "action=start_path" not in details


def test_start_path_in_the_future_is_refused(client, auth, app, users):
    referral = new_referral(app, "DEL-L1", status=ReferralStatus.VALIDATED, months=7)
    auth.login("coordinator")
    response = decide(client, "start_path", [referral], entry_date="2099-01-15",
                      referent="", programme_session="", purchase_order="")
    assert "Impossible de démarrer le parcours : Date d'entrée : elle ne peut pas être dans " \
        "le futur" in text_of(response)
    assert count(app, Enrolment) == 0


# --- phases, suspensions ------------------------------------------------------------------

def test_counsellor_moves_their_path_to_the_next_phase(client, auth, app, users):
    path = new_path(app, "CSP", users["counsellor"])
    auth.login("counsellor")
    details = client.get(f"/admin/enrolments/details/?id={path}").get_data(as_text=True)
    assert "Passer à la phase suivante" in details and "Suspendre" in details
    assert "Clôturer avec un type de sortie" not in details  # the coordinator's action
    response = transition(client, "next_phase", [path], on_date="2026-03-05")
    assert response.status_code == 302
    assert path_state(app, path)["phase"] == "phase_1"
    with app.app_context():
        phase_ids = [p.id for p in db.session.get(Enrolment, path).programme.phases]
    assert status_changes(app, "enrolments", path, users["counsellor"], "current_phase_id") \
        == [[phase_ids[0], phase_ids[1]]]
    assert "passage à « Phase 1" in text_of(client.get(response.headers["Location"]))


def test_csp_phase_one_beyond_four_weeks_needs_the_derogation(client, auth, app, users):
    path = new_path(app, "CSP", users["counsellor"])
    auth.login("coordinator")
    transition(client, "next_phase", [path], on_date="2026-03-02")
    before = path_state(app, path)
    response = transition(client, "next_phase", [path], on_date="2026-04-06")  # 35 days
    assert response.status_code == 200
    assert "Impossible de passer à la phase suivante : Durée de la phase : 35 jours, au-delà " \
        "des 28 jours prévus ; cocher la dérogation" in text_of(response)
    assert path_state(app, path) == before
    response = transition(client, "next_phase", [path], on_date="2026-04-06", derogation="y")
    assert response.status_code == 302
    assert path_state(app, path)["phase"] == "phase_2"


def test_phase_records_corrected_by_hand_keep_one_phase_at_a_time(client, auth, app, users):
    """/admin/phase-records/: corrections are checked (002 §4) and the path's current
    phase follows its records."""
    path = new_path(app, "CSP", users["counsellor"])  # in « prebilan » since 02/03/2026
    prebilan = row_id(app, PhaseRecord, enrolment_id=path)
    first, second = (row_id(app, Phase, code=code, programme_id=_programme_id(app, "CSP"))
                     for code in ("phase_1", "phase_2"))
    del_phase = row_id(app, Phase, programme_id=_programme_id(app, "DEL-L1"))

    def record(phase, started_on, ended_on=""):
        return {"enrolment": str(path), "phase": str(phase), "started_on": started_on,
                "ended_on": ended_on}

    auth.login("coordinator")
    assert post_edit(client, f"/admin/phase-records/edit/?id={prebilan}", {
        **record(row_id(app, Phase, code="prebilan"), "2026-03-02", "2026-03-06")}
    ).status_code == 302
    assert client.post("/admin/phase-records/new/", data=record(first, "2026-03-06")) \
        .status_code == 302
    assert path_state(app, path)["phase"] == "phase_1"

    response = client.post("/admin/phase-records/new/", data=record(second, "2026-03-20"))
    assert "Période de la phase : elle chevauche « Phase 1 — Co-construction du plan " \
        "d'action et du projet professionnel » du 06/03/2026 (en cours)" in text_of(response)
    response = client.post("/admin/phase-records/new/", data=record(del_phase, "2026-04-01"))
    assert "n'est pas une phase du dispositif CSP." in text_of(response)
    assert (path_state(app, path)["phases"], path_state(app, path)["phase"]) == (2, "phase_1")

    opened = row_id(app, PhaseRecord, enrolment_id=path, phase_id=first)
    assert client.post("/admin/phase-records/delete/", data={"id": opened}).status_code == 302
    assert (path_state(app, path)["phases"], path_state(app, path)["phase"]) == (1, "prebilan")


def _programme_id(app, code: str) -> int:
    return row_id(app, Programme, code=code)


def path_edit(app, client, path: int, **changes):
    """Post the path's edit form as a browser would, with ``changes``."""
    with app.app_context():
        row = db.session.get(Enrolment, path)
        data = {"beneficiary": str(row.beneficiary_id), "programme": str(row.programme_id),
                "referral": str(row.referral_id or ""), "session": "__None",
                "purchase_order": "", "referent": str(row.referent_id or ""),
                "entry_date": f"{row.entry_date:%Y-%m-%d}", "version_seen": str(row.version),
                "csp_adhesion_on": f"{row.csp_adhesion_on:%Y-%m-%d}" if row.csp_adhesion_on
                else "",
                "exit_type": "__None", "contract_kind": "__None",
                "followup_contract_kind": "__None"}
    return client.post(f"/admin/enrolments/edit/?id={path}", data={**data, **changes})


def test_a_corrected_entry_date_moves_the_first_phase_and_the_planned_end(
        client, auth, app, users):
    # entry 02/03/2026, referred 02/02; an experimental public (no CSP adhesion, 002 II §2):
    # the 12 months run from the entry
    path = new_path(app, "CSP", users["counsellor"], experimental_csp_public=True)
    before = path_state(app, path)
    auth.login("coordinator")
    assert path_edit(app, client, path, entry_date="2026-03-09").status_code == 302
    with app.app_context():
        row = db.session.get(Enrolment, path)
        assert [r.started_on for r in row.phase_records] == [date(2026, 3, 9)]
        assert row.planned_end_date > before["planned_end"]


def test_the_csp_adhesion_is_typed_in_the_path_form_and_checked(client, auth, app, users):
    """Issue 19 point 6: the adhesion date (« Date d'adhésion au CSP ») is in the path's
    form; it ends the support at the latest at the end of the adhesion (002 II §3)."""
    path = new_path(app, "CSP", users["counsellor"])  # entry 02/03/2026, referred 02/02
    assert path_state(app, path)["planned_end"] == date(2027, 2, 1)  # adhesion = orientation
    auth.login("coordinator")
    page = client.get(f"/admin/enrolments/edit/?id={path}").get_data(as_text=True)
    assert "Date d&#39;adhésion au CSP" in page or "Date d'adhésion au CSP" in page
    assert "Copie du contrat CSP transmise à France Travail le" in page
    before = path_state(app, path)
    response = path_edit(app, client, path, csp_adhesion_on="2026-03-05")
    assert "Date d'adhésion au CSP : le 05/03/2026 suit l'entrée en parcours (02/03/2026)" \
        in text_of(response)
    assert path_state(app, path) == before  # nothing changed
    assert path_edit(app, client, path, csp_adhesion_on="2026-02-16").status_code == 302
    with app.app_context():
        assert db.session.get(Enrolment, path).planned_end_date == date(2027, 2, 15)


@pytest.mark.parametrize(("changes", "refused"), [
    ({"entry_date": "2026-01-30"},
     "Date d'entrée : elle ne peut pas précéder la prescription (02/02/2026)."),
    ({"entry_date": "2026-04-06"},
     "Date d'entrée : la suspension (Maladie) commence le 01/04/2026, avant "
     "la nouvelle date d'entrée (06/04/2026)."),
    ({"entry_date": "2099-01-05"}, "Date d'entrée : elle ne peut pas être dans le futur"),
    ({"referral": "other"}, "elle concerne une autre personne que"),
])
def test_a_corrected_path_is_checked_as_a_new_one(client, auth, app, users, changes, refused):
    path = new_path(app, "CSP", users["counsellor"])
    with app.app_context():
        row = db.session.get(Enrolment, path)
        svc.suspend(db.session, row, db.session.scalar(
            select(SuspensionReason).filter_by(code="illness")), date(2026, 4, 1),
            date(2026, 4, 10))
        db.session.commit()
    if changes.get("referral") == "other":
        changes = {"referral": str(new_referral(app, "CSP", ReferralStatus.VALIDATED))}
    before = path_state(app, path)
    auth.login("coordinator")
    response = path_edit(app, client, path, **changes)
    assert response.status_code == 200
    assert refused in text_of(response)
    assert path_state(app, path) == before


def test_a_corrected_entry_may_not_pass_the_exit(client, auth, app, users):
    path = new_path(app, "CSP", users["counsellor"])
    close(app, path, "abandon", date(2026, 3, 20))
    before = path_state(app, path)
    auth.login("coordinator")
    response = path_edit(app, client, path, entry_date="2026-03-23")
    assert "Date de sortie : elle ne peut pas être antérieure à la date d'entrée " \
        "(23/03/2026)." in text_of(response)
    assert path_state(app, path) == before


def test_a_path_stays_editable_when_its_referral_changed_status_later(client, auth, app,
                                                                     users):
    """The referral's status is checked when the path is opened or given another one."""
    path = new_path(app, "CSP", users["counsellor"])
    with app.app_context():
        db.session.get(Enrolment, path).referral.status = ReferralStatus.WITHDRAWN
        db.session.commit()
    auth.login("coordinator")
    assert path_edit(app, client, path, target_job="Cariste").status_code == 302
    with app.app_context():
        assert db.session.get(Enrolment, path).target_job == "Cariste"


def test_a_path_keeps_its_programme(client, auth, app, users):
    path = new_path(app, "CSP", users["counsellor"])
    auth.login("coordinator")
    page = client.get(f"/admin/enrolments/edit/?id={path}").get_data(as_text=True)
    assert re.search(r'<select[^>]*disabled[^>]*name="programme"|<select[^>]*name="programme"'
                     r'[^>]*disabled', page)
    response = path_edit(app, client, path, programme=str(_programme_id(app, "DEL-L1")),
                         target_job="Soudeur")
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Enrolment, path)
        assert (row.programme.code, row.target_job) == ("CSP", "Soudeur")


def referral_edit(app, client, referral_id: int, **changes):
    with app.app_context():
        row = db.session.get(Referral, referral_id)
        data = {"beneficiary": str(row.beneficiary_id), "programme": str(row.programme_id),
                "referred_on": f"{row.referred_on:%Y-%m-%d}", "prescriber_name": "",
                "prescription_place": "", "reason": ""}
    return post_edit(client, f"/admin/referrals/edit/?id={referral_id}", {**data, **changes})


@pytest.mark.parametrize(("changes", "refused"), [
    ({"referred_on": "2026-03-05"},
     "Date de prescription : elle ne peut pas suivre la décision du 02/03/2026."),
    ({"beneficiary": "other"}, "Personne et dispositif : le parcours n° "),
    ({"programme": "DEL-L1"}, "Personne et dispositif : le parcours n° "),
])
def test_a_referral_with_an_open_path_keeps_it_consistent(client, auth, app, users, changes,
                                                          refused):
    path = new_path(app, "CSP", users["counsellor"])  # referred 02/02, decided and entered 02/03
    with app.app_context():
        referral_id = db.session.get(Enrolment, path).referral_id
        if changes.get("beneficiary") == "other":
            changes = {"beneficiary": str(_person().id)}
            db.session.commit()
    if changes.get("programme"):
        changes = {"programme": str(_programme_id(app, changes["programme"]))}
    auth.login("admin")
    response = referral_edit(app, client, referral_id, **changes)
    assert response.status_code == 200
    assert refused in text_of(response)
    assert referral_edit(app, client, referral_id, prescriber_name="Mme Wénéhoua") \
        .status_code == 302
    with app.app_context():
        row = db.session.get(Referral, referral_id)
        path_row = db.session.get(Enrolment, path)
        assert (row.beneficiary_id, row.programme_id, row.referred_on, row.prescriber_name) \
            == (path_row.beneficiary_id, path_row.programme_id, date(2026, 2, 2),
                "Mme Wénéhoua")


def order_form(app, programme_code: str, funder_code: str | None = None, **changes):
    with app.app_context():
        programme = _programme(programme_code)
        funder_id = programme.funder_id if funder_code is None else db.session.scalar(
            select(Funder.id).filter_by(code=funder_code))
        data = {"funder": str(funder_id), "programme": str(programme.id), "number": "BC-77",
                "issued_on": "2026-03-02", "received_on": "", "received_at": "",
                "beneficiary_count": "1", "company_name": "", "support_start_on": ""}
    return {**data, **changes}


@pytest.mark.parametrize(("programme", "funder", "changes", "refused"), [
    ("ARJLJ", None, {}, "Entreprise et date de début : obligatoires pour un bon de commande "
                        "ARJLJ (002 I §3"),
    ("CSP", "DEL", {}, "Financeur : le dispositif CSP est financé par "),
    ("ARJLJ", None, {"company_name": "Menuiserie Dupont (RJ)", "support_start_on": "2026-03-09"},
     None),
    # 002 I §3: the last employee's contract rupture ends the support, not before it starts
    ("ARJLJ", None, {"company_name": "Menuiserie Dupont (RJ)", "support_start_on": "2026-03-09",
                     "last_contract_rupture_on": "2026-03-06"},
     "Rupture du contrat du dernier salarié : le 06/03/2026 précède le début de "
     "l'accompagnement (09/03/2026)"),
    ("CSP", None, {"last_contract_rupture_on": "2026-03-30"},
     "Rupture du contrat du dernier salarié : elle ne concerne que les bons de commande ARJLJ"),
])
def test_an_order_typed_in_its_form_follows_the_rules(client, auth, app, users, programme,
                                                      funder, changes, refused):
    auth.login("coordinator")
    response = client.post("/admin/purchase-orders/new/",
                           data=order_form(app, programme, funder, **changes))
    if refused is None:
        assert response.status_code == 302
        assert count(app, PurchaseOrder) == 1
    else:
        assert refused in text_of(response)
        assert count(app, PurchaseOrder) == 0


def test_the_last_rupture_typed_in_the_order_form_ends_its_paths(client, auth, app, users):
    """Issue 19 point 10, 002 I §3: « La prestation prend fin le jour de la rupture du
    contrat de travail du dernier salarié accompagné » — typed in the order's form, it sets
    the planned end of every path of the order."""
    with app.app_context():
        referral = db.session.get(Referral, new_referral(app, "ARJLJ",
                                                         ReferralStatus.VALIDATED))
        order = svc.create_purchase_order(db.session, [referral], "BC-88", date(2026, 3, 2),
                                          company_name="Menuiserie Dupont (RJ)",
                                          support_start_on=date(2026, 3, 9))
        path = svc.start_path(db.session, referral, date(2026, 3, 10), date(2026, 11, 20),
                              order=order)
        db.session.commit()
        order_id, path_id = order.id, path.id
        assert path.planned_end_date == date(2026, 4, 20)  # 6 weeks from 09/03 → 19/04 Sun
    auth.login("coordinator")
    page = client.get(f"/admin/purchase-orders/edit/?id={order_id}").get_data(as_text=True)
    assert "Rupture du contrat du dernier salarié (ARJLJ)" in page
    response = post_edit(client, f"/admin/purchase-orders/edit/?id={order_id}", order_form(
        app, "ARJLJ", number="BC-88", company_name="Menuiserie Dupont (RJ)",
        support_start_on="2026-03-09", last_contract_rupture_on="2026-04-03"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Enrolment, path_id).planned_end_date == date(2026, 4, 3)


@pytest.mark.parametrize(("case", "refused"), [
    ("other_person", "elle concerne une autre personne que"),
    ("other_programme", "elle oriente vers le dispositif DEL-L1, pas vers CSP."),
    ("pending", None),  # 002 II §3: a CSP order comes with the referrals, undecided
    ("on_another_order", "déjà inscrite sur un bon de commande."),
    ("right", None),
])
def test_an_order_line_typed_in_its_form_matches_its_referral(client, auth, app, users, case,
                                                              refused):
    referral_id = new_referral(app, "DEL-L1" if case == "other_programme" else "CSP",
                               ReferralStatus.PENDING if case == "pending"
                               else ReferralStatus.VALIDATED)
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        csp = _programme("CSP")
        order = PurchaseOrder(funder_id=csp.funder_id, programme=csp, number="BC-1",
                              issued_on=date(2026, 3, 2), beneficiary_count=1)
        db.session.add(order)
        if case == "on_another_order":
            other = PurchaseOrder(funder_id=csp.funder_id, programme=csp, number="BC-2",
                                  issued_on=date(2026, 3, 2), beneficiary_count=1)
            other.lines.append(PurchaseOrderLine(beneficiary_id=referral.beneficiary_id,
                                                 referral=referral))
            db.session.add(other)
        person = _person() if case == "other_person" else referral.beneficiary
        db.session.commit()
        data = {"order": str(order.id), "beneficiary": str(person.id),
                "referral": str(referral_id), "duration_months": ""}
        lines_before = count(app, PurchaseOrderLine)
    auth.login("coordinator")
    response = client.post("/admin/purchase-order-lines/new/", data=data)
    if refused is None:
        assert response.status_code == 302
        assert count(app, PurchaseOrderLine) == lines_before + 1
    else:
        assert refused in text_of(response)
        assert count(app, PurchaseOrderLine) == lines_before


def suspension_form(path: int, reason: int, starts_on: str, ends_on: str = "") -> dict:
    return {"enrolment": str(path), "reason": str(reason), "starts_on": starts_on,
            "ends_on": ends_on, "notes": ""}


def test_a_suspension_typed_in_its_form_suspends_the_path_and_moves_its_end(
        client, auth, app, users):
    """The create form of /admin/suspensions/ does what « Suspendre » does (002 §3), and
    correcting or deleting a suspension computes the planned end again."""
    path = new_path(app, "CSP", users["counsellor"], experimental_csp_public=True)
    base = path_state(app, path)["planned_end"]
    work = row_id(app, SuspensionReason, code="short_job")  # pushes an experimental's end
    auth.login("coordinator")
    response = client.post("/admin/suspensions/new/", data=suspension_form(
        path, work, "2026-04-01", "2026-04-30"))
    assert response.status_code == 302
    state = path_state(app, path)
    assert (state["status"], state["suspensions"]) == (EnrolmentStatus.SUSPENDED, 1)
    pushed = state["planned_end"]
    assert (pushed - base).days >= 30  # 30 days of work, then the next working day

    suspension = row_id(app, Suspension, enrolment_id=path)
    response = post_edit(client, f"/admin/suspensions/edit/?id={suspension}", suspension_form(
        path, work, "2026-04-01", "2026-04-10"))
    assert response.status_code == 302
    shorter = path_state(app, path)["planned_end"]
    assert base < shorter < pushed

    response = post_edit(client, f"/admin/suspensions/edit/?id={suspension}", suspension_form(
        path, work, "2026-02-20", "2026-04-10"))
    assert "Début de la suspension : il ne peut pas précéder l'entrée (02/03/2026)" \
        in text_of(response)
    assert path_state(app, path)["planned_end"] == shorter

    assert client.post("/admin/suspensions/delete/", data={"id": suspension}).status_code == 302
    state = path_state(app, path)
    assert (state["suspensions"], state["planned_end"]) == (0, base)


def test_a_suspension_typed_in_its_form_is_refused_like_suspend(client, auth, app, users):
    path = new_path(app, "CSP", users["counsellor"])
    illness = row_id(app, SuspensionReason, code="illness")
    auth.login("coordinator")
    assert client.post("/admin/suspensions/new/", data=suspension_form(
        path, illness, "2026-04-01", "2026-04-20")).status_code == 302
    response = client.post("/admin/suspensions/new/", data=suspension_form(
        path, illness, "2026-05-01"))
    assert response.status_code == 200
    assert "« Suspendu »" in text_of(response)  # already suspended: the state machine refuses
    assert path_state(app, path)["suspensions"] == 1


def test_suspend_and_resume(client, auth, app, users):
    path = new_path(app, "CSP", users["counsellor"])
    planned_end = path_state(app, path)["planned_end"]
    illness = row_id(app, SuspensionReason, code="illness")
    auth.login("coordinator")
    raw = client.get(f"/admin/enrolments/transition/?action=suspend&ids={path}") \
        .get_data(as_text=True)
    assert "Maladie" in raw and "Congés" in raw
    response = transition(client, "suspend", [path], reason=str(illness),
                          starts_on="2026-04-01", ends_on="2026-03-20")
    assert response.status_code == 200
    assert "Impossible de suspendre : Fin de la suspension : elle ne peut pas être antérieure " \
        "à son début (01/04/2026)" in text_of(response)
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE

    response = transition(client, "suspend", [path], reason=str(illness),
                          starts_on="2026-04-01", ends_on="2026-04-20", notes="Arrêt")
    assert response.status_code == 302
    state = path_state(app, path)
    assert (state["status"], state["suspensions"], state["planned_end"]) == \
        (EnrolmentStatus.SUSPENDED, 1, planned_end)  # 002 §3: the end does not move
    assert status_changes(app, "enrolments", path, users["coordinator"]) == \
        [["active", "suspended"]]

    # Suspended: suspending again is refused by the state machine.
    response = transition(client, "suspend", [path], reason=str(illness), starts_on="2026-05-01")
    assert "Impossible de suspendre : Statut du parcours" in text_of(response)

    response = transition(client, "resume", [path], on_date="2026-04-21")
    assert response.status_code == 302
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE
    assert status_changes(app, "enrolments", path, users["coordinator"])[-1] == \
        ["suspended", "active"]


def test_bulk_suspension_goes_through_the_form(client, auth, app, users):
    first = new_path(app, "CSP", users["counsellor"])
    second = new_path(app, "CSP", users["counsellor"])
    leave = row_id(app, SuspensionReason, code="leave")
    auth.login("coordinator")
    response = bulk(client, "enrolments", "suspend", [first, second])
    assert response.headers["Location"].startswith(
        f"/admin/enrolments/transition/?action=suspend&ids={first},{second}")
    response = transition(client, "suspend", [first, second], reason=str(leave),
                          starts_on="2026-06-01", ends_on="2026-06-15")
    assert response.status_code == 302
    assert {path_state(app, p)["status"] for p in (first, second)} == {EnrolmentStatus.SUSPENDED}
    assert count(app, Suspension) == 2


# --- abandon, exit, follow-up ----------------------------------------------------------------

def test_coordinator_declares_an_abandon(client, auth, app, users):
    path = new_path(app, "PLIE-L1", users["counsellor"])
    auth.login("coordinator")
    response = transition(client, "declare_abandon", [path], on_date="2026-05-04",
                          reason="bogus")
    assert response.status_code == 200
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE
    response = transition(client, "declare_abandon", [path], on_date="2026-05-04",
                          reason="loss_of_contact", difficulties="Injoignable")
    assert response.status_code == 302
    state = path_state(app, path)
    # 004 « Sortie de l'action »: a PLIE abandon is a PLIE exit motive
    assert (state["status"], state["exit_type"], state["closed_on"]) == \
        (EnrolmentStatus.CLOSED, "loss_of_contact", date(2026, 5, 4))
    assert status_changes(app, "enrolments", path, users["coordinator"]) == \
        [["active", "closed"]]
    assert "Abandon déclaré (Perte de contact" in text_of(client.get("/admin/enrolments/"))
    # the reason in French on the path's page, never its code (issue 19 §13)
    for page in (f"/admin/enrolments/details/?id={path}", f"/admin/enrolments/edit/?id={path}"):
        shown = text_of(client.get(page))
        assert "Perte de contact ou relances sans réponse" in shown, page
        assert "loss_of_contact" not in shown, page


def test_abandon_before_entry_is_refused(client, auth, app, users):
    path = new_path(app, "PLIE-L1", users["counsellor"])
    auth.login("admin")
    response = transition(client, "declare_abandon", [path], on_date="2026-01-01",
                          reason="moved")
    assert "Impossible de déclarer l'abandon : Date de sortie : elle ne peut pas être " \
        "antérieure à la date d'entrée (02/03/2026)" in text_of(response)
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE


def test_abandon_before_an_internship_is_refused_with_its_name(client, auth, app, users):
    path = new_path(app, "PLIE-L1", users["counsellor"])
    with app.app_context():
        db.session.add(Internship(enrolment_id=path, company_name="Ressourcerie de Lunel",
                                  starts_on=date(2026, 5, 11), ends_on=date(2026, 5, 15)))
        db.session.commit()
    auth.login("coordinator")
    response = transition(client, "declare_abandon", [path], on_date="2026-05-04",
                          reason="moved")
    assert "Impossible de déclarer l'abandon : Date de sortie : le stage chez Ressourcerie " \
        "de Lunel commence le 11/05/2026, après la date de sortie (04/05/2026)" \
        in text_of(response)
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE


def test_close_with_exit_asks_only_the_facts_of_the_type(client, auth, app, users):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    cdd = row_id(app, ExitType, code="cdd")
    auth.login("coordinator")
    step_one = client.get(f"/admin/enrolments/transition/?action=close_with_exit&ids={path}")
    raw = step_one.get_data(as_text=True)
    assert 'method="get"' in raw and 'name="exit_type"' in raw
    assert re.search(r'<option value="\d+">CDD', raw)
    assert "POE" not in text_of(step_one)  # a CSP exit, not offered for DEL
    step_two = client.get(f"/admin/enrolments/transition/?action=close_with_exit&ids={path}"
                          f"&exit_type={cdd}").get_data(as_text=True)
    for shown in ("exit_date", "contract_months", "employer", "goal_attainment",
                  "satisfaction"):
        assert f'name="{shown}"' in step_two, shown
    for hidden in ("hours_per_month", "training_title", "followup_contract_kind",
                   "difficulties"):
        assert f'name="{hidden}"' not in step_two, hidden
    assert "3 — Objectifs atteints" in step_two and "5 — Très satisfait" in step_two
    assert "Choisir un autre type" in step_two


def test_close_with_a_durable_job_opens_the_follow_up_then_ends_it(client, auth, app, users):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    cdd = row_id(app, ExitType, code="cdd")
    auth.login("coordinator")
    response = transition(client, "close_with_exit", [path], exit_type=str(cdd),
                          exit_date="2026-10-01", contract_months="8",
                          employer="Boulangerie du Port", goal_attainment="3",
                          satisfaction="4")
    # 001 « Description »: closed at its end without a company internship, it says why
    assert response.status_code == 200
    assert "Motif de l'absence de stage en entreprise : obligatoire" in text_of(response)
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE
    response = transition(client, "close_with_exit", [path], exit_type=str(cdd),
                          exit_date="2026-10-01", contract_months="8",
                          employer="Boulangerie du Port", goal_attainment="3",
                          satisfaction="4",
                          no_internship_reason="Embauché avant le stage prévu")
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Sortie classée : emploi durable (ED)" in page
    # 001 étape 3: « dans la limite d'une période de trois mois »
    assert "suivi à l'issue du parcours (étape 3) jusqu'au 01/01/2027" in page
    state = path_state(app, path)
    assert (state["status"], state["exit_type"], state["phase"], state["follow_up_end"]) == \
        (EnrolmentStatus.FOLLOW_UP, "cdd", "etape_3", date(2027, 1, 1))
    assert status_changes(app, "enrolments", path, users["coordinator"]) == \
        [["active", "follow_up"]]
    with app.app_context():
        row = db.session.get(Enrolment, path)
        assert (row.contract_months, row.employer, row.goal_attainment, row.satisfaction,
                row.no_internship_reason) == \
            (8, "Boulangerie du Port", 3, 4, "Embauché avant le stage prévu")

    details = client.get(f"/admin/enrolments/details/?id={path}").get_data(as_text=True)
    assert "Terminer le suivi" in details and "Suspendre" not in details
    response = transition(client, "end_follow_up", [path], on_date="2026-09-01",
                          employed="yes")
    assert "Impossible de terminer le suivi : Fin du suivi : elle ne peut pas précéder la " \
        "sortie (01/10/2026)" in text_of(response)
    response = transition(client, "end_follow_up", [path], on_date="2026-11-02")
    assert "En emploi à la fin du suivi : choisir Oui ou Non" in text_of(response)
    assert path_state(app, path)["status"] is EnrolmentStatus.FOLLOW_UP
    response = transition(client, "end_follow_up", [path], on_date="2026-11-02",
                          employed="yes")
    assert response.status_code == 302
    assert path_state(app, path)["status"] is EnrolmentStatus.CLOSED
    with app.app_context():
        assert db.session.get(Enrolment, path).employed_at_follow_up_end is True
    assert status_changes(app, "enrolments", path, users["coordinator"])[-1] == \
        ["follow_up", "closed"]


def test_exit_before_entry_is_refused_in_french_and_traced(client, auth, app, users):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    before = path_state(app, path)
    cdi = row_id(app, ExitType, code="cdi")
    auth.login("coordinator")
    response = transition(client, "close_with_exit", [path], exit_type=str(cdi),
                          exit_date="2026-03-01", employer="SARL Sud")
    assert response.status_code == 200
    assert "Impossible de clôturer : Date de sortie : elle ne peut pas être antérieure à la " \
        "date d'entrée (02/03/2026)" in text_of(response)
    assert path_state(app, path) == before
    refused = refusals(app, "enrolments")
    assert [(r.row_id, r.user_id) for r in refused] == [(path, users["coordinator"])]
    assert "antérieure à la date d'entrée" in refused[0].detail


def test_missing_exit_facts_are_named(client, auth, app, users):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    cdd = row_id(app, ExitType, code="cdd")
    auth.login("coordinator")
    response = transition(client, "close_with_exit", [path], exit_type=str(cdd),
                          exit_date="2026-10-01")
    page = text_of(response)
    assert "Impossible de clôturer : Durée du contrat (mois) : à renseigner" in page
    assert "Employeur : à renseigner" in page
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE


def test_exit_type_of_another_scheme_is_refused(client, auth, app, users):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    poe = row_id(app, ExitType, code="poe")  # CSP only (002 §6)
    auth.login("coordinator")
    response = transition(client, "close_with_exit", [path], exit_type=str(poe),
                          exit_date="2026-10-01", employer="X", training_title="Y",
                          followup_contract_kind="cdi")
    assert "n'est pas proposé pour le dispositif DEL" in text_of(response)
    assert path_state(app, path)["status"] is EnrolmentStatus.ACTIVE


@pytest.mark.parametrize(("hours", "said", "status"), [
    ("110", "Sortie classée : issue positive CSP", EnrolmentStatus.FOLLOW_UP),
    ("109", "Sortie classée : issue non positive CSP", EnrolmentStatus.CLOSED),
])
def test_csp_part_time_exit_is_classified(client, auth, app, users, hours, said, status):
    path = new_path(app, "CSP", users["counsellor"])
    part_time = row_id(app, ExitType, code="part_time")
    auth.login("admin")
    response = transition(client, "close_with_exit", [path], exit_type=str(part_time),
                          exit_date="2026-09-01", contract_kind="cdi", hours_per_month=hours,
                          employer="SARL Sud")
    assert response.status_code == 302
    assert said in text_of(client.get(response.headers["Location"]))  # 002 §6: ≥ 110 h
    assert path_state(app, path)["status"] is status


def test_poe_asks_the_contract_signed_after_it(client, auth, app, users):
    path = new_path(app, "CSP", users["counsellor"])
    poe = row_id(app, ExitType, code="poe")
    auth.login("coordinator")
    raw = client.get(f"/admin/enrolments/transition/?action=close_with_exit&ids={path}"
                     f"&exit_type={poe}").get_data(as_text=True)
    assert 'name="followup_contract_kind"' in raw and 'name="followup_contract_months"' in raw
    response = transition(client, "close_with_exit", [path], exit_type=str(poe),
                          exit_date="2026-09-01", employer="Garage", training_title="Mécanique",
                          followup_contract_kind="cdd", followup_contract_months="12")
    assert response.status_code == 302
    assert "issue positive CSP" in text_of(client.get(response.headers["Location"]))


def test_rupture_exit_asks_difficulties_and_recommendations(client, auth, app, users):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    abandon = row_id(app, ExitType, code="abandon")
    auth.login("coordinator")
    raw = client.get(f"/admin/enrolments/transition/?action=close_with_exit&ids={path}"
                     f"&exit_type={abandon}").get_data(as_text=True)
    assert 'name="difficulties"' in raw and 'name="recommendations"' in raw
    response = transition(client, "close_with_exit", [path], exit_type=str(abandon),
                          exit_date="2026-05-01")
    assert "Difficultés rencontrées : obligatoires pour une rupture" in text_of(response)
    response = transition(client, "close_with_exit", [path], exit_type=str(abandon),
                          exit_date="2026-05-01", difficulties="Santé",
                          recommendations="Orientation vers un accompagnement santé")
    assert response.status_code == 302
    assert path_state(app, path)["status"] is EnrolmentStatus.CLOSED


def test_bulk_close_refuses_mixed_exit_schemes(client, auth, app, users):
    del_path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    csp_path = new_path(app, "CSP", users["counsellor"])
    auth.login("coordinator")
    response = bulk(client, "enrolments", "close_with_exit", [del_path, csp_path])
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert "typologies de sortie différentes (CSP, DEL)" in text_of(page)


# --- counsellors: their own paths only ----------------------------------------------------

def test_counsellor_cannot_act_on_another_counsellors_path(client, auth, app, users):
    with app.app_context():
        other = make_user(Role.COUNSELLOR, email="autre@exemple.fr", name="Autre").id
        db.session.commit()
    mine = new_path(app, "CSP", users["counsellor"])
    theirs = new_path(app, "CSP", other)
    before = path_state(app, theirs)
    illness = row_id(app, SuspensionReason, code="illness")
    auth.login("counsellor")
    assert client.get(f"/admin/enrolments/transition/?action=next_phase&ids={theirs}") \
        .status_code == 404
    assert transition(client, "next_phase", [theirs], on_date="2026-03-05").status_code == 404
    assert transition(client, "suspend", [mine, theirs], reason=str(illness),
                      starts_on="2026-04-01").status_code == 404
    assert transition(client, "resume", [theirs], on_date="2026-04-01").status_code == 404
    assert path_state(app, theirs) == before
    assert path_state(app, mine)["status"] is EnrolmentStatus.ACTIVE  # the batch did nothing
    # …and their list shows the action icons on their own rows only.
    listing = client.get("/admin/enrolments/").get_data(as_text=True)
    assert f"ids={mine}" in listing and f"ids={theirs}" not in listing
    assert "fa fa-pause" in listing and "fa fa-sign-out" not in listing


# --- the plain edit form cannot move the life cycle ------------------------------------------

def test_edit_form_shows_the_computed_end_and_keeps_the_lifecycle_fields(client, auth, app,
                                                                         users):
    path = new_path(app, "DEL-L1", users["counsellor"], months=7)
    before = path_state(app, path)
    auth.login("coordinator")
    raw = client.get(f"/admin/enrolments/edit/?id={path}").get_data(as_text=True)
    planned_end = re.search(r'<input[^>]*name="planned_end_date"[^>]*>', raw).group(0)
    assert "disabled" in planned_end
    assert f'value="{before["planned_end"].isoformat()}"' in planned_end
    assert "Passer à la phase suivante" in raw and "Clôturer avec un type de sortie" in raw
    with app.app_context():
        row = db.session.get(Enrolment, path)
        form = {"beneficiary": str(row.beneficiary_id), "programme": str(row.programme_id),
                "referral": str(row.referral_id), "session": "__None", "purchase_order": "",
                "referent": str(users["counsellor"]), "entry_date": "2026-03-02",
                "version_seen": str(row.version), "target_job": "Boulanger",
                "status": "closed", "planned_end_date": "2030-01-01",
                "exit_date": "2026-04-01", "current_phase": "__None",
                "exit_type": "__None", "contract_kind": "__None",
                "followup_contract_kind": "__None"}
    assert client.post(f"/admin/enrolments/edit/?id={path}", data=form).status_code == 302
    after = path_state(app, path)
    assert {k: v for k, v in after.items() if k != "version"} == \
        {k: v for k, v in before.items() if k != "version"}
    with app.app_context():
        assert db.session.get(Enrolment, path).target_job == "Boulanger"


# --- CSRF -------------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'csrf.sqlite3'}"})
    with app.app_context():
        db.create_all()
        load_reference(db.session)
        make_user(Role.COORDINATOR)
        make_user(Role.COUNSELLOR)
        make_user(Role.COMMISSION)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _login(client, email):
    token = csrf_token_in(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})


def test_lifecycle_posts_need_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        counsellor = db.session.scalar(select(User.id).where(User.role == Role.COUNSELLOR))
    path = new_path(csrf_app, "PLIE-L1", counsellor)
    referral = new_referral(csrf_app, "PLIE-L1")
    client = csrf_app.test_client()
    _login(client, "coordinator@exemple.fr")
    before = path_state(csrf_app, path)
    url = f"/admin/enrolments/transition/?action=declare_abandon&ids={path}"
    data = {"on_date": "2026-05-04", "reason": "moved"}
    assert client.post(url, data=data).status_code == 400
    assert client.post("/admin/enrolments/action/",
                       data={"action": "declare_abandon", "rowid": [str(path)]}).status_code == 400
    assert path_state(csrf_app, path) == before

    page = client.get(url).get_data(as_text=True)
    token = csrf_token_in(page)
    assert client.post(url, data={**data, "csrf_token": token,
                                  "versions_seen": hidden_value(page, "versions_seen")}
                       ).status_code == 302
    assert path_state(csrf_app, path)["status"] is EnrolmentStatus.CLOSED

    client.post("/logout", data={"csrf_token": token})
    _login(client, "commission@exemple.fr")
    assert client.post("/admin/referrals/action/",
                       data={"action": "defer", "rowid": [str(referral)]}).status_code == 400
    assert referral_of(csrf_app, referral).status is ReferralStatus.PENDING
    token = csrf_token_in(client.get("/admin/referrals/").get_data(as_text=True))
    response = client.post("/admin/referrals/action/",
                           data={"action": "defer", "rowid": [str(referral)],
                                 "csrf_token": token})
    assert response.status_code == 302  # to its form (issue 20 §7), nothing applied yet
    assert response.headers["Location"].startswith(
        f"/admin/referrals/decide/?action=defer&ids={referral}")
    assert referral_of(csrf_app, referral).status is ReferralStatus.PENDING


# --- purchase order reception (issue 3 §3) ------------------------------------------------

def _order(app) -> int:
    with app.app_context():
        programme = _programme("ARJLJ")
        order = PurchaseOrder(funder_id=programme.funder_id, programme=programme,
                              number="BC-ARJLJ-7", issued_on=date(2026, 11, 12),
                              beneficiary_count=12, company_name="Menuiserie du Sud (LJ)",
                              support_start_on=date(2026, 11, 16))
        db.session.add(order)
        db.session.commit()
        return order.id


def receive(client, order_id, **data):
    return post_action(
        client, f"/admin/purchase-orders/receive/?action=receive_purchase_order&ids={order_id}",
        data)


def test_coordinator_receives_an_order_and_it_is_audited(client, auth, app, users):
    order_id = _order(app)
    auth.login("coordinator")
    page = client.get(
        f"/admin/purchase-orders/receive/?action=receive_purchase_order&ids={order_id}")
    assert page.status_code == 200 and "Réceptionner le bon de commande" in text_of(page)
    response = receive(client, order_id, received_at="2026-11-13T10:30")
    assert response.status_code == 302
    with app.app_context():
        order = db.session.get(PurchaseOrder, order_id)
        assert order.received_on == date(2026, 11, 13)
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.table_name == "purchase_orders", AuditEntry.row_id == order_id,
            AuditEntry.action == "update")).one()
        assert entry.user_id == users["coordinator"]
        assert entry.changes["received_on"] == [None, "2026-11-13"]
    again = receive(client, order_id, received_at="2026-11-14T09:00")
    assert "déjà été reçu le 13/11/2026" in text_of(again)
    with app.app_context():
        assert db.session.get(PurchaseOrder, order_id).received_on == date(2026, 11, 13)


@pytest.mark.parametrize("role", ["commission", "counsellor", "viewer"])
def test_other_roles_cannot_receive_an_order(client, auth, app, users, role):
    order_id = _order(app)
    auth.login(role)
    assert receive(client, order_id, received_at="2026-11-13T10:30").status_code == 403
    with app.app_context():
        assert db.session.get(PurchaseOrder, order_id).received_on is None


@pytest.mark.parametrize(("value", "message"), [
    ("2026-11-10T10:00", "Date de réception : elle ne peut pas précéder l'émission du bon"),
    ("2099-01-01T10:00", "Reçu le : elle ne peut pas être dans le futur"),
    ("pas une date", "Reçu le"),
])
def test_invalid_reception_date_is_refused_in_french(client, auth, app, users, value,
                                                     message):
    order_id = _order(app)
    auth.login("coordinator")
    response = receive(client, order_id, received_at=value)
    assert message in text_of(response)
    with app.app_context():
        assert db.session.get(PurchaseOrder, order_id).received_on is None


@pytest.mark.parametrize("report", ["del-annual", "plie-final", "csp-monthly", "arjlj"])
def test_no_exit_or_abandon_code_on_the_paths_pages(client, auth, app, users, report):
    """Issue 19 §13: every exit type and abandon reason, as the list and each path's page
    show them: in French, never their code (« loss_of_contact »)."""
    from tests.integration.test_reports_common import every_exit_and_abandon, internal_codes

    with app.app_context():
        every_exit_and_abandon(report)
        codes = {c for c in internal_codes() if "_" in c}  # the codes no French word contains
        paths = list(db.session.scalars(select(Enrolment.id).where(
            Enrolment.exit_date.is_not(None))))
    auth.login("coordinator")
    pages = ["/admin/enrolments/"] + [f"/admin/enrolments/details/?id={p}" for p in paths]
    shown = " ".join(text_of(client.get(page)) for page in pages)
    assert {c for c in codes if c in shown} == set()
    assert "Motif de l'abandon" in shown and "Raisons de santé" in shown


def test_validation_without_a_commission_is_refused_in_french(client, auth, app, users):
    """001 « Organisation » : « La validation des entrées en parcours se fera en commission
    interne »: the form proposes today's commission (here a new one, created with the
    decision: issue 20 §7), not an older one; left empty, it is refused and nothing
    changes."""
    referral = new_referral(app, "PLIE-L1")
    with app.app_context():
        commission = Commission(programme=_programme("PLIE-L1"), held_on=date(2026, 2, 10))
        db.session.add(commission)
        db.session.commit()
        commission_id = commission.id
    auth.login("commission")
    page = client.get(f"/admin/referrals/decide/?action=validate&ids={referral}") \
        .get_data(as_text=True)
    assert selected(page, "new") and not selected(page, commission_id)
    response = decide(client, "validate", [referral], decided_on="2026-03-01", commission="")
    assert response.status_code == 200
    assert "Commission : obligatoire pour valider une entrée en PLIE-L1" in text_of(response)
    assert referral_of(app, referral).status is ReferralStatus.PENDING
