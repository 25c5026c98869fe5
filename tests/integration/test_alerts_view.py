"""/admin/alerts/: who sees what, « Marquer comme fait », filters, CSRF, the menu count,
and each behavioural alert on real rows."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from backoffice.enums import Attendance, EnrolmentStatus, ReferralStatus, Role, Sex
from backoffice.extensions import db
from backoffice.models import (
    Beneficiary,
    Contact,
    ContactType,
    Enrolment,
    Internship,
    Obligation,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    Referral,
    User,
    Workshop,
    WorkshopAttendance,
)
from backoffice.rules.alerts import AlertKind
from backoffice.services import alerts as service
from backoffice.services.obligations import sync_enrolment_obligations
from tests.conftest import make_user

NOW = datetime(2026, 11, 20, 9, 0)


def ensure_registered(app) -> None:
    """Register the view and the commands when the app factory does not do it (yet)."""
    from backoffice.admin.alerts import AlertsView
    from backoffice.commands.obligations import register

    if "alerts.index_view" not in app.view_functions:
        app.extensions["admin"][0].add_view(AlertsView())
    if "alerts" not in app.cli.commands:
        register(app)


@pytest.fixture
def alerts_app(reference_app, monkeypatch):
    ensure_registered(reference_app)
    monkeypatch.setattr("backoffice.admin.alerts.current_moment", lambda: NOW)
    return reference_app


# --- building rows --------------------------------------------------------------------

_counter = [0]


def programme(code: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def person(last_name: str | None = None) -> Beneficiary:
    _counter[0] += 1
    n = _counter[0]
    row = Beneficiary(last_name=last_name or f"Personne{n}", first_name="Alex",
                      birth_date=date(1980, 1, 1) + timedelta(days=n), sex=Sex.FEMALE)
    db.session.add(row)
    return row


def quick_path(code: str, referent_id: int | None, entry: date = date(2026, 9, 1),
               referred_on: date | None = None, last_name: str | None = None,
               **extra) -> Enrolment:
    """A path written directly (dates chosen freely), with its referral."""
    prog = programme(code)
    who = person(last_name)
    referral = Referral(beneficiary=who, programme=prog, referred_on=referred_on or entry,
                        status=ReferralStatus.VALIDATED)
    row = Enrolment(beneficiary=who, programme=prog, referral=referral, entry_date=entry,
                    referent_id=referent_id, status=extra.pop("status", EnrolmentStatus.ACTIVE),
                    **extra)
    db.session.add_all([referral, row])
    db.session.flush()
    return row


def user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def two_counsellors_scenario() -> dict:
    """CSP path of counsellor@ (pré-bilan overdue) and of other@ (pré-bilan due soon)."""
    other = make_user(Role.COUNSELLOR, email="other@exemple.fr", name="Bruno Autre")
    mine = quick_path("CSP", user_id("counsellor@exemple.fr"), entry=date(2026, 11, 2))
    theirs = quick_path("CSP", other.id, entry=date(2026, 11, 16))
    for path in (mine, theirs):
        sync_enrolment_obligations(db.session, path, NOW)
    db.session.commit()

    def prebilan(path):
        return db.session.scalar(select(Obligation.id).where(
            Obligation.enrolment_id == path.id, Obligation.name == "Entretien de pré-bilan"))
    return {"mine": mine.id, "theirs": theirs.id, "mine_ob": prebilan(mine),
            "theirs_ob": prebilan(theirs), "other": other.id}


@pytest.fixture
def scenario(alerts_app, users):
    with alerts_app.app_context():
        return two_counsellors_scenario()


# --- access ---------------------------------------------------------------------------

def test_anonymous_goes_to_login(alerts_app):
    response = alerts_app.test_client().get("/admin/alerts/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("coordinator", 200), ("counsellor", 200),
    ("commission", 403), ("viewer", 403),
])
def test_access_by_role(alerts_app, client, auth, role, status):
    auth.login(role)
    assert client.get("/admin/alerts/").status_code == status


def test_coordinator_sees_every_path_grouped_by_referent(alerts_app, client, auth, scenario):
    auth.login("coordinator")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert f'data-obligation="{scenario["mine_ob"]}"' in page
    assert f'data-obligation="{scenario["theirs_ob"]}"' in page
    assert "Bruno Autre" in page and "Test Référent" in page
    assert "Entretien de pré-bilan" in page and "En retard de 10 j" in page  # due 10/11
    assert "Dans 4 j" in page  # due Tuesday 24/11
    assert f'/admin/enrolments/edit/?id={scenario["mine"]}' in page
    assert "Marquer comme fait" in page


def test_counsellor_sees_only_own_paths(alerts_app, client, auth, scenario):
    auth.login("counsellor")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert f'data-obligation="{scenario["mine_ob"]}"' in page
    assert f'data-obligation="{scenario["theirs_ob"]}"' not in page
    assert "Bruno Autre" not in page
    # Asking for the other referent's paths by URL changes nothing.
    page = client.get(f"/admin/alerts/?referent={scenario['other']}").get_data(as_text=True)
    assert f'data-obligation="{scenario["theirs_ob"]}"' not in page
    assert f'data-obligation="{scenario["mine_ob"]}"' in page


def test_filters_kind_days_programme_and_grouping(alerts_app, client, auth, scenario):
    auth.login("coordinator")
    page = client.get("/admin/alerts/?kind=overdue").get_data(as_text=True)
    assert f'data-obligation="{scenario["mine_ob"]}"' in page
    assert f'data-obligation="{scenario["theirs_ob"]}"' not in page
    page = client.get("/admin/alerts/?days=2").get_data(as_text=True)
    assert f'data-obligation="{scenario["theirs_ob"]}"' not in page  # due in 4 days
    with alerts_app.app_context():
        plie = programme("PLIE-L1").id
    page = client.get(f"/admin/alerts/?programme={plie}").get_data(as_text=True)
    assert "data-obligation=" not in page and "Aucune échéance" in page
    page = client.get("/admin/alerts/?group=programme&days=abc").get_data(as_text=True)
    assert "n&#39;est pas un nombre" in page or "n'est pas un nombre" in page
    assert "<h3 class=\"h5 mt-3\">CSP" in page


# --- « Marquer comme fait » -----------------------------------------------------------

def test_counsellor_marks_own_obligation_done(alerts_app, client, auth, scenario):
    auth.login("counsellor")
    response = client.post("/admin/alerts/done/", data={
        "obligation_id": scenario["mine_ob"], "done_on": "2026-11-19",
        "document_ref": "=HYPERLINK(\"x\")", "next": "/admin/alerts/?kind=overdue"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/alerts/?kind=overdue")
    with alerts_app.app_context():
        row = db.session.get(Obligation, scenario["mine_ob"])
        assert row.done_at == datetime(2026, 11, 19)
        assert row.document_ref == "=HYPERLINK(\"x\")"
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "marquée comme faite le 19/11/2026" in page
    assert f'data-obligation="{scenario["mine_ob"]}"' not in page


def test_default_date_is_today_and_the_future_is_refused(alerts_app, client, auth, scenario):
    auth.login("coordinator")
    client.post("/admin/alerts/done/", data={"obligation_id": scenario["theirs_ob"],
                                             "done_on": "2026-11-21"})
    with alerts_app.app_context():
        assert db.session.get(Obligation, scenario["theirs_ob"]).done_at is None
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "est dans le futur" in page
    client.post("/admin/alerts/done/", data={"obligation_id": scenario["theirs_ob"]})
    with alerts_app.app_context():
        assert db.session.get(Obligation, scenario["theirs_ob"]).done_at == datetime(2026, 11, 20)


def test_counsellor_cannot_mark_another_referents_obligation(alerts_app, client, auth, scenario):
    auth.login("counsellor")
    response = client.post("/admin/alerts/done/", data={"obligation_id": scenario["theirs_ob"]})
    assert response.status_code == 404
    with alerts_app.app_context():
        assert db.session.get(Obligation, scenario["theirs_ob"]).done_at is None


@pytest.mark.parametrize("role", ["commission", "viewer"])
def test_other_roles_cannot_mark_done(alerts_app, client, auth, scenario, role):
    auth.login(role)
    response = client.post("/admin/alerts/done/", data={"obligation_id": scenario["mine_ob"]})
    assert response.status_code == 403
    with alerts_app.app_context():
        assert db.session.get(Obligation, scenario["mine_ob"]).done_at is None


def test_post_without_csrf_token_is_refused_when_csrf_is_on(alerts_app, client, auth, scenario):
    auth.login("coordinator")
    alerts_app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/alerts/done/",
                               data={"obligation_id": scenario["mine_ob"]})
        assert response.status_code == 400
        with alerts_app.app_context():
            assert db.session.get(Obligation, scenario["mine_ob"]).done_at is None
        # The page carries the token in each form.
        page = client.get("/admin/alerts/").get_data(as_text=True)
        assert 'name="csrf_token"' in page
    finally:
        alerts_app.config["WTF_CSRF_ENABLED"] = False


def test_overdue_count_for_the_menu(alerts_app, users, scenario):
    with alerts_app.app_context():
        def count(email):
            user = db.session.scalar(select(User).where(User.email == email))
            return service.overdue_count(db.session, user, NOW)
        assert count("coordinator@exemple.fr") == 1
        assert count("admin@exemple.fr") == 1
        assert count("counsellor@exemple.fr") == 1
        assert count("other@exemple.fr") == 0  # their pré-bilan is not late yet
        assert count("commission@exemple.fr") == 0
        assert service.overdue_count(db.session, None, NOW) == 0


def test_the_menu_badge_shows_the_overdue_count_and_stops_at_99(alerts_app, client, auth,
                                                               scenario):
    auth.login("coordinator")
    page = client.get("/admin/beneficiaries/").get_data(as_text=True)
    assert "1 en retard" in page
    with alerts_app.app_context():
        coordinator = db.session.scalar(select(User).where(User.role == Role.COORDINATOR))
        assert service.overdue_count(db.session, coordinator, NOW, cap=0) == 1
        # 120 overdue obligations: the badge counts 100 and says « 99+ »
        path = db.session.get(Enrolment, scenario["mine"])
        db.session.add_all(Obligation(name=f"Livrable {n}", enrolment_id=path.id,
                                      programme_id=path.programme_id,
                                      due_at=NOW - timedelta(days=1)) for n in range(120))
        db.session.commit()
        assert service.overdue_count(db.session, coordinator, NOW) == 121
        assert service.overdue_count(db.session, coordinator, NOW, cap=99) == 100
        assert service.badge_text(100) == "99+" and service.badge_text(99) == "99"
    assert "99+ en retard" in client.get("/admin/beneficiaries/").get_data(as_text=True)


def test_an_orientation_without_a_path_shows_its_obligation(alerts_app, client, auth, users):
    with alerts_app.app_context():
        who = person()
        referral = Referral(beneficiary=who, programme=programme("CSP"),
                            referred_on=date(2026, 11, 2), status=ReferralStatus.PENDING)
        db.session.add(referral)
        db.session.commit()  # the pré-bilan is owed from the orientation (002 II §3)
        referral_id, name = referral.id, f"{who.last_name.upper()} {who.first_name}"
    auth.login("coordinator")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert f"Orientation n° {referral_id} — {name}" in page
    assert f"/admin/referrals/details/?id={referral_id}" in page
    auth.logout()
    auth.login("counsellor")  # no path, no referent yet: the coordination's
    assert f"Orientation n° {referral_id}" not in client.get("/admin/alerts/").get_data(
        as_text=True)


# --- Issue 20 §4: alerts that can be acted on ------------------------------------------

def _obligation(path: Enrolment | None, name: str, days: int) -> Obligation:
    """An obligation due ``days`` after NOW (negative: that many days late)."""
    row = Obligation(name=name, enrolment_id=path.id if path else None,
                     programme_id=path.programme_id if path else programme("CSP").id,
                     due_at=NOW + timedelta(days=days))
    db.session.add(row)
    return row


def actionable_scenario() -> dict:
    """counsellor@'s paths: open (« Proche », « Urgente »), suspended, in follow-up and
    closed (« Ancienne »), plus a programme's own deadline (no path). Only these
    obligations exist (the engine's are removed), so counts are exact."""
    me = user_id("counsellor@exemple.fr")
    near = quick_path("CSP", me, last_name="Proche")
    urgent = quick_path("CSP", me, last_name="Urgente")
    suspended = quick_path("CSP", me, last_name="Suspendue", status=EnrolmentStatus.SUSPENDED)
    follow_up = quick_path("CSP", me, last_name="Suivie", status=EnrolmentStatus.FOLLOW_UP)
    closed = quick_path("CSP", me, last_name="Ancienne", entry=date(2024, 1, 8),
                        status=EnrolmentStatus.CLOSED, exit_date=date(2024, 12, 2))
    db.session.commit()
    db.session.execute(Obligation.__table__.delete())
    rows = {
        "near_soon": _obligation(near, "Rapport à deux jours", 2),
        "near_far": _obligation(near, "Rapport lointain", 30),
        "urgent_late": _obligation(urgent, "Rapport en retard", -20),
        "urgent_soon": _obligation(urgent, "Rapport à trois jours", 3),
        "suspended_late": _obligation(suspended, "Rapport du suspendu", -5),
        "follow_up_late": _obligation(follow_up, "Rapport de suivi", -1),
        "programme_late": _obligation(None, "Bilan du dispositif", -3),
        "closed_oldest": _obligation(closed, "Rapport oublié", -712),
        "closed_old": _obligation(closed, "Rapport oublié aussi", -400),
        "closed_future": _obligation(closed, "Rapport jamais dû", 30),
    }
    db.session.commit()
    return {key: row.id for key, row in rows.items()}


@pytest.fixture
def acting(alerts_app, users):
    with alerts_app.app_context():
        return actionable_scenario()


def shown(page: str, ids: dict) -> set[str]:
    return {key for key, oid in ids.items() if f'data-obligation="{oid}"' in page}


def test_the_default_view_is_what_can_be_acted_on(alerts_app, client, auth, acting):
    """Late or due within 7 days, on paths still open (active, suspended, follow-up) or on
    no path; neither a closed path's leftovers nor what is due in 30 days."""
    auth.login("coordinator")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert shown(page, acting) == {"near_soon", "urgent_late", "urgent_soon",
                                   "suspended_late", "follow_up_late", "programme_late"}
    assert "Rapport oublié" not in page
    # The other tab is offered with its count.
    assert 'data-scope="closed_paths"' in page
    assert 'Échéances de parcours clôturés\n      <span class="badge badge-secondary">3</span>' \
        in page


def test_closed_paths_leftovers_are_collected_apart(alerts_app, client, auth, acting):
    for role in ("coordinator", "counsellor"):
        auth.login(role)
        page = client.get("/admin/alerts/?scope=closed_paths").get_data(as_text=True)
        assert shown(page, acting) == {"closed_oldest", "closed_old", "closed_future"}
        assert "En retard de 712 j" in page and "Alertes de suivi" not in page
        # Only a coordinator (or an administrator) is offered to close them.
        assert ("Clore la sélection" in page) == (role == "coordinator")
        auth.logout()


def test_grouped_by_person_most_urgent_first(alerts_app, client, auth, acting):
    auth.login("coordinator")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    # Persons in the order of their most urgent row; a person's rows together.
    order = ["urgent_late", "urgent_soon", "suspended_late", "programme_late",
             "follow_up_late", "near_soon"]
    positions = [page.index(f'data-obligation="{acting[key]}"') for key in order]
    assert positions == sorted(positions)
    headings = [page.index(f">{title} <small") for title in
                ("URGENTE Alex", "SUSPENDUE Alex", "Dispositif CSP", "SUIVIE Alex",
                 "PROCHE Alex")]
    assert headings == sorted(headings)
    # The former groupings are still offered.
    page = client.get("/admin/alerts/?group=referent").get_data(as_text=True)
    assert ">Test Référent <small" in page


def test_the_badge_counts_what_can_be_acted_on(alerts_app, client, auth, acting):
    with alerts_app.app_context():
        def count(email):
            user = db.session.scalar(select(User).where(User.email == email))
            return service.overdue_count(db.session, user, NOW)
        # Late on open paths: urgent, suspended, follow-up; not the closed path's two.
        assert count("counsellor@exemple.fr") == 3
        assert count("coordinator@exemple.fr") == 4  # and the programme's own deadline
        assert service.overdue_count(db.session, db.session.scalar(
            select(User).where(User.email == "coordinator@exemple.fr")), NOW, cap=99) == 4
    auth.login("counsellor")
    assert "3 en retard" in client.get("/admin/beneficiaries/").get_data(as_text=True)


@pytest.mark.parametrize("read_up_to", [0, 1, 2, 3, 6, 1000])
@pytest.mark.parametrize(("cap", "shown"), [(99, 4), (3, 4), (2, 3), (0, 1)])
def test_the_coordinator_s_badge_is_the_same_read_either_way(alerts_app, acting, monkeypatch,
                                                           read_up_to, cap, shown):
    """Issue 25: the badge first reads up to DUE_ORDER_UP_TO overdue obligations in due
    order (a few: every one read, or the cap passed, is the answer), else path by path;
    both ways give the same figure: 4 actionable (6 overdue with the closed path's two
    leftovers), stopped at the cap + 1."""
    monkeypatch.setattr(service, "DUE_ORDER_UP_TO", read_up_to)
    monkeypatch.setattr(service, "_BADGE_STATEMENTS", {})
    with alerts_app.app_context():
        coordinator = db.session.scalar(select(User).where(
            User.email == "coordinator@exemple.fr"))
        assert service.overdue_count(db.session, coordinator, NOW, cap=cap) == shown


def test_the_badge_reads_the_overdue_in_due_order_before_the_paths(app):
    """Issue 25: with few overdue obligations (an organisation that keeps its deadlines),
    the coordinator's badge reads them by ix_obligations_open_due, not every open path
    (244 ms at a million people with none overdue)."""
    with app.app_context():
        due_order = plan(service._badge_statement(service.DUE_ORDER, service.BADGE_CAP)
                         .params(now=NOW))
        db.session.rollback()
    # both counts of the statement (those to act on, all overdue up to the bound)
    assert due_order.count("ix_obligations_open_due") == 2, due_order
    assert "ix_obligations_open_path" not in due_order, due_order


def _state(ids) -> list:
    return [(row.done_at, row.cancelled_at, row.cancel_reason) for row in db.session.scalars(
        select(Obligation).where(Obligation.id.in_(ids)).order_by(Obligation.id))]


def test_a_coordinator_closes_leftovers_in_bulk_with_a_reason(alerts_app, client, auth, acting):
    auth.login("coordinator")
    picked = [acting["closed_oldest"], acting["closed_old"]]
    response = client.post("/admin/alerts/close/", data={
        "obligation_ids": picked, "reason": "  Parcours clôturé,   livrable plus dû ",
        "next": "/admin/alerts/?scope=closed_paths"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/alerts/?scope=closed_paths")
    with alerts_app.app_context():
        assert _state(picked) == [(None, NOW, "Parcours clôturé, livrable plus dû")] * 2
        assert _state([acting["closed_future"]]) == [(None, None, None)]
    page = client.get("/admin/alerts/?scope=closed_paths").get_data(as_text=True)
    assert "2 échéances closes : « Parcours clôturé, livrable plus dû »" in page
    assert shown(page, acting) == {"closed_future"}


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"reason": ""}, 302, "Motif : obligatoire"),
    ({"reason": "x" * 201}, 302, "Motif : 200 caractères au plus"),
    # An open path's deadline is not a leftover: nothing is closed.
    ({"reason": "Ménage", "extra": "urgent_late"}, 404, None),
])
def test_a_bulk_close_is_refused_whole(alerts_app, client, auth, acting, data, status, message):
    auth.login("coordinator")
    picked = [acting["closed_oldest"], acting["closed_old"]]
    if "extra" in data:
        picked.append(acting[data["extra"]])
    response = client.post("/admin/alerts/close/", data={"obligation_ids": picked,
                                                         "reason": data["reason"]})
    assert response.status_code == status
    with alerts_app.app_context():
        assert _state(picked) == [(None, None, None)] * len(picked)
    if message:
        assert message in client.get("/admin/alerts/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["counsellor", "commission", "viewer"])
def test_only_coordinators_close_leftovers(alerts_app, client, auth, acting, role):
    auth.login(role)  # counsellor@ is the closed path's referent, and still may not
    picked = [acting["closed_oldest"]]
    response = client.post("/admin/alerts/close/",
                           data={"obligation_ids": picked, "reason": "Ménage"})
    assert response.status_code == 403
    with alerts_app.app_context():
        assert _state(picked) == [(None, None, None)]


def test_a_leftover_closed_by_hand_stays_closed_when_deadlines_are_rebuilt(
        alerts_app, client, auth, users):
    with alerts_app.app_context():
        path = quick_path("CSP", user_id("counsellor@exemple.fr"), entry=date(2026, 11, 2))
        sync_enrolment_obligations(db.session, path, NOW)
        path.status = EnrolmentStatus.CLOSED
        path.exit_date = date(2026, 11, 10)
        db.session.commit()
        owed = db.session.scalar(select(Obligation.id).where(
            Obligation.enrolment_id == path.id, Obligation.rule_id.is_not(None),
            Obligation.done_at.is_(None), Obligation.cancelled_at.is_(None)))
        path_id = path.id
    auth.login("coordinator")
    client.post("/admin/alerts/close/", data={"obligation_ids": [owed], "reason": "Sorti"})
    with alerts_app.app_context():
        assert _state([owed]) == [(None, NOW, "Sorti")]
        sync_enrolment_obligations(db.session, db.session.get(Enrolment, path_id), NOW)
        db.session.commit()
        assert _state([owed]) == [(None, NOW, "Sorti")]


def test_bulk_mark_done(alerts_app, client, auth, acting):
    auth.login("counsellor")
    picked = [acting["urgent_late"], acting["suspended_late"]]
    response = client.post("/admin/alerts/done-many/", data={
        "obligation_ids": picked, "done_on": "2026-11-19", "next": "/admin/alerts/"})
    assert response.status_code == 302
    with alerts_app.app_context():
        assert _state(picked) == [(datetime(2026, 11, 19), None, None)] * 2
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "2 échéances marquées comme faites le 19/11/2026" in page
    assert not shown(page, acting) & {"urgent_late", "suspended_late"}
    # The page offers the bulk form, each row's box belonging to it.
    assert 'id="bulk-form"' in page and 'form="bulk-form"' in page


def test_bulk_mark_done_is_refused_whole(alerts_app, client, auth, acting, scenario):
    auth.login("counsellor")
    mine = [acting["urgent_late"], acting["near_soon"]]
    # Another referent's obligation among them: 404, nothing changed.
    response = client.post("/admin/alerts/done-many/",
                           data={"obligation_ids": [*mine, scenario["theirs_ob"]]})
    assert response.status_code == 404
    # A date in the future, or one already done in the selection: nothing changed.
    client.post("/admin/alerts/done-many/", data={"obligation_ids": mine,
                                                  "done_on": "2026-11-21"})
    with alerts_app.app_context():
        db.session.get(Obligation, acting["near_soon"]).done_at = datetime(2026, 11, 18)
        db.session.commit()
    client.post("/admin/alerts/done-many/", data={"obligation_ids": mine})
    with alerts_app.app_context():
        assert _state([acting["urgent_late"], scenario["theirs_ob"]]) == [(None, None, None)] * 2
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "déjà faite le 18/11/2026. Rien n&#39;a été enregistré." in page \
        or "déjà faite le 18/11/2026. Rien n'a été enregistré." in page
    # Nothing ticked: said, nothing done.
    client.post("/admin/alerts/done-many/", data={})
    assert "Aucune échéance sélectionnée." in client.get("/admin/alerts/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["commission", "viewer"])
def test_other_roles_cannot_mark_done_in_bulk(alerts_app, client, auth, acting, role):
    auth.login(role)
    for url, data in (("/admin/alerts/done-many/", {"obligation_ids": [acting["urgent_late"]]}),
                      ("/admin/alerts/done/", {"obligation_id": acting["urgent_late"]})):
        response = client.post(url, data={**data, "late_reason": "Motif"})
        assert response.status_code == 403
    with alerts_app.app_context():
        assert _state([acting["urgent_late"]]) == [(None, None, None)]
        assert _late_reasons([acting["urgent_late"]]) == [None]


# --- « Motif du retard » (issue 22 §4) ------------------------------------------------

def _late_reasons(ids) -> list:
    """The reasons of ``ids``, in that order."""
    found = dict(db.session.execute(select(Obligation.id, Obligation.late_reason).where(
        Obligation.id.in_(ids))).all())
    return [found[i] for i in ids]


def test_the_reason_for_lateness_is_offered_on_late_rows_only(alerts_app, client, auth, acting):
    auth.login("counsellor")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert f'id="late-reason-{acting["urgent_late"]}"' in page
    assert f'id="late-reason-{acting["near_soon"]}"' not in page
    assert "Motif du retard" in page and 'id="bulk-late-reason"' in page
    # nothing late in the list (due within 7 days only): no field at all
    page = client.get("/admin/alerts/?kind=due_soon").get_data(as_text=True)
    assert 'name="late_reason"' not in page


def test_a_late_obligation_keeps_its_reason_an_on_time_one_has_none(alerts_app, client, auth,
                                                                   acting):
    auth.login("counsellor")
    reason = "  Bénéficiaire hospitalisé,   pièces reçues le 18/11 "
    client.post("/admin/alerts/done/", data={"obligation_id": acting["urgent_late"],
                                             "done_on": "2026-11-19", "late_reason": reason})
    assert "motif du retard enregistré" in client.get("/admin/alerts/").get_data(as_text=True)
    # done the day before its due day: in time, no lateness to explain
    client.post("/admin/alerts/done/", data={"obligation_id": acting["near_soon"],
                                             "done_on": "2026-11-20", "late_reason": "x"})
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "faite à temps : motif du retard non enregistré" in page
    with alerts_app.app_context():
        assert _late_reasons([acting["urgent_late"], acting["near_soon"]]) == [
            "Bénéficiaire hospitalisé, pièces reçues le 18/11", None]
        assert db.session.get(Obligation, acting["near_soon"]).done_at == datetime(2026, 11, 20)


def test_a_reason_too_long_is_refused_and_nothing_is_saved(alerts_app, client, auth, acting):
    auth.login("counsellor")
    client.post("/admin/alerts/done/", data={"obligation_id": acting["urgent_late"],
                                             "late_reason": "x" * 201})
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "Motif du retard : 200 caractères au plus (201 saisis)." in page
    with alerts_app.app_context():
        assert _state([acting["urgent_late"]]) == [(None, None, None)]
        assert _late_reasons([acting["urgent_late"]]) == [None]


def test_bulk_mark_done_keeps_the_reason_on_the_late_ones(alerts_app, client, auth, acting):
    auth.login("counsellor")
    picked = [acting["urgent_late"], acting["suspended_late"], acting["near_soon"]]
    client.post("/admin/alerts/done-many/", data={
        "obligation_ids": picked, "done_on": "2026-11-20", "late_reason": "Dossier incomplet"})
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "motif du retard enregistré pour les 2 faites en retard" in page
    with alerts_app.app_context():
        assert _late_reasons(picked) == ["Dossier incomplet", "Dossier incomplet", None]


# --- behavioural alerts, one integration test each ------------------------------------

def kinds_for(kind: str, own: int | None = None, **filters) -> list:
    return service.behaviour_alerts(db.session, NOW, service.AlertFilters(kind=kind, **filters),
                                    own)


@pytest.fixture
def ctx(alerts_app, users):
    with alerts_app.app_context():
        yield {"me": user_id("counsellor@exemple.fr")}
        db.session.rollback()


def contact_type(code: str) -> ContactType:
    return db.session.scalar(select(ContactType).where(ContactType.code == code))


def test_absences_alert(ctx):
    late = quick_path("PLIE-L1", ctx["me"])
    back = quick_path("PLIE-L1", ctx["me"])
    individual = contact_type("individual")
    for path, attendances in ((late, "PUU"), (back, "UUP")):
        for day, mark in enumerate(attendances):
            db.session.add(Contact(
                enrolment=path, contact_type=individual, occurs_at=datetime(2026, 11, 2 + day, 10),
                attendance={"P": Attendance.PRESENT, "U": Attendance.UNEXCUSED}[mark]))
    # A workshop absence counts too: one more unexcused absence for `back`… after presence
    workshop = Workshop(programme=programme("PLIE-L1"), title="Santé",
                        held_at=datetime(2026, 11, 10, 9))
    workshop.attendances.append(WorkshopAttendance(enrolment=back,
                                                   attendance=Attendance.UNEXCUSED))
    db.session.add(workshop)
    db.session.flush()
    found = kinds_for("absences")
    assert [(a.enrolment_id, a.kind) for a in found] == [(late.id, "absences")]
    assert "2 absences injustifiées" in found[0].message
    # A second unexcused workshop absence for `back` makes two in a row.
    workshop2 = Workshop(programme=programme("PLIE-L1"), title="Santé 2",
                         held_at=datetime(2026, 11, 12, 9))
    workshop2.attendances.append(WorkshopAttendance(enrolment=back,
                                                    attendance=Attendance.UNEXCUSED))
    db.session.add(workshop2)
    db.session.flush()
    assert {a.enrolment_id for a in kinds_for("absences")} == {late.id, back.id}
    assert kinds_for("absences", own=9999) == []


def test_csp_contacts_alert(ctx):
    path = quick_path("CSP", ctx["me"], entry=date(2026, 9, 1))
    phase2 = db.session.scalar(select(Phase).where(
        Phase.programme_id == path.programme_id, Phase.code == "phase_2"))
    db.session.add(PhaseRecord(enrolment=path, phase=phase2, started_on=date(2026, 10, 1)))
    for day in (5, 12):
        db.session.add(Contact(enrolment=path, contact_type=contact_type("phone"),
                               occurs_at=datetime(2026, 10, day, 10)))
    db.session.flush()
    found = kinds_for("csp_contacts")
    assert [a.enrolment_id for a in found] == [path.id]
    assert "2 contacts en 7 semaines" in found[0].message  # 01/10 → 20/11: 50 days
    for week in range(5):
        db.session.add(Contact(enrolment=path, contact_type=contact_type("individual"),
                               occurs_at=datetime(2026, 10, 15, 10) + timedelta(weeks=week)))
    db.session.flush()
    assert kinds_for("csp_contacts") == []


def test_csp_contacts_leave_out_suspensions_and_count_workshops(ctx):
    """Issue 19 point 9, 002 II §5: « au moins une moyenne d'un contact par semaine »;
    the support includes « des regroupements »; 002 II §3: weeks under suspension owe no
    contact. Phase 2 from 01/10/2026, seen on 20/11 (50 days = 7 weeks)."""
    from backoffice.models import Suspension, SuspensionReason

    path = quick_path("CSP", ctx["me"], entry=date(2026, 9, 1))
    phase2 = db.session.scalar(select(Phase).where(
        Phase.programme_id == path.programme_id, Phase.code == "phase_2"))
    db.session.add(PhaseRecord(enrolment=path, phase=phase2, started_on=date(2026, 10, 1)))
    for day in (5, 12, 19):
        db.session.add(Contact(enrolment=path, contact_type=contact_type("phone"),
                               occurs_at=datetime(2026, 10, day, 10)))
    db.session.flush()
    assert "3 contacts en 7 semaines" in kinds_for("csp_contacts")[0].message
    # Three weeks of illness (26/10 → 15/11): 29 days left, 4 weeks owed
    illness = db.session.scalar(select(SuspensionReason).where(SuspensionReason.code == "illness"))
    db.session.add(Suspension(enrolment=path, reason=illness, starts_on=date(2026, 10, 26),
                              ends_on=date(2026, 11, 15)))
    db.session.flush()
    assert "3 contacts en 4 semaines hors suspension" in kinds_for("csp_contacts")[0].message
    # A regroupement attended on 17/11 is the 4th contact: enough
    workshop = Workshop(programme=programme("CSP"), title="Regroupement réseau",
                        held_at=datetime(2026, 11, 17, 9))
    workshop.attendances.append(WorkshopAttendance(enrolment=path,
                                                   attendance=Attendance.PRESENT))
    db.session.add(workshop)
    db.session.flush()
    assert kinds_for("csp_contacts") == []


def test_plie_absences_and_unanswered_reminders_by_lot(ctx):
    """Issue 19 point 14, 004 « Sortie de l'action »: Lot 4 « 2 absences injustifiées »
    (not in a row); Lots 2 and 4 « 2 relances »; Lot 1 counts neither a broken run nor
    reminders."""
    individual, phone = contact_type("individual"), contact_type("phone")

    def history(code, marks):
        path = quick_path(code, ctx["me"])
        for day, mark in enumerate(marks):
            db.session.add(Contact(
                enrolment=path, contact_type=phone if mark == "R" else individual,
                occurs_at=datetime(2026, 11, 2 + day, 10),
                attendance={"P": Attendance.PRESENT, "U": Attendance.UNEXCUSED,
                            "R": Attendance.NO_ANSWER}[mark]))
        return path

    l4_apart = history("PLIE-L4", "UPU")  # two absences, not in a row
    l1_apart = history("PLIE-L1", "UPU")  # Lot 1: in a row only
    l2_reminders = history("PLIE-L2", "PRR")  # two reminders unanswered
    l1_reminders = history("PLIE-L1", "PRR")  # Lot 1: reminders are not a motive
    l4_answered = history("PLIE-L4", "RPR")  # a presence between: one since
    db.session.flush()
    found = {a.enrolment_id: a.message for a in kinds_for("absences")}
    assert set(found) == {l4_apart.id, l2_reminders.id}
    assert found[l4_apart.id].startswith("2 absences injustifiées :")
    assert found[l2_reminders.id].startswith("2 relances sans réponse")
    assert not {l1_apart.id, l1_reminders.id, l4_answered.id} & set(found)


def test_a_follow_up_in_employment_past_its_end_is_an_alert(ctx):
    """Issue 19 point 15: like an open path past its planned end (002 II §3: 6 months)."""
    late = quick_path("CSP", ctx["me"], entry=date(2025, 9, 1), exit_date=date(2026, 5, 4),
                      follow_up_end_date=date(2026, 11, 4), status=EnrolmentStatus.FOLLOW_UP)
    quick_path("CSP", ctx["me"], entry=date(2025, 9, 1), exit_date=date(2026, 6, 1),
               follow_up_end_date=date(2026, 12, 1), status=EnrolmentStatus.FOLLOW_UP)
    quick_path("CSP", ctx["me"], entry=date(2025, 9, 1), exit_date=date(2026, 5, 4),
               follow_up_end_date=date(2026, 11, 4), status=EnrolmentStatus.CLOSED)
    found = kinds_for("follow_up_past_end")
    assert [a.enrolment_id for a in found] == [late.id]
    assert "Suivi dans l'emploi terminé le 04/11/2026 (il y a 16 jours)" in found[0].message
    assert kinds_for("follow_up_past_end", own=9999) == []


def test_portfolio_alert(ctx):
    quick_path("CSP", ctx["me"])
    quick_path("CSP", ctx["me"], status=EnrolmentStatus.SUSPENDED)  # not in the portfolio
    found = kinds_for("portfolio")
    assert len(found) == 1
    assert found[0].referent_id == ctx["me"]
    assert "portefeuille actif de 1 bénéficiaire, sous le minimum de 40" in found[0].message


def test_consultant_load_alert(ctx):
    for _ in range(31):
        quick_path("ARJLJ", ctx["me"], entry=date(2026, 11, 16))
    found = kinds_for("consultant_load")
    assert [(a.referent_id, a.programme_code) for a in found] == [(ctx["me"], "ARJLJ")]
    assert "31 personnes suivies" in found[0].message


def test_past_planned_end_alert(ctx):
    late = quick_path("PLIE-L4", ctx["me"], entry=date(2026, 8, 3),
                      planned_end_date=date(2026, 10, 2))
    quick_path("PLIE-L4", ctx["me"], entry=date(2026, 8, 3), planned_end_date=date(2026, 12, 2))
    quick_path("PLIE-L4", ctx["me"], entry=date(2026, 8, 3), planned_end_date=date(2026, 10, 2),
               status=EnrolmentStatus.CLOSED, exit_date=date(2026, 10, 2))
    found = kinds_for("past_planned_end")
    assert [a.enrolment_id for a in found] == [late.id]
    assert "Fin prévue le 02/10/2026 (il y a 49 jours)" in found[0].message


def test_workshop_size_alert(ctx):
    small = Workshop(programme=programme("PLIE-L1"), title="Bien-être",
                     held_at=datetime(2026, 11, 18, 9))
    right = Workshop(programme=programme("PLIE-L1"), title="Sommeil",
                     held_at=datetime(2026, 11, 19, 9))
    old = Workshop(programme=programme("PLIE-L1"), title="Ancien",
                   held_at=datetime(2026, 6, 1, 9))
    for workshop, size in ((small, 3), (right, 5), (old, 1)):
        for _ in range(size):
            workshop.attendances.append(WorkshopAttendance(
                enrolment=quick_path("PLIE-L1", ctx["me"])))
        db.session.add(workshop)
    db.session.flush()
    found = kinds_for("workshop_size")
    assert [a.workshop_id for a in found] == [small.id]
    assert "3 inscrits, moins que le minimum de 4" in found[0].message
    assert kinds_for("workshop_size", own=ctx["me"])  # one of their paths attends
    assert kinds_for("workshop_size", own=9999) == []


def test_immersion_cap_alert(ctx):
    path = quick_path("PLIE-L3", ctx["me"])
    db.session.add_all([
        Internship(enrolment=path, company_name="Ressourcerie", starts_on=date(2026, 9, 7),
                   ends_on=date(2026, 9, 11), hours=35),
        Internship(enrolment=path, company_name="Jardin", starts_on=date(2026, 9, 14),
                   ends_on=date(2026, 9, 25), hours=30),
    ])
    db.session.flush()
    found = kinds_for("immersion_cap")
    assert len(found) == 1 and "chez Ressourcerie" in found[0].message
    assert "35 h pour 30 h au plus" in found[0].message


def test_behavioural_alerts_show_in_the_view(alerts_app, client, auth, users):
    with alerts_app.app_context():
        quick_path("PLIE-L4", user_id("counsellor@exemple.fr"), entry=date(2026, 8, 3),
                   planned_end_date=date(2026, 10, 2))
        db.session.commit()
    auth.login("counsellor")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert 'data-alert="past_planned_end"' in page
    assert AlertKind.PAST_PLANNED_END.label in page
    page = client.get("/admin/alerts/?kind=portfolio").get_data(as_text=True)
    assert 'data-alert="past_planned_end"' not in page


ACCENTED = {"Prévost": "PRÉVOST", "Lefèvre": "LEFÈVRE", "Çelik": "ÇELIK", "Ørsted": "ØRSTED"}


def test_names_are_upper_cased_with_their_accents_on_every_engine(alerts_app, client, auth,
                                                                   users):
    """Issue 19 §16: « PRÉVOST », never « PRéVOST » (SQLite's upper() is ASCII only), in the
    obligations list, the behavioural alerts and the page that shows them."""
    with alerts_app.app_context():
        me = user_id("counsellor@exemple.fr")
        for name in ACCENTED:
            quick_path("PLIE-L4", me, entry=date(2026, 8, 3), last_name=name,
                       planned_end_date=date(2026, 10, 2))
            sync_enrolment_obligations(
                db.session, quick_path("CSP", me, entry=date(2026, 11, 2), last_name=name), NOW)
        db.session.commit()
        late = {a.beneficiary for a in kinds_for("past_planned_end")}
        owed = {r.beneficiary for r in service.obligation_rows(db.session, NOW)}
    shown = {f"{upper} Alex" for upper in ACCENTED.values()}
    assert shown <= late and shown <= owed
    auth.login("counsellor")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    for upper in ACCENTED.values():
        assert f"{upper} Alex" in page
    assert "PRéVOST" not in page and "LEFèVRE" not in page


def test_a_page_shows_at_most_the_limit_of_behavioural_alerts(ctx):
    for day in (1, 2, 3):
        quick_path("PLIE-L4", ctx["me"], entry=date(2026, 8, 3),
                   planned_end_date=date(2026, 10, day))
    data = service.alert_list(db.session, None, NOW, service.AlertFilters(limit=2))
    assert len(data.alerts_shown) == 2
    # the kind's count is its own (up to the cap, issue 25 §4), not the rows shown: it
    # said 2 here before, for 3 paths past their end
    assert ("past_planned_end", AlertKind.PAST_PLANNED_END.label, 3) in data.alerts_by_kind
    everything = service.alert_list(db.session, None, NOW, service.AlertFilters(limit=None))
    assert len(everything.alerts_shown) == len(everything.alerts) >= 3


# --- Issue 25 §4: a coordinator's page at a million people -------------------------------

@pytest.fixture
def cap_of_2(monkeypatch):
    """A page's counts stop past 2 rather than 100 (the home page's COUNT_CAP)."""
    monkeypatch.setattr("backoffice.services.worklist.COUNT_CAP", 2)


def late_paths(me: int, days=(1, 2, 3, 4)) -> list[int]:
    """PLIE-L4 paths past their planned end (1, 2, 3, 4 October: the oldest end first)."""
    return [quick_path("PLIE-L4", me, entry=date(2026, 8, 3),
                       planned_end_date=date(2026, 10, day)).id for day in days]


def of_kind(items, kind: str) -> list[int]:
    return [item.enrolment_id for item in items if item.kind == kind]


def test_a_page_reads_each_kind_up_to_the_cap_the_digest_everything(ctx, cap_of_2):
    """Issue 25 §4: a page reads a kind's alerts no further than the cap + 1, in the kind's
    order (here the oldest planned end first), counts it « plus de 2 » and shows the first
    2; the digest (no limit) still reads, counts and lists every alert, exactly."""
    paths = late_paths(ctx["me"])
    page = service.alert_list(db.session, None, NOW)
    assert of_kind(page.alerts, "past_planned_end") == paths[:3]
    assert ("past_planned_end", AlertKind.PAST_PLANNED_END.label, 3) in page.alerts_by_kind
    assert of_kind(page.alerts_shown, "past_planned_end") == paths[:2]
    assert page.alerts_capped and page.alerts_total_text.startswith("plus de ")
    assert service.count_text(3) == "plus de 2" and service.count_text(2) == "2"
    digest = service.alert_list(db.session, None, NOW, service.AlertFilters(limit=None))
    assert of_kind(digest.alerts, "past_planned_end") == paths
    assert not digest.alerts_capped
    assert digest.alerts_total_text == str(len(digest.alerts))


def test_a_page_stops_reading_paths_once_it_has_enough(ctx, cap_of_2, monkeypatch):
    """Issue 25 §4: a kind whose rule runs in Python (CSP phase 2: one contact a week) reads
    the paths a chunk at a time (here one) and stops at the cap + 1, the phases begun
    first; the digest reads them all."""
    monkeypatch.setattr(service, "CHUNK", 1)
    paths = []
    for _ in range(4):
        path = quick_path("CSP", ctx["me"], entry=date(2026, 9, 1))
        phase2 = db.session.scalar(select(Phase).where(
            Phase.programme_id == path.programme_id, Phase.code == "phase_2"))
        db.session.add(PhaseRecord(enrolment=path, phase=phase2, started_on=date(2026, 10, 1)))
        db.session.flush()
        paths.append(path.id)
    assert [a.enrolment_id for a in kinds_for("csp_contacts")] == paths[:3]
    assert [a.enrolment_id for a in kinds_for("csp_contacts", limit=None)] == paths


def test_a_page_counts_its_deadlines_up_to_the_cap(ctx, cap_of_2):
    """Issue 25 §4: on a page the overdue and due-soon counts stop past the rows the page
    shows (or the cap, if larger) and read « plus de … »; the digest counts them exactly."""
    for _ in range(4):  # each CSP path entered on 02/11 owes a late pré-bilan
        sync_enrolment_obligations(
            db.session, quick_path("CSP", ctx["me"], entry=date(2026, 11, 2)), NOW)
    db.session.flush()
    digest = service.alert_list(db.session, None, NOW, service.AlertFilters(limit=None))
    assert digest.overdue_total >= 4 and digest.overdue_text == str(digest.overdue_total)
    # the cap (2) under the page's rows (200): counted up to the rows shown, all here
    page = service.alert_list(db.session, None, NOW)
    assert page.overdue_total == digest.overdue_total
    assert page.overdue_text == str(digest.overdue_total)
    assert page.truncated is False  # every row fits on the page: no « premières » notice
    # a page of 2 rows: counted up to 3, « 2 premières échéances sur plus de 2 »
    small = service.alert_list(db.session, None, NOW, service.AlertFilters(limit=2))
    assert small.overdue_total == 3 and small.overdue_text == "plus de 2"
    assert small.obligations_total_text == "plus de 2" and small.truncated is True
    closed = service.closed_paths_total(db.session, None, NOW)
    assert closed == 0


def test_the_page_says_plus_de_for_a_capped_kind_and_escapes_referents(
        alerts_app, client, auth, users, cap_of_2):
    """Issue 25 §4: the page shows a capped kind as « plus de 2 » and says it shows the
    first alerts of each kind; the referent filter's options (written in one string) keep
    names escaped and the one chosen selected."""
    with alerts_app.app_context():
        odd = make_user(Role.COUNSELLOR, email="odd@exemple.fr", name="Zoé <Ortiz> & Cie")
        late_paths(odd.id)
        db.session.commit()
        odd_id = odd.id
    auth.login("coordinator")
    page = client.get(f"/admin/alerts/?referent={odd_id}").get_data(as_text=True)
    assert f"{AlertKind.PAST_PLANNED_END.label} : plus de 2" in page
    assert "premières alertes" in page and "les premières de chaque type" in page
    assert f'<option value="{odd_id}" selected>Zoé &lt;Ortiz&gt; &amp; Cie</option>' in page
    assert "<Ortiz>" not in page


def plan(statement) -> str:
    """The engine's plan of ``statement``, as text. On PostgreSQL, sequential scans and
    sorts are priced out (the test tables are tiny): what remains is what an index gives."""
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_sort = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                      tuple(compiled.params[k] for k in compiled.positiontup))
    return "\n".join(row[-1] for row in rows)


def test_a_page_walks_the_kinds_in_an_index_order_without_sorting(ctx, monkeypatch):
    """Issue 25 §4: the kinds a page stops reading early walk an index in their order (the
    open phase records; one programme's open paths of one status), so that stopping saves
    the reading: no sort of every candidate first. On PostgreSQL, sorts priced out, a plan
    that still sorts has no index giving that order (SQLite's plans need the statistics of
    a real base: measured in docs/benchmarks.md)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan, sorts priced out (see plan())")
    statements = []
    real = db.session.execute

    def keep(statement, *args, **kwargs):
        statements.append(statement)
        return real(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", keep)
    # which statement executed walks (the phases' and programmes' ids are read before,
    # through session.scalars, not kept here)
    walks = {"csp_contacts": 0, "csp_phase_one": 0, "internship_missing": 0, "absences": 0,
             "immersion_cap": 0}
    for kind, index in walks.items():
        statements.clear()
        kinds_for(kind, limit=200)
        text = plan(statements[index])
        db.session.rollback()
        assert "Sort" not in text or "Incremental Sort" in text and kind == "immersion_cap", \
            (kind, text)


def test_the_list_and_the_badge_read_the_open_obligations_index_in_order(app):
    """Issue 4 §7: the list walks ix_obligations_open_due in its order (no sort of every
    open obligation) and the badge counts a range of it."""
    with app.app_context():
        listing = plan(service.obligations_query(NOW, service.AlertFilters(limit=200)))
        badge = plan(service.overdue_count_query(NOW, cap=service.BADGE_CAP))
        engine = db.engine.dialect.name
        db.session.rollback()
    assert "ix_obligations_open_due" in listing
    assert "ORDER BY" not in listing and "Sort" not in listing  # no sort step
    # issue 20 « Speed »: the coordinator's badge goes path by path (open paths, then each
    # one's obligations): the walk in due order read the closed paths' leftovers first;
    # issue 25 §3: each path's open obligations alone, by their partial index
    assert "ix_obligations_open_path" in badge, badge
    if engine == "sqlite":  # the open paths outside, each one's open obligations inside
        assert "SEARCH enrolments" in badge.split("ix_obligations_open_path")[0], badge
        assert "ix_obligations_open_due" not in badge, badge
    # PostgreSQL, its sequential scans priced out, picks among the equal-cost partial
    # indexes of these few rows; with the statistics of 10 000 people it merges
    # ix_obligations_open_path with the paths' key (docs/benchmarks.md, issue 25 §3).


# --- Issue 19 A: the programme figures of the specifications become alerts -------------

def _phase(path: Enrolment, code: str) -> Phase:
    return db.session.scalar(select(Phase).where(Phase.programme_id == path.programme_id,
                                                 Phase.code == code))


def test_internship_missing_alert(ctx):
    """001 « Description » : « obligatoirement intégrer une période de stage en
    entreprise »: past half its planned length (DEL-L1, 7 months), no internship."""
    late = quick_path("DEL-L1", ctx["me"], entry=date(2026, 5, 4),
                      planned_end_date=date(2026, 12, 3))   # midpoint 03/08
    early = quick_path("DEL-L1", ctx["me"], entry=date(2026, 9, 1),
                       planned_end_date=date(2027, 3, 31))  # midpoint after today
    planned = quick_path("DEL-L2", ctx["me"], entry=date(2026, 3, 2),
                         planned_end_date=date(2026, 11, 2))
    db.session.add(Internship(enrolment=planned, company_name="Boulangerie du Port",
                              starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 20)))
    quick_path("CSP", ctx["me"], entry=date(2026, 1, 5), planned_end_date=date(2027, 1, 5))
    db.session.flush()
    found = kinds_for("internship_missing")
    assert [a.enrolment_id for a in found] == [late.id]
    assert "sans stage en entreprise prévu" in found[0].message
    assert early.id not in {a.enrolment_id for a in found}
    assert kinds_for("internship_missing", own=9999) == []


def test_plie_l1_interviews_alert(ctx):
    """004 Lot 1 : « Nombre d'entretiens par participant : 4 à 5 maximum de 45 mn
    maximum »; phone calls and workshops are not individual interviews."""
    many, long_one, fine = (quick_path("PLIE-L1", ctx["me"]) for _ in range(3))
    individual, phone = contact_type("individual"), contact_type("phone")
    for path, n, minutes in ((many, 6, 45), (long_one, 2, 60), (fine, 5, 45)):
        for day in range(n):
            db.session.add(Contact(enrolment=path, contact_type=individual,
                                   occurs_at=datetime(2026, 10, 1 + day, 10),
                                   duration_minutes=minutes))
    db.session.add(Contact(enrolment=fine, contact_type=phone,
                           occurs_at=datetime(2026, 10, 20, 10), duration_minutes=90))
    db.session.flush()
    found = {a.enrolment_id: a.message for a in kinds_for("interviews")}
    assert set(found) == {many.id, long_one.id}
    assert "6 entretiens individuels, au-delà de 5" in found[many.id]
    assert "60 min, au-delà de 45 min" in found[long_one.id]
    # in the exit phase (« Sortie de l'action »), fewer than 4 interviews
    long_one.current_phase = _phase(long_one, "sortie")
    db.session.flush()
    assert "2 entretiens individuels à la sortie, moins que 4" in \
        {a.enrolment_id: a.message for a in kinds_for("interviews")}[long_one.id]


def test_plie_l4_bilan_hours_alert(ctx):
    """004 Lot 4 : « 12 à 15 h pour un bilan d'orientation et 20 h pour un bilan de
    compétences »."""
    from backoffice.enums import BilanKind
    orientation = quick_path("PLIE-L4", ctx["me"], bilan_kind=BilanKind.ORIENTATION)
    skills = quick_path("PLIE-L4", ctx["me"], bilan_kind=BilanKind.SKILLS)
    short = quick_path("PLIE-L4", ctx["me"], bilan_kind=BilanKind.SKILLS)
    individual = contact_type("individual")
    for path, hours in ((orientation, 16), (skills, 18), (short, 15)):
        for day in range(hours):
            db.session.add(Contact(enrolment=path, contact_type=individual,
                                   occurs_at=datetime(2026, 9, 1, 8) + timedelta(days=day),
                                   duration_minutes=60))
    short.current_phase = _phase(short, "sortie")  # the bilan is over
    db.session.flush()
    found = {a.enrolment_id: a.message for a in kinds_for("bilan_hours")}
    assert set(found) == {orientation.id, short.id}
    assert found[orientation.id] == ("Bilan d'orientation : 16 h d'entretiens individuels, "
                                     "au-delà des 15 h")
    assert "15 h d'entretiens individuels, en deçà des 20 h" in found[short.id]


def test_workshop_length_alert(ctx):
    """004 Lot 1 : « Durée des ateliers : 3 h »; 002 glossaire : regroupement de 3 heures."""
    short = Workshop(programme=programme("PLIE-L1"), title="Estime de soi",
                     held_at=datetime(2026, 11, 18, 9), duration_minutes=120)
    right = Workshop(programme=programme("CSP"), title="Réseau",
                     held_at=datetime(2026, 11, 18, 14), duration_minutes=180)
    free = Workshop(programme=programme("PLIE-L2"), title="Image de soi",
                    held_at=datetime(2026, 11, 18, 14), duration_minutes=90)
    db.session.add_all([short, right, free])
    db.session.flush()
    found = kinds_for("workshop_length")
    assert [(a.workshop_id, a.message) for a in found] == [
        (short.id, "Atelier « Estime de soi » du 18/11/2026 : 2 h au lieu de 3 h")]


def test_csp_phase_one_alert(ctx):
    """002 II §4 : « un entretien hebdomadaire au minimum (entretien individuel,
    regroupement). Le premier entretien doit être individuel. »"""
    weekly, gap, group_first = (quick_path("CSP", ctx["me"], entry=date(2026, 10, 26))
                                for _ in range(3))
    individual, group = contact_type("individual"), contact_type("group_session")
    for path in (weekly, gap, group_first):
        db.session.add(PhaseRecord(enrolment=path, phase=_phase(path, "phase_1"),
                                   started_on=date(2026, 11, 2)))
    marks = {weekly: [(2, individual), (10, group)], gap: [(3, individual)],
             group_first: [(3, group), (9, individual)]}
    for path, contacts in marks.items():
        for day, kind in contacts:
            db.session.add(Contact(enrolment=path, contact_type=kind,
                                   occurs_at=datetime(2026, 11, day, 10)))
    # a workshop attended counts as a group interview (regroupement)
    workshop = Workshop(programme=programme("CSP"), title="Projet",
                        held_at=datetime(2026, 11, 9, 9))
    workshop.attendances.append(WorkshopAttendance(enrolment=weekly))
    db.session.add(workshop)
    db.session.flush()
    found = {a.enrolment_id: a.message for a in kinds_for("csp_phase_one")}
    assert set(found) == {gap.id, group_first.id}
    assert "aucun entretien la semaine du 09/11/2026" in found[gap.id]
    assert "le premier entretien (03/11/2026) n'est pas individuel" in found[group_first.id]


def test_plie_l2_group_minimum_counts_a_session_not_a_workshop(ctx):
    """004 Lot 2 : « 16 minimum répartis sur 2 sessions (avec un minimum de 8
    participants par session) »: a workshop of 3 is no alert; a session of 7 is."""
    l2 = programme("PLIE-L2")
    small = ProgrammeSession(programme=l2, label="Session printemps",
                             starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 18))
    full = ProgrammeSession(programme=l2, label="Session automne",
                            starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 18))
    paths = [quick_path("PLIE-L2", ctx["me"], session=small) for _ in range(7)]
    paths += [quick_path("PLIE-L2", ctx["me"], session=full) for _ in range(8)]
    workshop = Workshop(programme=l2, session=small, title="Confiance",
                        held_at=datetime(2026, 11, 18, 9))
    for path in paths[:3]:
        workshop.attendances.append(WorkshopAttendance(enrolment=path))
    db.session.add(workshop)
    db.session.flush()
    assert kinds_for("workshop_size") == []
    found = kinds_for("session_size")
    assert [a.message for a in found] == [
        "Session « Session printemps » : 7 participants, moins que le minimum de 8"]



def test_the_badge_statement_is_built_once(alerts_app, users, scenario, monkeypatch):
    """Issue 25 §3: the navbar badge's statement is built once per shape (every path, or a
    counsellor's) and run with each request's moment and user (building it was half of
    the badge's time on every page); each user still gets their own count at that moment."""
    built = []
    build = service.overdue_count_query
    monkeypatch.setattr(service, "overdue_count_query",
                        lambda *args: built.append(args) or build(*args))
    monkeypatch.setattr(service, "_BADGE_STATEMENTS", {})
    with alerts_app.app_context():
        def count(email, moment=NOW):
            user = db.session.scalar(select(User).where(User.email == email))
            return service.overdue_count(db.session, user, moment)
        for _ in range(2):
            assert [count("coordinator@exemple.fr"), count("counsellor@exemple.fr"),
                    count("other@exemple.fr")] == [1, 1, 0]
            assert count("coordinator@exemple.fr", NOW - timedelta(days=400)) == 0
    assert len(built) == 2
