"""The reference data of seeds/: the figures of the specifications, idempotent loading,
edits picked up on reload, and French errors for malformed files."""
import shutil

import pytest
from sqlalchemy import func, select

from backoffice.enums import DelayUnit, Territory
from backoffice.extensions import db
from backoffice.models import (
    BarrierType,
    ContactType,
    DeadlineRule,
    ExitType,
    Funder,
    Phase,
    Programme,
    SuspensionReason,
)
from backoffice.seeding.reference import DEFAULT_SEEDS_DIR, load_reference

# Figures of domain.md's programme table and the cahiers des charges, written out here so
# that a change in seeds/programmes.yaml that contradicts them fails a test.
PROGRAMME_FIGURES = {
    "DEL-L1": dict(funder="DEL", source="001", exit_scheme="DEL", planned_months=7,
                   follow_up_months=3, annual_target_min=50, annual_target_max=80,
                   requires_commission=True, duration_set_by_commission=True,
                   default_validated_months=7, requires_internship=True,
                   requires_disability_recognition=False),
    "DEL-L2": dict(funder="DEL", source="001", exit_scheme="DEL", planned_months=8,
                   max_months=8, follow_up_months=3, annual_target_max=5,
                   requires_commission=True, requires_disability_recognition=True,
                   requires_internship=True, duration_set_by_commission=False),
    "ARJLJ": dict(funder="FT", source="002", max_weeks=6, people_per_consultant=30,
                  requires_commission=False, follow_up_months=None),
    "CSP": dict(funder="FT", source="002", exit_scheme="CSP", max_months=12,
                experimental_max_months=18, follow_up_months=6, portfolio_min=40,
                portfolio_max=60, group_min=6, group_max=12, requires_commission=False),
    "PLIE-L1": dict(funder="PLIE", source="004", exit_scheme="PLIE", annual_target_min=100,
                    interviews_min=4, interviews_max=5, interview_max_minutes=45,
                    group_min=4, group_max=7, workshop_hours=3, requires_commission=True),
    "PLIE-L2": dict(funder="PLIE", source="004", exit_scheme="PLIE", annual_target_min=16,
                    group_min=8, group_per_session=True, sessions_min=2,
                    requires_commission=True),
    "PLIE-L3": dict(funder="PLIE", source="004", exit_scheme="PLIE", annual_target_min=30,
                    hours_cap=30, hours_cap_days=14, host_structures_min=15,
                    requires_commission=True),
    "PLIE-L4": dict(funder="PLIE", source="004", exit_scheme="PLIE", max_months=2,
                    annual_target_min=10, hours_min=12, hours_max=15,
                    skills_bilan_hours=20, requires_commission=True),
}

# Every row of domain.md's « Deadlines » table: (programme, trigger, offset, unit).
# « PLIE » rows are expanded to the lots whose text carries them (004).
PLIE_LOTS = ("PLIE-L1", "PLIE-L2", "PLIE-L3", "PLIE-L4")
DEADLINE_ROWS = [
    ("ARJLJ", "order_received", 2, DelayUnit.WORKING_DAYS),      # start of support
    ("CSP", "referral", 8, DelayUnit.CALENDAR_DAYS),             # pré-bilan
    ("CSP", "prebilan", 48, DelayUnit.HOURS),                    # signed contract copy
    ("CSP", "phase_start", 28, DelayUnit.CALENDAR_DAYS),         # end of phase 1
    ("CSP", "phase_end", 48, DelayUnit.HOURS),                   # PSP + phase-1 report
    ("CSP", "sixth_month", 0, DelayUnit.CALENDAR_DAYS),          # intermediate deliverable
    ("CSP", "durable_job", 48, DelayUnit.HOURS),                 # final report (job)
    ("CSP", "exit", 48, DelayUnit.HOURS),                        # final report (end)
    ("CSP", "abandon", 48, DelayUnit.HOURS),                     # final report / abandon
    ("CSP", "month_end", 5, DelayUnit.WORKING_DAYS),             # monthly table
    ("DEL-L1", "session_end", 1, DelayUnit.MONTHS),              # end-of-path report
    ("DEL-L2", "session_end", 1, DelayUnit.MONTHS),
    ("DEL-L1", "year_end", 0, DelayUnit.CALENDAR_DAYS),          # annual report
    ("DEL-L2", "year_end", 0, DelayUnit.CALENDAR_DAYS),
    *[(lot, "referral", 15, DelayUnit.CALENDAR_DAYS) for lot in PLIE_LOTS],  # liaison entry
    # 004 Lots 1, 2, 4: liaison exit 15 days after the exit; Lot 3: « Dans les 15 jours
    # suivant la fin de la mission »
    *[(lot, "exit", 15, DelayUnit.CALENDAR_DAYS) for lot in PLIE_LOTS if lot != "PLIE-L3"],
    ("PLIE-L3", "mission_end", 15, DelayUnit.CALENDAR_DAYS),
    ("PLIE-L4", "entry", 2, DelayUnit.MONTHS),                   # bilan completed
    *[(lot, "cutoff_may_31", 15, DelayUnit.CALENDAR_DAYS) for lot in PLIE_LOTS],
    ("PLIE-L2", "cutoff_sep_30", 31, DelayUnit.CALENDAR_DAYS),   # second interim report
    *[(lot, "action_end", 1, DelayUnit.MONTHS) for lot in PLIE_LOTS],        # final report
]

PHASES = {
    "DEL-L1": ["etape_1", "etape_2", "etape_3"],
    "DEL-L2": ["etape_1", "etape_2", "etape_3"],
    "ARJLJ": ["appui"],
    "CSP": ["prebilan", "phase_1", "phase_2", "suivi_emploi"],
    "PLIE-L1": ["accueil", "action", "sortie"],
    "PLIE-L2": ["accueil", "action", "sortie"],
    "PLIE-L3": ["accueil", "action", "sortie"],
    "PLIE-L4": ["accueil", "bilan", "sortie"],
}


def _counts() -> dict[str, int]:
    models = (Funder, Programme, Phase, DeadlineRule, ExitType, BarrierType, ContactType,
              SuspensionReason)
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in models}


def _ids() -> dict[str, list[int]]:
    return {
        "programmes": list(db.session.scalars(select(Programme.id).order_by(Programme.code))),
        "phases": list(db.session.scalars(select(Phase.id).order_by(Phase.id))),
        "rules": list(db.session.scalars(select(DeadlineRule.id).order_by(DeadlineRule.id))),
        "exit_types": list(db.session.scalars(select(ExitType.id).order_by(ExitType.code))),
    }


@pytest.fixture
def seeds_copy(tmp_path):
    """A writable copy of seeds/ (without the demo inputs)."""
    folder = tmp_path / "seeds"
    shutil.copytree(DEFAULT_SEEDS_DIR, folder, ignore=shutil.ignore_patterns("demo"))
    return folder


def test_funders_and_territories(reference_app):
    with reference_app.app_context():
        funders = {f.code: f.territory for f in db.session.scalars(select(Funder))}
    assert funders == {"DEL": Territory.NC, "FT": Territory.FR, "PLIE": Territory.FR}


@pytest.mark.parametrize("code", sorted(PROGRAMME_FIGURES))
def test_programme_figures(reference_app, code):
    with reference_app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.code == code))
        assert programme is not None, f"{code} n'est pas chargé"
        for name, expected in PROGRAMME_FIGURES[code].items():
            actual = programme.funder.code if name == "funder" else getattr(programme, name)
            assert actual == expected, f"{code}.{name} = {actual!r}, attendu {expected!r}"


def test_exactly_the_eight_programmes(reference_app):
    with reference_app.app_context():
        codes = set(db.session.scalars(select(Programme.code)))
    assert codes == set(PROGRAMME_FIGURES)


def test_phases_in_order(reference_app):
    with reference_app.app_context():
        for code, expected in PHASES.items():
            programme = db.session.scalar(select(Programme).where(Programme.code == code))
            assert [p.code for p in programme.phases] == expected
            assert [p.position for p in programme.phases] == list(range(1, len(expected) + 1))
        csp = {p.code: p for p in db.session.scalar(
            select(Programme).where(Programme.code == "CSP")).phases}
        assert (csp["phase_1"].max_days, csp["phase_1"].derogation_max_days) == (28, 56)
        assert csp["suivi_emploi"].is_follow_up
        del_l1 = {p.code: p for p in db.session.scalar(
            select(Programme).where(Programme.code == "DEL-L1")).phases}
        assert del_l1["etape_3"].is_follow_up and del_l1["etape_3"].max_days <= 92
        arjlj = db.session.scalar(select(Programme).where(Programme.code == "ARJLJ"))
        assert arjlj.phases[0].max_days == 42


def test_every_deadline_row_has_a_rule(reference_app):
    with reference_app.app_context():
        seeded = [
            (rule.programme.code, rule.trigger_event, rule.offset_value, rule.unit)
            for rule in db.session.scalars(select(DeadlineRule))
        ]
        for rule in db.session.scalars(select(DeadlineRule)):
            assert rule.name and rule.source and rule.active
    for row in DEADLINE_ROWS:
        assert row in seeded, f"aucune règle d'échéance pour {row}"


def test_closed_lists(reference_app):
    with reference_app.app_context():
        barriers = {b.code: b.is_sensitive for b in db.session.scalars(select(BarrierType))}
        contacts = {c.code: c for c in db.session.scalars(select(ContactType))}
        reasons = {r.code: r for r in db.session.scalars(select(SuspensionReason))}
        exit_count = db.session.scalar(select(func.count()).select_from(ExitType))
    assert len(barriers) == 14
    assert {c for c, sensitive in barriers.items() if sensitive} == {
        "health", "justice", "addiction", "disability"}
    assert contacts["group_session"].default_minutes == 180 and contacts["group_session"].is_group
    assert contacts["phone"].is_remote and contacts["email"].is_remote
    assert set(contacts) >= {"individual", "workshop", "tripartite", "company_visit"}
    # 002 I §7: the ARJLJ table counts professional reviews and job matches by contact type
    from backoffice.indicators.arjlj import JOB_MATCH_CODES, PROFESSIONAL_REVIEW_CODES
    assert set(contacts) & set(PROFESSIONAL_REVIEW_CODES)
    assert set(contacts) & set(JOB_MATCH_CODES)
    assert set(reasons) == {"illness", "leave", "short_job", "training"}
    pushing = {c for c, r in reasons.items() if r.pushes_end_date}
    assert pushing == {"short_job"} and reasons["short_job"].only_experimental_public
    assert not any(r.counts_as_active for r in reasons.values())  # 002 §7.4 / glossary
    assert exit_count > 0  # seeds/exit_types.yaml is loaded too


def test_loading_twice_keeps_rows_and_ids(app):
    with app.app_context():
        first = load_reference(db.session)
        db.session.commit()
        counts, ids = _counts(), _ids()
        second = load_reference(db.session)
        assert not db.session.dirty and not db.session.new  # nothing to write
        db.session.commit()
        assert first == second
        assert _counts() == counts and _ids() == ids
        assert counts["programmes"] == 8 and counts["deadline_rules"] == first["deadline_rules"]


def test_edited_seed_updates_the_row(app, seeds_copy):
    with app.app_context():
        load_reference(db.session, seeds_copy)
        db.session.commit()
        ids = _ids()
        path = seeds_copy / "programmes.yaml"
        text = path.read_text(encoding="utf-8")
        assert "  portfolio_max: 60\n" in text
        path.write_text(text.replace("  portfolio_max: 60\n", "  portfolio_max: 65\n"),
                        encoding="utf-8")
        rules = seeds_copy / "deadline_rules.yaml"
        rules.write_text(rules.read_text(encoding="utf-8").replace(
            '  name: "Entretien de pré-bilan"', '  name: "Pré-bilan (modifié)"'),
            encoding="utf-8")
        load_reference(db.session, str(seeds_copy))
        db.session.commit()
        csp = db.session.scalar(select(Programme).where(Programme.code == "CSP"))
        assert csp.portfolio_max == 65
        rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.code == "csp_prebilan"))
        assert rule.name == "Pré-bilan (modifié)"
        assert _ids() == ids  # updated in place, not re-created


@pytest.mark.parametrize("filename, old, new, field", [
    ("programmes.yaml", "  max_months: 12\n", '  max_months: "douze"\n', "max_months"),
    ("programmes.yaml", "  portfolio_min: 40\n", "  portfolio_minimum: 40\n",
     "portfolio_minimum"),
    ("funders.yaml", 'territory: "NC"', 'territory: "XX"', "territory"),
    ("deadline_rules.yaml", '  unit: "hours"', '  unit: "heures"', "unit"),
    ("deadline_rules.yaml", 'trigger_event: "prebilan"', 'trigger_event: "pre_bilan"',
     "trigger_event"),
    ("barrier_types.yaml", 'is_sensitive: true,', 'is_sensitive: "oui",', "is_sensitive"),
    ("programmes.yaml", '  source: "002"', "  source: 002", "source"),
    # a phase rule must name a phase of its programme (002 II §4: phase 1 of the CSP)
    ("deadline_rules.yaml", '  phase_code: "phase_1"', '  phase_code: "phase_9"', "phase_code"),
    ("deadline_rules.yaml", '  phase_code: "phase_1"\n', "", "phase_code"),
])
def test_malformed_seed_gives_a_french_error(app, seeds_copy, filename, old, new, field):
    path = seeds_copy / filename
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with app.app_context(), pytest.raises(ValueError) as error:
        load_reference(db.session, seeds_copy)
    message = str(error.value)
    assert filename in message and f"« {field} »" in message and "ligne" in message


def test_unreadable_yaml_names_file_and_line(app, seeds_copy):
    (seeds_copy / "contact_types.yaml").write_text("- code: [oops\n", encoding="utf-8")
    with app.app_context(), pytest.raises(ValueError, match=r"contact_types\.yaml.*ligne"):
        load_reference(db.session, seeds_copy)


def test_cli_seed_reference(app, runner):
    result = runner.invoke(args=["seed", "reference"])
    assert result.exit_code == 0, result.output
    assert "programmes : 8" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Programme)) == 8
