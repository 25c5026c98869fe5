"""ESF+ participant data of a path (issue 24): what the person's situation was at entry,
frozen there, and at exit (and six months later where the programme collects it).

Per path, not per person: a second path must not overwrite the first one's entry data.
Which path's entry counts for a participant (the first participation in an operation,
a re-entry keeping it) is a rule: `rules/esf.py`; the sources are in docs/esf.md.
"""
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Answer, LabourMarketStatus
from ..extensions import db
from ._types import Versioned, enum_type


def _answer(name: str) -> Mapped[Answer | None]:
    return mapped_column(enum_type(Answer, 10, name=f"answer_{name}"))


class EsfEntry(Versioned, db.Model):
    """The ESF+ entry questionnaire of one path (« questionnaire FSE », 004 §6)."""

    __tablename__ = "esf_entries"
    __table_args__ = (
        CheckConstraint("isced_level IS NULL OR isced_level BETWEEN 0 AND 8",
                        name="isced_range"),
        CheckConstraint("recorded_on IS NULL OR recorded_on >= entered_on",
                        name="recorded_after_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), unique=True)
    # the day the person entered the operation (the path's entry) and the day the
    # questionnaire was filled in
    entered_on: Mapped[date] = mapped_column(Date)
    recorded_on: Mapped[date | None] = mapped_column(Date)
    labour_market_status: Mapped[LabourMarketStatus | None] = mapped_column(
        enum_type(LabourMarketStatus, 30))
    isced_level: Mapped[int | None]
    household_jobless: Mapped[Answer | None] = _answer("household_jobless")
    single_parent_household: Mapped[Answer | None] = _answer("single_parent")
    disability: Mapped[Answer | None] = _answer("disability")
    third_country_national: Mapped[Answer | None] = _answer("third_country")
    foreign_background: Mapped[Answer | None] = _answer("foreign_background")
    minority: Mapped[Answer | None] = _answer("minority")
    homeless_or_housing_exclusion: Mapped[Answer | None] = _answer("homeless")
    rural_area: Mapped[Answer | None] = _answer("rural_area")

    enrolment: Mapped["Enrolment"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"Données d'entrée FSE+ du parcours n° {self.enrolment_id}"


class EsfExit(Versioned, db.Model):
    """The ESF+ exit questionnaire of one path (within 4 weeks of the exit), and the
    situation six months after the exit where the programme collects it."""

    __tablename__ = "esf_exits"
    __table_args__ = (
        CheckConstraint("recorded_on IS NULL OR recorded_on >= left_on",
                        name="recorded_after_exit"),
        CheckConstraint("six_month_recorded_on IS NULL OR six_month_recorded_on >= left_on",
                        name="six_month_after_exit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), unique=True)
    left_on: Mapped[date] = mapped_column(Date)
    recorded_on: Mapped[date | None] = mapped_column(Date)
    # Common immediate result indicators (Regulation (EU) 2021/1057, Annex I)
    in_education_or_training: Mapped[Answer | None] = _answer("in_education")
    gained_qualification: Mapped[Answer | None] = _answer("qualification")
    in_employment: Mapped[Answer | None] = _answer("in_employment")
    job_searching: Mapped[Answer | None] = _answer("job_searching")
    # Common longer-term result indicators (six months after leaving)
    six_month_recorded_on: Mapped[date | None] = mapped_column(Date)
    six_month_in_employment: Mapped[Answer | None] = _answer("six_month_employment")
    six_month_better_situation: Mapped[Answer | None] = _answer("six_month_better")

    enrolment: Mapped["Enrolment"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"Données de sortie FSE+ du parcours n° {self.enrolment_id}"
