"""CSP monthly table (002 II §9) on hand-made paths: cohorts by month of referral,
figures observed on the cut-off day (31/03/2025), and the « Cumul » line.

| who | referred | pré-bilan | contract | referent | exit | tests |
|---|---|---|---|---|---|---|
| c11 | 10/06/24 | 12/06 | 13/06 | R3 | creation 01/08/24, follow-up ended 01/02/25 (¹) | creation |
| c12 | 20/06/24 | 21/06 | 22/06 | R3 | CDI 30/09/24, follow-up ended 31/03/25 (²) | CDI, employed |
| c13 | 01/07/24 | 02/07 | 03/07 | R3 | POE then CDI, 15/10/24 | POE / AFPR group |
| c1  | 05/01/25 | 08/01 | 09/01 | R1 | CDI 20/02/25 | CDI, not yet 6 months |
| c2  | 10/01/25 | 12/01 | 14/01 | R1 | — suspended (illness) since 01/03 | not in portfolio |
| c3  | 20/01/25 | 25/01 | 27/01 | R2 | abandon 15/03 | abandon, without solution |
| c4  | 31/01/25 | — | — | — | — (no path) | referred only |
| c5  | 03/02/25 | 05/02 | 06/02 | R2 | qualifying training 8 months on 31/03 (cut-off) | training |
| c6  | 10/02/25 | 12/02 | 02/03 | R3 | — active | adhered in March, Feb cohort; active referent |
| c7  | 28/02/25 | 28/02 18:00 | — | R1 | — | present, not adhered |
| c8  | 30/03/25 | 02/04 | 03/04 | R1 | — | present and adhered after the cut-off |
| c9  | 05/03/25 | 10/03 | 11/03 | R1 | CDD 4 months 25/03 | not positive (< 6 months) |
| c10 | 02/04/25 | | | | | after the period |
| c14 | 01/03/24 | | 06/03/24 | R2 | — active | earlier cohort, counts in the « Cumul » referents |

(¹) no longer in employment when the follow-up ended; (²) still in employment, on the
cut-off day: « en emploi 6 mois après la reprise » counts c12 only.
"""

from datetime import date, datetime

import pytest

from backoffice.enums import EnrolmentStatus, Role
from backoffice.extensions import db
from backoffice.models import Suspension, SuspensionReason
from tests.conftest import make_user
from tests.integration.test_reports_common import (
    enrol,
    make_report,
    person,
    programme,
    refer,
    table_rows,
)

PERIOD = (date(2024, 6, 1), date(2025, 3, 31))


@pytest.fixture
def csp_app(reference_app):
    with reference_app.app_context():
        p = programme("CSP")
        r1, r2, r3 = (
            make_user(Role.COUNSELLOR, f"r{i}@exemple.fr", f"Référent {i}") for i in (1, 2, 3)
        )

        def path(
            name,
            referred,
            prebilan=None,
            contract=None,
            referent=None,
            exit_on=None,
            exit_code=None,
            **facts,
        ):
            who = person(name)
            ref = refer(who, p, referred)
            if prebilan is None and contract is None:
                return None
            entry = prebilan or datetime.combine(contract, datetime.min.time())
            entry = entry.date() if isinstance(entry, datetime) else entry
            return enrol(
                who,
                p,
                entry,
                referral=ref,
                prebilan_at=prebilan
                if isinstance(prebilan, datetime)
                else (datetime.combine(prebilan, datetime.min.time()) if prebilan else None),
                csp_contract_signed_on=contract,
                referent=referent,
                exit_on=exit_on,
                exit_code=exit_code,
                **facts,
            )

        path(
            "C11",
            date(2024, 6, 10),
            date(2024, 6, 12),
            date(2024, 6, 13),
            r3,
            date(2024, 8, 1),
            "creation",
            follow_up_end_date=date(2025, 2, 1),
            closed_on=date(2025, 2, 1),
            employed_at_follow_up_end=False,
        )
        path(
            "C12",
            date(2024, 6, 20),
            date(2024, 6, 21),
            date(2024, 6, 22),
            r3,
            date(2024, 9, 30),
            "cdi",
            contract_kind="cdi",
            follow_up_end_date=date(2025, 3, 31),
            closed_on=date(2025, 3, 31),
            employed_at_follow_up_end=True,
        )
        path(
            "C13",
            date(2024, 7, 1),
            date(2024, 7, 2),
            date(2024, 7, 3),
            r3,
            date(2024, 10, 15),
            "poe",
            training_title="POE cariste",
            followup_contract_kind="cdi",
        )
        path(
            "C1",
            date(2025, 1, 5),
            date(2025, 1, 8),
            date(2025, 1, 9),
            r1,
            date(2025, 2, 20),
            "cdi",
            contract_kind="cdi",
            status=EnrolmentStatus.FOLLOW_UP,  # in follow-up until 20/08/25
            follow_up_end_date=date(2025, 8, 20),
        )
        c2 = path(
            "C2",
            date(2025, 1, 10),
            date(2025, 1, 12),
            date(2025, 1, 14),
            r1,
            status=EnrolmentStatus.SUSPENDED,
        )
        illness = db.session.query(SuspensionReason).filter_by(code="illness").one()
        db.session.add(Suspension(enrolment=c2, reason=illness, starts_on=date(2025, 3, 1)))
        path(
            "C3",
            date(2025, 1, 20),
            date(2025, 1, 25),
            date(2025, 1, 27),
            r2,
            date(2025, 3, 15),
            "abandon",
        )
        path("C4", date(2025, 1, 31))
        path(
            "C5",
            date(2025, 2, 3),
            date(2025, 2, 5),
            date(2025, 2, 6),
            r2,
            date(2025, 3, 31),
            "qualifying_training",
            training_title="CAP",
            contract_months=8,
        )
        path("C6", date(2025, 2, 10), date(2025, 2, 12), date(2025, 3, 2), r3)
        path("C7", date(2025, 2, 28), datetime(2025, 2, 28, 18, 0), None, r1)
        path("C8", date(2025, 3, 30), date(2025, 4, 2), date(2025, 4, 3), r1)
        path(
            "C9",
            date(2025, 3, 5),
            date(2025, 3, 10),
            date(2025, 3, 11),
            r1,
            date(2025, 3, 25),
            "cdd",
            contract_kind="cdd",
            contract_months=4,
        )
        path("C10", date(2025, 4, 2))
        path("C14", date(2024, 3, 1), date(2024, 3, 5), date(2024, 3, 6), r2)
        db.session.commit()
    return reference_app


@pytest.fixture
def table(csp_app):
    with csp_app.app_context():
        book = make_report("csp-monthly", "CSP", *PERIOD)
    headers, rows = table_rows(book, "Tableau mensuel", "Cohorte (mois d'orientation)")
    return {r[0]: dict(zip(headers, r, strict=True)) for r in rows}


def figures(line: dict) -> tuple:
    return (
        line["Bénéficiaires orientés"],
        line["Bénéficiaires présents"],
        line["Bénéficiaires ayant adhéré"],
        line["Abandons en cours de prestation"],
        line["Référents avec un portefeuille actif"],
    )


def test_one_line_per_month_of_the_period_then_cumul(table):
    assert list(table) == [
        "juin 2024",
        "juillet 2024",
        "août 2024",
        "septembre 2024",
        "octobre 2024",
        "novembre 2024",
        "décembre 2024",
        "janvier 2025",
        "février 2025",
        "mars 2025",
        "Cumul",
    ]


def test_activity_by_cohort(table):
    assert figures(table["juin 2024"]) == (2, 2, 2, 0, 0)
    assert figures(table["juillet 2024"]) == (1, 1, 1, 0, 0)
    assert figures(table["janvier 2025"]) == (4, 3, 3, 1, 0)  # c2 suspended: not active
    assert figures(table["février 2025"]) == (3, 3, 2, 0, 1)  # c7 present at 18:00 on 28/02
    assert figures(table["mars 2025"]) == (2, 1, 1, 0, 0)  # c8 came after the cut-off
    # referents: R3 (c6) and R2 (c14, an older cohort): all active paths on the cut-off day
    assert figures(table["Cumul"]) == (12, 10, 9, 1, 2)


def test_results_by_cohort_and_rates_over_adherents(table):
    june = table["juin 2024"]
    # c12 said in employment at the end of its follow-up (on the cut-off day); c11 not
    assert june["En emploi 6 mois après la reprise — nombre"] == 1
    assert june["En emploi 6 mois après la reprise — taux"] == 0.5
    assert june["Création ou reprise d'entreprise — nombre"] == 1
    assert june["Création ou reprise d'entreprise — taux"] == 0.5
    assert june["Emploi : CDI — nombre"] == 1
    july = table["juillet 2024"]
    assert july["Emploi : Formation préalable à l'embauche (POE, AFPR) — nombre"] == 1
    assert july["En emploi 6 mois après la reprise — nombre"] == 0
    jan = table["janvier 2025"]
    assert jan["Sans solution d'emploi à l'issue — nombre"] == 1  # c3 abandon
    assert jan["Sans solution d'emploi à l'issue — taux"] == pytest.approx(1 / 3)
    assert (
        jan["Emploi : CDI — nombre"] == 1 and jan["En emploi 6 mois après la reprise — nombre"] == 0
    )
    assert (
        table["février 2025"]["Formation qualifiante de 6 mois et plus — nombre"] == 1
    )  # on cut-off
    assert table["mars 2025"]["Sans solution d'emploi à l'issue — nombre"] == 1  # CDD 4 months


def test_cumul_and_empty_cohorts(table):
    total = table["Cumul"]
    assert total["Sans solution d'emploi à l'issue — nombre"] == 2
    assert total["En emploi 6 mois après la reprise — nombre"] == 1
    assert total["Emploi : CDI — nombre"] == 2
    assert total["Emploi : CDI — taux"] == pytest.approx(2 / 9)
    assert total["Emploi : CDD ou intérim de 6 mois et plus — nombre"] == 0
    august = table["août 2024"]
    assert figures(august) == (0, 0, 0, 0, 0)
    assert august["Sans solution d'emploi à l'issue — taux"] == "—"
    assert august["Emploi : CDI — taux"] == "—"


def test_an_earlier_chosen_month_sees_the_facts_of_that_day(csp_app):
    with csp_app.app_context():
        book = make_report("csp-monthly", "CSP", date(2025, 1, 1), date(2025, 1, 31))
    headers, rows = table_rows(book, "Tableau mensuel", "Cohorte (mois d'orientation)")
    lines = {r[0]: dict(zip(headers, r, strict=True)) for r in rows}
    assert list(lines) == ["janvier 2025", "Cumul"]
    # on 31/01: c1, c2, c3 adhered, none exited; c2 not suspended yet; R1 and R2 active
    assert figures(lines["janvier 2025"]) == (4, 3, 3, 0, 2)
    assert lines["janvier 2025"]["Emploi : CDI — nombre"] == 0
