"""What happens during a path: contacts, workshops and attendance, internships, barriers."""
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Attendance
from ..extensions import db
from ._types import Versioned, enum_type

#: The predicate of the partial index of workshops whose sheet has no line (the queries
#: say it in these words: `services/worklist.without_attendance_sheet`).
WITHOUT_SHEET = text("has_attendance_sheet = false")


def _path_person(context) -> int | None:
    """A contact written with its path's id only: the path's person."""
    path_id = context.get_current_parameters().get("enrolment_id")
    return context.connection.scalar(
        text("SELECT beneficiary_id FROM enrolments WHERE id = :id"), {"id": path_id})


class Contact(Versioned, db.Model):
    """An appointment or exchange with a person (002 glossary « contact »)."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes BETWEEN 0 AND 720",
            name="duration_range",
        ),
        # A path's contacts in date order; with attendance, counting its present contacts
        # over a period reads the index alone (alerts: CSP phase 2, 002 §4); with the type
        # and the length, so do its individual interviews (alerts: PLIE Lots 1 and 4)
        Index("ix_contacts_enrolment_occurs_at", "enrolment_id", "occurs_at", "attendance",
              "contact_type_id", "duration_minutes"),
        # the list's default sort, with the id that breaks ties: a deep page walks the index
        # alone, in order (PostgreSQL otherwise reads every skipped row and sorts them);
        # with the person, the name search keeps the contacts of the people found from the
        # index alone (migrations 0031, 0033)
        Index("ix_contacts_occurs_at_id_beneficiary_id", "occurs_at", "id", "beneficiary_id"),
        # The person is the path's: the pair names a path, and follows it if the path
        # changes person; deleting the path deletes its contacts
        ForeignKeyConstraint(["beneficiary_id", "enrolment_id"],
                             ["enrolments.beneficiary_id", "enrolments.id"],
                             ondelete="CASCADE", onupdate="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int]
    # The path's person, kept on each contact (migration 0033): the name search finds the
    # contacts of the people found without reading their paths. « Garnier » at a million
    # people, PostgreSQL: the 5 589 paths of the 7 096 people found took 14-19 ms of the
    # 40 (issue 25 §2). Given by the path (`enrolment`) or read from it (`_path_person`).
    # Its index finds the contacts of a rare name (« Sébastien Garnier », page 2: 215 ms
    # walking the list without it)
    beneficiary_id: Mapped[int] = mapped_column(default=_path_person, index=True)
    contact_type_id: Mapped[int] = mapped_column(ForeignKey("contact_types.id"))
    occurs_at: Mapped[datetime]
    duration_minutes: Mapped[int | None]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    attendance: Mapped[Attendance] = mapped_column(
        enum_type(Attendance), default=Attendance.PRESENT
    )
    objective: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)

    enrolment: Mapped["Enrolment"] = relationship()  # noqa: F821
    contact_type: Mapped["ContactType"] = relationship()  # noqa: F821
    staff: Mapped["User | None"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.contact_type} du {self.occurs_at:%d/%m/%Y %H:%M}"


class Workshop(Versioned, db.Model):
    """A collective workshop (atelier, regroupement); group limits come from the programme."""

    __tablename__ = "workshops"
    __table_args__ = (
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes BETWEEN 0 AND 720",
            name="duration_range",
        ),
        # « Ateliers tenus sans feuille d'émargement » (the coordinator's home, the
        # workshops' filter): the few without a line, by date, from this index alone.
        # Asking each held workshop whether its sheet has a line read all of them: 84 378
        # at a million people, 231 ms on every visit of the home page (issue 25 §4).
        Index("ix_workshops_without_sheet", "held_at",
              sqlite_where=WITHOUT_SHEET, postgresql_where=WITHOUT_SHEET),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("programme_sessions.id"))
    title: Mapped[str] = mapped_column(String(200))
    held_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int | None]
    place: Mapped[str | None] = mapped_column(String(200))
    facilitator: Mapped[str | None] = mapped_column(String(200))
    # 002 I §7 (annex 11): « Nombre de réunions d'information collective réalisées » and
    # the employees who signed for the CSP information: only these meetings count
    information_meeting: Mapped[bool] = mapped_column(default=False)
    # Whether the attendance sheet has a line: kept by the database itself, a trigger on
    # each line written, changed or deleted, cascades included (models/sheet_flag.py);
    # never set by the application.
    has_attendance_sheet: Mapped[bool] = mapped_column(default=False,
                                                       server_default=false())

    programme: Mapped["Programme"] = relationship()  # noqa: F821
    session: Mapped["ProgrammeSession | None"] = relationship()  # noqa: F821
    attendances: Mapped[list["WorkshopAttendance"]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.title} ({self.held_at:%d/%m/%Y})"


class WorkshopAttendance(Versioned, db.Model):
    """One line of a workshop's attendance sheet (émargement)."""

    __tablename__ = "workshop_attendances"
    __table_args__ = (UniqueConstraint("workshop_id", "enrolment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    attendance: Mapped[Attendance] = mapped_column(
        enum_type(Attendance), default=Attendance.PRESENT
    )

    workshop: Mapped[Workshop] = relationship(back_populates="attendances")
    enrolment: Mapped["Enrolment"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.enrolment} — {self.attendance.label}"


class Internship(Versioned, db.Model):
    """A company internship or work immersion (001 étapes 1–2, 004 Lot 3)."""

    __tablename__ = "internships"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_order"),
        CheckConstraint("hours IS NULL OR hours BETWEEN 0 AND 2000", name="hours_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    company_name: Mapped[str] = mapped_column(String(200))
    company_number: Mapped[str | None] = mapped_column(String(20))  # SIRET or RIDET
    tutor_name: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[int | None]
    # Checked with the host before it starts (001 étape 1)
    planned_activities: Mapped[str | None] = mapped_column(Text)
    evaluation_criteria: Mapped[str | None] = mapped_column(Text)
    conditions_checked_on: Mapped[date | None] = mapped_column(Date)
    # Evaluations (001 étape 2)
    midpoint_technical: Mapped[str | None] = mapped_column(Text)
    midpoint_behavioural: Mapped[str | None] = mapped_column(Text)
    final_technical: Mapped[str | None] = mapped_column(Text)
    final_behavioural: Mapped[str | None] = mapped_column(Text)
    report_on: Mapped[date | None] = mapped_column(Date)
    # PLIE-L3 exit diagnostic, co-signed by host, provider and participant (004 Lot 3)
    diagnostic_behaviour: Mapped[str | None] = mapped_column(Text)
    diagnostic_understanding: Mapped[str | None] = mapped_column(Text)
    diagnostic_skills: Mapped[str | None] = mapped_column(Text)
    diagnostic_relations: Mapped[str | None] = mapped_column(Text)
    diagnostic_recommendations: Mapped[str | None] = mapped_column(Text)
    diagnostic_cosigned_on: Mapped[date | None] = mapped_column(Date)

    enrolment: Mapped["Enrolment"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.company_name} ({self.starts_on:%d/%m/%Y})"


class Barrier(Versioned, db.Model):
    """A barrier to employment identified on a path, and when it was lifted."""

    __tablename__ = "barriers"
    __table_args__ = (
        CheckConstraint("lifted_on IS NULL OR lifted_on >= identified_on", name="dates_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    barrier_type_id: Mapped[int] = mapped_column(ForeignKey("barrier_types.id"), index=True)
    identified_on: Mapped[date] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    enrolment: Mapped["Enrolment"] = relationship()  # noqa: F821
    barrier_type: Mapped["BarrierType"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return str(self.barrier_type)
