"""Issue 20 §1: a person's page tells their whole story — referrals and decisions, every
path with its phases, suspensions, internships, workshops, contacts, barriers and
deadlines — as sections and as a dated timeline, each row a link to its own record; the
path's page does the same for one path; « Ajouter » comes pre-filled; « Historique »
shows the record's own audit entries to those allowed. Each role sees only what it may."""
import re
from datetime import date, datetime

import pytest

from backoffice.enums import ReferralStatus
from backoffice.extensions import db
from backoffice.models import (
    Barrier,
    Contact,
    Internship,
    Obligation,
    PhaseRecord,
    Referral,
    Suspension,
    Workshop,
    WorkshopAttendance,
)
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_admin_crud import text_of_html as text_of_page


@pytest.fixture
def story(app, users):
    """Léa Wamytan: a validated referral, a path followed by the counsellor with one record
    of every kind, and a second path followed by the administrator."""
    with app.app_context():
        ref = make_reference()
        programme = ref["programme"]
        person = make_beneficiary()
        referral = Referral(beneficiary=person, programme=programme,
                            referred_on=date(2025, 1, 2), prescriber_name="Mme Prescriptrice",
                            status=ReferralStatus.VALIDATED, decided_on=date(2025, 1, 3))
        db.session.add(referral)
        path = make_path(programme, users["counsellor"], person)
        other = make_path(programme, users["admin"], person, entry_date=date(2023, 2, 6))
        workshop = Workshop(programme=programme, title="Atelier Tjibaou",
                            held_at=datetime(2025, 2, 3, 9))
        rows = {
            "phase_records": PhaseRecord(enrolment=path, phase=ref["phase"],
                                         started_on=date(2025, 1, 6)),
            "suspensions": Suspension(enrolment=path, reason=ref["suspension_reason"],
                                      starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 10)),
            "contacts": Contact(enrolment=path, contact_type=ref["contact_type"],
                                occurs_at=datetime(2025, 1, 7, 10), staff_id=users["counsellor"]),
            "internships": Internship(enrolment=path, company_name="Boulangerie Kanak",
                                      starts_on=date(2025, 4, 1), ends_on=date(2025, 4, 15)),
            "barriers": Barrier(enrolment=path, barrier_type=ref["barrier_type"],
                                identified_on=date(2025, 1, 7)),
            "obligations": Obligation(name="Bilan de mi-parcours", enrolment=path,
                                      due_at=datetime(2025, 9, 1, 12)),
            "done": Obligation(name="Plan d'action signé", enrolment=path,
                               due_at=datetime(2025, 2, 1, 12), done_at=datetime(2025, 1, 30)),
            "workshops": workshop,
            "attendance": WorkshopAttendance(workshop=workshop, enrolment=path),
            "other_contact": Contact(enrolment=other, contact_type=ref["contact_type"],
                                     occurs_at=datetime(2023, 3, 1, 10)),
        }
        db.session.add_all(rows.values())
        db.session.commit()
        ids = {name: row.id for name, row in rows.items()}
        return {**ids, "person": person.id, "path": path.id, "other": other.id,
                "referrals": referral.id}


def person_page(client, auth, role, person_id):
    auth.login(role)
    response = client.get(f"/admin/beneficiaries/details/?id={person_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_coordinator_reads_the_whole_story_each_row_a_link(client, auth, story):
    page = person_page(client, auth, "coordinator", story["person"])
    text = text_of_page(page)
    assert "WAMYTAN Léa" in text and "née le 04/05/1990" in text
    for slug, key in (("referrals", "referrals"), ("enrolments", "path"),
                      ("enrolments", "other"), ("phase-records", "phase_records"),
                      ("suspensions", "suspensions"), ("contacts", "contacts"),
                      ("internships", "internships"), ("barriers", "barriers"),
                      ("obligations", "obligations"), ("obligations", "done"),
                      ("workshops", "workshops")):
        assert f"/admin/{slug}/details/?id={story[key]}" in page, slug
    for fact in ("Mme Prescriptrice", "Validée le 03/01/2025", "Boulangerie Kanak",
                 "Atelier Tjibaou", "Bilan de mi-parcours", "Plan d'action signé",
                 "Mobilité", "Maladie"):
        assert fact in text, fact


def test_timeline_lists_dated_facts_most_recent_first(client, auth, story):
    page = person_page(client, auth, "coordinator", story["person"])
    timeline = page[page.index('id="timeline"'):]
    days = re.findall(r'<span class="text-muted small">(\d\d/\d\d/\d{4})</span>', timeline)
    as_dates = [datetime.strptime(day, "%d/%m/%Y") for day in days]
    assert as_dates == sorted(as_dates, reverse=True)
    for kind in ("Prescription", "Décision", "Entrée en parcours", "Suspension", "Reprise",
                 "Stage", "Atelier", "Contact", "Frein repéré", "Échéance faite"):
        assert f"<strong class=\"ml-1\">{kind}</strong>" in timeline, kind


def test_counsellor_sees_only_their_own_path_and_no_referral(client, auth, story):
    page = person_page(client, auth, "counsellor", story["person"])
    assert f"/admin/enrolments/details/?id={story['path']}" in page
    assert f"/admin/enrolments/details/?id={story['other']}" not in page
    assert "01/03/2023" not in text_of_page(page)  # the other path's contact
    assert "Mme Prescriptrice" not in page and "Prescriptions" not in text_of_page(page)
    assert 'id="tab-history"' not in page


def test_commission_sees_referrals_but_no_path(client, auth, story):
    page = person_page(client, auth, "commission", story["person"])
    assert "Mme Prescriptrice" in page
    assert "/admin/enrolments/details/" not in page and "Boulangerie Kanak" not in page


def test_history_tab_shows_the_records_own_audit_to_the_administrator(client, auth, story):
    person_page(client, auth, "admin", story["person"])  # a first read is audited
    page = person_page(client, auth, "admin", story["person"])
    history = page[page.index('id="history"'):]
    assert "Consultation" in history and "admin@exemple.fr" in history
    auth.logout()
    assert 'id="tab-history"' not in person_page(client, auth, "coordinator", story["person"])


def test_add_buttons_come_prefilled_with_the_path_and_the_counsellor(app, client, auth, story,
                                                                     users):
    page = person_page(client, auth, "counsellor", story["person"])
    add = re.search(r'href="(/admin/contacts/new/\?enrolment=(\d+)[^"]*)"', page)
    assert add and int(add.group(2)) == story["path"]
    form = client.get(add.group(1).replace("&amp;", "&")).get_data(as_text=True)
    enrolment = re.search(r'<input[^>]*name="enrolment"[^>]*>', form).group(0)
    assert f'value="{story["path"]}"' in enrolment
    staff = re.search(r'<input[^>]*name="staff"[^>]*>', form).group(0)
    assert f'value="{users["counsellor"]}"' in staff


def test_add_form_does_not_prefill_a_path_the_counsellor_may_not_see(client, auth, story):
    auth.login("counsellor")
    form = client.get(f"/admin/contacts/new/?enrolment={story['other']}").get_data(as_text=True)
    enrolment = re.search(r'<input[^>]*name="enrolment"[^>]*>', form).group(0)
    assert f'value="{story["other"]}"' not in enrolment


def test_path_page_tells_the_story_of_that_path_only(client, auth, story):
    auth.login("coordinator")
    page = client.get(f"/admin/enrolments/details/?id={story['path']}").get_data(as_text=True)
    assert f"/admin/beneficiaries/details/?id={story['person']}" in page
    assert f"/admin/contacts/details/?id={story['contacts']}" in page
    assert f"/admin/contacts/details/?id={story['other_contact']}" not in page
    assert "Boulangerie Kanak" in page and 'id="timeline"' in page
