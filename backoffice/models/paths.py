"""The path of a person: referral, commission decision, purchase order, session,
enrolment with its phases and suspensions."""
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    exists,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..enums import AbandonReason, BilanKind, ContractKind, EnrolmentStatus, ReferralStatus
from ..extensions import db
from ._types import Versioned, enum_type, utcnow

referral_non_entry_barriers = Table(
    "referral_non_entry_barriers",
    db.metadata,
    Column("referral_id", ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True),
    Column("barrier_type_id", ForeignKey("barrier_types.id"), primary_key=True),
)


class Commission(Versioned, db.Model):
    """A validation commission (001 « Organisation »; PLIE commission, 004)."""

    __tablename__ = "commissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    members_present: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)

    programme: Mapped["Programme"] = relationship()  # noqa: F821
    referrals: Mapped[list["Referral"]] = relationship(
        back_populates="commission", foreign_keys="Referral.commission_id")

    def __str__(self) -> str:
        return f"Commission {self.programme.code} du {self.held_on:%d/%m/%Y}"


class Referral(Versioned, db.Model):
    """A prescription (orientation) of a person to a programme, and its decision."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(
            "decided_on IS NULL OR decided_on >= referred_on", name="decision_after_referral"
        ),
        CheckConstraint(
            "validated_months IS NULL OR validated_months BETWEEN 1 AND 12",
            name="validated_months_range",
        ),
        Index("ix_referrals_programme_status", "programme_id", "status"),
        # the list's default sort, with the person: the name search walks this order and
        # keeps the referrals of the people found from the index alone (migration 0032)
        Index("ix_referrals_referred_on_id_beneficiary_id", "referred_on", "id",
              "beneficiary_id"),
        Index("ix_referrals_status_referred_on", "status", "referred_on"),
        # reports read a programme's referrals of a period (monthly cohorts, typologies)
        Index("ix_referrals_programme_referred_on", "programme_id", "referred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    prescriber_name: Mapped[str | None] = mapped_column(String(200))
    prescription_place: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(300))
    referred_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ReferralStatus] = mapped_column(
        enum_type(ReferralStatus), default=ReferralStatus.PENDING
    )
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("commissions.id"), index=True)
    # « Ajourner »: the commission the referral is deferred to (issue 20 §7)
    deferred_to_id: Mapped[int | None] = mapped_column(ForeignKey("commissions.id"),
                                                       index=True)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    validated_months: Mapped[int | None]
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    non_entry_notes: Mapped[str | None] = mapped_column(Text)
    # The référent chosen when the referral came in (issue 23 §6: an import assigns it);
    # « Démarrer le parcours » proposes them.
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    beneficiary: Mapped["Beneficiary"] = relationship(back_populates="referrals")  # noqa: F821
    programme: Mapped["Programme"] = relationship()  # noqa: F821
    commission: Mapped[Commission | None] = relationship(back_populates="referrals",
                                                         foreign_keys=[commission_id])
    deferred_to: Mapped[Commission | None] = relationship(foreign_keys=[deferred_to_id])
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    referent: Mapped["User | None"] = relationship(foreign_keys=[referent_id])  # noqa: F821
    replaces: Mapped["Referral | None"] = relationship(remote_side=[id])
    non_entry_barriers: Mapped[list["BarrierType"]] = relationship(  # noqa: F821
        secondary=referral_non_entry_barriers
    )

    def __str__(self) -> str:
        return f"Prescription n° {self.id} — {self.programme.code}"


class PurchaseOrder(Versioned, db.Model):
    """A funder's purchase order (bon de commande) that launches paths."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("funder_id", "number"),
        CheckConstraint(
            "received_on IS NULL OR received_on >= issued_on", name="received_after_issue"
        ),
        CheckConstraint("beneficiary_count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[date] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime | None]
    beneficiary_count: Mapped[int] = mapped_column(default=0)
    company_name: Mapped[str | None] = mapped_column(String(200))  # ARJLJ (002 I §4)
    support_start_on: Mapped[date | None] = mapped_column(Date)  # ARJLJ
    # 002 I §3: « La prestation prend fin le jour de la rupture du contrat de travail du
    # dernier salarié accompagné »: the support of every path of the order ends that day.
    last_contract_rupture_on: Mapped[date | None] = mapped_column(Date)  # ARJLJ

    funder: Mapped["Funder"] = relationship()  # noqa: F821
    programme: Mapped["Programme"] = relationship()  # noqa: F821
    lines: Mapped[list["PurchaseOrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"BC {self.number}"


class PurchaseOrderLine(Versioned, db.Model):
    """One person on a purchase order, with the duration of their path (DEL-L1, 001)."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "beneficiary_id"),
        CheckConstraint(
            "duration_months IS NULL OR duration_months BETWEEN 1 AND 12",
            name="duration_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    duration_months: Mapped[int | None]

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    beneficiary: Mapped["Beneficiary"] = relationship()  # noqa: F821
    referral: Mapped[Referral | None] = relationship()

    def __str__(self) -> str:
        return f"{self.order} — {self.beneficiary}"


class ProgrammeSession(Versioned, db.Model):
    """A session (cohort) of a programme; entries may be continuous (au fil de l'eau)."""

    __tablename__ = "programme_sessions"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_order"),
        CheckConstraint(
            "max_size IS NULL OR min_size IS NULL OR max_size >= min_size", name="size_order"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    min_size: Mapped[int | None]
    max_size: Mapped[int | None]
    continuous_entry: Mapped[bool] = mapped_column(default=True)

    programme: Mapped["Programme"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return self.label


class Enrolment(Versioned, db.Model):
    """A person's path on a programme (parcours / accompagnement), from entry to exit."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint("exit_date IS NULL OR exit_date >= entry_date", name="exit_after_entry"),
        CheckConstraint(
            "planned_end_date IS NULL OR planned_end_date >= entry_date",
            name="planned_end_after_entry",
        ),
        CheckConstraint(
            "follow_up_end_date IS NULL OR exit_date IS NULL OR follow_up_end_date >= exit_date",
            name="follow_up_after_exit",
        ),
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_range"
        ),
        CheckConstraint(
            "goal_attainment IS NULL OR goal_attainment BETWEEN 0 AND 3",
            name="goal_attainment_range",
        ),
        CheckConstraint(
            "contract_months IS NULL OR contract_months BETWEEN 0 AND 600",
            name="contract_months_range",
        ),
        CheckConstraint(
            "hours_per_month IS NULL OR hours_per_month BETWEEN 0 AND 744",
            name="hours_per_month_range",
        ),
        CheckConstraint(
            "engagement_level IS NULL OR engagement_level BETWEEN 1 AND 4",
            name="engagement_range",
        ),
        CheckConstraint(
            "soft_skills_level IS NULL OR soft_skills_level BETWEEN 1 AND 4",
            name="soft_skills_range",
        ),
        # a programme's paths by status, and each referent's among them: the alerts count
        # portfolios and consultants' loads from the index alone (issue 25 §4)
        Index("ix_enrolments_programme_status_referent", "programme_id", "status",
              "referent_id", "id"),
        # the list's default sort, with the person: the name search walks this order and
        # keeps the paths of the people found from the index alone (migration 0031)
        Index("ix_enrolments_entry_date_id_beneficiary_id", "entry_date", "id",
              "beneficiary_id"),
        # a person's paths, their ids in the index: a person's record reads them without
        # their rows (migration 0029). Unique (the id alone is), so that a contact's
        # (person, path) pair can name it: the contacts' person is their path's
        # (models/activity.py, migration 0033)
        Index("ix_enrolments_beneficiary_id_id", "beneficiary_id", "id", unique=True),
        Index("ix_enrolments_referent_status", "referent_id", "status"),
        Index("ix_enrolments_status_planned_end", "status", "planned_end_date"),
        # the follow-ups past their end, soonest ended first (alerts, issue 25 §4)
        Index("ix_enrolments_status_follow_up_end", "status", "follow_up_end_date"),
        # reports read the paths of a programme open during a period (entry, exit)
        Index("ix_enrolments_programme_entry_exit", "programme_id", "entry_date", "exit_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), unique=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_sessions.id"), index=True
    )
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id"), index=True
    )
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entry_date: Mapped[date] = mapped_column(Date)
    planned_end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_type(EnrolmentStatus), default=EnrolmentStatus.ACTIVE
    )
    current_phase_id: Mapped[int | None] = mapped_column(ForeignKey("phases.id"))
    # Professional project (001 étape 1, 002 PSP)
    target_job: Mapped[str | None] = mapped_column(String(200))
    rome_code: Mapped[str | None] = mapped_column(String(5))
    action_plan_on: Mapped[date | None] = mapped_column(Date)
    prebilan_at: Mapped[datetime | None]  # CSP pré-bilan interview (002 §4)
    csp_contract_signed_on: Mapped[date | None] = mapped_column(Date)
    # 002 II §4: « Le prestataire transmet à Pôle emploi une copie du Contrat
    # d'accompagnement signé dans un délai maximum de 48 heures »: the transmission, not
    # the signature, fulfils the obligation.
    csp_contract_sent_at: Mapped[datetime | None]
    # 002 II §3 and §5: the adhesion to the CSP (signed at France Travail before the
    # orientation) ends the support at the latest at its end and starts the 6 months of
    # the intermediate deliverable. None for the « publics expérimentaux » (no adhesion).
    csp_adhesion_on: Mapped[date | None] = mapped_column(Date)
    # PLIE-L4: which bilan (004 Lot 4: orientation 12–15 h, compétences 20 h)
    bilan_kind: Mapped[BilanKind | None] = mapped_column(enum_type(BilanKind))
    engagement_level: Mapped[int | None]  # 1–4, DEL progression (001 indicator table)
    soft_skills_level: Mapped[int | None]  # 1–4
    # Exit (001 « Évaluation », 002 §6, 004)
    exit_date: Mapped[date | None] = mapped_column(Date)
    exit_type_id: Mapped[int | None] = mapped_column(ForeignKey("exit_types.id"), index=True)
    contract_kind: Mapped[ContractKind | None] = mapped_column(enum_type(ContractKind))
    contract_months: Mapped[int | None]
    hours_per_month: Mapped[int | None]
    employer: Mapped[str | None] = mapped_column(String(200))
    training_title: Mapped[str | None] = mapped_column(String(200))
    followup_contract_kind: Mapped[ContractKind | None] = mapped_column(
        enum_type(ContractKind, name="followup_contract_kind")
    )
    followup_contract_months: Mapped[int | None]
    exit_reason: Mapped[str | None] = mapped_column(String(300))
    # Why an abandon was declared (001 « raisons de la sortie », 004 exit motives)
    abandon_reason: Mapped[AbandonReason | None] = mapped_column(enum_type(AbandonReason))
    # 001 « Description »: « obligatoirement intégrer une période de stage en entreprise »;
    # a path closed at its end without one says why (shown in the reports)
    no_internship_reason: Mapped[str | None] = mapped_column(Text)
    goal_attainment: Mapped[int | None]  # 0 non atteint … 3 atteint
    satisfaction: Mapped[int | None]  # 1–5
    difficulties: Mapped[str | None] = mapped_column(Text)
    recommendations: Mapped[str | None] = mapped_column(Text)
    follow_up_end_date: Mapped[date | None] = mapped_column(Date)
    # 002 II §9: « en situation d'emploi dans un délai de 6 mois après la reprise
    # d'emploi », recorded when the follow-up in employment ends (None: not said).
    employed_at_follow_up_end: Mapped[bool | None]
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    beneficiary: Mapped["Beneficiary"] = relationship(back_populates="enrolments")  # noqa: F821
    programme: Mapped["Programme"] = relationship()  # noqa: F821
    referral: Mapped[Referral | None] = relationship()
    session: Mapped[ProgrammeSession | None] = relationship()
    purchase_order: Mapped[PurchaseOrder | None] = relationship()
    referent: Mapped["User | None"] = relationship()  # noqa: F821
    current_phase: Mapped["Phase | None"] = relationship()  # noqa: F821
    exit_type: Mapped["ExitType | None"] = relationship()  # noqa: F821
    phase_records: Mapped[list["PhaseRecord"]] = relationship(
        back_populates="enrolment", order_by="PhaseRecord.started_on",
        cascade="all, delete-orphan",
    )
    suspensions: Mapped[list["Suspension"]] = relationship(
        back_populates="enrolment", order_by="Suspension.starts_on",
        cascade="all, delete-orphan",
    )

    def __str__(self) -> str:
        return f"Parcours n° {self.id} — {self.programme.code}"


#: Whether a path was opened from the referral, read with it (one indexed EXISTS in the
#: same statement: the list's « Démarrer le parcours » icon shows only where it can work).
_referral_path = Enrolment.__table__.alias("referral_path")  # never correlated away
Referral.has_path = column_property(
    exists().where(_referral_path.c.referral_id == Referral.id)
    .correlate_except(_referral_path).label("has_path"))


class PhaseRecord(Versioned, db.Model):
    """When a path went through a phase; a derogation allows a longer phase (002 §4)."""

    __tablename__ = "phase_records"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_order"),
        # The open records of one phase, the oldest first (alerts: CSP phases 1 and 2, 002
        # §4; with the id, PostgreSQL too reads them in order, issue 25 §4)
        Index("ix_phase_records_phase_open", "phase_id", "ended_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    derogation: Mapped[bool] = mapped_column(default=False)

    enrolment: Mapped[Enrolment] = relationship(back_populates="phase_records")
    phase: Mapped["Phase"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.phase} depuis le {self.started_on:%d/%m/%Y}"


class Suspension(Versioned, db.Model):
    """A suspension of a path (002 §3: illness, leave, short job, training)."""

    __tablename__ = "suspensions"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    reason_id: Mapped[int] = mapped_column(ForeignKey("suspension_reasons.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    enrolment: Mapped[Enrolment] = relationship(back_populates="suspensions")
    reason: Mapped["SuspensionReason"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"Suspension du {self.starts_on:%d/%m/%Y}"
