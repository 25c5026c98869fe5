"""« Objectifs du marché »: the contractual volumes of each programme, per year, set against
what was done and where the year is heading (issue 19 A.4).

The targets are the programme's figures (``seeds/programmes.yaml``, table ``programmes``):

=========================  ==========================================  ======================
figure                     what is counted in the year                 source
=========================  ==========================================  ======================
annual_target_min / max    people who entered a path of the programme  001 Lots 1–2, 004 Lots
                                                                       1–4 (PLIE-L3 places,
                                                                       PLIE-L4 bilans)
sessions_min               sessions that start in the year             004 Lot 2
sessions_min, group_min    sessions of at least group_min participants  004 Lot 2
(group_per_session)
host_structures_min        different host structures of the            004 Lot 3
                           immersions that start in the year
=========================  ==========================================  ======================

The projection to the end of the year carries on at the pace of the year so far (what was
done, divided by the days gone, times the days of the year); sessions count the ones
already planned in the year instead. Plain functions of the session: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from ..models import Enrolment, Internship, Programme, ProgrammeSession

ON_TRACK, REACHED, BEHIND, ABOVE = "on_track", "reached", "behind", "above"
SITUATION_LABELS = {
    REACHED: "Objectif atteint",
    ON_TRACK: "En bonne voie",
    BEHIND: "En retard sur l'objectif",
    ABOVE: "Au-delà du maximum",
}


@dataclass(frozen=True)
class TargetLine:
    """One contractual volume of a programme in a year, against the actual."""

    programme_code: str
    year: int
    measure: str
    target_min: int | None
    target_max: int | None
    actual: int
    projected: int
    source: str
    as_of: date

    @property
    def target_label(self) -> str:
        """« 50 à 80 », « 100 au moins », « 10 »."""
        low, high = self.target_min, self.target_max
        if low is not None and high is not None:
            return str(low) if low == high else f"{low} à {high}"
        if low is not None:
            return f"{low} au moins"
        return f"{high} au plus" if high is not None else "—"

    @property
    def situation(self) -> str:
        """reached, on track, behind, or above the maximum (projection included)."""
        if self.target_max is not None and self.projected > self.target_max:
            return ABOVE
        if self.target_min is None or self.actual >= self.target_min:
            return REACHED
        return ON_TRACK if self.projected >= self.target_min else BEHIND

    @property
    def situation_label(self) -> str:
        return SITUATION_LABELS[self.situation]


def projected(actual: int, year: int, as_of: date) -> int:
    """``actual`` done from 1 January to ``as_of``, carried on at the same pace to
    31 December (rounded down); the actual itself once the year is over."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    if as_of >= end:
        return actual
    if as_of < start:
        return 0
    gone = (as_of - start).days + 1
    return actual * ((end - start).days + 1) // gone


def _year_end(year: int, as_of: date) -> date:
    return min(date(year, 12, 31), as_of)


def programme_targets(session, programme: Programme, year: int, as_of: date
                      ) -> list[TargetLine]:
    """The target lines of ``programme`` for ``year``, counted up to ``as_of``."""
    lines: list[TargetLine] = []
    start, stop = date(year, 1, 1), _year_end(year, as_of)
    source = programme.source

    def line(measure, low, high, actual, ahead, where):
        lines.append(TargetLine(programme.code, year, measure, low, high, actual, ahead,
                                f"{source} {where}".strip(), as_of))

    if programme.annual_target_min is not None or programme.annual_target_max is not None:
        # 001 Lot 1 « entre 50 et 80 demandeurs par an »; 004 « Nombre de participants »,
        # « Nombre de places », « Nombre de bilans »: people who entered in the year
        entered = session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.programme_id == programme.id, Enrolment.entry_date >= start,
            Enrolment.entry_date <= stop)) or 0
        line("Participants entrés dans l'année", programme.annual_target_min,
             programme.annual_target_max, entered, projected(entered, year, as_of),
             "(objectif annuel)")
    if programme.sessions_min is not None:
        # 004 Lot 2 : « 16 minimum répartis sur 2 sessions (avec un minimum de 8
        # participants par session) »
        in_year = (ProgrammeSession.programme_id == programme.id,
                   ProgrammeSession.starts_on >= start,
                   ProgrammeSession.starts_on <= date(year, 12, 31))
        planned = session.scalar(select(func.count(ProgrammeSession.id)).where(*in_year)) or 0
        held = session.scalar(select(func.count(ProgrammeSession.id)).where(
            *in_year, ProgrammeSession.starts_on <= stop)) or 0
        line("Sessions ouvertes dans l'année", programme.sessions_min, None, held, planned,
             "(sessions)")
        if programme.group_per_session and programme.group_min is not None:
            sizes = (
                select(func.count(Enrolment.id).label("n"))
                .join(ProgrammeSession, Enrolment.session_id == ProgrammeSession.id)
                .where(*in_year, ProgrammeSession.starts_on <= stop,
                       Enrolment.entry_date <= stop)
                .group_by(ProgrammeSession.id).subquery()
            )
            full = session.scalar(select(func.count()).select_from(sizes)
                                  .where(sizes.c.n >= programme.group_min)) or 0
            line(f"Sessions d'au moins {programme.group_min} participants",
                 programme.sessions_min, None, full, full, "(participants par session)")
    if programme.host_structures_min is not None:
        # 004 Lot 3 : « 15 plateaux « actifs » différents au minimum »
        hosts = session.scalar(
            select(func.count(func.distinct(func.lower(func.trim(Internship.company_name)))))
            .join(Enrolment, Internship.enrolment_id == Enrolment.id)
            .where(Enrolment.programme_id == programme.id, Internship.starts_on >= start,
                   Internship.starts_on <= stop)) or 0
        line("Structures d'accueil différentes", programme.host_structures_min, None, hosts,
             projected(hosts, year, as_of), "(plateaux techniques)")
    return lines


def all_targets(session, year: int, as_of: date) -> list[TargetLine]:
    """Every programme's target lines for ``year``, in programme order."""
    programmes = session.scalars(select(Programme).order_by(Programme.code)).all()
    return [line for programme in programmes
            for line in programme_targets(session, programme, year, as_of)]


def scope_targets(session, scope) -> list[TargetLine]:
    """The target lines of a report's programme, for each year of its period, counted up
    to the period's last day."""
    programme = session.get(Programme, scope.programme_id)
    return [line for year in range(scope.date_from.year, scope.date_to.year + 1)
            for line in programme_targets(session, programme, year, scope.date_to)]
