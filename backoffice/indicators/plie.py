"""PLIE indicators (004 §5 « Critères d'évaluation de la prestation »).

Quantitative criteria: participants, interviews or workshops per participant, workshops
held, ruptures and other exits; qualitative « typologie du public » is in typology.py.
Interim reports stop the figures at 31 May and 30 September, the final report at the end
of the action (004, « Modalités de suivi »): the period's last day is that cut-off.
"""

from __future__ import annotations

from sqlalchemy import and_, case, distinct, func, select

from ..enums import Attendance
from ..models import Contact, ContactType, Enrolment, Workshop, WorkshopAttendance
from .base import Kind, Result, count, indicator, rate, shared
from .exit_groups import exits_by_reason
from .scope import Scope, attended_contacts, attended_workshops, followed, period_moments

SOURCE = "004 §5"


@indicator(
    "plie.participants",
    "Nombre de participants",
    """Parcours suivis sur la période (entrés au plus tard le dernier jour, non sortis
           avant le premier). Le détail donne les entrées de la période et le nombre de
           personnes distinctes (une personne revenue compte deux parcours).""",
    SOURCE,
)
def participants(session, scope: Scope) -> Result:
    """COUNT followed enrolments; rows: entries in the period, distinct persons."""
    paths, people, new = _participants(session, scope)
    return count(
        participants.indicator,
        paths,
        rows=[("Entrées sur la période", new), ("Personnes distinctes", people)],
    )


@shared
def _participants(session, scope: Scope) -> tuple[int, int, int]:
    """Followed paths: (how many, distinct persons, entered during the period)."""
    entered = case((Enrolment.entry_date >= scope.date_from, 1), else_=0)
    paths, people, new = session.execute(
        select(
            func.count(Enrolment.id),
            func.count(distinct(Enrolment.beneficiary_id)),
            func.sum(entered),
        ).where(followed(scope))
    ).one()
    return paths, people, int(new or 0)


@shared
def _individual_contacts(session, scope: Scope) -> int:
    """Individual contacts (not a group type) attended on followed paths during the period."""
    contacts = attended_contacts(scope, ContactType.is_group.is_(False))
    return session.scalar(contacts.add_columns(func.count(Contact.id)))


@shared
def _workshop_presences(session, scope: Scope) -> int:
    """Presences (émargements « présent ») of followed paths at workshops held in the period."""
    presences = attended_workshops(scope).add_columns(func.count(WorkshopAttendance.id))
    return session.scalar(presences)


def _participant_count(session, scope: Scope) -> int:
    return _participants(session, scope)[0]


@indicator(
    "plie.contacts_per_participant",
    "Nombre d'entretiens ou d'ateliers par participant",
    """Entretiens individuels honorés et présences aux ateliers (émargements « présent »)
           sur la période, rapportés au nombre de participants.""",
    SOURCE,
    Kind.AVERAGE,
)
def contacts_per_participant(session, scope: Scope) -> Result:
    """(interviews + workshop presences) / participants; rows: both parts."""
    interviews = _individual_contacts(session, scope)
    presences = _workshop_presences(session, scope)
    rows = [("Entretiens individuels", interviews), ("Présences en atelier", presences)]
    return rate(
        contacts_per_participant.indicator,
        interviews + presences,
        _participant_count(session, scope),
        rows,
    )


@indicator(
    "plie.interviews_per_participant",
    "Nombre d'entretiens par participant",
    "Entretiens individuels honorés sur la période rapportés au nombre de participants.",
    SOURCE,
    Kind.AVERAGE,
)
def interviews_per_participant(session, scope: Scope) -> Result:
    """Interviews / participants."""
    return rate(
        interviews_per_participant.indicator,
        _individual_contacts(session, scope),
        _participant_count(session, scope),
    )


@indicator(
    "plie.workshops_per_participant",
    "Nombre d'ateliers par participant",
    "Présences en atelier sur la période rapportées au nombre de participants.",
    SOURCE,
    Kind.AVERAGE,
)
def workshops_per_participant(session, scope: Scope) -> Result:
    """Workshop presences / participants."""
    return rate(
        workshops_per_participant.indicator,
        _workshop_presences(session, scope),
        _participant_count(session, scope),
    )


@indicator(
    "plie.workshops_held",
    "Nombre d'ateliers collectifs animés",
    """Ateliers du dispositif tenus sur la période ; le détail donne les heures animées
           et le nombre total de présences.""",
    SOURCE,
)
def workshops_held(session, scope: Scope) -> Result:
    """COUNT workshops of the programme held in the period; rows: hours, presences."""
    start, end = period_moments(scope)
    in_period = and_(
        Workshop.programme_id == scope.programme_id,
        Workshop.held_at >= start,
        Workshop.held_at < end,
    )
    held, minutes = session.execute(
        select(
            func.count(Workshop.id), func.coalesce(func.sum(Workshop.duration_minutes), 0)
        ).where(in_period)
    ).one()
    presences = session.scalar(
        select(func.count(WorkshopAttendance.id))
        .join(Workshop, WorkshopAttendance.workshop_id == Workshop.id)
        .where(in_period, WorkshopAttendance.attendance == Attendance.PRESENT)
    )
    return count(
        workshops_held.indicator,
        held,
        rows=[("Heures animées", round(minutes / 60, 2)), ("Présences", presences)],
    )


@indicator(
    "plie.ruptures",
    "Nombre de ruptures",
    """Sorties de la période par rupture : à la demande du participant ou perte de
           contact (2 absences injustifiées consécutives ou 2 relances sans réponse) ;
           détail par motif.""",
    SOURCE,
)
def ruptures(session, scope: Scope) -> Result:
    """COUNT exits of a rupture type in the period; rows: by reason."""
    rows = exits_by_reason(session, scope, lambda g: g.classification.is_rupture)
    return count(ruptures.indicator, sum(n for _, n in rows), rows)


@indicator(
    "plie.other_exits",
    "Nombre d'autres sorties",
    """Autres sorties de la période (orientation vers une action plus adaptée, emploi
           ou formation, fin de l'action) ; détail par motif.""",
    SOURCE,
)
def other_exits(session, scope: Scope) -> Result:
    """COUNT other exits in the period; rows: by reason."""
    rows = exits_by_reason(session, scope, lambda g: not g.classification.is_rupture)
    return count(other_exits.indicator, sum(n for _, n in rows), rows)


@indicator(
    "plie.anticipated_exits",
    "Sorties anticipées",
    """Sorties de la période avant la fin prévue du parcours ou pour un motif autre que
           la fin de l'action, rapportées aux participants ; détail par motif.""",
    "004",
    Kind.RATE,
)
def anticipated_exits(session, scope: Scope) -> Result:
    """Anticipated exits / participants; rows: by reason."""
    rows = exits_by_reason(session, scope, lambda g: g.is_anticipated)
    anticipated = sum(n for _, n in rows)
    return rate(anticipated_exits.indicator, anticipated, _participant_count(session, scope), rows)


KEY_FIGURES = (
    participants,
    contacts_per_participant,
    interviews_per_participant,
    workshops_per_participant,
    workshops_held,
    ruptures,
    other_exits,
    anticipated_exits,
)
