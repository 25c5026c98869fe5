"""Reference data: funders, programmes and their phases, deadline rules and the
closed lists (exit, barrier, contact types, suspension reasons). Seeded from `seeds/`,
editable by an administrator."""
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import CspRule, DelayUnit, DelCategory, RollPolicy, Territory
from ..extensions import db
from ._types import Versioned, enum_type


class Funder(Versioned, db.Model):
    """A public funder (financeur); its territory chooses the public-holiday calendar."""

    __tablename__ = "funders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    territory: Mapped[Territory] = mapped_column(enum_type(Territory, 2))

    programmes: Mapped[list["Programme"]] = relationship(back_populates="funder")

    def __str__(self) -> str:
        return self.name


class Programme(Versioned, db.Model):
    """A programme (dispositif / lot) and the figures its specification fixes."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint(
            "annual_target_max IS NULL OR annual_target_min IS NULL "
            "OR annual_target_max >= annual_target_min",
            name="annual_target_order",
        ),
        CheckConstraint(
            "group_max IS NULL OR group_min IS NULL OR group_max >= group_min",
            name="group_size_order",
        ),
        CheckConstraint(
            "portfolio_max IS NULL OR portfolio_min IS NULL OR portfolio_max >= portfolio_min",
            name="portfolio_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # specification file, e.g. "001"
    exit_scheme: Mapped[str] = mapped_column(String(10))  # enums.ExitScheme value
    planned_months: Mapped[int | None]
    planned_weeks: Mapped[int | None]
    max_months: Mapped[int | None]
    max_weeks: Mapped[int | None]
    experimental_max_months: Mapped[int | None]
    follow_up_months: Mapped[int | None]
    annual_target_min: Mapped[int | None]
    annual_target_max: Mapped[int | None]
    requires_commission: Mapped[bool] = mapped_column(default=False)
    requires_disability_recognition: Mapped[bool] = mapped_column(default=False)
    requires_internship: Mapped[bool] = mapped_column(default=False)
    duration_set_by_commission: Mapped[bool] = mapped_column(default=False)
    default_validated_months: Mapped[int | None]
    group_min: Mapped[int | None]
    group_max: Mapped[int | None]
    portfolio_min: Mapped[int | None]
    portfolio_max: Mapped[int | None]
    people_per_consultant: Mapped[int | None]
    interviews_min: Mapped[int | None]
    interviews_max: Mapped[int | None]
    interview_max_minutes: Mapped[int | None]
    workshop_hours: Mapped[int | None]
    hours_cap: Mapped[int | None]
    hours_cap_days: Mapped[int | None]
    hours_min: Mapped[int | None]
    # 002 II §3: « la phase d'accompagnement de la prestation prend fin au plus tard à la
    # date de fin d'adhésion du bénéficiaire au CSP »: how long an adhesion lasts
    adhesion_months: Mapped[int | None]
    # 004 §4: « L'action se déroule du 1er janvier ... au 31 décembre »: a path of the
    # action is planned to end on 31 December of its entry year
    ends_with_calendar_year: Mapped[bool] = mapped_column(default=False)
    # 004 « Sortie de l'action »: « 2 absences injustifiées (consécutives) ou 2 relances »
    absences_limit: Mapped[int | None]
    absences_consecutive: Mapped[bool] = mapped_column(default=True)
    unanswered_reminders_limit: Mapped[int | None]
    # 004 Lot 4: 12 to 15 h for a bilan d'orientation (hours_min–hours_max), 20 h for a
    # bilan de compétences (skills_bilan_hours)
    hours_max: Mapped[int | None]
    skills_bilan_hours: Mapped[int | None]
    # 004 Lot 2: group_min counts the participants of a session, not of each workshop
    group_per_session: Mapped[bool] = mapped_column(default=False, server_default=false())
    # 004 Lot 2: « répartis sur 2 sessions »; Lot 3: « 15 plateaux « actifs » différents »
    sessions_min: Mapped[int | None]
    host_structures_min: Mapped[int | None]
    # ESF+ (issue 24, docs/esf.md): the operation whose participants this programme's paths
    # are (None: not ESF-funded) — one participant per operation, whatever the lot — and
    # whether the operation collects the situation six months after the exit.
    esf_operation: Mapped[str | None] = mapped_column(String(40))
    esf_six_month_result: Mapped[bool] = mapped_column(default=False, server_default=false())
    notes: Mapped[str | None] = mapped_column(Text)

    funder: Mapped[Funder] = relationship(back_populates="programmes")
    phases: Mapped[list["Phase"]] = relationship(
        back_populates="programme", order_by="Phase.position"
    )
    deadline_rules: Mapped[list["DeadlineRule"]] = relationship(back_populates="programme")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def short_label(self) -> str:
        """The code, for lists (« PLIE-L1 »); the full name shows on hover."""
        return self.code


class Phase(Versioned, db.Model):
    """An ordered step of a programme (étape / phase) with its maximum length."""

    __tablename__ = "phases"
    __table_args__ = (
        UniqueConstraint("programme_id", "position"),
        UniqueConstraint("programme_id", "code"),
        CheckConstraint(
            "derogation_max_days IS NULL OR max_days IS NULL OR derogation_max_days >= max_days",
            name="derogation_longer",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    max_days: Mapped[int | None]
    derogation_max_days: Mapped[int | None]
    is_follow_up: Mapped[bool] = mapped_column(default=False)

    programme: Mapped[Programme] = relationship(back_populates="phases")

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class DeadlineRule(Versioned, db.Model):
    """One obligation of a specification: what is owed, after which event, how soon."""

    __tablename__ = "deadline_rules"
    __table_args__ = (
        UniqueConstraint("programme_id", "code"),
        CheckConstraint("offset_value >= 0", name="offset_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    trigger_event: Mapped[str] = mapped_column(String(40))
    offset_value: Mapped[int]
    unit: Mapped[DelayUnit] = mapped_column(enum_type(DelayUnit))
    fulfilled_by: Mapped[str | None] = mapped_column(String(200))
    # The phase (its code in ``phases``) a phase_start / phase_end rule is about.
    phase_code: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(60))  # e.g. "002 §4"
    # 002 II §3: only the end date of a support moves to the next working day; a
    # deliverable due « avant » / « au plus tard » stays on its day or comes earlier
    roll: Mapped[RollPolicy] = mapped_column(enum_type(RollPolicy), default=RollPolicy.STAY)
    active: Mapped[bool] = mapped_column(default=True)

    programme: Mapped[Programme] = relationship(back_populates="deadline_rules")

    def __str__(self) -> str:
        return self.name


class ExitType(Versioned, db.Model):
    """An exit (sortie) and the facts that classify it for each funder (see rules/exits.py)."""

    __tablename__ = "exit_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    schemes: Mapped[str] = mapped_column(String(40))  # comma list of DEL, CSP, PLIE
    del_category: Mapped[DelCategory | None] = mapped_column(enum_type(DelCategory, 2))
    del_ed_min_months: Mapped[int | None]
    csp_rule: Mapped[CspRule] = mapped_column(enum_type(CspRule))
    csp_min_months: Mapped[int | None]
    needs_contract_kind: Mapped[bool] = mapped_column(default=False)
    needs_contract_months: Mapped[bool] = mapped_column(default=False)
    needs_hours_per_month: Mapped[bool] = mapped_column(default=False)
    needs_employer: Mapped[bool] = mapped_column(default=False)
    needs_training_title: Mapped[bool] = mapped_column(default=False)
    is_durable_job: Mapped[bool] = mapped_column(default=False)
    is_rupture: Mapped[bool] = mapped_column(default=False)
    is_anticipated: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.label


class BarrierType(Versioned, db.Model):
    """A kind of barrier to employment (frein)."""

    __tablename__ = "barrier_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    is_sensitive: Mapped[bool] = mapped_column(default=False)  # health, justice, addiction…
    sort_order: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.label


class ContactType(Versioned, db.Model):
    """A kind of contact (002 glossary: face to face, 3-hour group, phone, e-mail…)."""

    __tablename__ = "contact_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    default_minutes: Mapped[int | None]
    is_group: Mapped[bool] = mapped_column(default=False)
    is_remote: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.label


class SuspensionReason(Versioned, db.Model):
    """Why a path is suspended (002 §3) and whether it pushes the planned end date."""

    __tablename__ = "suspension_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    pushes_end_date: Mapped[bool] = mapped_column(default=False)
    only_experimental_public: Mapped[bool] = mapped_column(default=False)
    counts_as_active: Mapped[bool] = mapped_column(default=False)  # 002 glossary: portfolio
    sort_order: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.label
