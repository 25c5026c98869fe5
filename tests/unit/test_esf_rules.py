"""ESF+ participants (issue 24, rules/esf.py), table-driven with the figures of the
sources in docs/esf.md: Regulation (EU) 2021/1057 Annex I (age bands, ISCED groups,
labour-market status, result indicators) and the French managing authority's rules
(one participant per operation, an action of one day or less is none)."""
from dataclasses import replace
from datetime import date

import pytest

from backoffice.enums import Answer, LabourMarketStatus, Sex
from backoffice.rules import esf
from backoffice.rules.esf import (
    EntryFacts,
    ExitFacts,
    PathFacts,
    PersonFacts,
    age_band,
    age_on,
    check_person,
    counts_as_participation,
    indicator_table,
    isced_group,
    participants,
)

Y, N, R = Answer.YES, Answer.NO, Answer.REFUSED
TODAY = date(2026, 12, 6)


# --- groupings: Annex I breakdowns ---------------------------------------------------

@pytest.mark.parametrize("born, entered, age, band", [
    (date(2008, 12, 7), date(2026, 12, 6), 17, "moins de 18 ans"),  # the day before 18
    (date(2008, 12, 6), date(2026, 12, 6), 18, "18 à 29 ans"),  # 18 on the entry day
    (date(1996, 12, 7), date(2026, 12, 6), 29, "18 à 29 ans"),
    (date(1996, 12, 6), date(2026, 12, 6), 30, "30 à 54 ans"),
    (date(1971, 12, 7), date(2026, 12, 6), 54, "30 à 54 ans"),
    (date(1971, 12, 6), date(2026, 12, 6), 55, "55 ans et plus"),  # Annex I: 55 and above
])
def test_age_at_entry_and_its_band(born, entered, age, band):
    assert age_on(born, entered) == age
    assert age_band(age) == band


@pytest.mark.parametrize("level, group", [
    (None, None), (0, "CITE 0 à 2"), (2, "CITE 0 à 2"), (3, "CITE 3 à 4"), (4, "CITE 3 à 4"),
    (5, "CITE 5 à 8"), (8, "CITE 5 à 8"),
])
def test_isced_groups_of_annex_i(level, group):
    assert isced_group(level) == group


def test_an_isced_level_outside_0_to_8_is_refused_in_french():
    with pytest.raises(ValueError, match="Niveau CITE : 9"):
        isced_group(9)


@pytest.mark.parametrize("entry, exit_, days, counts", [
    (date(2026, 3, 2), date(2026, 3, 2), 1, False),  # one day: no participant
    (date(2026, 3, 2), date(2026, 3, 3), 2, True),
    (date(2026, 3, 2), None, None, True),  # still open
])
def test_an_action_of_one_day_or_less_creates_no_participant(entry, exit_, days, counts):
    path = PathFacts(1, "PLIE-L2", entry, exit_)
    assert esf.days_of(path) == days
    assert counts_as_participation(path) is counts


# --- hand-built participants whose indicators are known ------------------------------

def entry(id_, entered, status=LabourMarketStatus.LONG_TERM_UNEMPLOYED, isced=3, **answers):
    values = dict(household_jobless=N, single_parent_household=N, disability=N,
                  third_country_national=N, foreign_background=N, minority=N,
                  homeless_or_housing_exclusion=N, rural_area=N)
    values.update(answers)
    return EntryFacts(id_, entered, entered, status, isced, **values)


def exit_(id_, left, employed=N, searching=Y):
    return ExitFacts(id_, left, left, N, N, employed, searching)


# Anne (F, 24 at entry): entered PLIE-L1 in January, left in June for a job, re-entered
# PLIE-L2 in September (no entry record of its own, per the rule), still there.
ANNE = PersonFacts(1, "MARTIN Anne", Sex.FEMALE, date(2001, 5, 1), "PLIE", (
    PathFacts(10, "PLIE-L1", date(2026, 1, 5), date(2026, 6, 30),
              entry(100, date(2026, 1, 5)), exit_(200, date(2026, 6, 30), employed=Y,
                                                   searching=N)),
    PathFacts(11, "PLIE-L2", date(2026, 9, 1), None),
))
# Bruno (M, 58 at entry): inactive, refused to answer the sensitive questions, left.
BRUNO = PersonFacts(2, "DUBOIS Bruno", Sex.MALE, date(1967, 11, 2), "PLIE", (
    PathFacts(20, "PLIE-L4", date(2026, 2, 2), date(2026, 5, 29),
              entry(101, date(2026, 2, 2), LabourMarketStatus.INACTIVE, 6, disability=R,
                    foreign_background=R, minority=R, rural_area=Y),
              exit_(201, date(2026, 5, 29))),
))
# Chloé (F, 17): a one-day action only — not a participant.
CHLOE = PersonFacts(3, "PETIT Chloé", Sex.FEMALE, date(2009, 3, 3), "PLIE", (
    PathFacts(30, "PLIE-L3", date(2026, 4, 7), date(2026, 4, 7), entry(102, date(2026, 4, 7))),
))
PEOPLE = (ANNE, BRUNO, CHLOE)


def test_one_participant_per_person_and_operation_the_first_entry_kept():
    found = participants(PEOPLE)
    assert [p.person.person_id for p in found] == [1, 2]  # Chloé's one day: none
    anne = found[0]
    assert anne.first.enrolment_id == 10 and anne.entry.id == 100  # the re-entry keeps it
    assert anne.reentries == 1
    assert anne.left_on is None and anne.exit is None  # back in: not left the operation
    assert anne.age_at_entry == 24


def test_output_indicators_by_sex_and_age_count_what_was_answered():
    table = {row[0]: row[1:] for row in indicator_table(participants(PEOPLE),
                                                         esf.OUTPUT_INDICATORS)}
    # columns: Total, Femme, Homme, <18, 18-29, 30-54, 55+
    assert table["Participants"] == (2, 1, 1, 0, 1, 0, 1)
    assert table["Chômeurs, y compris de longue durée"] == (1, 1, 0, 0, 1, 0, 0)
    assert table["Chômeurs de longue durée"] == (1, 1, 0, 0, 1, 0, 0)
    assert table["Inactifs"] == (1, 0, 1, 0, 0, 0, 1)
    assert table["Niveau CITE 3 à 4"] == (1, 1, 0, 0, 1, 0, 0)
    assert table["Niveau CITE 5 à 8"] == (1, 0, 1, 0, 0, 0, 1)
    # a refusal is never a « oui »; it is counted on its own line
    assert table["Personne handicapée"] == (0, 0, 0, 0, 0, 0, 0)
    assert table["Personne d'origine étrangère"] == (0, 0, 0, 0, 0, 0, 0)
    assert table["Refus de répondre à au moins une question sensible"] == (1, 0, 1, 0, 0, 0, 1)
    assert table["Habite en zone rurale"] == (1, 0, 1, 0, 0, 0, 1)


def test_result_indicators_count_the_exit_of_the_operation():
    table = {row[0]: row[1:] for row in indicator_table(participants(PEOPLE),
                                                         esf.RESULT_INDICATORS)}
    # Anne came back (no exit of the operation yet), Bruno left, searching for a job
    assert table["Participants sortis"] == (1, 0, 1, 0, 0, 0, 1)
    assert table["En recherche d'emploi à la sortie"] == (1, 0, 1, 0, 0, 0, 1)
    assert table["En emploi, y compris indépendant, à la sortie"] == (0,) * 7


# --- the managing authority's checks -------------------------------------------------

def messages(person, today=TODAY):
    return [problem.message for problem in check_person(person, today).problems]


def test_a_complete_participant_is_ready_and_a_refusal_is_an_answer():
    check = check_person(BRUNO, TODAY)
    assert check.problems == [] and check.ready


def with_path(person, index, **changes):
    paths = list(person.paths)
    paths[index] = replace(paths[index], **changes)
    return replace(person, paths=tuple(paths))


CASES = [
    ("entry missing", with_path(BRUNO, 0, entry=None),
     "Données d'entrée FSE+ : non saisies (entrée le 02/02/2026, parcours n° 20)."),
    ("item missing", with_path(BRUNO, 0, entry=replace(BRUNO.paths[0].entry, isced_level=None)),
     "« Niveau d'études (CITE) » : non renseigné."),
    ("refusal on a non-sensitive item",
     with_path(BRUNO, 0, entry=replace(BRUNO.paths[0].entry, rural_area=R)),
     "« Habite en zone rurale » : « Refuse de répondre » n'est admis que pour les questions "
     "sensibles ; répondez oui ou non."),
    ("entry date is not the path's",
     with_path(BRUNO, 0, entry=replace(BRUNO.paths[0].entry, entered_on=date(2026, 2, 3))),
     "Date d'entrée FSE+ : le 03/02/2026 n'est pas l'entrée du parcours (02/02/2026)."),
    ("recorded in the future",
     with_path(BRUNO, 0, entry=replace(BRUNO.paths[0].entry, recorded_on=date(2027, 1, 1))),
     "Date de recueil des données d'entrée : le 01/01/2027 est dans le futur."),
    ("exit missing", with_path(BRUNO, 0, exit=None),
     "Données de sortie FSE+ : non saisies (sortie le 29/05/2026, à saisir au plus tard le "
     "26/06/2026)."),
    ("exit date is not the path's",
     with_path(BRUNO, 0, exit=replace(BRUNO.paths[0].exit, left_on=date(2026, 5, 28))),
     "Date de sortie FSE+ : le 28/05/2026 n'est pas la sortie du parcours (29/05/2026)."),
    ("six-month situation due", with_path(BRUNO, 0, six_month_result=True),
     "Situation 6 mois après la sortie : non renseignée."),
    ("a second entry record on the re-entry",
     with_path(ANNE, 1, entry=entry(103, date(2026, 9, 1))),
     "Un participant par opération : données d'entrée en double sur le parcours n° 11 "
     "(réentrée : les données d'entrée sont celles de la première participation (parcours "
     "n° 10)) ; supprimez-les."),
]


@pytest.mark.parametrize("person, message", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_each_check_names_the_item_and_the_rule(person, message):
    assert message in messages(person)


def test_the_household_items_outside_annex_i_are_never_reported_missing():
    bare = replace(BRUNO.paths[0].entry, household_jobless=None, single_parent_household=None)
    assert messages(with_path(BRUNO, 0, entry=bare)) == []


def test_the_six_month_situation_is_not_asked_before_six_months():
    assert messages(with_path(BRUNO, 0, six_month_result=True), date(2026, 11, 28)) == []


def test_a_one_day_action_before_the_first_participation_is_not_its_entry():
    one_day = PathFacts(5, "PLIE-L3", date(2025, 12, 1), date(2025, 12, 1))
    person = replace(BRUNO, paths=(one_day, *BRUNO.paths))
    check = check_person(person, TODAY)
    assert check.participant.first.enrolment_id == 20 and check.ready


def test_checks_list_the_people_with_something_to_fix_first():
    broken = with_path(replace(BRUNO, person_id=9, name="ZOLA Émile"), 0, entry=None)
    ordered = esf.check_all([BRUNO, broken, CHLOE], TODAY)
    assert [c.person.person_id for c in ordered] == [9, 2, 3]
    assert ordered[2].participant is None  # Chloé: shown, not a participant


@pytest.mark.parametrize(("answers", "refused"), [
    ({"minority": Answer.REFUSED, "disability": Answer.REFUSED}, []),  # sensitive: allowed
    ({"rural_area": Answer.REFUSED}, ["rural_area"]),
    ({"household_jobless": Answer.REFUSED, "rural_area": Answer.NO}, ["household_jobless"]),
    ({}, []),
])
def test_refuse_to_answer_only_for_the_sensitive_items(answers, refused):
    found = esf.refused_where_not_allowed(answers)
    assert [name for name, _message in found] == refused
    assert all("n'est admis que pour les questions sensibles" in m for _n, m in found)


@pytest.mark.parametrize(("entered", "problem"), [
    (date(2026, 3, 1), None), (date(2026, 3, 2), None),
    (date(2026, 2, 28), "Date d'entrée dans l'opération : elle ne peut pas précéder "
                        "l'entrée du parcours (01/03/2026)."),
])
def test_the_operation_is_not_entered_before_the_path(entered, problem):
    assert esf.entered_before_path_problem(entered, date(2026, 3, 1)) == problem
