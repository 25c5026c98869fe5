"""Due dates of obligations (échéances): one rule = an event, an offset and a unit.

The deadline rules themselves (which programme owes what, after which event, with which
offset) are data seeded from ``seeds/`` (domain.md "Deadlines"); this module only turns
an event date and a rule into a due date, with the territory's working-day calendar.

Units (``enums.DelayUnit``):

- ``hours``: counted round the clock from the event's timestamp (002 §4 "48 heures").
  For an event known by its date only, the hours become whole days, rounded up
  (48 h after 10/03 → 12/03).
- ``calendar_days``: every day counts (002 §3 pré-bilan "huit jours calendaires").
- ``working_days``: Monday to Friday except public holidays, the event day excluded
  (002 I §4 "2 jours ouvrés à compter de la réception de la commande").
- ``months``: same day number, clamped to the end of a shorter month (001 "1 mois après
  la fin de la session").

What a due date on a weekend or public holiday does is the rule's ``roll``
(``enums.RollPolicy``, said per rule in ``seeds/deadline_rules.yaml``):

- ``forward``: it moves to the next working day. 002 II §3 states it for **the end date
  of a support** (« La date de fin peut être décalée au premier jour ouvré suivant si la
  date de fin tombe pendant un week-end ou un jour férié »), see
  ``calendar.planned_end_date``;
- ``back``: it comes to the previous working day, for a deliverable due « avant » a day
  that is not worked (002 II §5 « avant la fin du 6ème mois d'adhésion »);
- ``stay``: it keeps its day, for a delay worded « au plus tard », « dans un délai
  maximum de », « dans les 15 jours »: a deadline never moves past its day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backoffice.enums import DelayUnit, RollPolicy
from backoffice.rules.calendar import (
    add_calendar_days,
    add_hours,
    add_months,
    add_working_days,
    next_working_day,
    previous_working_day,
)

#: The events a deadline rule can count from (``deadline_rules.trigger_event``), with
#: what an administrator reads in /admin/deadline-rules/ (seeds/deadline_rules.yaml).
TRIGGER_EVENTS: dict[str, str] = {
    "referral": "Orientation (prescription)",
    "commission_decision": "Décision de la commission",
    "order_received": "Réception du bon de commande",
    "entry": "Entrée en parcours",
    "prebilan": "Entretien de pré-bilan (CSP)",
    "phase_start": "Début d'une phase",
    "phase_end": "Fin d'une phase",
    "sixth_month": "6e mois d'adhésion (CSP)",
    "exit": "Sortie",
    "abandon": "Abandon",
    "durable_job": "Reprise d'un emploi durable",
    "mission_end": "Fin de la mission (immersion, PLIE lot 3)",
    "session_end": "Fin de la session",
    "month_end": "Fin de mois",
    "cutoff_may_31": "Arrêté au 31 mai (PLIE)",
    "cutoff_sep_30": "Arrêté au 30 septembre (PLIE)",
    "action_end": "Fin de l'action (PLIE)",
    "year_end": "Fin d'année",
}
#: Events about one phase: the rule names it (``deadline_rules.phase_code``).
PHASE_TRIGGERS = frozenset({"phase_start", "phase_end"})


def due_at(
    event_at: datetime | date,
    offset: int,
    unit: str,
    territory: str,
    *,
    roll: str = RollPolicy.STAY.value,
) -> datetime | date:
    """Return when an obligation is due: ``offset`` ``unit`` after ``event_at``.

    A datetime event gives a datetime, a date event gives a date. ``unit`` is one of
    ``hours``, ``calendar_days``, ``working_days``, ``months``; ``offset`` is 0 or more;
    ``roll`` (forward, back, stay) says what a due day that is not worked does.
    """
    try:
        roll = RollPolicy(roll)
    except ValueError:
        known = ", ".join(r.value for r in RollPolicy)
        raise ValueError(f"Report de l'échéance : « {roll} » inconnu (attendu : {known})") \
            from None
    try:
        unit = DelayUnit(unit)
    except ValueError:
        known = ", ".join(u.value for u in DelayUnit)
        raise ValueError(f"Unité du délai : « {unit} » inconnue (attendu : {known})") from None
    if offset < 0:
        raise ValueError(f"Délai : {offset} est négatif, attendu 0 ou plus")

    if unit is DelayUnit.HOURS:
        if isinstance(event_at, datetime):
            due = add_hours(event_at, offset)
        else:
            due = event_at + timedelta(days=math.ceil(offset / 24))
    elif unit is DelayUnit.CALENDAR_DAYS:
        due = add_calendar_days(event_at, offset)
    elif unit is DelayUnit.WORKING_DAYS:
        due = add_working_days(event_at, offset, territory)
    else:
        due = add_months(event_at, offset)

    if roll is RollPolicy.FORWARD:
        # 002 II §3: « décalée au premier jour ouvré suivant si la date de fin tombe
        # pendant un week-end ou un jour férié » (the end date of a support)
        due = next_working_day(due, territory)
    elif roll is RollPolicy.BACK:
        # 002 II §5: « avant la fin du 6ème mois »: never after the day, so earlier
        due = previous_working_day(due, territory)
    return due


@dataclass(frozen=True)
class Cutoff:
    """A report due on a fixed date of the year, with the date its figures stop at."""

    code: str
    label: str
    figures_at: date
    due: date


#: 004 "Modalité de suivi": "un bilan intermédiaire écrit au cours de la 1ère quinzaine
#: de juin ... avec des chiffres arrêtés au 31 mai" and (lot 2) "le second en octobre ...
#: arrêtés au 30 septembre". (code, label, (month, day) of the figures, (month, day) due).
PLIE_INTERIM_CUTOFFS: tuple[tuple[str, str, tuple[int, int], tuple[int, int]], ...] = (
    ("june", "Bilan intermédiaire (chiffres au 31 mai)", (5, 31), (6, 15)),
    ("october", "Bilan intermédiaire (chiffres au 30 septembre)", (9, 30), (10, 31)),
)


def fixed_cutoffs(
    year: int,
    cutoffs: tuple[tuple[str, str, tuple[int, int], tuple[int, int]], ...] = PLIE_INTERIM_CUTOFFS,
) -> list[Cutoff]:
    """Return the PLIE interim reports of ``year``: figures date and due date (004).

    The due dates are the last days of the windows the text gives ("1ère quinzaine de
    juin" → 15 June, "en octobre" → 31 October) and do not move to the next working day:
    that would fall outside the window. Lots 1, 3 and 4 of 004 owe only the June report;
    pass ``cutoffs`` to choose.
    """
    return [
        Cutoff(code, label, date(year, *figures_at), date(year, *due))
        for code, label, figures_at, due in cutoffs
    ]
