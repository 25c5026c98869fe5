"""rules.activity: which days a workshop, a line of its attendance sheet and an internship
may take."""
from datetime import date

import pytest

from backoffice.rules.activity import (
    check_attendance_day,
    check_contact_day,
    check_internship_days,
    check_session_days,
    check_workshop_day,
)
from backoffice.rules.lifecycle import TransitionRefused

START, END = date(2026, 3, 2), date(2026, 6, 26)


@pytest.mark.parametrize(("held_on", "ends_on", "refused"), [
    (date(2026, 3, 2), END, None),  # the session's first day
    (date(2026, 6, 26), END, None),  # its last day
    (date(2026, 3, 1), END,
     "Date de l'atelier : le 01/03/2026 est hors de la session « Session 1 » (du 02/03/2026 "
     "au 26/06/2026) ; choisissez une autre session ou aucune"),
    (date(2026, 6, 29), END, "le 29/06/2026 est hors de la session"),
    (date(2027, 1, 4), None, None),  # a session with no end yet
    (date(2026, 2, 27), None, "(à partir du 02/03/2026)"),
])
def test_workshop_day_within_its_session(held_on, ends_on, refused):
    if refused is None:
        check_workshop_day(held_on, "Session 1", START, ends_on)
    else:
        with pytest.raises(TransitionRefused) as caught:
            check_workshop_day(held_on, "Session 1", START, ends_on)
        assert refused in caught.value.message


@pytest.mark.parametrize(("starts_on", "ends_on", "refused"), [
    (START, END, None),
    (date(2026, 3, 10), END,
     "Dates de la session : son atelier « CV » du 09/03/2026 en sortirait ; déplacez-le "
     "d'abord"),
    (START, date(2026, 4, 30), "son atelier « Entretien » du 04/05/2026 en sortirait"),
    (START, None, None),
])
def test_corrected_session_dates_keep_their_workshops(starts_on, ends_on, refused):
    workshops = [("CV", date(2026, 3, 9)), ("Entretien", date(2026, 5, 4))]
    if refused is None:
        check_session_days(starts_on, ends_on, workshops)
    else:
        with pytest.raises(TransitionRefused) as caught:
            check_session_days(starts_on, ends_on, workshops)
        assert refused in caught.value.message


@pytest.mark.parametrize(("held_on", "refused"), [
    (date(2026, 3, 2), None),  # the entry day itself
    (date(2026, 9, 1), None),
    (date(2026, 2, 27),
     "Parcours : Anne Martin, date d'entrée le 02/03/2026, après l'atelier du 27/02/2026 ; "
     "corrigez la date d'entrée ou choisissez un autre atelier"),
])
def test_attendance_on_or_after_the_entry(held_on, refused):
    if refused is None:
        check_attendance_day(held_on, START, "Anne Martin")
    else:
        with pytest.raises(TransitionRefused) as caught:
            check_attendance_day(held_on, START, "Anne Martin")
        assert caught.value.message == refused


@pytest.mark.parametrize(("starts_on", "exit_date", "refused"), [
    (date(2026, 3, 2), None, None),  # from the entry day
    (date(2026, 5, 4), date(2026, 5, 4), None),  # up to the exit day
    (date(2026, 2, 27), None,
     "Début du stage : il ne peut pas précéder l'entrée dans le parcours (02/03/2026)"),
    (date(2026, 5, 5), date(2026, 5, 4),
     "Début du stage : il ne peut pas suivre la sortie du parcours (04/05/2026)"),
])
def test_internship_within_its_path(starts_on, exit_date, refused):
    if refused is None:
        check_internship_days(starts_on, START, exit_date)
    else:
        with pytest.raises(TransitionRefused) as caught:
            check_internship_days(starts_on, START, exit_date)
        assert caught.value.message == refused


@pytest.mark.parametrize(("occurs_on", "refused"), [
    (date(2026, 3, 2), None),  # the entry day
    (date(2026, 6, 1), None),
    (date(2026, 3, 1),
     "Date et heure : le contact du 01/03/2026 précède l'entrée dans le parcours (02/03/2026) ; "
     "corrigez la date ou choisissez le bon parcours"),
])
def test_contact_on_or_after_the_entry(occurs_on, refused):
    if refused is None:
        check_contact_day(occurs_on, START)
    else:
        with pytest.raises(TransitionRefused) as caught:
            check_contact_day(occurs_on, START)
        assert caught.value.message == refused
