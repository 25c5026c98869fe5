"""Issue 21 §2–4: documents produced from the record in one click where the user is (the
path's page, the alerts, a workshop, a commission, a selection of paths in one ZIP), kept
with the record and listed, tied to the deadline they fulfil; the administrators' templates
screen (download, upload checked on a sample record, restore). Each route for the roles
allowed and refused (nothing changed for the refused one).

The kinds are the tests' own (tests/document_kinds.py), so that the engine is tested
whatever the catalogue holds."""
import zipfile
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import func, select

from backoffice.audit import spool
from backoffice.documents.builder import build_docx
from backoffice.extensions import db
from backoffice.models import (
    AuditEntry,
    Commission,
    DeadlineRule,
    DocumentTemplate,
    Obligation,
    ProducedDocument,
    Workshop,
    WorkshopAttendance,
)
from backoffice.services import documents as service
from tests.document_kinds import register_test_kinds, unregister_test_kinds
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference
from tests.integration.test_admin_crud import text_of_html

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def test_kinds():
    register_test_kinds()
    yield
    unregister_test_kinds()


@pytest.fixture
def world(app, users):
    """Two paths of the counsellor's (Wamytan, Gope) and one of the administrator's
    (Naisseline), a « bilan » deadline due tomorrow on the first, a workshop with the
    first two convened, and a commission."""
    with app.app_context():
        ref = make_reference()
        programme = ref["programme"]
        path = make_path(programme, users["counsellor"])
        second = make_path(programme, users["counsellor"],
                           make_beneficiary(last_name="Gope", first_name="Paul"))
        other = make_path(programme, users["admin"],
                          make_beneficiary(last_name="Naisseline", first_name="Ana"))
        db.session.commit()  # the deadline engine runs on the paths' save, not after it
        obligation = Obligation(name="Bilan de fin", enrolment=path, rule=ref["deadline_rule"],
                                due_at=datetime.now().replace(microsecond=0) + timedelta(days=1))
        workshop = Workshop(programme=programme, title="Atelier CV",
                            held_at=datetime(2025, 2, 3, 9))
        commission = Commission(programme=programme, held_on=date(2025, 1, 3),
                                members_present="Mme Présidente, M. Assesseur")
        db.session.add_all([obligation, workshop, commission,
                            WorkshopAttendance(workshop=workshop, enrolment=path),
                            WorkshopAttendance(workshop=workshop, enrolment=second)])
        db.session.commit()
        return {"path": path.id, "second": second.id, "other": other.id,
                "person": path.beneficiary_id, "obligation": obligation.id,
                "workshop": workshop.id, "commission": commission.id}


def docx_text(content: bytes) -> str:
    """Every paragraph and table cell of a .docx, one per line."""
    document = Document(BytesIO(content))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(lines)


def produce(client, kind, record_id, **extra):
    return client.post("/admin/documents/produce/",
                       data={"kind": kind, "record_id": record_id, **extra})


def stored(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(
            ProducedDocument.kind_code, ProducedDocument.subject_id,
            ProducedDocument.enrolment_id, ProducedDocument.template_version,
            ProducedDocument.made_by_id).order_by(ProducedDocument.id)).all()


# --- the path's page ---------------------------------------------------------------------

def test_path_page_produces_keeps_and_lists_the_document(client, auth, app, users, world):
    auth.login("coordinator")
    page = client.get(f"/admin/enrolments/details/?id={world['path']}").get_data(as_text=True)
    assert "Fiche d'essai (.docx)" in text_of_html(page) and 'data-kind="essai_parcours"' in page
    assert "Aucun document produit." in page

    response = produce(client, "essai_parcours", world["path"])
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert "fiche-d-essai-wamytan-lea-" in response.headers["Content-Disposition"]
    text = docx_text(response.data)
    assert "Nom : Wamytan Léa" in text
    assert "DEL-L1 — entrée le 06/01/2025" in text
    assert "6 décembre 2026" in text
    assert "{{" not in text and "{%" not in text
    assert stored(app) == [("essai_parcours", world["path"], world["path"], 0,
                            users["coordinator"])]

    page = client.get(f"/admin/enrolments/details/?id={world['path']}").get_data(as_text=True)
    assert "Documents produits" in page and "Test Coordinateur" in text_of_html(page)
    with app.app_context():
        document_id = db.session.scalar(select(ProducedDocument.id))
    assert f"/admin/documents/download/{document_id}/" in page
    download = client.get(f"/admin/documents/download/{document_id}/")
    assert download.status_code == 200 and download.data == response.data

    person = client.get(f"/admin/beneficiaries/details/?id={world['person']}")
    assert f"/admin/documents/download/{document_id}/" in person.get_data(as_text=True)


def test_each_production_is_recorded_in_the_audit_trail(client, auth, app, world):
    auth.login("coordinator")
    produce(client, "essai_parcours", world["path"])
    with app.app_context():
        actions = db.session.execute(select(AuditEntry.action, AuditEntry.table_name)).all()
        changes = db.session.scalar(select(AuditEntry.changes).where(
            AuditEntry.table_name == "produced_documents"))
    assert ("create", "produced_documents") in actions
    assert ("export", None) in actions
    assert changes["docx"][1].startswith("fichier de ")


def test_a_document_download_writes_its_entry_once_the_file_is_sent(client, auth, app, world):
    """A file answer (send_file) hands the server the file itself: the audit spool's drain
    still runs once it is sent (issue 25 §3, audit/access_log.py)."""
    auth.login("coordinator")

    def exports() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "export"))

    response = client.post("/admin/documents/produce/", buffered=False,
                           data={"kind": "essai_parcours", "record_id": world["path"]})
    assert response.status_code == 200
    assert exports() == 0 and spool.pending(app)  # on disk while the file is sent…
    response.close()
    assert exports() == 1 and not spool.pending(app)  # …in the trail once it is


@pytest.mark.parametrize("role, path_key, status", [
    ("viewer", "path", 403),        # a funder never gets a nominative document
    ("commission", "path", 403),    # reads no path
    ("counsellor", "other", 404),   # another counsellor's path
])
def test_refused_roles_get_no_document_and_nothing_is_stored(client, auth, app, world, role,
                                                             path_key, status):
    auth.login(role)
    response = produce(client, "essai_parcours", world[path_key])
    assert response.status_code == status
    assert stored(app) == []


def test_a_counsellor_produces_for_their_own_path(client, auth, app, users, world):
    auth.login("counsellor")
    page = client.get(f"/admin/enrolments/details/?id={world['path']}").get_data(as_text=True)
    assert 'data-kind="essai_parcours"' in page
    assert produce(client, "essai_parcours", world["path"]).status_code == 200
    assert stored(app)[0][4] == users["counsellor"]


@pytest.mark.parametrize("data", [
    {"kind": "inconnu", "record_id": "1"},
    {"kind": "essai_parcours", "record_id": "abc"},
    {"kind": "essai_parcours", "record_id": str(2**70)},
])
def test_unknown_kind_or_record_is_not_found(client, auth, app, world, data):
    auth.login("coordinator")
    assert client.post("/admin/documents/produce/", data=data).status_code == 404
    assert stored(app) == []


@pytest.mark.parametrize("role, status", [("viewer", 403), ("counsellor", 404)])
def test_a_stored_document_is_not_downloaded_by_who_may_not_read_it(client, auth, app, world,
                                                                     role, status):
    auth.login("admin")
    produce(client, "essai_parcours", world["other"])
    with app.app_context():
        document_id = db.session.scalar(select(ProducedDocument.id))
    auth.logout()
    auth.login(role)
    assert client.get(f"/admin/documents/download/{document_id}/").status_code == status


def test_user_text_is_printed_as_typed(client, auth, app, users, world):
    with app.app_context():
        path = make_path(make_reference_programme(), users["counsellor"],
                         make_beneficiary(last_name="<b>Dupont</b> & fils", first_name="{{ x }}"))
        db.session.commit()
        path_id = path.id
    auth.login("coordinator")
    text = docx_text(produce(client, "essai_parcours", path_id).data)
    assert "Nom : <b>Dupont</b> & fils {{ x }}" in text


def make_reference_programme():
    from backoffice.models import Programme
    return db.session.scalar(select(Programme))


# --- PDF ---------------------------------------------------------------------------------

@pytest.mark.skipif(service.soffice() is None, reason="LibreOffice absent (make test-e2e "
                                                      "l'installe)")
def test_pdf_is_converted_kept_and_downloadable(client, auth, app, world):
    auth.login("coordinator")
    response = produce(client, "essai_parcours", world["path"], format="pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    with app.app_context():
        document_id = db.session.scalar(select(ProducedDocument.id))
    page = client.get(f"/admin/enrolments/details/?id={world['path']}").get_data(as_text=True)
    assert f"/admin/documents/download/{document_id}/?format=pdf" in page
    again = client.get(f"/admin/documents/download/{document_id}/?format=pdf")
    assert again.data == response.data


def test_without_libreoffice_pdf_is_refused_in_french_and_nothing_kept(client, auth, app,
                                                                       world, monkeypatch):
    monkeypatch.setattr(service, "soffice", lambda: None)
    auth.login("coordinator")
    response = produce(client, "essai_parcours", world["path"], format="pdf",
                       next=f"/admin/enrolments/details/?id={world['path']}")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "LibreOffice n'est pas installé" in text_of_html(page)
    assert stored(app) == []


# --- the deadline it fulfils -------------------------------------------------------------

def test_the_document_marks_its_deadline_done(client, auth, app, world):
    auth.login("counsellor")
    produce(client, "essai_parcours", world["path"])
    with app.app_context():
        document_id = db.session.scalar(select(ProducedDocument.id))
    page = client.get(f"/admin/enrolments/details/?id={world['path']}").get_data(as_text=True)
    assert "« Bilan de fin » transmis le" in text_of_html(page)
    today = date.today()
    response = client.post("/admin/documents/transmitted/", data={
        "document_id": document_id, "obligation_id": world["obligation"],
        "done_on": today.isoformat(), "next": f"/admin/enrolments/details/?id={world['path']}"})
    assert response.status_code == 302
    with app.app_context():
        obligation = db.session.get(Obligation, world["obligation"])
        assert obligation.done_at.date() == today
        assert obligation.document_ref == f"Fiche d'essai n° {document_id} du {today:%d/%m/%Y}"


@pytest.mark.parametrize("role, status", [("viewer", 403), ("commission", 403)])
def test_refused_roles_mark_nothing_done(client, auth, app, world, role, status):
    auth.login("coordinator")
    produce(client, "essai_parcours", world["path"])
    with app.app_context():
        document_id = db.session.scalar(select(ProducedDocument.id))
    auth.logout()
    auth.login(role)
    response = client.post("/admin/documents/transmitted/", data={
        "document_id": document_id, "obligation_id": world["obligation"]})
    assert response.status_code == status
    with app.app_context():
        assert db.session.get(Obligation, world["obligation"]).done_at is None


def test_a_document_marks_only_the_deadline_it_fulfils(client, auth, app, world):
    with app.app_context():
        path_obligation = db.session.get(Obligation, world["obligation"])
        unrelated = Obligation(name="Autre livrable", enrolment_id=world["path"],
                               due_at=path_obligation.due_at)
        db.session.add(unrelated)
        db.session.commit()
        unrelated_id = unrelated.id
    auth.login("coordinator")
    produce(client, "essai_parcours", world["path"])
    with app.app_context():
        document_id = db.session.scalar(select(ProducedDocument.id))
    response = client.post("/admin/documents/transmitted/", data={
        "document_id": document_id, "obligation_id": unrelated_id})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Obligation, unrelated_id).done_at is None


# --- the alerts, a workshop, a commission --------------------------------------------------

def test_the_alert_offers_the_document_that_fulfils_it(client, auth, world):
    auth.login("counsellor")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    row = page.split(f'data-obligation="{world["obligation"]}"')[1].split("</tr>")[0]
    assert 'data-kind="essai_parcours"' in row
    assert f'name="record_id" value="{world["path"]}"' in row


def test_workshop_page_produces_its_convocation(client, auth, app, world):
    auth.login("coordinator")
    page = client.get(f"/admin/workshops/details/?id={world['workshop']}").get_data(as_text=True)
    assert 'data-kind="essai_atelier"' in page
    text = docx_text(produce(client, "essai_atelier", world["workshop"]).data)
    assert "Wamytan" in text and "Gope" in text
    assert stored(app)[0][:3] == ("essai_atelier", world["workshop"], None)
    page = client.get(f"/admin/workshops/details/?id={world['workshop']}").get_data(as_text=True)
    assert "Documents produits" in page


def test_a_counsellor_may_not_print_a_workshops_attendees(client, auth, app, world):
    """The counsellor reads workshops, not their attendance lines (auth/permissions.py)."""
    auth.login("counsellor")
    page = client.get(f"/admin/workshops/details/?id={world['workshop']}").get_data(as_text=True)
    assert 'data-kind="essai_atelier"' not in page
    assert produce(client, "essai_atelier", world["workshop"]).status_code == 403
    assert stored(app) == []


def test_commission_page_produces_its_minutes_for_the_commission_only(client, auth, app,
                                                                      world):
    auth.login("commission")
    url = f"/admin/commissions/details/?id={world['commission']}"
    assert 'data-kind="essai_commission"' in client.get(url).get_data(as_text=True)
    text = docx_text(produce(client, "essai_commission", world["commission"]).data)
    assert "3 janvier 2025 : Mme Présidente, M. Assesseur" in text
    auth.logout()
    auth.login("viewer")
    assert 'data-kind="essai_commission"' not in client.get(url).get_data(as_text=True)
    assert produce(client, "essai_commission", world["commission"]).status_code == 403
    assert len(stored(app)) == 1


# --- in bulk from the paths' list ----------------------------------------------------------

def test_bulk_action_gives_one_zip_with_one_document_per_path(client, auth, app, world):
    auth.login("coordinator")
    response = client.post("/admin/enrolments/action/", data={
        "action": "produce_documents", "rowid": [world["path"], world["second"]]})
    assert response.status_code == 302
    choice = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Produire un document pour 2 fiches" in choice
    assert 'value="essai_parcours"' in choice
    response = client.post("/admin/documents/bulk/zip/", data={
        "subject": "enrolment", "ids": f"{world['path']},{world['second']}",
        "kind": "essai_parcours"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(BytesIO(response.data)) as archive:
        names = sorted(archive.namelist())
        texts = [docx_text(archive.read(name)) for name in names]
    assert len(names) == 2 and names[0].startswith("fiche-d-essai-gope-paul-")
    assert "Nom : Gope Paul" in texts[0] and "Nom : Wamytan Léa" in texts[1]
    assert [row[1] for row in stored(app)] == [world["path"], world["second"]]


def test_bulk_refuses_the_whole_selection_when_one_path_is_out_of_reach(client, auth, app,
                                                                        world):
    auth.login("counsellor")
    response = client.post("/admin/documents/bulk/zip/", data={
        "subject": "enrolment", "ids": f"{world['path']},{world['other']}",
        "kind": "essai_parcours"})
    assert response.status_code == 404
    assert stored(app) == []


def test_bulk_is_refused_to_a_funder(client, auth, app, world):
    auth.login("viewer")
    response = client.post("/admin/documents/bulk/zip/", data={
        "subject": "enrolment", "ids": str(world["path"]), "kind": "essai_parcours"})
    assert response.status_code == 403
    assert stored(app) == []


# --- the templates screen ------------------------------------------------------------------

def upload(client, content: bytes, name: str = "modele.docx", code: str = "essai_parcours"):
    return client.post(f"/admin/document-templates/upload/{code}/",
                       data={"template": (BytesIO(content), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def template_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(DocumentTemplate.id)))


def test_templates_screen_lists_kinds_and_downloads_the_active_template(client, auth, world):
    auth.login("admin")
    page = text_of_html(client.get("/admin/document-templates/").get_data(as_text=True))
    assert "Fiche d'essai" in page and "Essai — fiche d'un parcours" in page
    assert "person.last_name, person.first_name" in page
    assert "Modèle en service : modèle d'origine" in page
    response = client.get("/admin/document-templates/download/essai_parcours/")
    assert response.status_code == 200 and response.mimetype == DOCX
    assert "{{ person.last_name }}" in docx_text(response.data)


def test_a_good_upload_is_used_and_audited_then_restored(client, auth, app, world):
    auth.login("admin")
    changed = build_docx("# Fiche modifiée\n\nMadame, Monsieur {{ person.last_name }}\n")
    page = text_of_html(upload(client, changed, "ma-fiche.docx").get_data(as_text=True))
    assert "« Fiche d'essai » : le modèle « ma-fiche.docx » est en service (version 1)." in page
    assert "version 1 « ma-fiche.docx »" in page
    text = docx_text(produce(client, "essai_parcours", world["path"]).data)
    assert "Madame, Monsieur Wamytan" in text
    assert stored(app)[-1][3] == 1
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.table_name == "document_templates"))
        assert entry.action == "create" and entry.changes["file_name"] == [None, "ma-fiche.docx"]

    restored = client.post("/admin/document-templates/restore/essai_parcours/",
                           follow_redirects=True).get_data(as_text=True)
    assert "le modèle d'origine est rétabli" in text_of_html(restored)
    text = docx_text(produce(client, "essai_parcours", world["path"]).data)
    assert "Fiche d'essai" in text and "Madame, Monsieur" not in text
    assert stored(app)[-1][3] == 0


@pytest.mark.parametrize("content, message", [
    (build_docx("# Fiche\n\nNom : {{ person.nom }}\n"),
     "Le champ « nom » utilisé dans le modèle n'existe pas pour ce document."),
    (build_docx("# Fiche\n\nNom : {{ person.last name }}\n"),
     "balise mal écrite « {{ person.last name }} »"),
    (b"%PDF-1.4 pas un docx", "n'est pas un document Word (.docx)"),
    (b"", "aucun fichier envoyé"),
])
def test_a_broken_upload_is_refused_in_french_and_nothing_changes(client, auth, app, world,
                                                                  content, message):
    auth.login("admin")
    page = text_of_html(upload(client, content).get_data(as_text=True))
    assert message in page
    assert template_rows(app) == 0
    assert "Modèle en service : modèle d'origine" in page


@pytest.mark.parametrize("role", ["coordinator", "counsellor", "viewer"])
def test_only_administrators_reach_the_templates(client, auth, app, world, role):
    auth.login(role)
    assert client.get("/admin/document-templates/").status_code == 403
    assert upload(client, build_docx("# x\n")).status_code == 403
    assert client.post("/admin/document-templates/restore/essai_parcours/").status_code == 403
    assert template_rows(app) == 0


def test_restore_when_already_shipped_changes_nothing(client, auth, app, world):
    auth.login("admin")
    page = client.post("/admin/document-templates/restore/essai_parcours/",
                       follow_redirects=True).get_data(as_text=True)
    assert "utilise déjà le modèle d'origine" in text_of_html(page)
    assert template_rows(app) == 0


def test_deadline_rule_code_is_what_the_kind_fulfils(app, world):
    """The test kind fulfils the reference's « bilan » rule (tests/document_kinds.py)."""
    with app.app_context():
        assert db.session.scalar(select(DeadlineRule.code)) == "bilan"


def test_a_document_of_another_programme_is_neither_offered_nor_made(client, auth, app,
                                                                     world):
    from dataclasses import replace

    from backoffice.documents.catalogue import KINDS, register
    from tests.document_kinds import PATH_KIND

    register(replace(PATH_KIND, code="essai_plie", title="Fiche PLIE", programmes=("PLIE",)))
    try:
        auth.login("coordinator")
        url = f"/admin/enrolments/details/?id={world['path']}"  # a DEL-L1 path
        assert 'data-kind="essai_plie"' not in client.get(url).get_data(as_text=True)
        response = produce(client, "essai_plie", world["path"], next=url)
        assert response.status_code == 302
        page = text_of_html(client.get(url).get_data(as_text=True))
        assert "« Fiche PLIE » ne concerne pas le dispositif DEL-L1" in page
        assert stored(app) == []
    finally:
        KINDS.pop("essai_plie")


# --- the other records' pages: a contact, an internship, a referral -------------------------

@pytest.fixture
def records(app, users, world):
    """A contact and an internship on the counsellor's first path, and a refused referral."""
    with app.app_context():
        from backoffice.enums import ReferralStatus
        from backoffice.models import Contact, ContactType, Enrolment, Internship, Referral

        path = db.session.get(Enrolment, world["path"])
        contact = Contact(enrolment=path, occurs_at=datetime(2026, 3, 2, 10),
                          contact_type=db.session.scalars(select(ContactType)).first(),
                          staff_id=users["counsellor"])
        internship = Internship(enrolment=path, company_name="Boulangerie Kanak",
                                starts_on=date(2026, 3, 9), ends_on=date(2026, 3, 20))
        referral = Referral(beneficiary=path.beneficiary, programme=path.programme,
                            referred_on=date(2026, 1, 5), status=ReferralStatus.REJECTED,
                            decided_on=date(2026, 1, 20), decision_reason="Hors critères")
        db.session.add_all([contact, internship, referral])
        db.session.commit()
        return {"contacts": contact.id, "internships": internship.id,
                "referrals": referral.id}


@pytest.mark.parametrize(("slug", "kind", "expected"), [
    ("contacts", "convocation_contact", "Wamytan"),
    ("internships", "del_internship_agreement", "Boulangerie Kanak"),
    ("referrals", "decision_letter", "Hors critères"),
])
def test_a_records_page_offers_and_makes_its_documents(client, auth, app, records, slug, kind,
                                                       expected):
    """Issue 21 §3: one click where the user is — the contact's convocation, the
    internship's agreement, the referral's decision letter, from the record's own page."""
    auth.login("coordinator")
    page = client.get(f"/admin/{slug}/details/?id={records[slug]}").get_data(as_text=True)
    assert f'data-kind="{kind}"' in page
    response = produce(client, kind, records[slug])
    assert response.status_code == 200 and response.mimetype == DOCX
    assert expected.lower() in docx_text(response.data).lower()
    assert stored(app)[0][:2] == (kind, records[slug])


def test_a_funder_gets_no_document_from_a_referral_and_nothing_is_kept(client, auth, app,
                                                                       records):
    auth.login("viewer")
    assert produce(client, "decision_letter", records["referrals"]).status_code == 403
    assert stored(app) == []


def test_bulk_from_the_referrals_list_gives_the_decision_letters(client, auth, app, records):
    """Issue 21 §3: in bulk from a list — the decision letters of a selection of
    referrals, one ZIP."""
    auth.login("commission")
    response = client.post("/admin/referrals/action/", data={
        "action": "produce_documents", "rowid": [records["referrals"]]})
    assert response.status_code == 302
    choice = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="decision_letter"' in choice
    response = client.post("/admin/documents/bulk/zip/", data={
        "subject": "referral", "ids": str(records["referrals"]), "kind": "decision_letter"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(BytesIO(response.data)) as archive:
        text = docx_text(archive.read(archive.namelist()[0]))
    assert "Hors critères" in text
    assert [row[:2] for row in stored(app)] == [("decision_letter", records["referrals"])]
