"""Behavioural alerts: what the specifications ask a provider to watch on a running path.

Each rule takes the facts (counts, dates, hours) and the programme's thresholds as
arguments and returns an :class:`Alert` or ``None``. The thresholds come from the
programme row (``portfolio_min`` / ``portfolio_max``, ``people_per_consultant``,
``group_min`` / ``group_max``, ``hours_cap`` / ``hours_cap_days``), so a funder's new
figure is a change of data, not of code. The counts themselves are SQL aggregates
(``services/alerts.py``); nothing here touches the database or reads the clock.

=====================  =========================================================  ========
kind                   what                                                       source
=====================  =========================================================  ========
``absences``           unexcused absences (2, in a row for Lots 1–2, any for Lot   004
                       4) or unanswered reminders (2, Lots 2 and 4): PLIE exit
                       motive « perte de contact ou relances sans réponse »
``csp_contacts``       CSP phase 2: fewer than one contact a week on average,      002 II §5
                       weeks under suspension left out, workshops attended counted
``portfolio``          a referent's active CSP portfolio outside 40–60             002 §7.4
``consultant_load``    more than 30 open ARJLJ paths for one consultant            002 I §6.4
``past_planned_end``   an open path past its planned end date                      002 §3
``follow_up_past_end`` a follow-up in employment past its end date                 002 II §3
``workshop_size``      a workshop outside its programme's group limits (4–7)       004 Lot 1
``immersion_cap``      a PLIE-L3 immersion above 30 h or over more than 2 weeks    004 Lot 3
``internship_missing`` a DEL path past half its planned length, no internship      001
``interviews``         PLIE-L1 individual interviews: more than 5, fewer than 4    004 Lot 1
                       at the exit phase, one longer than 45 min
``bilan_hours``        PLIE-L4 bilan hours outside 12–15 h (orientation) or 20 h   004 Lot 4
                       (compétences)
``workshop_length``    a workshop not of its programme's length (3 h)              002, 004
``csp_phase_one``      CSP phase 1: a week without an interview, or a first        002 II §4
                       interview that is not individual
``session_size``       a session outside its group limits (PLIE-L2: 8 at least)    004 Lot 2
=====================  =========================================================  ========
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from backoffice.enums import Attendance, LabelledEnum
from backoffice.rules.wording import plural

#: 004 (Lots 1, 2, 4): « 2 absences injustifiées consécutives sont considérées comme un
#: motif d'arrêt de l'action ». The default of ``absences_alert``; each programme's figure
#: is ``programmes.absences_limit`` (seeds/programmes.yaml).
CONSECUTIVE_ABSENCES_LIMIT = 2

#: 002 §4 phase 2: « au moins une moyenne d'un contact par semaine ».
CSP_CONTACTS_PER_WEEK = 1


class AlertKind(LabelledEnum):
    """The behavioural alerts, with the French label the alerts view shows."""

    ABSENCES = "absences", "Absences injustifiées ou relances sans réponse"
    CSP_CONTACTS = "csp_contacts", "Contacts CSP insuffisants (phase 2)"
    PORTFOLIO = "portfolio", "Portefeuille CSP hors limites"
    CONSULTANT_LOAD = "consultant_load", "Trop de personnes par consultant (ARJLJ)"
    PAST_PLANNED_END = "past_planned_end", "Parcours au-delà de la fin prévue"
    FOLLOW_UP_PAST_END = "follow_up_past_end", "Suivi dans l'emploi au-delà de sa fin"
    WORKSHOP_SIZE = "workshop_size", "Atelier hors des limites de groupe"
    IMMERSION_CAP = "immersion_cap", "Immersion au-delà du plafond (heures ou durée)"
    INTERNSHIP_MISSING = "internship_missing", "Stage en entreprise non prévu à mi-parcours"
    INTERVIEWS = "interviews", "Entretiens individuels hors des limites (PLIE Lot 1)"
    BILAN_HOURS = "bilan_hours", "Heures de bilan hors des limites (PLIE Lot 4)"
    WORKSHOP_LENGTH = "workshop_length", "Atelier d'une autre durée que prévue"
    CSP_PHASE_ONE = "csp_phase_one", "Entretiens CSP insuffisants (phase 1)"
    SESSION_SIZE = "session_size", "Session hors des limites de groupe"


@dataclass(frozen=True)
class Alert:
    """One behavioural alert: its kind, a French sentence, and what it is about."""

    kind: AlertKind
    message: str
    source: str
    enrolment_id: int | None = None
    referent_id: int | None = None
    programme_id: int | None = None
    workshop_id: int | None = None
    internship_id: int | None = None

    @property
    def label(self) -> str:
        """The kind's French label."""
        return self.kind.label


def _fmt(day: date) -> str:
    """French date: 12/03/2026 (without strftime: thousands of alerts on one page)."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


# --- 004: two consecutive unexcused absences -------------------------------------------

def trailing_unexcused_absences(attendances: Iterable[str]) -> int:
    """Count the unexcused absences since the person was last present.

    ``attendances`` are in chronological order (contacts and workshop attendance sheets
    together). An excused absence or an unanswered reminder neither counts nor breaks the
    run: the person did not come; a presence ends it. ``services.alerts`` counts the same
    thing in SQL; this function is its specification.
    """
    run = 0
    for value in attendances:
        value = Attendance(value)
        if value is Attendance.PRESENT:
            run = 0
        elif value is Attendance.UNEXCUSED:
            run += 1
    return run


def absences_alert(
    run: int, *, enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None, limit: int | None = CONSECUTIVE_ABSENCES_LIMIT,
    consecutive: bool = True, reminders: int = 0, reminders_limit: int | None = None,
) -> Alert | None:
    """Alert when ``run`` unexcused absences reach ``limit`` — in a row when
    ``consecutive`` (004 Lots 1 and 2), or in all (004 Lot 4, where ``run`` is the
    total) — or when ``reminders`` unanswered reminders reach ``reminders_limit`` (004
    Lots 2 and 4: « 2 relances »). A limit of None is not watched."""
    # 004: « 2 absences injustifiées (consécutives) ou 2 relances seront considérées
    # comme un motif d'arrêt de l'action »
    reasons = []
    if limit is not None and run >= limit:
        reasons.append(f"{run} absences injustifiées consécutives" if consecutive
                       else f"{run} absences injustifiées")
    if reminders_limit is not None and reminders >= reminders_limit:
        reasons.append(f"{reminders} relances sans réponse")
    if not reasons:
        return None
    return Alert(
        AlertKind.ABSENCES,
        " et ".join(reasons) + " : motif de sortie « perte de contact » à examiner",
        "004", enrolment_id=enrolment_id, referent_id=referent_id, programme_id=programme_id,
    )


# --- 002 §4: CSP phase 2, one contact a week on average --------------------------------

def weeks_owed(phase_started_on: date, today: date,
               suspensions: Iterable[tuple[date, date | None]] = ()) -> int:
    """Full weeks of phase 2 that owe a contact: the days since the phase started, less
    the days under suspension (002 II §3: the provider stays available but the person is
    ill, on leave, in a short job or in training), in whole weeks. ``suspensions``:
    (first day, last day or None while it lasts)."""
    days = (today - phase_started_on).days
    for starts_on, ends_on in suspensions:
        first = max(starts_on, phase_started_on)
        last = min(ends_on or today, today - timedelta(days=1))
        if last >= first:
            days -= (last - first).days + 1
    return max(days, 0) // 7


def csp_contacts_alert(
    contacts: int, phase_started_on: date, today: date, *,
    per_week: int = CSP_CONTACTS_PER_WEEK, enrolment_id: int | None = None,
    referent_id: int | None = None, programme_id: int | None = None,
    suspensions: Iterable[tuple[date, date | None]] = (),
) -> Alert | None:
    """Alert when phase 2 has had fewer than ``per_week`` contacts per full week so far.

    Only full weeks count, and weeks under suspension do not: a phase started 10 days ago
    owes 1 contact, not 1.4; nothing is owed in the first week. ``contacts`` counts the
    individual contacts and the group sessions (regroupements, workshops) attended.
    """
    # 002 II §5: « au moins une moyenne d'un contact par semaine »; « L'accompagnement
    # comprend également : des entretiens individuels, des regroupements, des contacts
    # fréquents »
    weeks = weeks_owed(phase_started_on, today, suspensions)
    if weeks < 1 or contacts >= per_week * weeks:
        return None
    return Alert(
        AlertKind.CSP_CONTACTS,
        f"Phase 2 depuis le {_fmt(phase_started_on)} : {plural(contacts, 'contact')} en "
        f"{plural(weeks, 'semaine')} hors suspension, moins d'un par semaine en moyenne",
        "002 II §5", enrolment_id=enrolment_id, referent_id=referent_id,
        programme_id=programme_id,
    )


# --- 002 §7.4: a referent's active CSP portfolio between 40 and 60 ---------------------

def portfolio_alert(
    active: int, minimum: int | None, maximum: int | None, *, referent_id: int | None = None,
    referent_name: str = "", programme_id: int | None = None,
) -> Alert | None:
    """Alert when a referent's active portfolio is below ``minimum`` or above ``maximum``."""
    # 002 §7.4: « Le portefeuille actif d'un référent comprend entre 40 et 60 bénéficiaires »
    if minimum is not None and active < minimum:
        side = f"sous le minimum de {minimum}"
    elif maximum is not None and active > maximum:
        side = f"au-dessus du maximum de {maximum}"
    else:
        return None
    who = f"{referent_name} : " if referent_name else ""
    return Alert(
        AlertKind.PORTFOLIO,
        f"{who}portefeuille actif de {plural(active, 'bénéficiaire')}, {side}",
        "002 §7.4", referent_id=referent_id, programme_id=programme_id,
    )


# --- 002 I §6.4: one ARJLJ consultant per 30 people ------------------------------------

def consultant_load_alert(
    people: int, per_consultant: int | None, *, referent_id: int | None = None,
    referent_name: str = "", programme_id: int | None = None,
) -> Alert | None:
    """Alert when one consultant follows more than ``per_consultant`` open paths."""
    # 002 I §6.4: « Le nombre de consultants mobilisés est de 1 par tranche de 30 personnes »
    if per_consultant is None or people <= per_consultant:
        return None
    who = f"{referent_name} : " if referent_name else ""
    return Alert(
        AlertKind.CONSULTANT_LOAD,
        f"{who}{people} personnes suivies, au-delà d'un consultant pour {per_consultant}",
        "002 I §6.4", referent_id=referent_id, programme_id=programme_id,
    )


# --- a path past its planned end -------------------------------------------------------

def past_planned_end_alert(
    planned_end: date | None, today: date, *, is_open: bool = True,
    enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when an open path (active or suspended) is past its planned end date."""
    # 002 §3: « La prestation n'est ni renouvelable ni prolongeable »
    if not is_open or planned_end is None or planned_end >= today:
        return None
    days = (today - planned_end).days
    return Alert(
        AlertKind.PAST_PLANNED_END,
        f"Fin prévue le {_fmt(planned_end)} (il y a {plural(days, 'jour')}) : clôturer le parcours "
        f"ou enregistrer la sortie",
        "002 §3", enrolment_id=enrolment_id, referent_id=referent_id,
        programme_id=programme_id,
    )


# --- a follow-up in employment past its end ---------------------------------------------

def follow_up_past_end_alert(
    follow_up_end: date | None, today: date, *, in_follow_up: bool = True,
    enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when a follow-up in employment is still open after its end date."""
    # 002 II §3: « une période de suivi dans l'emploi de 6 mois »; 001 étape 3 « dans la
    # limite d'une période de trois mois »
    if not in_follow_up or follow_up_end is None or follow_up_end >= today:
        return None
    days = (today - follow_up_end).days
    return Alert(
        AlertKind.FOLLOW_UP_PAST_END,
        f"Suivi dans l'emploi terminé le {_fmt(follow_up_end)} (il y a {plural(days, 'jour')}) : "
        f"terminer le suivi en indiquant si la personne est en emploi",
        "002 II §3", enrolment_id=enrolment_id, referent_id=referent_id,
        programme_id=programme_id,
    )


# --- 004 Lot 1: workshops of 4 to 7 people ---------------------------------------------

def workshop_size_alert(
    attendees: int, group_min: int | None, group_max: int | None, *, title: str = "",
    held_on: date | None = None, workshop_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when a workshop's attendance sheet is outside the programme's group limits."""
    # 004 Lot 1: « ateliers collectifs de 4 à 7 personnes »
    if group_min is not None and attendees < group_min:
        side = f"moins que le minimum de {group_min}"
    elif group_max is not None and attendees > group_max:
        side = f"plus que le maximum de {group_max}"
    else:
        return None
    when = f" du {_fmt(held_on)}" if held_on else ""
    return Alert(
        AlertKind.WORKSHOP_SIZE,
        f"Atelier « {title} »{when} : {plural(attendees, 'inscrit')}, {side}",
        "004 Lot 1", workshop_id=workshop_id, programme_id=programme_id,
    )


# --- 004 Lot 3: immersions of at most 30 h over at most 2 weeks ------------------------

def immersion_cap_alert(
    hours: int | None, starts_on: date, ends_on: date, hours_cap: int | None,
    days_cap: int | None, *, company: str = "", internship_id: int | None = None,
    enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when an immersion exceeds ``hours_cap`` hours or spans more than ``days_cap``
    calendar days (first and last day included: 2 weeks = 14 days)."""
    # 004 Lot 3: « 30 h maximum par participant à répartir au plus sur deux semaines »
    span = (ends_on - starts_on).days + 1
    problems = []
    if hours_cap is not None and hours is not None and hours > hours_cap:
        problems.append(f"{hours} h pour {hours_cap} h au plus")
    if days_cap is not None and span > days_cap:
        problems.append(f"{span} jours pour {days_cap} au plus")
    if not problems:
        return None
    where = f" chez {company}" if company else ""
    return Alert(
        AlertKind.IMMERSION_CAP,
        f"Immersion{where} du {_fmt(starts_on)} au {_fmt(ends_on)} : " + " et ".join(problems),
        "004 Lot 3", internship_id=internship_id, enrolment_id=enrolment_id,
        referent_id=referent_id, programme_id=programme_id,
    )


# --- 001: a company internship in every DEL path ---------------------------------------

def internship_missing_alert(
    entry: date, planned_end: date | None, today: date, internships: int, *,
    enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when a path has passed half its planned length with no internship planned
    (none recorded, whatever its dates)."""
    # 001 « Description » : « Ils devront obligatoirement intégrer une période de stage en
    # entreprise »
    if internships or planned_end is None or planned_end <= entry:
        return None
    midpoint = entry.toordinal() + (planned_end.toordinal() - entry.toordinal()) // 2
    if today.toordinal() <= midpoint:
        return None
    return Alert(
        AlertKind.INTERNSHIP_MISSING,
        f"Mi-parcours passé le {_fmt(date.fromordinal(midpoint))} (fin prévue le "
        f"{_fmt(planned_end)}) sans stage en entreprise prévu : le stage est obligatoire",
        "001 « Description »", enrolment_id=enrolment_id, referent_id=referent_id,
        programme_id=programme_id,
    )


# --- 004 Lot 1: 4 to 5 interviews of 45 min at most per participant --------------------

def interviews_alert(
    count: int, longest_minutes: int | None, interviews_min: int | None,
    interviews_max: int | None, max_minutes: int | None, *, at_exit_phase: bool,
    enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when a participant has had more individual interviews than ``interviews_max``,
    fewer than ``interviews_min`` once in the exit phase, or one longer than
    ``max_minutes``."""
    # 004 Lot 1 : « Nombre d'entretiens par participant : 4 à 5 maximum de 45 mn maximum »
    problems = []
    if interviews_max is not None and count > interviews_max:
        problems.append(f"{count} entretiens individuels, au-delà de {interviews_max}")
    elif interviews_min is not None and at_exit_phase and count < interviews_min:
        interviews = plural(count, "entretien individuel", "entretiens individuels")
        problems.append(f"{interviews} à la sortie, moins que {interviews_min}")
    if max_minutes is not None and longest_minutes is not None and longest_minutes > max_minutes:
        problems.append(f"un entretien de {longest_minutes} min, au-delà de {max_minutes} min")
    if not problems:
        return None
    message = " ; ".join(problems)
    return Alert(AlertKind.INTERVIEWS, message[0].upper() + message[1:], "004 Lot 1",
                 enrolment_id=enrolment_id, referent_id=referent_id, programme_id=programme_id)


# --- 004 Lot 4: 12 to 15 h for a bilan d'orientation, 20 h for a bilan de compétences ---

def bilan_hours_range(kind: str | None, hours_min: int | None, hours_max: int | None,
                      skills_hours: int | None) -> tuple[int | None, int | None]:
    """(minimum, maximum) hours of a bilan of ``kind`` (« orientation », « skills », or
    None when not said: from the least of one to the most of the other)."""
    if kind == "orientation":
        return hours_min, hours_max
    if kind == "skills":
        return skills_hours, skills_hours
    return hours_min, skills_hours if skills_hours is not None else hours_max


def bilan_hours_alert(
    minutes: int, kind: str | None, hours_min: int | None, hours_max: int | None,
    skills_hours: int | None, *, bilan_done: bool, kind_label: str = "bilan",
    enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when a bilan's individual interview hours pass its maximum, or are below its
    minimum once the bilan phase is over (``bilan_done``)."""
    # 004 Lot 4 : « à raison de 12 à 15 h pour un bilan d'orientation et 20 h pour un bilan
    # de compétences »
    low, high = bilan_hours_range(kind, hours_min, hours_max, skills_hours)
    hours = minutes / 60
    shown = f"{hours:.1f}".replace(".", ",").replace(",0", "")
    if high is not None and hours > high:
        side = f"au-delà des {high} h"
    elif low is not None and bilan_done and hours < low:
        side = f"en deçà des {low} h"
    else:
        return None
    return Alert(AlertKind.BILAN_HOURS, f"{kind_label} : {shown} h d'entretiens individuels, "
                 f"{side}", "004 Lot 4", enrolment_id=enrolment_id, referent_id=referent_id,
                 programme_id=programme_id)


# --- 002 glossary, 004 Lot 1: workshops of 3 hours -------------------------------------

def workshop_length_alert(
    minutes: int | None, workshop_hours: int | None, *, title: str = "",
    held_on: date | None = None, workshop_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when a workshop does not last its programme's ``workshop_hours``."""
    # 004 Lot 1 : « Durée des ateliers : 3 h » ; 002 glossaire : « un regroupement d'une
    # durée de 3 heures »
    if workshop_hours is None or minutes is None or minutes == workshop_hours * 60:
        return None
    when = f" du {_fmt(held_on)}" if held_on else ""
    length = f"{minutes // 60} h {minutes % 60:02d}" if minutes % 60 else f"{minutes // 60} h"
    return Alert(AlertKind.WORKSHOP_LENGTH,
                 f"Atelier « {title} »{when} : {length} au lieu de {workshop_hours} h",
                 "002 glossaire, 004 Lot 1", workshop_id=workshop_id, programme_id=programme_id)


# --- 002 II §4: CSP phase 1, one interview a week at least, the first individual -------

def weeks_without_contact(phase_started_on: date, today: date, contact_days: list[date]
                          ) -> list[date]:
    """The first days of the full weeks of a phase (7 days from its start) that had no
    contact; the running week is not owed yet."""
    missing, start = [], phase_started_on
    while start + timedelta(days=7) <= today:
        end = start + timedelta(days=7)
        if not any(start <= day < end for day in contact_days):
            missing.append(start)
        start = end
    return missing


def csp_phase_one_alert(
    phase_started_on: date, today: date, contacts: list[tuple[date, bool]], *,
    enrolment_id: int | None = None, referent_id: int | None = None,
    programme_id: int | None = None,
) -> Alert | None:
    """``contacts``: the phase's contacts with the person present, (day, individual), in
    date order. Alert when a full week had none, or when the first was not individual."""
    # 002 II §4 : « Cette phase donne lieu à un entretien hebdomadaire au minimum
    # (entretien individuel, regroupement). Le premier entretien doit être individuel. »
    problems = []
    if contacts and not contacts[0][1]:
        problems.append(f"le premier entretien ({_fmt(contacts[0][0])}) n'est pas individuel")
    missing = weeks_without_contact(phase_started_on, today, [day for day, _ in contacts])
    if missing:
        weeks = ", ".join(f"du {_fmt(day)}" for day in missing)
        problems.append(f"aucun entretien la semaine {weeks}")
    if not problems:
        return None
    return Alert(AlertKind.CSP_PHASE_ONE,
                 f"Phase 1 depuis le {_fmt(phase_started_on)} : " + " ; ".join(problems),
                 "002 II §4", enrolment_id=enrolment_id, referent_id=referent_id,
                 programme_id=programme_id)


# --- 004 Lot 2: at least 8 participants per session ------------------------------------

def session_size_alert(
    participants: int, size_min: int | None, size_max: int | None, *, label: str = "",
    programme_id: int | None = None,
) -> Alert | None:
    """Alert when a session's participants are outside its limits."""
    # 004 Lot 2 : « 16 minimum répartis sur 2 sessions (avec un minimum de 8 participants
    # par session) »
    if size_min is not None and participants < size_min:
        side = f"moins que le minimum de {size_min}"
    elif size_max is not None and participants > size_max:
        side = f"plus que le maximum de {size_max}"
    else:
        return None
    return Alert(AlertKind.SESSION_SIZE,
                 f"Session « {label} » : {plural(participants, 'participant')}, {side}",
                 "004 Lot 2", programme_id=programme_id)
