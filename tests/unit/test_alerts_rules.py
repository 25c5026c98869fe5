"""The behavioural alerts of rules/alerts.py, table-driven (no app, no database)."""
from datetime import date

import pytest

from backoffice.rules import alerts as rules
from backoffice.rules.alerts import AlertKind

P, E, U = "present", "excused", "unexcused"


# --- 004: two consecutive unexcused absences -------------------------------------------

@pytest.mark.parametrize(("sequence", "run", "alert"), [
    ([], 0, False),
    ([U], 1, False),
    ([U, U], 2, True),
    ([P, U, U], 2, True),
    ([U, U, P], 0, False),  # came back: the motive is gone
    ([U, P, U], 1, False),
    ([U, E, U], 2, True),  # an excused absence neither counts nor breaks the run
    ([E, E], 0, False),
    ([U, U, U], 3, True),
])
def test_consecutive_unexcused_absences(sequence, run, alert):
    assert rules.trailing_unexcused_absences(sequence) == run
    found = rules.absences_alert(run, enrolment_id=7)
    assert (found is not None) is alert
    if alert:
        assert found.kind is AlertKind.ABSENCES and found.enrolment_id == 7
        assert found.source == "004" and "absences injustifiées consécutives" in found.message


# Issue 19 point 14, 004 « Sortie de l'action »: Lot 1 « 2 absences injustifiées
# consécutives »; Lot 2 « 2 absences injustifiées consécutives ou 2 relances »; Lot 4
# « 2 absences injustifiées ou 2 relances » (not consecutive).
@pytest.mark.parametrize(("absences", "consecutive", "reminders", "reminders_limit", "words"), [
    (2, True, 0, None, "2 absences injustifiées consécutives"),  # Lot 1
    (1, True, 1, None, None),
    (1, True, 2, 2, "2 relances sans réponse"),  # Lot 2: two reminders unanswered
    (1, True, 1, 2, None),
    (2, False, 0, 2, "2 absences injustifiées :"),  # Lot 4: not in a row
    (2, False, 2, 2, "2 absences injustifiées et 2 relances sans réponse"),
    (0, False, 3, None, None),  # Lot 1 does not count reminders
])
def test_absences_and_reminders(absences, consecutive, reminders, reminders_limit, words):
    found = rules.absences_alert(absences, limit=2, consecutive=consecutive,
                                 reminders=reminders, reminders_limit=reminders_limit)
    if words is None:
        assert found is None
    else:
        assert found.kind is AlertKind.ABSENCES and words in found.message


def test_an_unanswered_reminder_neither_counts_nor_breaks_a_run():
    assert rules.trailing_unexcused_absences([U, "no_answer", U]) == 2


def test_unknown_attendance_is_refused():
    with pytest.raises(ValueError):
        rules.trailing_unexcused_absences(["absent"])


# --- 002 §4: one contact a week on average in CSP phase 2 ------------------------------

@pytest.mark.parametrize(("contacts", "started", "today", "alert"), [
    (0, date(2026, 3, 2), date(2026, 3, 8), False),  # first week: nothing owed yet
    (0, date(2026, 3, 2), date(2026, 3, 9), True),  # one full week, no contact
    (1, date(2026, 3, 2), date(2026, 3, 12), False),  # 10 days = 1 full week
    (3, date(2026, 3, 2), date(2026, 3, 30), True),  # 4 weeks, 3 contacts
    (4, date(2026, 3, 2), date(2026, 3, 30), False),
    (10, date(2026, 3, 2), date(2026, 3, 30), False),  # ahead is fine
])
def test_csp_contacts(contacts, started, today, alert):
    found = rules.csp_contacts_alert(contacts, started, today, enrolment_id=1)
    assert (found is not None) is alert
    if alert:
        assert found.kind is AlertKind.CSP_CONTACTS and found.source == "002 II §5"
        assert "02/03/2026" in found.message


# Issue 19 point 9, 002 II §3 and §5: « au moins une moyenne d'un contact par semaine » in
# phase 2; weeks under suspension (« Maladie, Congés, Reprise d'emploi de courte durée,
# Entrée en formation ») owe none. Phase 2 from Monday 02/03/2026.
@pytest.mark.parametrize(("contacts", "today", "suspensions", "weeks", "alert"), [
    # 4 weeks, 2 of them suspended (16/03–29/03): 2 weeks owed, 2 contacts are enough
    (2, date(2026, 3, 30), [(date(2026, 3, 16), date(2026, 3, 29))], 2, False),
    (1, date(2026, 3, 30), [(date(2026, 3, 16), date(2026, 3, 29))], 2, True),
    # a suspension still running since 09/03 (no end): 1 week owed
    (1, date(2026, 3, 30), [(date(2026, 3, 9), None)], 1, False),
    # a suspension before the phase counts only from the phase's start
    (1, date(2026, 3, 16), [(date(2026, 2, 20), date(2026, 3, 8))], 1, False),
    # a 3-day suspension does not remove a whole week: 28 - 3 = 25 days = 3 weeks
    (2, date(2026, 3, 30), [(date(2026, 3, 10), date(2026, 3, 12))], 3, True),
])
def test_csp_contacts_leave_out_suspended_weeks(contacts, today, suspensions, weeks, alert):
    started = date(2026, 3, 2)
    assert rules.weeks_owed(started, today, suspensions) == weeks
    found = rules.csp_contacts_alert(contacts, started, today, suspensions=suspensions)
    assert (found is not None) is alert


# --- 002 §7.4: active CSP portfolio 40–60 ----------------------------------------------

@pytest.mark.parametrize(("active", "minimum", "maximum", "word"), [
    (39, 40, 60, "minimum de 40"),
    (40, 40, 60, None),
    (60, 40, 60, None),
    (61, 40, 60, "maximum de 60"),
    (5, None, None, None),  # a programme without limits
    (70, None, 60, "maximum de 60"),
])
def test_portfolio(active, minimum, maximum, word):
    found = rules.portfolio_alert(active, minimum, maximum, referent_id=3,
                                  referent_name="Marie Martin")
    if word is None:
        assert found is None
    else:
        assert word in found.message and found.message.startswith("Marie Martin")
        assert (found.kind, found.referent_id, found.source) == (
            AlertKind.PORTFOLIO, 3, "002 §7.4")


# --- 002 I §6.4: one ARJLJ consultant per 30 people ------------------------------------

@pytest.mark.parametrize(("people", "per", "alert"), [
    (30, 30, False), (31, 30, True), (100, None, False), (0, 30, False),
])
def test_consultant_load(people, per, alert):
    found = rules.consultant_load_alert(people, per, referent_id=1)
    assert (found is not None) is alert
    if alert:
        assert found.kind is AlertKind.CONSULTANT_LOAD and "31 personnes" in found.message


# --- a path past its planned end -------------------------------------------------------

@pytest.mark.parametrize(("planned_end", "is_open", "days"), [
    (date(2026, 11, 19), True, 1),
    (date(2026, 11, 20), True, None),  # its last day: not past
    (date(2026, 12, 1), True, None),
    (None, True, None),
    (date(2026, 1, 1), False, None),  # closed paths are not alerts
])
def test_past_planned_end(planned_end, is_open, days):
    found = rules.past_planned_end_alert(planned_end, date(2026, 11, 20), is_open=is_open)
    if days is None:
        assert found is None
    else:
        assert found.kind is AlertKind.PAST_PLANNED_END
        assert ("il y a 1 jour)" if days == 1 else f"il y a {days} jours)") in found.message


# --- 004 Lot 1: workshops of 4 to 7 ----------------------------------------------------

@pytest.mark.parametrize(("attendees", "gmin", "gmax", "word"), [
    (3, 4, 7, "minimum de 4"), (4, 4, 7, None), (7, 4, 7, None), (8, 4, 7, "maximum de 7"),
    (2, 8, None, "minimum de 8"),  # PLIE Lot 2: at least 8, no maximum
    (30, 8, None, None),
])
def test_workshop_size(attendees, gmin, gmax, word):
    found = rules.workshop_size_alert(attendees, gmin, gmax, title="Estime de soi",
                                      held_on=date(2026, 5, 12), workshop_id=4)
    if word is None:
        assert found is None
    else:
        assert word in found.message and "« Estime de soi » du 12/05/2026" in found.message
        assert (found.kind, found.workshop_id) == (AlertKind.WORKSHOP_SIZE, 4)


# --- 004 Lot 3: immersions ≤ 30 h over ≤ 2 weeks ---------------------------------------

@pytest.mark.parametrize(("hours", "starts", "ends", "problems"), [
    (30, date(2026, 5, 4), date(2026, 5, 17), []),  # 30 h over exactly 14 days
    (31, date(2026, 5, 4), date(2026, 5, 8), ["31 h pour 30 h au plus"]),
    (20, date(2026, 5, 4), date(2026, 5, 18), ["15 jours pour 14 au plus"]),
    (35, date(2026, 5, 4), date(2026, 5, 29), ["35 h", "26 jours"]),
    (None, date(2026, 5, 4), date(2026, 5, 8), []),  # hours not yet recorded
])
def test_immersion_cap(hours, starts, ends, problems):
    found = rules.immersion_cap_alert(hours, starts, ends, 30, 14, company="Resto du cœur")
    if not problems:
        assert found is None
    else:
        assert found.kind is AlertKind.IMMERSION_CAP and "chez Resto du cœur" in found.message
        for words in problems:
            assert words in found.message


# Issue 19 point 15: a follow-up in employment past its end (002 II §3: 6 months; 001
# étape 3: 3 months) is an alert, like an open path past its planned end.
@pytest.mark.parametrize(("end", "in_follow_up", "days"), [
    (date(2026, 3, 1), True, 9),
    (date(2026, 3, 10), True, None),  # ends today: not late
    (date(2026, 3, 1), False, None),  # follow-up already ended
    (None, True, None),
])
def test_follow_up_past_end(end, in_follow_up, days):
    found = rules.follow_up_past_end_alert(end, date(2026, 3, 10), in_follow_up=in_follow_up,
                                           enrolment_id=4)
    if days is None:
        assert found is None
    else:
        assert found.kind is AlertKind.FOLLOW_UP_PAST_END and found.enrolment_id == 4
        assert ("il y a 1 jour)" if days == 1 else f"il y a {days} jours)") in found.message


def test_every_kind_has_a_french_label_and_a_rule():
    assert {k.value for k in AlertKind} == {
        "absences", "csp_contacts", "portfolio", "consultant_load", "past_planned_end",
        "workshop_size", "immersion_cap", "follow_up_past_end", "internship_missing",
        "interviews", "bilan_hours", "workshop_length", "csp_phase_one", "session_size"}
    assert all(k.label and k.label[0].isupper() for k in AlertKind)


# --- Issue 19 A: the programme figures of the specifications become alerts ----------------

D = date


@pytest.mark.parametrize(("entry", "planned_end", "today", "internships", "alert"), [
    # 001 « Description » : « obligatoirement intégrer une période de stage en entreprise »;
    # DEL-L2: 8 months from 12/01 → 11/09, midpoint 13/05
    (D(2026, 1, 12), D(2026, 9, 11), D(2026, 5, 13), 0, False),  # on the midpoint
    (D(2026, 1, 12), D(2026, 9, 11), D(2026, 5, 14), 0, True),   # the day after
    (D(2026, 1, 12), D(2026, 9, 11), D(2026, 8, 1), 1, False),   # one internship planned
    (D(2026, 1, 12), None, D(2026, 8, 1), 0, False),             # no planned end
])
def test_internship_missing_at_half_the_planned_length(entry, planned_end, today, internships,
                                                       alert):
    found = rules.internship_missing_alert(entry, planned_end, today, internships)
    assert (found is not None) is alert
    if found:
        assert found.kind is AlertKind.INTERNSHIP_MISSING
        assert "13/05/2026" in found.message and "stage" in found.message


@pytest.mark.parametrize(("count", "longest", "at_exit", "words"), [
    # 004 Lot 1 : « Nombre d'entretiens par participant : 4 à 5 maximum de 45 mn maximum »
    (5, 45, False, None),
    (6, 45, False, ["6 entretiens individuels, au-delà de 5"]),
    (3, 45, False, None),                       # still under way: not owed yet
    (3, 45, True, ["moins que 4"]),             # exit phase: fewer than 4
    (4, 46, False, ["46 min, au-delà de 45 min"]),
    (6, 60, True, ["au-delà de 5", "60 min"]),
])
def test_plie_l1_interviews(count, longest, at_exit, words):
    found = rules.interviews_alert(count, longest, 4, 5, 45, at_exit_phase=at_exit)
    if words is None:
        assert found is None
    else:
        assert found.kind is AlertKind.INTERVIEWS
        assert all(word in found.message for word in words), found.message


@pytest.mark.parametrize(("hours", "kind", "done", "side"), [
    # 004 Lot 4 : « 12 à 15 h pour un bilan d'orientation et 20 h pour un bilan de
    # compétences »
    (15, "orientation", True, None),
    (12, "orientation", True, None),
    (16, "orientation", False, "au-delà des 15 h"),
    (11, "orientation", False, None),           # under way
    (11, "orientation", True, "en deçà des 12 h"),
    (20, "skills", True, None),
    (21, "skills", False, "au-delà des 20 h"),
    (15, "skills", True, "en deçà des 20 h"),
    (18, None, True, None),                     # kind not said: 12 to 20 h
    (21, None, False, "au-delà des 20 h"),
])
def test_plie_l4_bilan_hours_by_kind(hours, kind, done, side):
    found = rules.bilan_hours_alert(hours * 60, kind, 12, 15, 20, bilan_done=done)
    if side is None:
        assert found is None
    else:
        assert found.kind is AlertKind.BILAN_HOURS and side in found.message


@pytest.mark.parametrize(("minutes", "hours", "alert"), [
    # 004 Lot 1 : « Durée des ateliers : 3 h » ; 002 glossaire : « regroupement d'une durée
    # de 3 heures »
    (180, 3, None), (120, 3, "2 h au lieu de 3 h"), (210, 3, "3 h 30 au lieu de 3 h"),
    (90, None, None), (None, 3, None),
])
def test_workshop_length(minutes, hours, alert):
    found = rules.workshop_length_alert(minutes, hours, title="CV")
    assert (found.message if found else None) == (
        f"Atelier « CV » : {alert}" if alert else None)


@pytest.mark.parametrize(("contacts", "today", "problems"), [
    # 002 II §4 phase 1 : « un entretien hebdomadaire au minimum (entretien individuel,
    # regroupement). Le premier entretien doit être individuel. »  Phase from Monday 02/03.
    ([(D(2026, 3, 2), True), (D(2026, 3, 12), False)], D(2026, 3, 16), []),
    ([(D(2026, 3, 2), True)], D(2026, 3, 8), []),              # first week not over
    ([(D(2026, 3, 2), True)], D(2026, 3, 16), ["semaine du 09/03/2026"]),
    ([(D(2026, 3, 3), False), (D(2026, 3, 10), True)], D(2026, 3, 16),
     ["le premier entretien (03/03/2026) n'est pas individuel"]),
    ([], D(2026, 3, 16), ["du 02/03/2026, du 09/03/2026"]),
])
def test_csp_phase_one_weekly_interviews(contacts, today, problems):
    found = rules.csp_phase_one_alert(D(2026, 3, 2), today, contacts)
    if not problems:
        assert found is None
    else:
        assert found.kind is AlertKind.CSP_PHASE_ONE
        assert all(p in found.message for p in problems), found.message


@pytest.mark.parametrize(("participants", "low", "high", "word"), [
    # 004 Lot 2 : « avec un minimum de 8 participants par session »
    (8, 8, None, None), (7, 8, None, "moins que le minimum de 8"), (13, 6, 12, "plus que"),
])
def test_session_size(participants, low, high, word):
    found = rules.session_size_alert(participants, low, high, label="S1")
    assert (word in found.message) if word else found is None
