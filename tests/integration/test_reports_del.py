"""DEL annual and end-of-path reports on a dozen hand-made paths (001 « Évaluation »).

The dataset (period 2025, programme DEL-L1), with what each person is there to test:

| who | referred | path | exit | tests |
|---|---|---|---|---|
| A Dupont   | 10/01/25 | S1 01/03→30/09/25 | CDI 30/09 (planned end) | ED, project+plan |
| B =1+1     | 15/01/25 | S1 01/03→30/09/25 | abandon 30/06 | rupture, anticipated |
| C Bernard  | 01/02/25 | S1 01/03→30/09/25 | CDD 3 months, 31/12 (last day) | SD |
| D Petit    | 05/11/24 | S2 01/12/24→30/06/25 | pre-qualifying 15/02 | straddles, SP, early |
| E Robert   | 10/02/25 | 15/03→15/10/25 | none, suspended | barriers |
| F Richard  | 01/05/24, 01/03/25 | 01/06/24→31/01/25, 01/04/25→ | no solution | re-entry |
| L Lefebvre | 20/02/25 | S1 01/03→30/09/25 | CDD 8 months 30/09 | ED by length |
| G, H       | 2025 | not entered (housing + childcare; housing) | | non-entries |
| I, J       | 2025 | rejected, pending | | referred only |
| K Laurent  | 20/12/25 | entered 05/01/26 | | referred, not entered by the end |
"""

from datetime import date

import pytest

from backoffice.enums import EducationLevel, EnrolmentStatus, ReferralStatus, Sex
from backoffice.extensions import db
from backoffice.models import Barrier, Internship, ProgrammeSession, Suspension, SuspensionReason
from tests.integration.test_reports_common import (
    barrier_type,
    enrol,
    key_figures,
    make_report,
    person,
    programme,
    refer,
    section,
    table_rows,
)

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def days(a: date, b: date) -> int:
    return (b - a).days


@pytest.fixture
def del_app(reference_app):
    with reference_app.app_context():
        p = programme("DEL-L1")
        s1 = ProgrammeSession(
            programme=p,
            label="Session mars 2025",
            starts_on=date(2025, 3, 1),
            ends_on=date(2025, 9, 30),
        )
        s2 = ProgrammeSession(
            programme=p, label="Session 2024", starts_on=date(2024, 9, 1), ends_on=date(2025, 3, 31)
        )
        db.session.add_all([s1, s2])
        db.session.flush()
        planned = date(2025, 9, 30)

        a = person(
            "Dupont",
            "Anne",
            birth=date(1995, 6, 1),
            sex=Sex.FEMALE,
            education_level=EducationLevel.LEVEL_3,
            commune="Nouméa",
        )
        ea = enrol(
            a,
            p,
            date(2025, 3, 1),
            referral=refer(
                a,
                p,
                date(2025, 1, 10),
                prescription_place="Agence Nouméa",
                prescriber_name="Mme Conseil",
            ),
            session=s1,
            planned_end=planned,
            exit_on=planned,
            exit_code="cdi",
            contract_kind="cdi",
            satisfaction=5,
            goal_attainment=3,
            target_job="Cuisinière",
            action_plan_on=date(2025, 4, 1),
            engagement_level=4,
            soft_skills_level=3,
        )
        db.session.add_all(
            [
                Internship(
                    enrolment=ea,
                    company_name="Resto",
                    starts_on=date(2025, 5, 1),
                    ends_on=date(2025, 5, 15),
                ),
                Internship(
                    enrolment=ea,
                    company_name="Hôtel",
                    starts_on=date(2025, 6, 1),
                    ends_on=date(2025, 6, 15),
                ),
            ]
        )
        b = person("=1+1", "Bruno", birth=date(2001, 2, 1), sex=Sex.MALE)
        eb = enrol(
            b,
            p,
            date(2025, 3, 1),
            referral=refer(b, p, date(2025, 1, 15)),
            session=s1,
            planned_end=planned,
            exit_on=date(2025, 6, 30),
            exit_code="abandon",
            satisfaction=2,
            goal_attainment=0,
            engagement_level=2,
            difficulties="Garde d'enfant impossible",
            recommendations="Solution de garde",
        )
        health = barrier_type("health")
        db.session.add(Barrier(enrolment=eb, barrier_type=health, identified_on=date(2025, 3, 10)))
        c = person("Bernard", "Chloé", birth=date(1980, 1, 1), sex=Sex.FEMALE)
        enrol(
            c,
            p,
            date(2025, 3, 1),
            referral=refer(c, p, date(2025, 2, 1)),
            session=s1,
            planned_end=planned,
            exit_on=date(2025, 12, 31),
            exit_code="cdd",
            contract_kind="cdd",
            contract_months=3,
            satisfaction=4,
            goal_attainment=2,
        )
        d = person("Petit", "David", birth=date(1970, 1, 1))
        ed = enrol(
            d,
            p,
            date(2024, 12, 1),
            referral=refer(d, p, date(2024, 11, 5)),
            session=s2,
            planned_end=date(2025, 6, 30),
            exit_on=date(2025, 2, 15),
            exit_code="pre_qualifying_training",
            training_title="Remise à niveau",
            goal_attainment=1,
        )
        db.session.add(
            Internship(
                enrolment=ed,
                company_name="Avant",
                starts_on=date(2024, 12, 10),
                ends_on=date(2024, 12, 20),
            )
        )
        e = person("Robert", "Éric", birth=date(1985, 1, 1))
        ee = enrol(
            e,
            p,
            date(2025, 3, 15),
            referral=refer(e, p, date(2025, 2, 10)),
            planned_end=date(2025, 10, 15),
            status=EnrolmentStatus.SUSPENDED,
            target_job="Maçon",
        )
        illness = db.session.query(SuspensionReason).filter_by(code="illness").one()
        housing, mobility = barrier_type("housing"), barrier_type("mobility")
        db.session.add_all(
            [
                Suspension(enrolment=ee, reason=illness, starts_on=date(2025, 6, 1)),
                Barrier(
                    enrolment=ee,
                    barrier_type=housing,
                    identified_on=date(2025, 3, 20),
                    lifted_on=date(2025, 5, 1),
                ),
                Barrier(enrolment=ee, barrier_type=mobility, identified_on=date(2025, 4, 1)),
            ]
        )
        f = person("Richard", "Fabien", birth=date(1990, 5, 5))
        enrol(
            f,
            p,
            date(2024, 6, 1),
            referral=refer(f, p, date(2024, 5, 1)),
            planned_end=date(2025, 1, 31),
            exit_on=date(2025, 1, 31),
            exit_code="no_solution",
        )
        enrol(
            f,
            p,
            date(2025, 4, 1),
            referral=refer(f, p, date(2025, 3, 1)),
            planned_end=date(2025, 12, 1),
        )
        g = person("Durand", "Gaëlle", sex=Sex.FEMALE)
        rg = refer(g, p, date(2025, 5, 5), ReferralStatus.NOT_ENTERED)
        rg.non_entry_barriers = [barrier_type("housing"), barrier_type("childcare")]
        h = person("Leroy", "Hélène", sex=Sex.FEMALE)
        refer(h, p, date(2025, 6, 1), ReferralStatus.NOT_ENTERED).non_entry_barriers = [
            barrier_type("housing")
        ]
        refer(person("Moreau", "Ivan"), p, date(2025, 7, 1), ReferralStatus.REJECTED)
        refer(person("Simon", "Julie", sex=Sex.FEMALE), p, date(2025, 8, 1), ReferralStatus.PENDING)
        k = person("Laurent", "Karim")
        enrol(k, p, date(2026, 1, 5), referral=refer(k, p, date(2025, 12, 20)))
        lf = person("Lefebvre", "Léa", birth=date(1992, 3, 3), sex=Sex.FEMALE)
        enrol(
            lf,
            p,
            date(2025, 3, 1),
            referral=refer(lf, p, date(2025, 2, 20)),
            session=s1,
            planned_end=planned,
            exit_on=planned,
            exit_code="cdd",
            contract_kind="cdd",
            contract_months=8,
            satisfaction=5,
            goal_attainment=3,
            target_job="Vendeuse",
            action_plan_on=date(2025, 5, 2),
        )
        db.session.commit()
        reference_app.config["S1"] = s1.id
    return reference_app


@pytest.fixture
def annual(del_app):
    with del_app.app_context():
        return make_report("del-annual", "DEL-L1", *YEAR)


def test_entry_indicators(annual):
    k = key_figures(annual)
    assert k["Demandeurs d'emploi prescrits"][0] == 11
    # A, B, C, E, F (2nd), L entered; K entered after the period, G H not entered, I J not
    # 001 indicator table: « Rapport entre le nombre de demandeurs d'emploi prescrits et le
    # nombre de bénéficiaires réels »: prescribed / entered
    assert k["Taux d'entrée"] == (pytest.approx(11 / 6), 11, 6)


def test_headcount_counts_paths_straddling_suspended_and_both_reentries(annual):
    assert key_figures(annual)["Nombre de bénéficiaires (parcours suivis)"][0] == 8


def test_exit_rates_over_initial_headcount_are_inclusive(annual):
    k = key_figures(annual)
    assert k["Taux d'insertion dans l'emploi durable (ED)"] == (0.25, 2, 8)  # A (CDI), L (CDD 8 m)
    assert k["Taux de sortie dynamique (SD)"] == (0.375, 3, 8)  # + C (CDD 3 m, on 31/12)
    assert k["Taux de sortie positive (SP)"] == (0.5, 4, 8)  # + D (pre-qualifying)
    assert k["Taux de sortie anticipée"] == (0.25, 2, 8)  # B abandon, D before planned end
    assert k["Taux de placement"] == (0.375, 3, 8)  # A, C, L
    assert k["Ruptures de parcours"][0] == 1


def test_duration_and_integration_rates(annual):
    effective = (
        days(date(2025, 3, 1), date(2025, 9, 30)) * 2
        + days(date(2025, 3, 1), date(2025, 6, 30))
        + days(date(2025, 3, 1), date(2025, 12, 31))
        + days(date(2024, 12, 1), date(2025, 2, 15))
        + days(date(2024, 6, 1), date(2025, 1, 31))
    )
    recommended = (
        days(date(2025, 3, 1), date(2025, 9, 30)) * 4
        + days(date(2024, 12, 1), date(2025, 6, 30))
        + days(date(2024, 6, 1), date(2025, 1, 31))
    )
    assert (effective, recommended) == (1172, 1307)
    # 001: « Rapport entre la durée initiale préconisée et la durée effective »
    assert key_figures(annual)["Taux de la durée du parcours"] == (
        pytest.approx(1307 / 1172),
        1307,
        1172,
    )
    # 001: « Rapport entre le nombre de demandeurs d'emploi intégrés à une session et le
    # nombre de demandeurs d'emploi à la fin de la session »: S1 4 integrated, 3 at its end
    # (A and L end their path on its last day, C after it; B abandoned); the 2024 session's
    # only person (D) left before its end, nobody is at its end: « — »
    assert key_figures(annual)["Taux d'intégration par session"] == (pytest.approx(5 / 3), 5, 3)
    headers, rows = table_rows(annual, "Sessions", "Session")
    assert headers[2:5] == ["Intégrés", "À la fin de la session", "Taux d'intégration"]
    by_name = {r[0]: r[2:5] for r in rows}
    assert by_name["Session 2024"] == (1, 0, "—")
    assert by_name["Session mars 2025"] == (4, 3, pytest.approx(4 / 3))
    assert by_name["Total"][:2] == (5, 3)


def test_progression_barriers_satisfaction(annual):
    k = key_figures(annual)
    assert k["Taux de progression — projet défini et plan d'action"] == (0.25, 2, 8)  # A, L
    assert k["Taux de progression — freins levés"] == (pytest.approx(1 / 3), 1, 3)
    assert k["Taux de progression — engagement du demandeur"][0] == 3.0  # (4 + 2) / 2
    assert k["Taux de progression — savoir-être (soft skills)"][0] == 3.0
    assert k["Stages suivis"][0] == 2  # D's internship was in 2024
    assert k["Taux de satisfaction du demandeur d'emploi"] == (0.75, 3, 4)
    assert k["Satisfaction moyenne"][0] == 4.0
    assert section(
        annual, "Freins", "Freins rencontrés pendant le parcours (identifiés, levés)"
    ) == {"Logement": 1, "Santé": 1, "Mobilité": 1}
    assert section(annual, "Freins", "Freins ayant empêché l'entrée (non-entrées)") == {
        "Logement": 2,
        "Garde d'enfants": 1,
    }
    assert k["Non-entrées par frein"][0] == 2


def test_exit_distributions(annual):
    assert section(annual, "Sorties", "Sorties par catégorie DEL") == {
        "Emploi durable (ED)": 2,
        "Sortie dynamique hors ED": 1,
        "Sortie positive hors SD": 1,
        "Autre sortie (ni ED, ni SD, ni SP)": 2,
    }
    assert section(annual, "Sorties", "Sorties anticipées par raison") == {
        "Abandon ou rupture du parcours": 1,
        "Formation pré-qualifiante": 1,
    }
    assert section(annual, "Sorties", "Niveau d'atteinte des objectifs") == {
        "Non atteint": 1,
        "Peu atteint": 1,
        "Partiellement atteint": 1,
        "Atteint": 2,
        "Non évalué": 1,
    }
    assert section(annual, "Typologie", "Orientés par sexe") == {"Femme": 6, "Homme": 5}
    assert section(annual, "Typologie", "Orientés par tranche d'âge")["Moins de 26 ans"] == 1


def test_nominative_list_and_ruptures(annual):
    headers, rows = table_rows(annual, "Liste nominative", "Nom")
    assert len(rows) == 8
    col = {h: i for i, h in enumerate(headers)}
    by_name = {(r[col["Nom"]], r[col["Date d'entrée"]].date()): r for r in rows}
    a = by_name[("Dupont", date(2025, 3, 1))]
    assert a[col["Catégorie DEL"]] == "ED" and a[col["Atteinte des objectifs"]] == "Atteint"
    assert a[col["Type de sortie"]] == "CDI" and a[col["Sortie anticipée"]] == "non"
    assert by_name[("Petit", date(2024, 12, 1))][col["Sortie anticipée"]] == "oui"
    assert by_name[("Robert", date(2025, 3, 15))][col["Statut actuel"]] == "Suspendu"
    assert ("Richard", date(2024, 6, 1)) in by_name and ("Richard", date(2025, 4, 1)) in by_name
    _h, ruptures = table_rows(annual, "Ruptures", "Nom")
    assert ruptures == [
        (
            "=1+1",
            "Bruno",
            ruptures[0][2],
            "Abandon ou rupture du parcours",
            None,
            "Garde d'enfant impossible",
            "Solution de garde",
        )
    ]


def test_end_of_path_report_for_a_session(del_app):
    with del_app.app_context():
        book = make_report("del-end-of-path", "DEL-L1", None, None, session_id=del_app.config["S1"])
    k = key_figures(book)
    cover = {r[0]: r[1] for r in book["Couverture"].iter_rows(values_only=True) if r[0]}
    assert cover["Session"] == "Session mars 2025"
    assert cover["Période"] == "du 01/03/2025 au 30/09/2025"
    assert k["Nombre de bénéficiaires (parcours suivis)"][0] == 4  # A, B, C, L
    # A and L exit on the session's last day: counted; C exits after it: not an exit yet
    assert k["Taux d'insertion dans l'emploi durable (ED)"] == (0.5, 2, 4)
    assert k["Taux de sortie positive (SP)"] == (0.5, 2, 4)
    assert k["Taux de sortie anticipée"] == (0.25, 1, 4)
    assert k["Taux d'intégration par session"] == (pytest.approx(4 / 3), 4, 3)
    headers, rows = table_rows(book, "Liste nominative", "Nom")
    goals = {r[0]: r[headers.index("Atteinte des objectifs")] for r in rows}
    assert goals == {
        "Dupont": "Atteint",
        "=1+1": "Non atteint",
        "Bernard": None,
        "Lefebvre": "Atteint",
    }


def test_empty_period_shows_dashes_not_a_crash(del_app):
    with del_app.app_context():
        # before any path (open paths of 2025 are still followed in later years)
        book = make_report("del-annual", "DEL-L1", date(2020, 1, 1), date(2020, 12, 31))
    k = key_figures(book)
    assert k["Demandeurs d'emploi prescrits"][0] == 0
    for name in (
        "Taux d'entrée",
        "Taux de sortie positive (SP)",
        "Taux de la durée du parcours",
        "Taux de satisfaction du demandeur d'emploi",
        "Taux d'intégration par session",
        "Taux de progression — engagement du demandeur",
    ):
        assert k[name][0] == "—", name
    assert table_rows(book, "Liste nominative", "Nom")[1][0][0] == "Aucune ligne sur la période."


def test_typology_order_same_on_every_engine(reference_app):
    """Preferred labels first (sex, education), then by decreasing count and by label in
    code-point order whatever the database's collation; NULL and empty read « Non
    renseigné »; a dimension nobody has is shown empty."""
    with reference_app.app_context():
        p = programme("DEL-L1")
        prescribers = ["Mme Été", "M. Zed", "Mme Été", "mme b", "Éric", "", None, "M. Zed"]
        for i, name in enumerate(prescribers):
            who = person(
                f"P{i}",
                sex=Sex.MALE if i < 6 else Sex.FEMALE,
                education_level=EducationLevel.LEVEL_4 if i < 2 else None,
            )
            refer(who, p, date(2025, 3, 1 + i), prescriber_name=name)
        db.session.commit()
        book = make_report("del-annual", "DEL-L1", *YEAR)
        nobody = make_report("del-annual", "DEL-L1", date(2020, 1, 1), date(2020, 12, 31))
    assert section(nobody, "Typologie", "Orientés par sexe") == {}
    by_prescriber = section(book, "Typologie", "Orientés par conseiller prescripteur")
    assert list(by_prescriber.items()) == [
        ("M. Zed", 2),
        ("Mme Été", 2),
        ("Non renseigné", 2),
        ("mme b", 1),
        ("Éric", 1),
    ]
    assert list(section(book, "Typologie", "Orientés par sexe").items()) == [
        ("Femme", 2),
        ("Homme", 6),
    ]
    assert list(section(book, "Typologie", "Orientés par niveau de formation")) == [
        "Niveau 4 (Bac)",
        "Non renseigné",
    ]
    assert section(book, "Typologie", "Orientés par motif de prescription") == {"Non renseigné": 8}


# 001, tableau des indicateurs, « Taux d'intégration par session proposée » : « Rapport entre
# le nombre de demandeurs d'emploi intégrés à une session et le nombre de demandeurs d'emploi
# à la fin de la session ». Session of 2025 (01/03 → 31/12); each path: (planned end, exit
# date, exit type); paths enter on 01/03 « au fil de l'eau » and may end before the session.
SEPT, OCT, DEC = date(2025, 9, 30), date(2025, 10, 31), date(2025, 12, 31)
INTEGRATION_CASES = [
    # a normal session: everyone completes the path before the session ends → 100 %, not 0 %
    ("normal",
     [(SEPT, SEPT, "cdi"), (SEPT, SEPT, "no_solution"), (OCT, OCT, "qualifying_training")],
     (1.0, 3, 3)),
    # an abandon leaves the session before its end: 3 integrated, 2 at the end
    ("abandon", [(SEPT, SEPT, "cdi"), (SEPT, date(2025, 6, 2), "abandon"), (OCT, None, None)],
     (1.5, 3, 2)),
    # « sortis avant la fin du parcours » (001): an exit before the planned end, even to a job
    ("early job", [(OCT, SEPT, "cdi"), (OCT, OCT, "no_solution")], (2.0, 2, 1)),
    # still on the path on the session's last day, or exited after it
    ("still there", [(date(2026, 2, 1), None, None), (DEC, date(2026, 1, 5), "moved")],
     (1.0, 2, 2)),
]


@pytest.mark.parametrize(("case", "paths", "expected"), INTEGRATION_CASES,
                         ids=[c[0] for c in INTEGRATION_CASES])
def test_integration_rate_per_session_as_001_defines_it(reference_app, case, paths, expected):
    with reference_app.app_context():
        p = programme("DEL-L1")
        s = ProgrammeSession(programme=p, label="Session 2025", starts_on=date(2025, 3, 1),
                             ends_on=DEC)
        db.session.add(s)
        for i, (planned, exit_on, code) in enumerate(paths):
            who = person(f"Intégré{i}")
            enrol(who, p, date(2025, 3, 1), referral=refer(who, p, date(2025, 2, 1)), session=s,
                  planned_end=planned, exit_on=exit_on, exit_code=code,
                  training_title="CAP" if code == "qualifying_training" else None)
        db.session.commit()
        book = make_report("del-end-of-path", "DEL-L1", None, None, session_id=s.id)
    rate, integrated, at_end = key_figures(book)["Taux d'intégration par session"]
    assert (rate, integrated, at_end) == (pytest.approx(expected[0]), *expected[1:])


@pytest.mark.parametrize(
    ("indicator", "expected"),
    [
        # 001: « Rapport entre le nombre de demandeurs d'emploi prescrits et le nombre de
        # bénéficiaires réels »: 11 prescribed for 6 entered
        ("Taux d'entrée", (11, 6)),
        # 001: « Rapport entre la durée initiale préconisée et la durée effective du parcours
        # réalisé »: 1 307 days recommended for 1 172 done
        ("Taux de la durée du parcours", (1307, 1172)),
        # 001: « Rapport entre le nombre de demandeurs d'emploi intégrés à une session et le
        # nombre de demandeurs d'emploi à la fin de la session »
        ("Taux d'intégration par session", (5, 3)),
    ],
)
def test_each_ratio_reads_001_in_its_order(annual, indicator, expected):
    """The first figure 001 names is the numerator, the second the denominator (the
    reading is recorded in docs/specification-readings.md)."""
    value_, numerator, denominator = key_figures(annual)[indicator]
    assert (numerator, denominator) == expected
    assert value_ == pytest.approx(numerator / denominator)
