"""Issue 6 §2: two people editing the same beneficiary or enrolment — the second save is
refused with « Ce dossier a été modifié par X à HH:MM ; rechargez la page », their input is
shown back, nothing of it is saved; the database's version column guards the last instant."""
import re

import pytest
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backoffice.extensions import db
from backoffice.models import Beneficiary, Enrolment
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_admin_crud import PERSON, enrolment_form, text_of


@pytest.fixture
def person_id(app, users):
    with app.app_context():
        person = make_beneficiary(last_name="Wamytan", first_name="Léa")
        db.session.commit()
        return person.id


def _version_in_form(page: str) -> str:
    return re.search(r'name="version_seen"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version_seen"',
                     page).group(1)


def test_beneficiary_form_carries_the_version(app, client, auth, person_id):
    auth.login("coordinator")
    page = client.get(f"/admin/beneficiaries/edit/?id={person_id}").get_data(as_text=True)
    assert 'type="hidden"' in page and _version_in_form(page) == "1"


def test_second_beneficiary_save_is_refused_and_input_shown_back(app, users, person_id):
    first, second = app.test_client(), app.test_client()
    for client, role in ((first, "coordinator"), (second, "admin")):
        client.post("/login", data={"email": f"{role}@exemple.fr",
                                    "password": "motdepasse-de-test-123"})
        client.get(f"/admin/beneficiaries/edit/?id={person_id}")  # both open version 1
    saved = second.post(f"/admin/beneficiaries/edit/?id={person_id}",
                        data={**PERSON, "external_id": "", "commune": "Païta",
                              "version_seen": "1"})
    assert saved.status_code == 302
    refused = first.post(f"/admin/beneficiaries/edit/?id={person_id}",
                         data={**PERSON, "external_id": "", "commune": "Bourail",
                               "phone": "79 12 34", "version_seen": "1"})
    assert refused.status_code == 200
    text = text_of(refused)
    assert re.search(r"Ce dossier a été modifié par Test Administrateur à \d\d:\d\d ; "
                     r"rechargez la page", text), text[:2000]
    page = refused.get_data(as_text=True)
    assert 'value="Bourail"' in page and 'value="79 12 34"' in page  # input not discarded
    with app.app_context():
        person = db.session.get(Beneficiary, person_id)
        assert (person.commune, person.phone, person.version) == ("Païta", None, 2)


def test_save_with_the_current_version_goes_through(app, client, auth, person_id):
    auth.login("coordinator")
    for commune, version in (("Païta", "1"), ("Bourail", "2")):
        response = client.post(f"/admin/beneficiaries/edit/?id={person_id}",
                               data={**PERSON, "external_id": "", "commune": commune,
                                     "version_seen": version})
        assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Beneficiary, person_id).commune == "Bourail"


def test_second_enrolment_save_is_refused_and_input_shown_back(app, client, auth, users):
    with app.app_context():
        ref = make_reference()
        path = make_path(ref["programme"], users["counsellor"])
        db.session.commit()
        ids = {"programme": ref["programme"].id, "phase": ref["phase"].id}
        path_id, person = path.id, path.beneficiary_id
    auth.login("coordinator")
    client.get(f"/admin/enrolments/edit/?id={path_id}")
    with app.app_context():  # a colleague saves first
        db.session.get(Enrolment, path_id).target_job = "Maçon"
        db.session.commit()
    response = client.post(f"/admin/enrolments/edit/?id={path_id}", data=enrolment_form(
        person, ids, users, target_job="Boulanger", version_seen="1"))
    assert response.status_code == 200
    assert re.search(r"Ce dossier a été modifié par ligne de commande à \d\d:\d\d ; "
                     r"rechargez la page", text_of(response))
    assert 'value="Boulanger"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Enrolment, path_id).target_job == "Maçon"


def test_version_column_refuses_a_write_on_a_stale_copy(app, person_id):
    """Between the form check and the commit: the UPDATE names the version it read."""
    with app.app_context():
        first, second = Session(db.engine), Session(db.engine)
        try:
            mine = first.get(Beneficiary, person_id)
            theirs = second.get(Beneficiary, person_id)
            theirs.commune = "Païta"
            second.commit()
            mine.commune = "Bourail"
            with pytest.raises(StaleDataError):
                first.commit()
        finally:
            first.close()
            second.close()
