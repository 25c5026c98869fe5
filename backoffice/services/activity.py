"""Workshops and attendance sheets typed or corrected in their forms (menu « Activité »),
and internships (menu « Parcours »).

A workshop belongs to one programme: its session is one of that programme's, and every
line of its attendance sheet is a path of that programme, entered by the workshop's day —
otherwise the PLIE reports' presences at workshops (« ateliers par participant »,
« ateliers collectifs animés », 004 §5) would count people of another programme. The
dates are ``rules.activity``'s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from ..enums import WORKSHOP_MARKS, Attendance
from ..models import (
    Beneficiary,
    Contact,
    Enrolment,
    Internship,
    ProgrammeSession,
    Suspension,
    Workshop,
    WorkshopAttendance,
)
from ..rules import activity
from ..rules.lifecycle import TransitionRefused
from ..value_ranges import date_problem


def check_workshop(session: Session, workshop: Workshop) -> None:
    """A workshop: its session of its programme and around its day; once people signed
    its sheet, still of their paths' programme and not before any of their entries."""
    with session.no_autoflush:  # checked before it is written
        programme, held_on = workshop.programme, workshop.held_at.date()
        group = workshop.session
        if group is not None:
            if group.programme_id != programme.id:
                raise TransitionRefused(
                    f"Session : « {group.label} » est une session du dispositif "
                    f"{group.programme.code}, l'atelier est du dispositif {programme.code}"
                )
            activity.check_workshop_day(held_on, group.label, group.starts_on, group.ends_on)
        if workshop.id is None:
            return
        for line in workshop.attendances:
            path = line.enrolment
            if path.programme_id != programme.id:
                raise TransitionRefused(
                    f"Dispositif : {path.beneficiary.full_name} émarge à cet atelier avec un "
                    f"parcours {path.programme.code} ; retirez d'abord son émargement"
                )
            activity.check_attendance_day(held_on, path.entry_date, path.beneficiary.full_name)


def check_attendance(session: Session, line: WorkshopAttendance) -> None:
    """A line of an attendance sheet: a path of the workshop's programme, entered by the
    workshop's day."""
    with session.no_autoflush:
        workshop, path = line.workshop, line.enrolment
        if line.attendance is not None and Attendance(line.attendance) not in WORKSHOP_MARKS:
            raise TransitionRefused(
                f"Présence : « {Attendance(line.attendance).label} » se note sur un contact, "
                "pas sur la feuille d'émargement d'un atelier"
            )
        if path.programme_id != workshop.programme_id:
            raise TransitionRefused(
                f"Parcours : celui de {path.beneficiary.full_name} est du dispositif "
                f"{path.programme.code}, l'atelier « {workshop.title} » du dispositif "
                f"{workshop.programme.code}"
            )
        activity.check_attendance_day(
            workshop.held_at.date(), path.entry_date, path.beneficiary.full_name
        )


def check_session(session: Session, group: ProgrammeSession) -> None:
    """A corrected session: its paths and workshops still of its programme, and its
    workshops still between its first and last day."""
    if group.id is None:
        return
    with session.no_autoflush:
        programme_id = group.programme.id  # the form sets the relationship, not yet the id
        paths = session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.session_id == group.id, Enrolment.programme_id != programme_id))
        if paths:
            follow, their = ("suit", "sa") if paths == 1 else ("suivent", "leur")
            raise TransitionRefused(
                f"Dispositif : {paths} parcours d'un autre dispositif {follow} cette session ; "
                f"changez d'abord {their} session"
            )
        workshops = session.scalars(
            select(Workshop).where(Workshop.session_id == group.id).order_by(Workshop.held_at)
        ).all()
        for workshop in workshops:
            if workshop.programme_id != programme_id:
                raise TransitionRefused(
                    f"Dispositif : l'atelier « {workshop.title} » de cette session est du "
                    f"dispositif {workshop.programme.code} ; changez d'abord sa session"
                )
        activity.check_session_days(
            group.starts_on, group.ends_on, [(w.title, w.held_at.date()) for w in workshops])


def check_internship(session: Session, internship: Internship) -> None:
    """An internship typed or corrected: within its path, from the entry to the exit."""
    with session.no_autoflush:
        path = internship.enrolment
        activity.check_internship_days(internship.starts_on, path.entry_date, path.exit_date)


def check_contact(session: Session, contact: Contact) -> None:
    """A contact typed or corrected: on or after its path's entry (a date in no plausible
    year — 1000 for 2025 — is refused first for what it is, value_ranges.date_problem)."""
    with session.no_autoflush:
        path = contact.enrolment
        if path is not None and contact.occurs_at is not None \
                and date_problem("occurs_at", contact.occurs_at) is None:
            activity.check_contact_day(contact.occurs_at.date(), path.entry_date)


# --- The attendance sheet of a workshop, filled in at once ------------------------------

#: At most this many people are offered on one sheet; others are added line by line.
SHEET_LIMIT = 60


@dataclass
class SheetLine:
    """A person the sheet offers: their path, and their mark if they are on it already."""

    path: Enrolment
    attendance: Attendance | None


def sheet_lines(session: Session, workshop: Workshop) -> tuple[list[SheetLine], bool]:
    """The people a workshop's sheet offers, and whether the list was cut at
    :data:`SHEET_LIMIT`: those already on it, then the paths of its session (or, without a
    session, of its programme) in progress on its day — entered by then, not exited
    before (rules.activity.check_attendance_day), not suspended that day (a suspension
    pauses the path) — each group in alphabetical order."""
    held_on = workshop.held_at.date()
    marks = {line.enrolment_id: line.attendance for line in workshop.attendances}
    suspended = exists().where(
        Suspension.enrolment_id == Enrolment.id,
        Suspension.starts_on <= held_on,
        or_(Suspension.ends_on.is_(None), Suspension.ends_on >= held_on),
    )
    in_progress = select(Enrolment.id).where(
        Enrolment.programme_id == workshop.programme_id,
        Enrolment.entry_date <= held_on,
        or_(Enrolment.exit_date.is_(None), Enrolment.exit_date >= held_on),
        ~suspended,
    )
    if workshop.session_id is not None:
        in_progress = in_progress.where(Enrolment.session_id == workshop.session_id)
    on_sheet = Enrolment.id.in_(list(marks) or [0])
    offered = (
        select(Enrolment)
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .where(or_(Enrolment.id.in_(in_progress), on_sheet))
        .options(joinedload(Enrolment.beneficiary))
        .order_by(case((on_sheet, 0), else_=1), Beneficiary.name_key, Enrolment.id)
        .limit(SHEET_LIMIT + 1)
    )
    paths = session.scalars(offered).all()
    return [SheetLine(p, marks.get(p.id)) for p in paths[:SHEET_LIMIT]], len(paths) > SHEET_LIMIT


def save_sheet(session: Session, workshop: Workshop,
               marks: dict[int, Attendance | None]) -> Counter:
    """Record the sheet: each offered path's mark (None: not on the sheet). A line is
    added, changed or removed; each added or changed line follows :func:`check_attendance`.
    Returns how many people are on the sheet, by mark."""
    lines = {line.enrolment_id: line for line in workshop.attendances}
    for path_id, mark in marks.items():
        line = lines.get(path_id)
        if mark is None:
            if line is not None:
                workshop.attendances.remove(line)
            continue
        if line is None:
            line = WorkshopAttendance(enrolment=session.get(Enrolment, path_id))
            workshop.attendances.append(line)
        elif line.attendance is mark:
            continue
        line.attendance = mark
        check_attendance(session, line)
    session.flush()
    return Counter(line.attendance for line in workshop.attendances)
