"""Issue 20 §3: the home page lists what each role has to do today; every figure is a
link to the list of the same rows, and a role sees only the figures of its own work."""
import re
from datetime import date, datetime, timedelta

import pytest

from backoffice.enums import ReferralStatus
from backoffice.extensions import db
from backoffice.models import (
    Commission,
    Contact,
    Enrolment,
    Obligation,
    PurchaseOrder,
    Referral,
    Workshop,
    WorkshopAttendance,
)
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_admin_crud import text_of, text_of_html

TODAY = date.today()
NOW = datetime.now()


@pytest.fixture
def todo_world(app, users):
    """Known figures: 2 pending and 1 deferred referral, 1 validated without a path and 1
    with, 1 order to receive (and 1 received), 1 held workshop without a sheet (and one
    with, one to come), the counsellor's 2 active paths of which 1 without a contact for
    4 weeks and 1 past its planned end, and 1 overdue plus 1 due-this-week obligation."""
    with app.app_context():
        ref = make_reference()
        programme, funder = ref["programme"], ref["funder"]
        counsellor = users["counsellor"]

        def referral(last_name, status):
            person = make_beneficiary(last_name=last_name)
            row = Referral(beneficiary=person, programme=programme, status=status,
                           referred_on=TODAY - timedelta(days=30))
            db.session.add(row)
            return row

        referral("Kowalczyk", ReferralStatus.PENDING)
        referral("Tuihani", ReferralStatus.PENDING)
        referral("Ouvea", ReferralStatus.DEFERRED)
        referral("Hnasse", ReferralStatus.VALIDATED)
        started = referral("Poindi", ReferralStatus.VALIDATED)
        db.session.flush()
        quiet = make_path(programme, counsellor, make_beneficiary(last_name="Waheo"),
                          entry_date=TODAY - timedelta(days=90))
        quiet.referral_id = started.id
        busy = make_path(programme, counsellor, make_beneficiary(last_name="Kaloi"),
                         entry_date=TODAY - timedelta(days=90))
        busy.planned_end_date = TODAY - timedelta(days=3)
        other = make_path(programme, users["admin"], make_beneficiary(last_name="Nemia"),
                          entry_date=TODAY - timedelta(days=90))
        contact_type = ref["contact_type"]
        db.session.add_all([
            Contact(enrolment=quiet, contact_type=contact_type,
                    occurs_at=NOW - timedelta(weeks=6)),
            Contact(enrolment=busy, contact_type=contact_type,
                    occurs_at=NOW - timedelta(days=2)),
            Contact(enrolment=other, contact_type=contact_type,
                    occurs_at=NOW - timedelta(days=2)),
            PurchaseOrder(funder=funder, programme=programme, number="BC-ATTENTE",
                          issued_on=TODAY - timedelta(days=5)),
            PurchaseOrder(funder=funder, programme=programme, number="BC-RECU",
                          issued_on=TODAY - timedelta(days=9),
                          received_on=TODAY - timedelta(days=8)),
            Obligation(name="Bilan en retard", enrolment=quiet, due_at=NOW - timedelta(days=1)),
            Obligation(name="Bilan de la semaine", enrolment=busy,
                       due_at=NOW + timedelta(days=3)),
            Obligation(name="Bilan lointain", enrolment=busy, due_at=NOW + timedelta(days=40)),
            Commission(programme=programme, held_on=TODAY + timedelta(days=10)),
        ])
        empty = Workshop(programme=programme, title="Atelier Nouville",
                         held_at=NOW - timedelta(days=2))
        signed = Workshop(programme=programme, title="Atelier Gorodey",
                          held_at=NOW - timedelta(days=3))
        coming = Workshop(programme=programme, title="Atelier Tjibaou",
                          held_at=NOW + timedelta(days=3))
        db.session.add_all([empty, signed, coming,
                            WorkshopAttendance(workshop=signed, enrolment=busy)])
        db.session.commit()


def figures(page: str) -> dict[str, tuple[int, str | None]]:
    """{label: (count, link)} of the home page's « à faire » figures."""
    found = {}
    for match in re.finditer(r'<(a|div) class="list-group-item[^"]*todo"(?: href="([^"]*)")?'
                             r'>(.*?)</\1>', page, re.S):
        text = text_of_html(match.group(3)).strip()
        count, label = text.split(" ", 1)
        found[label] = (int(count), match.group(2) and match.group(2).replace("&amp;", "&"))
    return found


def home(client, auth, role) -> dict[str, tuple[int, str | None]]:
    auth.login(role)
    response = client.get("/admin/")
    assert response.status_code == 200
    return figures(response.get_data(as_text=True))


def opened(client, link: str) -> str:
    response = client.get(link)
    assert response.status_code == 200, link
    return text_of(response).upper()


def test_commission_home_lists_referrals_to_decide(client, auth, todo_world):
    found = home(client, auth, "commission")
    assert set(found) == {"prescriptions à décider (en attente ou ajournées)",
                          "prescriptions en attente de décision",
                          "prescription ajournée"}
    # the working view (issue 20 §7): a deferred referral stays in it
    count, link = found["prescriptions à décider (en attente ou ajournées)"]
    page = opened(client, link)
    assert count == 3 and all(name in page for name in ("KOWALCZYK", "TUIHANI", "OUVEA"))
    count, link = found["prescriptions en attente de décision"]
    assert count == 2
    page = opened(client, link)
    assert "KOWALCZYK" in page and "TUIHANI" in page and "OUVEA" not in page
    count, link = found["prescription ajournée"]
    assert count == 1 and "OUVEA" in opened(client, link)


def test_commission_home_shows_the_deferred_ones_next_commission(client, auth, todo_world):
    auth.login("commission")
    page = text_of(client.get("/admin/"))
    next_day = (TODAY + timedelta(days=10)).strftime("%d/%m/%Y")
    assert "Prescriptions ajournées et leur prochaine commission" in page
    assert f"DEL-L1 1 {next_day}" in page


def test_coordinator_home_figures_open_lists_of_the_same_rows(client, auth, todo_world):
    found = home(client, auth, "coordinator")
    assert "prescriptions en attente de décision" not in found  # the commission's work

    count, link = found["prescription validée sans parcours ouvert"]
    page = opened(client, link)
    assert count == 1 and "HNASSE" in page and "POINDI" not in page

    count, link = found["bon de commande à réceptionner"]
    page = opened(client, link)
    assert count == 1 and "BC-ATTENTE" in page and "BC-RECU" not in page

    count, link = found["atelier tenu sans feuille d'émargement"]
    page = opened(client, link)
    assert count == 1 and "ATELIER NOUVILLE" in page
    assert "ATELIER GORODEY" not in page and "ATELIER TJIBAOU" not in page

    count, link = found["parcours au-delà de sa fin prévue"]
    assert count == 1 and "KALOI" in opened(client, link)

    count, link = found["personne en parcours sans contact depuis 4 semaines"]
    page = opened(client, link)
    assert count == 1 and "WAHEO" in page and "KALOI" not in page

    assert found["parcours en cours"][0] == 3
    assert found["échéance en retard"][0] == 1
    assert found["échéance dans les 7 prochains jours"][0] == 1


def test_counsellor_home_counts_only_their_own_paths(app, client, auth, todo_world, users):
    with app.app_context():  # the administrator's path is late too: not the counsellor's
        db.session.add(Obligation(name="Bilan d'un autre", due_at=NOW - timedelta(days=2),
                                  enrolment_id=db.session.query(Enrolment.id).filter(
                                      Enrolment.referent_id == users["admin"]).scalar()))
        db.session.commit()
    found = home(client, auth, "counsellor")
    assert set(found) == {"parcours en cours que vous suivez", "échéance en retard",
                          "échéance dans les 7 prochains jours",
                          "personne en parcours sans contact depuis 4 semaines"}
    assert found["parcours en cours que vous suivez"][0] == 2
    count, link = found["échéance en retard"]
    page = opened(client, link)
    assert count == 1 and "BILAN EN RETARD" in page and "BILAN D'UN AUTRE" not in page
    count, link = found["échéance dans les 7 prochains jours"]
    page = opened(client, link)
    assert count == 1 and "BILAN DE LA SEMAINE" in page and "BILAN LOINTAIN" not in page
    count, link = found["personne en parcours sans contact depuis 4 semaines"]
    assert count == 1 and "WAHEO" in opened(client, link)


def test_counsellor_list_filter_keeps_to_their_paths(app, client, auth, todo_world, users):
    with app.app_context():  # the administrator's path falls silent too
        db.session.query(Contact).filter(Contact.enrolment_id.in_(
            db.session.query(Enrolment.id).filter(Enrolment.referent_id == users["admin"])
        )).delete(synchronize_session=False)
        db.session.commit()
    auth.login("counsellor")
    _, link = home(client, auth, "counsellor")[
        "personne en parcours sans contact depuis 4 semaines"]
    page = opened(client, link)
    assert "WAHEO" in page and "NEMIA" not in page


def test_viewer_home_has_no_figure_and_links_the_indicators(client, auth, todo_world):
    auth.login("viewer")
    response = client.get("/admin/")
    page = response.get_data(as_text=True)
    assert figures(page) == {}
    assert "/admin/indicators/" in page
    for name in ("KOWALCZYK", "WAHEO", "HNASSE"):
        assert name not in text_of(response).upper()


def test_admin_home_has_every_section_and_the_system_state(client, auth, todo_world):
    found = home(client, auth, "admin")
    assert found["prescriptions en attente de décision"][0] == 2
    assert found["prescription validée sans parcours ouvert"][0] == 1
    auth.login("admin")
    page = text_of(client.get("/admin/"))
    assert "État du système" in page and "Base de données" in page
    assert "Comptes actifs : 5" in page


def test_bad_weeks_in_the_contact_filter_is_ignored_not_an_error(client, auth, todo_world):
    _, link = home(client, auth, "coordinator")[
        "personne en parcours sans contact depuis 4 semaines"]
    assert link.endswith("=4")
    for value in ("-1", "abc", "0", "99999999999999999999"):
        response = client.get(link[:-1] + value)
        assert response.status_code == 200, value
        assert "WAHEO" in text_of(response).upper()  # the filter is left out


def menu_link(page: str, name: str) -> str:
    """The href of the menu entry called `name` (an entry of a dropdown menu)."""
    match = re.search(r'<a class="dropdown-item[^"]*" href="([^"]+)"[^>]*>\s*'
                      + re.escape(name) + r"\s*</a>", page)
    assert match, name
    return match.group(1).replace("&amp;", "&")


def test_commission_menu_opens_referrals_on_those_to_decide(client, auth, todo_world):
    """Issue 20 §3: « Prescriptions » opens on the commission's working view; all the
    rows are one click away (« Toute la liste »)."""
    auth.login("commission")
    link = menu_link(client.get("/admin/").get_data(as_text=True), "Prescriptions")
    page = opened(client, link)
    assert all(name in page for name in ("KOWALCZYK", "TUIHANI", "OUVEA"))
    assert "HNASSE" not in page and "POINDI" not in page
    html = client.get(link).get_data(as_text=True)
    full = re.search(r'href="([^"]+)"[^>]*>Toute la liste<', html).group(1)
    assert "flt" not in full
    everything = opened(client, full)
    assert "HNASSE" in everything and "KOWALCZYK" in everything
    # and from the full list, back to the working view in one click
    assert "À décider en commission</a>" in client.get(full).get_data(as_text=True)


def test_each_role_opens_the_referrals_on_its_own_view(client, auth, todo_world):
    auth.login("coordinator")
    page = opened(client, menu_link(client.get("/admin/").get_data(as_text=True),
                                    "Prescriptions"))
    assert "HNASSE" in page and "POINDI" not in page and "KOWALCZYK" not in page


def test_paths_menu_opens_on_paths_not_closed(app, client, auth, todo_world):
    with app.app_context():
        from backoffice.enums import EnrolmentStatus
        path = db.session.query(Enrolment).join(Enrolment.beneficiary).filter_by(
            last_name="Nemia").one()
        path.status = EnrolmentStatus.CLOSED
        db.session.commit()
    auth.login("coordinator")
    link = menu_link(client.get("/admin/").get_data(as_text=True), "Parcours")
    page = opened(client, link)
    assert "WAHEO" in page and "KALOI" in page and "NEMIA" not in page
    assert "NEMIA" in opened(client, "/admin/enrolments/")


def test_home_shows_the_commission_a_referral_was_deferred_to(app, client, auth, todo_world):
    """Issue 20 §7: « Ajourner » names the commission; the home page shows that one, not
    merely the programme's next commission."""
    later = TODAY + timedelta(days=40)
    with app.app_context():
        deferred = db.session.query(Referral).filter_by(status=ReferralStatus.DEFERRED).one()
        commission = Commission(programme_id=deferred.programme_id, held_on=later)
        db.session.add(commission)
        db.session.flush()
        deferred.deferred_to_id = commission.id
        db.session.commit()
    auth.login("commission")
    page = text_of(client.get("/admin/"))
    assert f"DEL-L1 1 {later:%d/%m/%Y}" in page
    assert f"DEL-L1 1 {TODAY + timedelta(days=10):%d/%m/%Y}" not in page


def test_a_figure_read_row_by_row_stops_at_its_cap_and_says_so(client, auth, todo_world,
                                                                monkeypatch):
    # Issue 25 §4: « sans parcours », « sans contact », « sans feuille » and the week's
    # deadlines count up to worklist.COUNT_CAP, then show « plus de … » (the list they
    # open gives the number); under the cap, the exact figure (the tests above).
    from backoffice.services import worklist

    monkeypatch.setattr(worklist, "COUNT_CAP", 0)
    auth.login("coordinator")
    page = " ".join(text_of(client.get("/admin/")).split())
    for words in ("prescription validée sans parcours ouvert",
                  "atelier tenu sans feuille d'émargement", "échéance en retard",
                  "échéance dans les 7 prochains jours",
                  "personne en parcours sans contact depuis 4 semaines"):
        assert f"plus de 0 {words}" in page, words
    # a figure counted exactly is never capped
    assert "plus de 0 bon de commande" not in page and "1 bon de commande" in page


def test_a_large_figure_is_written_in_groups_of_three(client, auth, todo_world, monkeypatch):
    # At a million people the coordinator's home read « 193571 parcours en cours »: a
    # French reader expects « 193 571 » (narrow no-break space, as the indicators).
    from backoffice.services import worklist

    monkeypatch.setattr(worklist, "paths_in_progress", lambda *args, **kwargs: 193571)
    auth.login("coordinator")
    page = client.get("/admin/").get_data(as_text=True)
    assert "193\u202f571" in page and "193571" not in page
