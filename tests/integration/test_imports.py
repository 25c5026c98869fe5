"""Issue 23: import of the funders' referral lists through *Commission › Importer des
prescriptions* and `flask import referrals`: upload, mapping, preview with every row's
status, corrections, duplicates, re-import, the same step (référent, order, commission),
audit, undo, and who may do it. Files are made like the funders' (tests/import_files.py).
"""
import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from backoffice.admin import imports as import_view
from backoffice.enums import ImportRowStatus, ImportState, ReferralStatus, Role, Sex
from backoffice.extensions import db
from backoffice.models import (
    AuditEntry,
    Beneficiary,
    Commission,
    ImportPreset,
    Obligation,
    Programme,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    ReferralImport,
    ReferralImportRow,
    User,
)
from backoffice.services import imports as service
from tests.conftest import make_user, post_edit
from tests.import_files import (
    CSP_HEADERS,
    DEL_HEADERS,
    csp_rows,
    csv_bytes,
    excel_serial,
    xlsx_file,
)

TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch):
    monkeypatch.setattr(import_view, "current_day", lambda: TODAY)


@pytest.fixture
def world(reference_app, users):
    """The reference data, one account per role and a counsellor to assign."""
    with reference_app.app_context():
        referent = make_user(Role.COUNSELLOR, "referente@exemple.fr", "Référente Lunel")
        db.session.commit()
        return {"referent": referent.id, "users": users}


def programme_id(code: str) -> int:
    return db.session.scalar(select(Programme.id).where(Programme.code == code))


def counts() -> dict[str, int]:
    """Rows of every table an import writes."""
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Beneficiary, Referral, ReferralImport, ReferralImportRow,
                          PurchaseOrderLine, ImportPreset)}


def upload(client, code: str, data: bytes, name: str = "liste.xlsx", **options):
    with client.application.app_context():
        programme = programme_id(code)
    return client.post("/admin/referral-imports/upload/", data={
        "programme": str(programme), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data", **options)


def xlsx_bytes(tmp_path, headers, rows, **options) -> bytes:
    return xlsx_file(tmp_path / "l.xlsx", headers, rows, **options).read_bytes()


def latest() -> ReferralImport:
    return db.session.scalars(select(ReferralImport).order_by(ReferralImport.id.desc())).first()


def status_of(record_id: int) -> dict[int, ImportRowStatus]:
    return dict(db.session.execute(select(ReferralImportRow.line, ReferralImportRow.status)
                                   .where(ReferralImportRow.import_id == record_id)).all())


def del_row(number: str, last: str, first: str, born: date, referred: date | str = None,
            sex: str = "F") -> list:
    referred = referred or date(2026, 3, 2)
    return [number, sex, last, first, f"{born:%d/%m/%Y}",
            referred if isinstance(referred, str) else f"{referred:%d/%m/%Y}",
            "M. Prescripteur", "Antenne de Dumbéa", "Insertion"]


# --- upload → preview → confirm ----------------------------------------------------------

def test_a_france_travail_workbook_is_previewed_then_imported_in_one_step(
        reference_app, world, client, auth, tmp_path):
    """A merged title, blank rows, Excel serial dates: the CSP preset maps the headers
    without a question; nothing is written before « Importer »."""
    auth.login("coordinator")
    data = xlsx_bytes(tmp_path, CSP_HEADERS, csp_rows(6), blank_every=2)
    response = upload(client, "CSP", data)
    assert response.status_code == 302 and "/preview/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Nouvelle personne : 6" in page and "Lefèvre-Dupont" in page
    with reference_app.app_context():
        before = counts()
        assert before["beneficiaries"] == 0 and before["referrals"] == 0  # nothing yet
        record = latest()
        assert record.state is ImportState.PENDING and record.header_line == 3
        assert set(status_of(record.id).values()) == {ImportRowStatus.NEW}
    response = client.post(f"/admin/referral-imports/confirm/?id={record.id}", data={},
                           follow_redirects=True)
    assert "6 personne(s) créée(s), 6 prescription(s) créée(s)" in response.get_data(
        as_text=True)
    with reference_app.app_context():
        people = db.session.scalars(select(Beneficiary).order_by(Beneficiary.id)).all()
        assert [p.external_id for p in people] == [f"FT{i:07d}" for i in range(6)]
        assert people[0].last_name == "Lefèvre-Dupont" and people[0].birth_date == date(
            1955, 1, 1)
        assert people[0].sex is Sex.MALE and people[1].sex is Sex.FEMALE  # « M. », « Mme »
        referrals = db.session.scalars(select(Referral)).all()
        assert {r.referred_on for r in referrals} == {date(2026, 3, 2)}
        assert {r.status for r in referrals} == {ReferralStatus.PENDING}
        record = db.session.get(ReferralImport, record.id)
        assert record.state is ImportState.DONE and record.user_label == "coordinator@exemple.fr"
        assert (record.file_name, record.row_count, record.people_created,
                record.referrals_created) == ("liste.xlsx", 6, 6, 6)
        # 002 II §4: the CSP referral owes its pré-bilan, as one typed by hand
        # (computed batch by batch during the import: 8 calendar days after the referral)
        owed = db.session.execute(select(Obligation.referral_id, Obligation.name,
                                         Obligation.due_at)).all()
        assert sorted(owed) == sorted(
            (r.id, "Entretien de pré-bilan", datetime(2026, 3, 10, 23, 59, 59))
            for r in referrals)
        # audited: who imported, and each person and referral written
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.table_name == "referrals", AuditEntry.action == "create")) == 6
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.table_name == "referral_imports")) >= 2


def test_a_windows_1252_csv_with_a_title_and_blank_lines(reference_app, world, client, auth):
    auth.login("coordinator")
    data = csv_bytes(CSP_HEADERS, csp_rows(4), encoding="cp1252", title="Adhésions CSP",
                     blank_every=1)
    response = upload(client, "CSP", data, "adhesions.csv", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Nouvelle personne : 4" in page and "Çelik" in page and "Prévost" in page


def test_the_pending_import_is_kept_on_the_server_not_in_the_cookie(
        reference_app, world, client, auth, tmp_path):
    auth.login("coordinator")
    upload(client, "CSP", xlsx_bytes(tmp_path, CSP_HEADERS, csp_rows(300)))
    cookie = client.get_cookie("session")
    assert cookie is None or len(cookie.value) < 1000
    with reference_app.app_context():
        assert counts()["referral_import_rows"] == 300


def test_an_unreadable_file_is_refused_in_french_and_nothing_is_kept(
        reference_app, world, client, auth):
    auth.login("coordinator")
    page = upload(client, "CSP", b"pas un classeur", "liste.xlsx",
                  follow_redirects=True).get_data(as_text=True)
    assert "ce classeur .xlsx est illisible" in page and "Rien n&#39;a été enregistré" in page
    page = upload(client, "CSP", b"x", "liste.xls", follow_redirects=True).get_data(
        as_text=True)
    assert "Excel 97-2003" in page
    with reference_app.app_context():
        assert counts()["referral_imports"] == 0


# --- errors and corrections --------------------------------------------------------------

def test_errors_name_line_column_and_rule_and_a_correction_in_the_preview_fixes_them(
        reference_app, world, client, auth):
    auth.login("coordinator")
    rows = [del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14)),
            del_row("D2", "Kaloï", "Loïc", date(1990, 2, 28)),  # typed 31/02 below
            del_row("D3", "Gaïa", "Noël", date(2020, 1, 1)),  # 6 years old
            del_row("D4", "Oudinot", "Zoé", date(1985, 1, 1), referred="hier")]
    rows[1][4] = "31/02/1990"
    upload(client, "DEL-L1", csv_bytes(DEL_HEADERS, rows), "del.csv")
    with reference_app.app_context():
        record = latest()
        assert status_of(record.id) == {2: ImportRowStatus.NEW, 3: ImportRowStatus.ERROR,
                                        4: ImportRowStatus.ERROR, 5: ImportRowStatus.ERROR}
        row_id = db.session.scalar(select(ReferralImportRow.id).where(
            ReferralImportRow.import_id == record.id, ReferralImportRow.line == 3))
    page = client.get(f"/admin/referral-imports/preview/?id={record.id}&tab=error").get_data(
        as_text=True)
    assert ("Ligne 3, colonne « Né(e) le » (Date de naissance) : « 31/02/1990 » n&#39;est "
            "pas une date") in page
    assert "Ligne 4, colonne « Né(e) le » (Date de naissance) : un âge de 6 ans" in page
    assert ("Ligne 5, colonne « Date de prescription » : « hier » n&#39;est pas une date"
            in page)
    assert "Wamytan" not in page  # the « Erreurs » tab shows the rows in error only
    response = client.post(f"/admin/referral-imports/rows/?id={record.id}", data={
        "action": "correct", f"cell-{row_id}-birth_date": "28/02/1990",
        f"cell-{row_id}-last_name": "Kaloï"}, follow_redirects=True)
    assert "1 ligne(s) corrigée(s)" in response.get_data(as_text=True)
    with reference_app.app_context():
        assert status_of(record.id)[3] is ImportRowStatus.NEW
        assert counts()["beneficiaries"] == 0  # still nothing written
    client.post(f"/admin/referral-imports/confirm/?id={record.id}")
    with reference_app.app_context():
        names = set(db.session.scalars(select(Beneficiary.last_name)))
        assert names == {"Wamytan", "Kaloï"}  # rows in error are left out
        record = db.session.get(ReferralImport, record.id)
        assert (record.referrals_created, record.rows_in_error) == (2, 2)


def test_skipped_rows_are_not_imported(reference_app, world, client, auth):
    auth.login("coordinator")
    rows = [del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14)),
            del_row("D2", "Kaloï", "Loïc", date(1991, 2, 3))]
    upload(client, "DEL-L1", csv_bytes(DEL_HEADERS, rows), "del.csv")
    with reference_app.app_context():
        record = latest()
        second = db.session.scalar(select(ReferralImportRow.id).where(
            ReferralImportRow.import_id == record.id, ReferralImportRow.line == 3))
    client.post(f"/admin/referral-imports/rows/?id={record.id}",
                data={"action": "skip", "row_ids": [str(second)]})
    client.post(f"/admin/referral-imports/confirm/?id={record.id}")
    with reference_app.app_context():
        assert list(db.session.scalars(select(Beneficiary.last_name))) == ["Wamytan"]
        assert db.session.get(ReferralImport, record.id).rows_skipped == 1


def test_del_lot_2_refuses_a_person_without_crhd_recognition(reference_app, world):
    """001 Lot 2: « Demandeur d'emploi reconnu par la CRHD »."""
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L2"))
        record = _start(programme, [DEL_HEADERS + ["CRHD"],
                                    del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14))
                                    + ["non"],
                                    del_row("D2", "Kaloï", "Loïc", date(1991, 2, 3)) + ["oui"]])
        rows = _rows(record)
        assert rows[2].status is ImportRowStatus.ERROR
        assert "n'admet que des personnes reconnues par la CRHD (001 Lot 2)" in \
            rows[2].problems[0][1]
        assert rows[3].status is ImportRowStatus.NEW


def _start(programme, table, name="liste.csv", today=TODAY):
    """A pending import of `table` (headers first) through the service."""
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    path = folder / name
    path.write_bytes(csv_bytes(table[0], table[1:]))
    record = service.start_import(db.session, path, name, programme, None, today)
    db.session.commit()
    return record


def _rows(record) -> dict[int, ReferralImportRow]:
    return {row.line: row for row in db.session.scalars(select(ReferralImportRow).where(
        ReferralImportRow.import_id == record.id))}


# --- mapping ------------------------------------------------------------------------

def test_unknown_headers_are_mapped_once_and_the_mapping_saved_for_the_next_file(
        reference_app, world, client, auth):
    auth.login("commission")
    headers = ["NOM_USAGE", "PRENOM_1", "DNAISS", "DT_ORIENT", "SEXE_CODE"]
    rows = [["Prévost", "Zoé", "14/07/1990", "02/03/2026", "2"]]
    response = upload(client, "PLIE-L1", csv_bytes(headers, rows), "plie.csv")
    assert "/mapping/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Quelle colonne contient quoi" in page and "DNAISS" in page
    with reference_app.app_context():
        record = latest()
    # a required field left without a column is refused in French
    page = client.post(f"/admin/referral-imports/mapping/?id={record.id}", data={
        "field-last_name": "0", "field-first_name": "1", "field-birth_date": "2"},
        follow_redirects=True).get_data(as_text=True)
    assert "choisir la colonne de Date de prescription" in page
    response = client.post(f"/admin/referral-imports/mapping/?id={record.id}", data={
        "field-last_name": "0", "field-first_name": "1", "field-birth_date": "2",
        "field-referred_on": "3", "field-sex": "4", "save": "1",
        "preset_name": "Export du logiciel du PLIE"})
    assert "/preview/" in response.location
    with reference_app.app_context():
        assert status_of(record.id) == {2: ImportRowStatus.NEW}
        preset = db.session.scalar(select(ImportPreset).where(
            ImportPreset.name == "Export du logiciel du PLIE"))
        assert preset.columns["birth_date"] == ["DNAISS"]
    response = upload(client, "PLIE-L1", csv_bytes(headers, rows), "plie-avril.csv")
    assert "/preview/" in response.location  # no question the second time


def test_an_administrator_edits_a_preset_as_text(reference_app, world, client, auth):
    auth.login("admin")
    with reference_app.app_context():
        preset = db.session.scalar(select(ImportPreset).join(ImportPreset.programme).where(
            Programme.code == "CSP"))
        preset_id = preset.id
    url = f"/admin/import-presets/edit/?id={preset_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Identifiant France Travail" in page
    data = {"programme": str(preset.programme_id), "name": preset.name,
            "columns": "last_name: [Nom]\nfirst_name: [Prénom]\nbirth_date: [Né le]\n"
                       "referred_on: [Orienté le]\nage: [Âge]"}
    page = post_edit(client, url, data, follow_redirects=True).get_data(as_text=True)
    assert "champ « age » inconnu" in page
    data["columns"] = data["columns"].replace("\nage: [Âge]", "")
    assert post_edit(client, url, data).status_code == 302
    with reference_app.app_context():
        assert db.session.get(ImportPreset, preset_id).columns["birth_date"] == ["Né le"]


# --- matching and duplicates ------------------------------------------------------------

def _person(last, first, born, external_id=None, sex=Sex.FEMALE) -> Beneficiary:
    person = Beneficiary(last_name=last, first_name=first, birth_date=born, sex=sex,
                         external_id=external_id)
    db.session.add(person)
    db.session.flush()
    return person


def test_rows_are_matched_to_known_people_and_duplicates_in_the_file_flagged(
        reference_app, world):
    with reference_app.app_context():
        by_id = _person("Lefèvre-Dupont", "Anne-Marie", date(1980, 5, 1), "D100")
        by_name = _person("Wamytan", "Héléna", date(1990, 7, 14))
        swapped = _person("Noël", "Gaïa", date(1991, 2, 3))
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        open_referral = Referral(beneficiary=by_name, programme=programme,
                                 referred_on=date(2026, 1, 5))
        db.session.add(open_referral)
        db.session.commit()
        record = _start(programme, [
            DEL_HEADERS,
            del_row("D100", "Autre", "Nom", date(1970, 1, 1)),  # 2 by external id
            del_row("", "WAMYTAN", "helena", date(1990, 7, 14)),  # 3 by names, case/accents
            del_row("", "Gaïa", "Noël", date(1991, 2, 3)),  # 4 swapped names
            del_row("D200", "Oudinot", "Loïc", date(1988, 8, 8)),  # 5 new
            del_row("", "OUDINOT", "Loic", date(1988, 8, 8)),  # 6 duplicate of 5
        ])
        rows = _rows(record)
        assert {line: row.status for line, row in rows.items()} == {
            2: ImportRowStatus.KNOWN, 3: ImportRowStatus.KNOWN,
            4: ImportRowStatus.TO_CONFIRM, 5: ImportRowStatus.NEW,
            6: ImportRowStatus.DUPLICATE}
        assert (rows[2].candidate_id, rows[3].candidate_id, rows[4].candidate_id) == (
            by_id.id, by_name.id, swapped.id)
        assert "même personne que la ligne 5" in rows[6].notes
        # a person already holding an open referral of the programme is flagged
        assert any(f"déjà orientée : prescription n° {open_referral.id}" in note
                   for note in rows[3].notes)
        # the swapped names wait for the user: the confirmation is refused until then
        before = counts()
        with pytest.raises(service.ImportRefused, match="confirmer la personne proposée"):
            service.confirm(db.session, record, None, TODAY)
        db.session.rollback()
        assert counts() == before
        service.mark_rows(db.session, record, [rows[4].id], confirmed=True)
        service.confirm(db.session, record, None, TODAY)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 4  # +1
        assert db.session.scalar(select(func.count()).select_from(Referral).where(
            Referral.beneficiary_id == swapped.id)) == 1


def test_a_known_person_with_an_open_path_of_the_programme_is_flagged(reference_app, world,
                                                                      client, auth):
    from tests.integration.test_admin_access import make_path

    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        person = _person("Wamytan", "Héléna", date(1990, 7, 14), "D1")
        path = make_path(programme, world["referent"], person)
        db.session.commit()
        record = _start(programme, [DEL_HEADERS,
                                    del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14))])
        notes = _rows(record)[2].notes
        assert any(f"parcours n° {path.id}" in note for note in notes), notes


# --- re-import --------------------------------------------------------------------------

def test_importing_the_same_list_again_creates_nothing_twice_and_updates_what_changed(
        reference_app, world):
    """Issue 23 §5: idempotent on the external id and the referral date."""
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        table = [DEL_HEADERS, del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14)),
                 del_row("D2", "Kaloï", "Loïc", date(1991, 2, 3))]
        service.confirm(db.session, _start(programme, table), None, TODAY)
        db.session.commit()
        before = counts()
        again = _start(programme, table)
        assert {r.status for r in _rows(again).values()} == {ImportRowStatus.UNCHANGED}
        service.confirm(db.session, again, None, TODAY)
        db.session.commit()
        assert (again.referrals_created, again.people_created, again.rows_unchanged) == (
            0, 0, 2)
        assert counts()["referrals"] == before["referrals"] == 2
        table[2][6] = "Mme Nouvelle Prescriptrice"  # the prescriber changed
        table[1][5] = "09/03/2026"  # a new referral of the same person
        third = _start(programme, table)
        assert {line: r.status for line, r in _rows(third).items()} == {
            2: ImportRowStatus.KNOWN, 3: ImportRowStatus.UPDATE}
        service.confirm(db.session, third, None, TODAY)
        db.session.commit()
        assert (third.referrals_created, third.referrals_updated, third.people_created) == (
            1, 1, 0)
        assert db.session.scalar(select(Referral.prescriber_name).join(Referral.beneficiary)
                                 .where(Beneficiary.external_id == "D2")) == \
            "Mme Nouvelle Prescriptrice"
        assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 2


def test_five_thousand_rows_go_through(reference_app, world, tmp_path):
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("CSP"))
        path = xlsx_file(tmp_path / "big.xlsx", CSP_HEADERS, csp_rows(5000), blank_every=97)
        record = service.start_import(db.session, path, "big.xlsx", programme, None, TODAY)
        assert service.summary(db.session, record)["new"] == 5000
        service.confirm(db.session, record, None, TODAY)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 5000


# --- the same step: référent, order, commission --------------------------------------------

def test_a_referent_and_a_purchase_order_for_a_csp_list(reference_app, world, client, auth,
                                                         tmp_path):
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("CSP"))
        order = PurchaseOrder(funder_id=programme.funder_id, programme=programme,
                              number="BC-2026-07", issued_on=date(2026, 3, 1))
        db.session.add(order)
        db.session.commit()
        order_id = order.id
    auth.login("coordinator")
    upload(client, "CSP", xlsx_bytes(tmp_path, CSP_HEADERS, csp_rows(3)))
    with reference_app.app_context():
        record = latest()
        first = _rows(record)[4].id
    page = client.get(f"/admin/referral-imports/preview/?id={record.id}").get_data(
        as_text=True)
    assert "n° BC-2026-07" in page and "Référente Lunel" in page
    other = make_other_referent(reference_app)
    client.post(f"/admin/referral-imports/rows/?id={record.id}", data={
        "action": "referent", "row_ids": [str(first)], "row_referent": str(other)})
    client.post(f"/admin/referral-imports/confirm/?id={record.id}", data={
        "referent": str(world["referent"]), "purchase_order": str(order_id)})
    with reference_app.app_context():
        referents = dict(db.session.execute(select(Beneficiary.external_id,
                                                   Referral.referent_id)
                                            .join(Referral.beneficiary)).all())
        assert referents == {"FT0000000": other, "FT0000001": world["referent"],
                             "FT0000002": world["referent"]}
        lines = db.session.scalars(select(PurchaseOrderLine).where(
            PurchaseOrderLine.order_id == order_id)).all()
        assert len(lines) == 3 and all(line.referral_id for line in lines)


def make_other_referent(app) -> int:
    with app.app_context():
        user = make_user(Role.COUNSELLOR, "autre@exemple.fr", "Autre Référent")
        db.session.commit()
        return user.id


def test_a_del_list_goes_on_the_agenda_of_a_coming_commission(reference_app, world):
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        coming = Commission(programme=programme, held_on=date(2026, 3, 20))
        past = Commission(programme=programme, held_on=date(2026, 3, 1))
        db.session.add_all([coming, past])
        db.session.commit()
        table = [DEL_HEADERS, del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14))]
        with pytest.raises(service.ImportRefused, match="est passée"):
            service.confirm(db.session, _start(programme, table), None, TODAY,
                            service.SameStep(commission_id=past.id))
        db.session.rollback()
        with pytest.raises(service.ImportRefused, match="passent en commission"):
            order = PurchaseOrder(funder_id=programme.funder_id, programme=programme,
                                  number="X", issued_on=TODAY)
            db.session.add(order)
            db.session.flush()
            service.confirm(db.session, _start(programme, table), None, TODAY,
                            service.SameStep(purchase_order_id=order.id))
        db.session.rollback()
        service.confirm(db.session, _start(programme, table), None, TODAY,
                        service.SameStep(commission_id=coming.id))
        db.session.commit()
        assert db.session.scalar(select(Referral.commission_id)) == coming.id


# --- undo ---------------------------------------------------------------------------

def test_an_import_is_undone_while_nothing_is_decided(reference_app, world, client, auth):
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        known = _person("Kaloï", "Loïc", date(1991, 2, 3))
        db.session.commit()
        before = counts()
        record = _start(programme, [DEL_HEADERS,
                                    del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14)),
                                    del_row("D2", "Kaloï", "Loïc", date(1991, 2, 3))])
        service.confirm(db.session, record, None, TODAY)
        db.session.commit()
        assert db.session.get(Beneficiary, known.id).external_id == "D2"  # completed
        record_id, known_id = record.id, known.id
    auth.login("coordinator")
    page = client.get("/admin/referral-imports/").get_data(as_text=True)
    assert "Annuler l'import" in page
    page = client.post(f"/admin/referral-imports/undo/?id={record_id}",
                       follow_redirects=True).get_data(as_text=True)
    assert "annulé : 2 prescription(s) et 1 personne(s) supprimée(s)" in page
    with reference_app.app_context():
        after = counts()
        assert after["beneficiaries"] == before["beneficiaries"]
        assert after["referrals"] == before["referrals"] == 0
        assert db.session.get(Beneficiary, known_id).external_id is None  # restored
        assert db.session.get(ReferralImport, record_id).state is ImportState.UNDONE
        assert db.session.scalar(select(func.count()).select_from(Obligation).where(
            Obligation.referral_id.is_not(None))) == 0


def test_an_import_whose_referral_was_decided_cannot_be_undone(reference_app, world, client,
                                                              auth):
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        record = _start(programme, [DEL_HEADERS,
                                    del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14))])
        service.confirm(db.session, record, None, TODAY)
        referral = db.session.scalar(select(Referral))
        referral.status, referral.decided_on = ReferralStatus.VALIDATED, TODAY
        db.session.commit()
        record_id, referral_id = record.id, referral.id
        before = counts()
    auth.login("coordinator")
    page = client.post(f"/admin/referral-imports/undo/?id={record_id}",
                       follow_redirects=True).get_data(as_text=True)
    assert (f"la prescription n° {referral_id} est décidée (« Validée ») ; l&#39;import ne "
            "peut plus être annulé") in page
    with reference_app.app_context():
        assert counts() == before
        assert db.session.get(ReferralImport, record_id).state is ImportState.DONE


# --- who may ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["counsellor", "viewer"])
def test_a_counsellor_or_a_funder_may_not_import_nor_undo_and_nothing_changes(
        reference_app, world, client, auth, role, tmp_path):
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        done = _start(programme, [DEL_HEADERS,
                                  del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14))])
        service.confirm(db.session, done, None, TODAY)
        pending = _start(programme, [DEL_HEADERS,
                                     del_row("D2", "Kaloï", "Loïc", date(1991, 2, 3))])
        db.session.commit()
        done_id, pending_id = done.id, pending.id
        before = counts()
    auth.login(role)
    assert client.get("/admin/referral-imports/").status_code == 403
    assert upload(client, "CSP", xlsx_bytes(tmp_path, CSP_HEADERS, csp_rows(2))
                  ).status_code == 403
    for url in (f"/admin/referral-imports/confirm/?id={pending_id}",
                f"/admin/referral-imports/rows/?id={pending_id}",
                f"/admin/referral-imports/cancel/?id={pending_id}",
                f"/admin/referral-imports/undo/?id={done_id}"):
        assert client.post(url, data={"action": "skip"}).status_code == 403, url
    assert client.get(f"/admin/referral-imports/preview/?id={pending_id}").status_code == 403
    with reference_app.app_context():
        assert counts() == before
        assert db.session.get(ReferralImport, done_id).state is ImportState.DONE
        assert db.session.get(ReferralImport, pending_id).state is ImportState.PENDING


@pytest.mark.parametrize("role", ["admin", "coordinator", "commission"])
def test_coordinators_administrators_and_commission_members_may_import(
        reference_app, world, client, auth, role, tmp_path):
    auth.login(role)
    assert "Lire le fichier" in client.get("/admin/referral-imports/").get_data(as_text=True)
    assert "/preview/" in upload(client, "CSP", xlsx_bytes(tmp_path, CSP_HEADERS,
                                                           csp_rows(1))).location


def test_someone_elses_pending_import_is_out_of_reach(reference_app, world, client, auth,
                                                      tmp_path):
    auth.login("coordinator")
    upload(client, "CSP", xlsx_bytes(tmp_path, CSP_HEADERS, csp_rows(1)))
    with reference_app.app_context():
        record_id = latest().id
    auth.logout()
    auth.login("commission")
    assert client.get(f"/admin/referral-imports/preview/?id={record_id}").status_code == 404
    assert client.post(f"/admin/referral-imports/confirm/?id={record_id}").status_code == 404
    with reference_app.app_context():
        assert db.session.get(ReferralImport, record_id).state is ImportState.PENDING


# --- the command ----------------------------------------------------------------------

def test_flask_import_referrals(reference_app, world, tmp_path):
    runner = reference_app.test_cli_runner()
    path = tmp_path / "adhesions.xlsx"
    xlsx_file(path, CSP_HEADERS, csp_rows(3) + [["FT9", "Mme", "Prévost", "Zoé", "hier",
                                                 excel_serial(date(2026, 3, 2)), "", "",
                                                 ""]])
    result = runner.invoke(args=["import", "referrals", str(path), "--programme", "CSP",
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Nouvelle personne : 3" in result.output and "Erreur : 1" in result.output
    assert ("Ligne 7, colonne « Date de naissance » : « hier » n'est pas une date"
            in result.output)
    with reference_app.app_context():
        assert counts()["referrals"] == 0 and counts()["referral_imports"] == 0
    result = runner.invoke(args=["import", "referrals", str(path), "--programme", "csp",
                                 "--referent", "referente@exemple.fr"])
    assert result.exit_code == 0, result.output
    assert "3 personne(s) créée(s), 3 prescription(s) créée(s)" in result.output
    with reference_app.app_context():
        assert set(db.session.scalars(select(Referral.referent_id))) == {world["referent"]}
        record_id = latest().id
        assert latest().user_label == "ligne de commande"
    result = runner.invoke(args=["import", "undo", str(record_id)])
    assert result.exit_code == 0 and "3 prescription(s) et 3 personne(s)" in result.output
    with reference_app.app_context():
        assert counts()["referrals"] == 0


@pytest.mark.parametrize("args, message", [
    (["--programme", "XYZ"], "Erreur : --programme : dispositif « XYZ » inconnu"),
    (["--programme", "CSP", "--referent", "personne@exemple.fr"],
     "Erreur : --referent : aucun compte « personne@exemple.fr »."),
    (["--programme", "CSP", "--order", "BC-0"],
     "Erreur : --order : aucun bon de commande n° BC-0 pour CSP."),
    ([], "Erreur : l'option --programme est obligatoire."),
])
def test_the_command_refuses_in_one_french_line(reference_app, world, tmp_path, args,
                                                message):
    path = xlsx_file(tmp_path / "l.xlsx", CSP_HEADERS, csp_rows(1))
    result = reference_app.test_cli_runner().invoke(
        args=["import", "referrals", str(path), *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output
    with reference_app.app_context():
        assert counts()["referral_imports"] == 0


def test_the_command_asks_for_the_screen_when_no_preset_knows_the_headers(
        reference_app, world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(["A", "B"], [["1", "2"]]))
    result = reference_app.test_cli_runner().invoke(
        args=["import", "referrals", str(path), "--programme", "CSP"])
    assert result.exit_code != 0
    assert re.search(r"ne correspondent à aucune correspondance de CSP", result.output)


def test_the_user_who_imported_is_recorded(reference_app, world, client, auth, tmp_path):
    auth.login("commission")
    upload(client, "CSP", xlsx_bytes(tmp_path, CSP_HEADERS, csp_rows(1)))
    with reference_app.app_context():
        record = latest()
        assert record.user_id == db.session.scalar(select(User.id).where(
            User.email == "commission@exemple.fr"))


def test_the_referent_given_at_the_import_is_proposed_when_the_path_starts(
        reference_app, world, client, auth):
    with reference_app.app_context():
        programme = db.session.get(Programme, programme_id("DEL-L1"))
        record = _start(programme, [DEL_HEADERS,
                                    del_row("D1", "Wamytan", "Héléna", date(1990, 7, 14))])
        service.confirm(db.session, record, None, TODAY,
                        service.SameStep(referent_id=world["referent"]))
        referral = db.session.scalar(select(Referral))
        referral.status, referral.decided_on = ReferralStatus.VALIDATED, TODAY
        db.session.commit()
        referral_id = referral.id
    auth.login("coordinator")
    page = client.get(f"/admin/referrals/decide/?action=start_path&ids={referral_id}"
                      ).get_data(as_text=True)
    assert re.search(rf'<option selected value="{world["referent"]}">|'
                     rf'<option value="{world["referent"]}" selected', page), page[:200]


def test_bad_arguments_get_a_french_answer_never_a_500(reference_app, world, client, auth,
                                                       tmp_path):
    auth.login("coordinator")
    upload(client, "CSP", xlsx_bytes(tmp_path, CSP_HEADERS, csp_rows(2)))
    with reference_app.app_context():
        record_id = latest().id
    base = "/admin/referral-imports"
    assert client.get(f"{base}/preview/?id={record_id}&page=4611686018427387904"
                      ).status_code == 200
    assert client.get(f"{base}/preview/?id={record_id}&tab=nimporte").status_code == 200
    assert client.get(f"{base}/preview/?id=abc").status_code == 404
    for data in ({"cell-": "x"}, {"cell-12": "x"}, {"cell-1-age": "x"},
                 {"action": "autre", "row_ids": ["1"]}):
        assert client.post(f"{base}/rows/?id={record_id}", data=data).status_code == 400
    page = client.post(f"{base}/rows/?id={record_id}", data={
        "action": "referent", "row_ids": ["1"], "row_referent": str(world["users"]["admin"])},
        follow_redirects=True).get_data(as_text=True)
    assert "Référent : choisir un compte de référent actif." in page
    page = client.post(f"{base}/confirm/?id={record_id}", data={"purchase_order": "999"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Bon de commande : choisir un bon du dispositif CSP." in page
    with reference_app.app_context():
        assert counts()["referrals"] == 0


def test_the_command_stops_on_candidates_unless_they_are_confirmed(reference_app, world,
                                                                   tmp_path):
    with reference_app.app_context():
        known = _person("Noël", "Gaïa", date(1991, 2, 3))
        db.session.commit()
        known_id = known.id
    path = tmp_path / "del.csv"
    path.write_bytes(csv_bytes(DEL_HEADERS, [del_row("", "Gaïa", "Noël", date(1991, 2, 3))]))
    runner = reference_app.test_cli_runner()
    args = ["import", "referrals", str(path), "--programme", "DEL-L1"]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "Ligne 2 à confirmer : fiche n°" in result.output
    assert "(--confirm-matches pour les accepter)" in result.output
    with reference_app.app_context():
        assert counts()["referrals"] == 0 and counts()["referral_imports"] == 0
    result = runner.invoke(args=[*args, "--confirm-matches"])
    assert result.exit_code == 0, result.output
    with reference_app.app_context():
        assert db.session.scalar(select(Referral.beneficiary_id)) == known_id
        assert counts()["beneficiaries"] == 1
