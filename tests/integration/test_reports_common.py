"""Helpers shared by the report tests (datasets built by hand, workbook readers), and the
tests of what every workbook must have: cover, « Définitions », text kept as text."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from backoffice.enums import EnrolmentStatus, ReferralStatus, Sex
from backoffice.extensions import db
from backoffice.models import (
    BarrierType,
    Beneficiary,
    Enrolment,
    ExitType,
    Programme,
    PurchaseOrder,
    Referral,
)
from backoffice.reports import REPORTS, produce

PRODUCED_ON = date(2026, 1, 15)


# --- building data ---------------------------------------------------------------------


def programme(code: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def exit_type(code: str) -> ExitType:
    return db.session.scalar(select(ExitType).where(ExitType.code == code))


def barrier_type(code: str) -> BarrierType:
    return db.session.scalar(select(BarrierType).where(BarrierType.code == code))


def person(
    last: str, first: str = "Jean", *, birth: date = date(1990, 1, 1), sex: Sex = Sex.MALE, **fields
) -> Beneficiary:
    """Add a beneficiary (unique by names and birth date)."""
    b = Beneficiary(last_name=last, first_name=first, birth_date=birth, sex=sex, **fields)
    db.session.add(b)
    db.session.flush()
    return b


def refer(
    who: Beneficiary,
    prog: Programme,
    on: date,
    status: ReferralStatus = ReferralStatus.VALIDATED,
    **fields,
) -> Referral:
    r = Referral(beneficiary=who, programme=prog, referred_on=on, status=status, **fields)
    db.session.add(r)
    db.session.flush()
    return r


def enrol(
    who: Beneficiary,
    prog: Programme,
    entry: date,
    *,
    referral: Referral | None = None,
    planned_end: date | None = None,
    exit_on: date | None = None,
    exit_code: str | None = None,
    status: EnrolmentStatus | None = None,
    **fields,
) -> Enrolment:
    """Add an enrolment; with ``exit_code`` it is closed on ``exit_on``."""
    if status is None:
        status = EnrolmentStatus.CLOSED if exit_on else EnrolmentStatus.ACTIVE
    e = Enrolment(
        beneficiary=who,
        programme=prog,
        referral=referral,
        entry_date=entry,
        planned_end_date=planned_end,
        exit_date=exit_on,
        exit_type=exit_type(exit_code) if exit_code else None,
        status=status,
        **fields,
    )
    db.session.add(e)
    db.session.flush()
    return e


# --- producing and reading workbooks ------------------------------------------------------


def make_report(
    code: str,
    programme_code: str,
    date_from,
    date_to,
    *,
    pseudonym_key=None,
    session_id=None,
    order_id=None,
) -> openpyxl.Workbook:
    """Produce report ``code`` in memory and open it with openpyxl."""
    buffer = io.BytesIO()
    produce(
        db.session,
        code,
        buffer,
        programme_code=programme_code,
        date_from=date_from,
        date_to=date_to,
        producer="Test Coordinateur",
        produced_on=PRODUCED_ON,
        session_id=session_id,
        order_id=order_id,
        pseudonym_key=pseudonym_key,
    )
    buffer.seek(0)
    return openpyxl.load_workbook(buffer)


def _header_row(sheet, first_header: str) -> int:
    for row in sheet.iter_rows(min_col=1, max_col=1):
        if row[0].value == first_header:
            return row[0].row
    raise AssertionError(f"no header « {first_header} » in {sheet.title}")


def key_figures(book) -> dict[str, tuple]:
    """« Indicateurs clés » as {name: (value, numerator, denominator)}."""
    sheet = book["Indicateurs clés"]
    start = _header_row(sheet, "Indicateur")
    return {
        row[0]: (row[1], row[2], row[3])
        for row in sheet.iter_rows(min_row=start + 1, values_only=True)
        if row[0]
    }


def value(book, name: str):
    return key_figures(book)[name][0]


def table_rows(book, sheet_name: str, first_header: str) -> tuple[list, list[tuple]]:
    """(headers, rows) of a list sheet."""
    sheet = book[sheet_name]
    start = _header_row(sheet, first_header)
    rows = list(sheet.iter_rows(min_row=start, values_only=True))
    return list(rows[0]), [r for r in rows[1:] if any(v is not None for v in r)]


def section(book, sheet_name: str, title: str) -> dict[str, int]:
    """One distribution of a distributions sheet as {label: count} (without the total)."""
    sheet = book[sheet_name]
    rows = list(sheet.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if row[0] == title:
            found = {}
            for r in rows[i + 2 :]:
                if r[0] == "Total":
                    return found
                found[r[0]] = r[1]
    raise AssertionError(f"no section « {title} » in {sheet_name}")


def all_text(book) -> str:
    return "\n".join(
        str(v)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    )


# --- tests every workbook must pass ------------------------------------------------------


@pytest.fixture
def small_del(reference_app):
    with reference_app.app_context():
        prog = programme("DEL-L1")
        who = person("=1+1", "+33 6 12 34 56 78", sex=Sex.FEMALE)
        ref = refer(who, prog, date(2025, 2, 1))
        enrol(
            who,
            prog,
            date(2025, 3, 1),
            referral=ref,
            planned_end=date(2025, 9, 30),
            exit_on=date(2025, 4, 1),
            exit_code="abandon",
            exit_reason="-x",
            difficulties="@x",
            recommendations='=HYPERLINK("http://x")',
            target_job="-1",
        )
        db.session.commit()
    return reference_app


@pytest.mark.parametrize("code", ["del-annual", "plie-final", "csp-monthly"])
def test_every_workbook_has_cover_and_definitions(reference_app, code):
    prog = {"del-annual": "DEL-L1", "plie-final": "PLIE-L1", "csp-monthly": "CSP"}[code]
    with reference_app.app_context():
        book = make_report(code, prog, date(2025, 1, 1), date(2025, 12, 31))
    assert book.sheetnames[0] == "Couverture" and book.sheetnames[-1] == "Définitions"
    cover = {r[0]: r[1] for r in book["Couverture"].iter_rows(values_only=True) if r[0]}
    assert cover["Produit par"] == "Test Coordinateur"
    assert cover["Date de production"] == datetime(2026, 1, 15)
    assert cover["Période"] == "du 01/01/2025 au 31/12/2025"
    assert prog in cover["Dispositif"]
    definitions = list(book["Définitions"].iter_rows(values_only=True))
    assert definitions[0] == ("Indicateur", "Définition", "Source")
    assert len(definitions) > 5 and all(d and s for _n, d, s in definitions[1:])
    assert book[book.sheetnames[1]].freeze_panes is not None


def test_user_text_is_written_as_text_never_as_formula(small_del):
    with small_del.app_context():
        book = make_report("del-annual", "DEL-L1", date(2025, 1, 1), date(2025, 12, 31))
    found = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value[:1] in "=+-@":
                    found[c.value] = c.data_type
    assert found["=1+1"] == "s"
    assert found["+33 6 12 34 56 78"] == "s"
    assert found["-x"] == "s" and found["@x"] == "s" and found["-1"] == "s"
    assert found['=HYPERLINK("http://x")'] == "s"
    assert "f" not in set(found.values())


def test_pseudonymised_version_has_no_names_and_stable_pseudonyms(small_del):
    from backoffice.indicators.lists import pseudonym

    with small_del.app_context():
        book = make_report(
            "del-annual", "DEL-L1", date(2025, 1, 1), date(2025, 12, 31), pseudonym_key="secret"
        )
        again = make_report(
            "del-annual", "DEL-L1", date(2025, 1, 1), date(2025, 12, 31), pseudonym_key="secret"
        )
        who = db.session.scalar(select(Beneficiary))
        expected = pseudonym(who.id, "secret")
    text = all_text(book)
    assert "=1+1" not in text and "+33 6 12 34 56 78" not in text
    assert "@x" not in text  # free text masked: it may name people
    headers, rows = table_rows(book, "Liste individuelle", "Pseudonyme")
    assert "Nom" not in headers and "Date de naissance" not in headers
    assert rows[0][0] == expected and expected.startswith("B-") and len(expected) == 8
    assert table_rows(again, "Liste individuelle", "Pseudonyme")[1][0][0] == expected
    assert pseudonym(who.id, "other key") != expected


#: Names as typed, in the order a French reader expects: accents, case, spaces and hyphens
#: ignored, a shorter last name first (« Dupont » before « Dupontel »).
ALPHABETICAL = [
    ("Dupont", "Anne"),
    ("DUPONTEL", "Paul"),
    ("étienne", "Marc"),
    ("Legall", "Anne"),
    ("Le Gall", "Yann"),
    ("Ôtoi", "Hélène"),
    ("Zola", "Émile"),
]


@pytest.mark.parametrize(
    ("code", "programme_code", "sheet"),
    [
        ("del-annual", "DEL-L1", "Liste nominative"),
        ("plie-final", "PLIE-L1", "Participants"),
        ("arjlj", "ARJLJ", "Salariés"),
    ],
)
def test_nominative_lists_are_in_alphabetical_order_on_every_engine(
    reference_app, code, programme_code, sheet
):
    """Same entry day for all: the names decide. SQLite's binary order would put
    « étienne », « Ôtoi » after « Zola »; a PostgreSQL locale would mix « Le Gall » and
    « Legall » by its own rules: the list follows neither."""
    with reference_app.app_context():
        prog = programme(programme_code)
        order = None
        if code == "arjlj":
            order = PurchaseOrder(funder=prog.funder, programme=prog, number="BC-1",
                                  issued_on=date(2025, 3, 1), support_start_on=date(2025, 3, 4))
            db.session.add(order)
            db.session.flush()
        for last, first in reversed(ALPHABETICAL):
            enrol(person(last, first), prog, date(2025, 3, 4), purchase_order=order)
        db.session.commit()
        book = make_report(code, programme_code, date(2025, 1, 1), date(2025, 12, 31),
                           order_id=order.id if order else None)
    _headers, rows = table_rows(book, sheet, "Nom")
    assert [(r[0], r[1]) for r in rows] == ALPHABETICAL


def test_unknown_or_mismatched_requests_are_refused_in_french(reference_app):
    from backoffice.indicators import ScopeError

    with reference_app.app_context():
        with pytest.raises(ScopeError, match="inconnu"):
            make_report("del-annual", "NOPE", date(2025, 1, 1), date(2025, 12, 31))
        with pytest.raises(ScopeError, match="n'est pas concerné"):
            make_report("del-annual", "CSP", date(2025, 1, 1), date(2025, 12, 31))
        with pytest.raises(ScopeError, match="précède"):
            make_report("del-annual", "DEL-L1", date(2025, 12, 31), date(2025, 1, 1))
        with pytest.raises(ScopeError, match="session"):
            make_report("del-end-of-path", "DEL-L1", date(2025, 1, 1), date(2025, 12, 31))
    assert set(REPORTS) == {
        "del-annual",
        "del-end-of-path",
        "csp-monthly",
        "arjlj",
        "plie-interim",
        "plie-final",
    }


# --- no internal code reaches a workbook (issue 19 §13) -------------------------------------

#: Programme of each report of the sweep, with its exit scheme.
SWEEP = {
    "del-annual": ("DEL-L1", "DEL"),
    "del-end-of-path": ("DEL-L1", "DEL"),
    "csp-monthly": ("CSP", "CSP"),
    "arjlj": ("ARJLJ", "ARJLJ"),
    "plie-interim": ("PLIE-L1", "PLIE"),
    "plie-final": ("PLIE-L1", "PLIE"),
}


def internal_codes() -> set[str]:
    """Every stored code a user must never read: exit types, abandon reasons, statuses,
    contract kinds, education levels."""
    from backoffice.enums import AbandonReason, ContractKind, EducationLevel

    codes = set(db.session.scalars(select(ExitType.code)))
    for enum_cls in (AbandonReason, ContractKind, EducationLevel, EnrolmentStatus,
                     ReferralStatus, Sex):
        codes |= {m.value for m in enum_cls}
    return {c for c in codes if len(c) >= 3}  # « F », « 3 » are also plain French words


def every_exit_and_abandon(code: str) -> dict:
    """Paths of the report's programme ending in each exit type it offers and in each
    abandon reason (recorded with its exit type, services.lifecycle.declare_abandon)."""
    from backoffice.enums import AbandonReason, ContractKind
    from backoffice.models import ProgrammeSession
    from backoffice.services.lifecycle import declare_abandon

    programme_code, scheme = SWEEP[code]
    prog = programme(programme_code)
    extra = {}
    if code == "arjlj":
        extra["purchase_order"] = PurchaseOrder(
            funder=prog.funder, programme=prog, number="BC-9", issued_on=date(2025, 3, 1),
            support_start_on=date(2025, 3, 4))
    if code == "del-end-of-path":
        extra["session"] = ProgrammeSession(programme=prog, label="Session 2025",
                                            starts_on=date(2025, 3, 1), ends_on=date(2025, 12, 31))
    types = [t for t in db.session.scalars(select(ExitType)) if scheme in t.schemes.split(",")]
    for i, exit_type_ in enumerate(types):
        who = person(f"Sortant{i}", birth=date(1980, 1, 1 + i % 28))
        enrol(who, prog, date(2025, 3, 4), referral=refer(who, prog, date(2025, 3, 1)),
              planned_end=date(2025, 9, 30), exit_on=date(2025, 6 if i % 2 else 9, 30),
              exit_code=exit_type_.code, contract_kind=ContractKind.CDD, contract_months=6,
              followup_contract_kind=ContractKind.CDI, difficulties="Difficultés", **extra)
    for i, reason in enumerate(AbandonReason):  # as « Déclarer un abandon » records it
        who = person(f"Abandon{i}", birth=date(1970, 1, 1 + i))
        path = enrol(who, prog, date(2025, 3, 4), referral=refer(who, prog, date(2025, 3, 1)),
                     planned_end=date(2025, 9, 30), **extra)
        declare_abandon(db.session, path, date(2025, 5, 5), reason.value, date(2026, 1, 15))
    db.session.commit()
    return {key: getattr(value, "id", None) for key, value in extra.items()}


#: Codes that are also French words, found in definitions (« sortie de type abandon »): a
#: cell holding nothing else is still refused.
FRENCH_WORDS = {"abandon"}


@pytest.mark.parametrize("code", sorted(SWEEP))
def test_no_internal_code_in_any_cell_of_any_report(reference_app, code):
    """001 « taux de sortie anticipée … et raisons de la sortie »: the reasons are in
    French in every report; an internal code (« loss_of_contact ») is in no cell."""
    with reference_app.app_context():
        ids = every_exit_and_abandon(code)
        codes = internal_codes()
        book = make_report(code, SWEEP[code][0], date(2025, 1, 1), date(2025, 12, 31),
                           session_id=ids.get("session"), order_id=ids.get("purchase_order"))
    found = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for cell in row:
                if not isinstance(cell, str):
                    continue
                words = {cell, *cell.replace("—", " ").replace(":", " ").split()}
                found |= {c for c in codes if cell == c or ("_" in c and c in cell)
                          or (c in words and c not in FRENCH_WORDS)}
    assert found == set(), f"codes internes dans {code} : {sorted(found)}"
    reasons = all_text(book)
    if SWEEP[code][1] == "PLIE":  # 004: an abandon is one of the PLIE exit motives
        assert "Perte de contact (2 absences injustifiées consécutives ou 2 relances sans " \
            "réponse) — Absences injustifiées répétées" in reasons
        assert "À la demande du participant — Déménagement" in reasons
        assert "Abandon ou rupture du parcours" not in reasons
    else:
        assert "Abandon ou rupture du parcours — Perte de contact ou relances sans réponse" \
            in reasons
    assert "Sorties anticipées" in reasons
    list_sheet = {"DEL": "Liste nominative", "PLIE": "Participants", "ARJLJ": "Salariés"}
    if SWEEP[code][1] in list_sheet:  # each person's exit is listed with its reason
        cells = {c for row in book[list_sheet[SWEEP[code][1]]].iter_rows(values_only=True)
                 for c in row if isinstance(c, str)}
        assert any(c.endswith(" — Raisons de santé") for c in cells), code


# --- « Objectifs du marché » in every workbook (issue 19 A.4) ----------------------------

@pytest.mark.parametrize(("code", "programme_code"), [
    ("del-annual", "DEL-L1"), ("plie-final", "PLIE-L2"), ("plie-interim", "PLIE-L3"),
    ("csp-monthly", "CSP"),
])
def test_every_workbook_has_the_contract_targets_sheet(reference_app, code, programme_code):
    with reference_app.app_context():
        book = make_report(code, programme_code, date(2025, 1, 1), date(2025, 12, 31))
    assert "Objectifs du marché" in book.sheetnames
    header, rows = table_rows(book, "Objectifs du marché", "Dispositif")
    assert tuple(header[:6]) == ("Dispositif", "Année", "Objectif", "Cible", "Réalisé",
                          "Projection fin d'année")
    measures = {row[2]: row[3] for row in rows if row[2]}  # CSP: « Aucune ligne »
    expected = {
        # 001 Lot 1 : « accompagner entre 50 et 80 demandeurs par an »
        "DEL-L1": {"Participants entrés dans l'année": "50 à 80"},
        # 004 Lot 2 : « 16 minimum répartis sur 2 sessions (avec un minimum de 8
        # participants par session) »
        "PLIE-L2": {"Participants entrés dans l'année": "16 au moins",
                    "Sessions ouvertes dans l'année": "2 au moins",
                    "Sessions d'au moins 8 participants": "2 au moins"},
        # 004 Lot 3 : « Nombre de places : 30 minimum », « 15 plateaux « actifs »
        # différents au minimum »
        "PLIE-L3": {"Participants entrés dans l'année": "30 au moins",
                    "Structures d'accueil différentes": "15 au moins"},
        "CSP": {},
    }[programme_code]
    assert measures == expected


def test_targets_count_the_year_and_project_it(reference_app):
    """PLIE-L3 (004 Lot 3): 2 participants entered by 30/06/2025, immersions at 2 hosts
    (one written twice with other capitals); projected at the same pace to 31/12."""
    from backoffice.indicators.targets import programme_targets
    from backoffice.models import Internship
    with reference_app.app_context():
        prog = programme("PLIE-L3")
        for n, entry in enumerate((date(2025, 2, 3), date(2025, 5, 5), date(2024, 12, 1))):
            who = person(f"Cible{n}")
            path = enrol(who, prog, entry)
            db.session.add(Internship(enrolment=path, company_name=("Ressourcerie", " ressourcerie",
                                                                   "Jardin")[n],
                                      starts_on=entry, ends_on=entry))
        db.session.flush()
        lines = {line.measure: line for line in
                 programme_targets(db.session, prog, 2025, date(2025, 6, 30))}
        entered = lines["Participants entrés dans l'année"]
        assert (entered.actual, entered.projected, entered.situation_label) == (
            2, 4, "En retard sur l'objectif")  # 2 in 181 days → 4 over 365
        hosts = lines["Structures d'accueil différentes"]
        assert hosts.actual == 1  # « Ressourcerie » twice, « Jardin » in 2024
        db.session.rollback()


def test_a_streamed_list_is_planned_for_all_its_rows_on_postgresql(reference_app):
    """A report reads every row of its streamed lists: PostgreSQL must plan their cursor
    for all the rows (``cursor_tuple_fraction`` 1), not for a fast first tenth; the
    session's setting is back right after, for the lists read in part (alerts)."""
    from sqlalchemy import event, text

    from backoffice.indicators.scope import stream

    with reference_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's cursor planning")
        seen = []

        def on(_conn, cursor, statement, _parameters, _context, _many):
            if "FROM exit_types" in statement:  # the streamed statement, when declared
                seen.append(cursor.connection.execute("SHOW cursor_tuple_fraction").fetchone()[0])

        event.listen(db.engine, "before_cursor_execute", on)
        try:
            rows = list(stream(db.session, select(ExitType.id).order_by(ExitType.id)))
        finally:
            event.remove(db.engine, "before_cursor_execute", on)
        after = db.session.execute(text("SHOW cursor_tuple_fraction")).scalar()
        db.session.rollback()
    assert rows and seen == ["1"]
    assert after == "0.1"
