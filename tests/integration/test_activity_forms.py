"""Menu « Activité » typed by hand: a workshop, its session and the paths on its sheet
keep to one programme, and to the session's and the paths' dates; an internship is a
period of its path (services.activity)."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import (
    Enrolment,
    Internship,
    ProgrammeSession,
    SuspensionReason,
    Workshop,
    WorkshopAttendance,
)
from backoffice.services import lifecycle as svc
from tests.conftest import post_action, post_edit
from tests.integration.test_admin_crud import text_of
from tests.integration.test_lifecycle_actions import (
    _programme_id,
    close,
    fast_passwords,  # noqa: F401  (autouse fixture: quick password hashes)
    new_path,
    path_edit,
    path_state,
)

PLIE = "PLIE-L1"


def new_session(app, code: str, starts_on=date(2026, 3, 2), ends_on=date(2026, 6, 26)) -> int:
    with app.app_context():
        group = ProgrammeSession(programme_id=_programme_id(app, code),
                                 label=f"{code} printemps", starts_on=starts_on, ends_on=ends_on)
        db.session.add(group)
        db.session.commit()
        return group.id


def new_workshop(app, code: str, held_at=datetime(2026, 3, 9, 9), session_id=None) -> int:
    with app.app_context():
        workshop = Workshop(programme_id=_programme_id(app, code), session_id=session_id,
                            title="Atelier CV", held_at=held_at)
        db.session.add(workshop)
        db.session.commit()
        return workshop.id


def attend(app, workshop_id: int, path_id: int) -> None:
    with app.app_context():
        db.session.add(WorkshopAttendance(workshop_id=workshop_id, enrolment_id=path_id))
        db.session.commit()


def workshop_form(app, code: str, held_at: str, session_id=None) -> dict:
    return {"programme": str(_programme_id(app, code)),
            "session": str(session_id) if session_id else "__None",
            "title": "Atelier CV", "held_at": held_at, "duration_minutes": "180",
            "place": "Lunel", "facilitator": "Psychologue"}


def session_form(app, code: str, starts_on: str, ends_on: str) -> dict:
    return {"programme": str(_programme_id(app, code)), "label": f"{code} printemps",
            "starts_on": starts_on, "ends_on": ends_on, "place": "Lunel", "min_size": "4",
            "max_size": "7", "continuous_entry": "y"}


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def held_at(app, workshop_id: int) -> datetime:
    with app.app_context():
        return db.session.get(Workshop, workshop_id).held_at


def session_dates(app, session_id: int) -> tuple:
    with app.app_context():
        group = db.session.get(ProgrammeSession, session_id)
        return group.programme_id, group.starts_on, group.ends_on


def test_a_workshop_keeps_to_its_session(client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    plie_session, del_session = new_session(app, PLIE), new_session(app, "DEL-L1")
    auth.login("coordinator")
    assert client.post("/admin/workshops/new/", data=workshop_form(
        app, PLIE, "2026-03-09 09:00:00", plie_session)).status_code == 302

    response = client.post("/admin/workshops/new/", data=workshop_form(
        app, PLIE, "2026-03-09 09:00:00", del_session))
    assert "Session : « DEL-L1 printemps » est une session du dispositif DEL-L1, " \
           "l'atelier est du dispositif PLIE-L1." in text_of(response)
    response = client.post("/admin/workshops/new/", data=workshop_form(
        app, PLIE, "2026-07-06 09:00:00", plie_session))
    assert "Date de l'atelier : le 06/07/2026 est hors de la session « PLIE-L1 printemps » " \
           "(du 02/03/2026 au 26/06/2026)" in text_of(response)
    assert rows(app, Workshop) == 1


def test_a_workshop_with_a_sheet_keeps_its_attendees_programme_and_entries(
        client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    path = new_path(app, PLIE, users["counsellor"])  # entered 02/03/2026
    workshop = new_workshop(app, PLIE)
    attend(app, workshop, path)
    auth.login("coordinator")
    response = post_edit(client, f"/admin/workshops/edit/?id={workshop}",
                           data=workshop_form(app, "DEL-L1", "2026-03-09 09:00:00"))
    assert "émarge à cet atelier avec un parcours PLIE-L1 ; retirez d'abord son " \
           "émargement." in text_of(response)
    response = post_edit(client, f"/admin/workshops/edit/?id={workshop}",
                           data=workshop_form(app, PLIE, "2026-02-27 09:00:00"))
    assert "date d'entrée le 02/03/2026, après l'atelier du 27/02/2026" in text_of(response)
    assert held_at(app, workshop) == datetime(2026, 3, 9, 9)
    assert post_edit(client, f"/admin/workshops/edit/?id={workshop}", data=workshop_form(
        app, PLIE, "2026-03-02 14:00:00")).status_code == 302  # the entry day itself
    assert held_at(app, workshop) == datetime(2026, 3, 2, 14)


def test_an_attendance_line_is_a_path_of_the_workshop_entered_by_its_day(
        client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    plie_path = new_path(app, PLIE, users["counsellor"])
    csp_path = new_path(app, "CSP", users["counsellor"])
    workshop, early = new_workshop(app, PLIE), new_workshop(app, PLIE, datetime(2026, 2, 23, 9))
    auth.login("coordinator")

    def line(workshop_id, path_id):
        return {"workshop": str(workshop_id), "enrolment": str(path_id), "attendance": "present"}

    response = client.post("/admin/attendances/new/", data=line(workshop, csp_path))
    assert "est du dispositif CSP, l'atelier « Atelier CV » du dispositif PLIE-L1." \
        in text_of(response)
    response = client.post("/admin/attendances/new/", data=line(early, plie_path))
    assert "date d'entrée le 02/03/2026, après l'atelier du 23/02/2026 ; corrigez la date " \
           "d'entrée ou choisissez un autre atelier." in text_of(response)
    assert rows(app, WorkshopAttendance) == 0
    assert client.post("/admin/attendances/new/", data=line(workshop, plie_path)) \
        .status_code == 302
    assert rows(app, WorkshopAttendance) == 1


def test_an_unanswered_reminder_is_a_contact_not_a_line_of_a_sheet(
        client, auth, reference_app, users):
    """004 Lots 2 and 4 « 2 relances sans réponse »: recorded on a contact (Attendance
    « Relance sans réponse »); a workshop's sheet neither offers nor takes it."""
    app = reference_app
    plie_path = new_path(app, PLIE, users["counsellor"])
    workshop = new_workshop(app, PLIE)
    auth.login("coordinator")
    response = client.post("/admin/attendances/new/", data={
        "workshop": str(workshop), "enrolment": str(plie_path), "attendance": "no_answer"})
    assert "Présence : « Relance sans réponse » se note sur un contact, pas sur la feuille " \
           "d'émargement d'un atelier" in text_of(response)
    assert rows(app, WorkshopAttendance) == 0
    sheet = client.get(sheet_url(workshop))
    assert sheet.status_code == 200 and "Absence injustifiée" in text_of(sheet)
    assert "Relance sans réponse" not in text_of(sheet)
    # a contact records it
    assert "Relance sans réponse" in text_of(client.get("/admin/contacts/new/"))


def test_a_corrected_session_keeps_its_paths_and_workshops(client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    group = new_session(app, PLIE)
    new_workshop(app, PLIE, datetime(2026, 5, 4, 9), session_id=group)
    auth.login("coordinator")
    response = post_edit(client, f"/admin/sessions/edit/?id={group}",
                           data=session_form(app, PLIE, "2026-03-02", "2026-04-30"))
    assert "Dates de la session : son atelier « Atelier CV » du 04/05/2026 en sortirait ; " \
           "déplacez-le d'abord." in text_of(response)
    response = post_edit(client, f"/admin/sessions/edit/?id={group}",
                           data=session_form(app, "DEL-L1", "2026-03-02", "2026-06-26"))
    assert "Dispositif : l'atelier « Atelier CV » de cette session est du dispositif " \
           "PLIE-L1 ; changez d'abord sa session." in text_of(response)
    assert session_dates(app, group) == (_programme_id(app, PLIE), date(2026, 3, 2),
                                         date(2026, 6, 26))
    assert post_edit(client, f"/admin/sessions/edit/?id={group}", data=session_form(
        app, PLIE, "2026-03-02", "2026-05-04")).status_code == 302
    assert session_dates(app, group)[2] == date(2026, 5, 4)


@pytest.mark.parametrize(("paths", "refused"), [
    (1, "Dispositif : 1 parcours d'un autre dispositif suit cette session ; changez d'abord "
        "sa session."),
    (2, "Dispositif : 2 parcours d'un autre dispositif suivent cette session ; changez "
        "d'abord leur session."),
])
def test_a_session_followed_by_paths_keeps_its_programme(client, auth, reference_app, users,
                                                         paths, refused):
    app = reference_app  # with the reference data of seeds/
    group = new_session(app, PLIE)
    followers = [new_path(app, PLIE, users["counsellor"]) for _ in range(paths)]
    with app.app_context():
        for path in followers:
            db.session.get(Enrolment, path).session_id = group
        db.session.commit()
    auth.login("coordinator")
    response = post_edit(client, f"/admin/sessions/edit/?id={group}",
                           data=session_form(app, "DEL-L1", "2026-03-02", "2026-06-26"))
    assert refused in text_of(response)
    assert session_dates(app, group)[0] == _programme_id(app, PLIE)


def test_a_corrected_entry_may_not_pass_a_signed_workshop(client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    path = new_path(app, PLIE, users["counsellor"])  # entered 02/03/2026
    attend(app, new_workshop(app, PLIE, datetime(2026, 3, 9, 9)), path)
    before = path_state(app, path)
    auth.login("coordinator")
    response = path_edit(app, client, path, entry_date="2026-03-16")
    assert "Date d'entrée : l'atelier « Atelier CV » émargé a lieu le 09/03/2026, avant la " \
           "nouvelle date d'entrée (16/03/2026)." in text_of(response)
    assert path_state(app, path) == before
    assert path_edit(app, client, path, entry_date="2026-03-09").status_code == 302


def internship_form(path_id: int, starts_on: str, ends_on: str) -> dict:
    return {"enrolment": str(path_id), "company_name": "Boulangerie Martin",
            "starts_on": starts_on, "ends_on": ends_on, "hours": "30"}


def internships_of(app, path_id: int) -> list:
    with app.app_context():
        return [(i.starts_on, i.ends_on) for i in db.session.scalars(
            select(Internship).where(Internship.enrolment_id == path_id))]


def test_an_internship_is_a_period_of_its_path(client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    path = new_path(app, "DEL-L1", users["counsellor"])  # entered 02/03/2026
    auth.login("counsellor")
    response = client.post("/admin/internships/new/",
                           data=internship_form(path, "2026-02-23", "2026-03-06"))
    assert "Début du stage : il ne peut pas précéder l'entrée dans le parcours " \
           "(02/03/2026)." in text_of(response)
    assert client.post("/admin/internships/new/", data=internship_form(
        path, "2026-03-02", "2026-03-13")).status_code == 302
    close(app, path, "abandon", date(2026, 4, 3))
    response = client.post("/admin/internships/new/",
                           data=internship_form(path, "2026-04-06", "2026-04-10"))
    assert "Début du stage : il ne peut pas suivre la sortie du parcours (03/04/2026)." \
        in text_of(response)
    assert internships_of(app, path) == [(date(2026, 3, 2), date(2026, 3, 13))]

    auth.login("coordinator")
    response = path_edit(app, client, path, entry_date="2026-03-09")
    assert "Date d'entrée : le stage chez Boulangerie Martin commence le 02/03/2026, avant " \
           "la nouvelle date d'entrée (09/03/2026)." in text_of(response)


# --- the attendance sheet, filled in at once -------------------------------------------

def sheet_url(workshop_id: int) -> str:
    return f"/admin/workshops/emargement/?action=attendance_sheet&ids={workshop_id}"


def marks_of(app, workshop_id: int) -> dict:
    with app.app_context():
        return {line.enrolment_id: line.attendance.value for line in db.session.scalars(
            select(WorkshopAttendance).where(WorkshopAttendance.workshop_id == workshop_id))}


def test_the_sheet_offers_the_session_s_paths_in_progress_and_records_them_at_once(
        client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    group, other = new_session(app, PLIE), new_session(app, PLIE)
    ann, bob, gone, elsewhere, paused, back = (new_path(app, PLIE, users["counsellor"])
                                               for _ in range(6))
    later = new_path(app, PLIE, users["counsellor"], entry=date(2026, 3, 16))
    with app.app_context():
        for path in (ann, bob, gone, later, paused, back):
            db.session.get(Enrolment, path).session_id = group
        db.session.get(Enrolment, elsewhere).session_id = other
        illness = db.session.scalar(select(SuspensionReason).filter_by(code="illness"))
        # suspended on the workshop's day (its last day included), or resumed before it
        svc.suspend(db.session, db.session.get(Enrolment, paused), illness,
                    date(2026, 3, 4), date(2026, 3, 9))
        svc.suspend(db.session, db.session.get(Enrolment, back), illness,
                    date(2026, 3, 3), date(2026, 3, 8))
        db.session.commit()
    close(app, gone, "loss_of_contact", date(2026, 3, 5))
    workshop = new_workshop(app, PLIE, datetime(2026, 3, 9, 9), session_id=group)
    auth.login("coordinator")

    page = text_of(client.get(sheet_url(workshop)))
    for present in (ann, bob, back):
        assert f"parcours n° {present}," in page
    # exited before, another session, entered after, suspended that day
    for absent in (gone, elsewhere, later, paused):
        assert f"parcours n° {absent}," not in page
    assert "Taille d'un groupe : 4 à 7 personnes." in page

    response = post_action(client, sheet_url(workshop), {
        "action": "attendance_sheet", "ids": str(workshop),
        f"path_{ann}": "present", f"path_{bob}": "excused"})
    assert response.status_code == 302
    assert marks_of(app, workshop) == {ann: "present", bob: "excused"}
    page = text_of(client.get(response.headers["Location"]))
    assert "Feuille d'émargement enregistrée : 1 présent, 1 absence justifiée, " \
           "0 absence injustifiée." in page

    # changed and removed in the same save; a person not offered is ignored
    response = post_action(client, sheet_url(workshop), {
        "action": "attendance_sheet", "ids": str(workshop),
        f"path_{ann}": "", f"path_{bob}": "present", f"path_{elsewhere}": "present"})
    assert response.status_code == 302
    assert marks_of(app, workshop) == {bob: "present"}


def test_the_sheet_is_for_coordinators_and_for_workshops_already_held(
        client, auth, reference_app, users):
    app = reference_app  # with the reference data of seeds/
    path = new_path(app, PLIE, users["counsellor"])
    held = new_workshop(app, PLIE, datetime(2026, 3, 9, 9))
    for role in ("counsellor", "viewer", "commission"):
        auth.login(role)
        assert post_action(client, sheet_url(held), {
            "action": "attendance_sheet", "ids": str(held),
            f"path_{path}": "present"}).status_code == 403
        assert marks_of(app, held) == {}
        auth.logout()
    auth.login("coordinator")
    listed = client.get("/admin/workshops/").get_data(as_text=True)
    assert f"/admin/workshops/emargement/?action=attendance_sheet&amp;ids={held}" in listed
    details = client.get(f"/admin/workshops/details/?id={held}").get_data(as_text=True)
    assert f"/admin/workshops/emargement/?action=attendance_sheet&amp;ids={held}" in details
    coming = new_workshop(app, PLIE, datetime.now() + timedelta(days=3))
    response = client.get(sheet_url(coming), follow_redirects=True)
    assert "Impossible d'enregistrer la feuille d'émargement : Date : l'atelier a lieu le" \
        in text_of(response)
    assert marks_of(app, coming) == {}


def test_a_sheet_refused_on_one_line_saves_none(client, auth, reference_app, users):
    """One transaction: a changed line that breaks the rules (a CSP path typed on a PLIE
    sheet before the rules existed) refuses the whole sheet."""
    app = reference_app  # with the reference data of seeds/
    ann, csp = new_path(app, PLIE, users["counsellor"]), new_path(app, "CSP", users["counsellor"])
    workshop = new_workshop(app, PLIE, datetime(2026, 3, 9, 9))
    attend(app, workshop, csp)  # written directly, as an import would
    auth.login("coordinator")
    response = post_action(client, sheet_url(workshop), {
        "action": "attendance_sheet", "ids": str(workshop),
        f"path_{ann}": "present", f"path_{csp}": "excused"}, follow_redirects=True)
    assert "Impossible d'enregistrer la feuille d'émargement : Parcours : celui de " \
        in text_of(response)
    assert "est du dispositif CSP, l'atelier « Atelier CV » du dispositif PLIE-L1" \
        in text_of(response)
    assert marks_of(app, workshop) == {csp: "present"}


def test_the_sheet_offers_those_already_on_it_first_and_says_when_it_is_cut(
        client, auth, reference_app, users, monkeypatch):
    app = reference_app  # with the reference data of seeds/
    monkeypatch.setattr("backoffice.services.activity.SHEET_LIMIT", 1)
    first, second = (new_path(app, PLIE, users["counsellor"]) for _ in range(2))
    with app.app_context():
        names = {p: db.session.get(Enrolment, p).beneficiary.name_key for p in (first, second)}
    marked = max(names, key=names.get)  # the one the alphabet would put last
    workshop = new_workshop(app, PLIE, datetime(2026, 3, 9, 9))
    attend(app, workshop, marked)
    auth.login("coordinator")
    page = text_of(client.get(sheet_url(workshop)))
    assert f"parcours n° {marked}," in page
    assert f"parcours n° {min(names, key=names.get)}," not in page
    assert "les parcours du dispositif PLIE-L1 en cours le 09/03/2026" in page
    assert "Seules les 1 premières personnes sont proposées ; ajoutez les autres dans " \
           "Activité › Émargements." in page
