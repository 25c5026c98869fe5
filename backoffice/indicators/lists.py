"""Nominative lists behind the figures, streamed row by row (never all in memory).

Each list is declared as data: a tuple of :class:`Column` (French header, cell kind,
width) and a generator of row tuples in the same order. With ``pseudonym_key`` the list
is pseudonymised for funder representatives (domain.md « Users and roles »: viewer):
no names, birth dates or contact details, a stable pseudonym per person instead, and
free-text fields (difficulties, recommendations) masked because they may name people.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from ..enums import EducationLevel, EnrolmentStatus, Sex
from ..models import Beneficiary, Enrolment, ExitType, ProgrammeSession
from .del_indicators import GOAL_ATTAINMENT_LABELS
from .exit_groups import classifier, reason_label
from .scope import Scope, exited_in_period, followed, stream
from .typology import AGE_BANDS

MASKED = "(masqué : version pseudonymisée)"


@dataclass(frozen=True)
class Column:
    """One column of a list: French header, kind of cell, width in characters.

    kind: « text » (always written as text), « int », « date », « percent », « decimal ».
    """

    header: str
    kind: str = "text"
    width: int = 14


def by_name():
    """ORDER BY a person's names in alphabetical order, last name first: accents, case,
    spaces and hyphens ignored (« Étienne » between « Dupont » and « Garnier », « Dupont »
    before « Dupontel »), the same order on every database whatever its collation.

    It reads :func:`backoffice.models.people.name_key` (« dupont anne »), compared byte by
    byte on every engine (``NAME_KEY_TYPE``); the admin's beneficiaries list uses it too.
    """
    return Beneficiary.name_key


def pseudonym(beneficiary_id: int, key: str | bytes) -> str:
    """A stable pseudonym « B-7F3A2C » for a person: HMAC-SHA256 of the id with ``key``.

    The same person gets the same pseudonym in every report made with the same key (the
    application's SECRET_KEY); without the key it cannot be traced back to the id.
    """
    secret = key.encode() if isinstance(key, str) else key
    digest = hmac.new(secret, f"beneficiary:{beneficiary_id}".encode(), hashlib.sha256).hexdigest()
    return f"B-{digest[:6].upper()}"


def age_band_of(birth_date, on) -> str:
    """The age band (typology.AGE_BANDS) of someone born on ``birth_date``, on ``on``."""
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for low, high, label in AGE_BANDS:
        if (low is None or age >= low) and (high is None or age < high):
            return label
    return AGE_BANDS[-1][2]


def _labels(enum_cls) -> dict:
    """{stored value: French label} of an enum (a value not given has no label)."""
    return {member: member.label for member in enum_cls}


SEX_LABELS = _labels(Sex)
EDUCATION_LABELS = _labels(EducationLevel)
STATUS_LABELS = _labels(EnrolmentStatus)


def _identity_columns(pseudonymised: bool) -> tuple[Column, ...]:
    if pseudonymised:
        return (Column("Pseudonyme", width=12), Column("Tranche d'âge", width=16))
    return (
        Column("Nom", width=20),
        Column("Prénom", width=18),
        Column("Date de naissance", "date", 14),
    )


# What `_identity` reads: every nominative list selects these first.
IDENTITY_COLUMNS = (
    Enrolment.beneficiary_id,
    Beneficiary.last_name,
    Beneficiary.first_name,
    Beneficiary.birth_date,
)


def _identity(row, key, on) -> tuple:
    if key is not None:
        return (pseudonym(row.beneficiary_id, key), age_band_of(row.birth_date, on))
    return (row.last_name, row.first_name, row.birth_date)


# --- DEL: récapitulatif individuel et nominatif (001, tableau des indicateurs) -------


def del_columns(pseudonymised: bool) -> tuple[Column, ...]:
    """Columns of the DEL nominative list."""
    return _identity_columns(pseudonymised) + (
        Column("Sexe", width=8),
        Column("Niveau de formation", width=22),
        Column("Session", width=18),
        Column("Date d'entrée", "date", 13),
        Column("Fin prévue", "date", 13),
        Column("Statut actuel", width=16),
        Column("Projet professionnel (métier visé)", width=30),
        Column("Plan d'action du", "date", 14),
        Column("Date de sortie", "date", 13),
        Column("Type de sortie", width=30),
        Column("Catégorie DEL", width=10),
        Column("Sortie anticipée", width=10),
        Column("Atteinte des objectifs", width=20),
        Column("Satisfaction (1-5)", "int", 12),
        # 001 « Description » : stage obligatoire ; sinon, pourquoi (issue 19 A.3)
        Column("Motif de l'absence de stage", "wrap", 34),
    )


def del_rows(session, scope: Scope, key: str | None = None) -> Iterator[tuple]:
    """One row per followed path, in order of entry (streamed)."""
    stmt = (
        select(
            *IDENTITY_COLUMNS,
            Beneficiary.sex,
            Beneficiary.education_level,
            ProgrammeSession.label.label("session_label"),
            Enrolment.entry_date,
            Enrolment.planned_end_date,
            Enrolment.status,
            Enrolment.target_job,
            Enrolment.action_plan_on,
            Enrolment.exit_date,
            Enrolment.exit_type_id,
            Enrolment.contract_kind,
            Enrolment.contract_months,
            Enrolment.hours_per_month,
            Enrolment.followup_contract_kind,
            Enrolment.followup_contract_months,
            Enrolment.goal_attainment,
            Enrolment.satisfaction,
            Enrolment.abandon_reason,
            Enrolment.no_internship_reason,
        )
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .outerjoin(ProgrammeSession, Enrolment.session_id == ProgrammeSession.id)
        .where(followed(scope))
        .order_by(Enrolment.entry_date, by_name(), Enrolment.id)
    )
    classify = classifier(session, scope.exit_scheme)
    for row in stream(session, stmt):
        exit_label = category = early = goal = None
        # An exit after the period's last day has not happened yet as far as the report goes
        exited = row.exit_date is not None and row.exit_date <= scope.date_to
        if row.exit_type_id is not None and exited:
            facts = (
                row.contract_kind,
                row.contract_months,
                row.hours_per_month,
                row.followup_contract_kind,
                row.followup_contract_months,
            )
            before_end = row.planned_end_date is not None and row.exit_date < row.planned_end_date
            rule, result = classify(row.exit_type_id, facts, before_end)
            exit_label = reason_label(rule.label, row.abandon_reason)
            category = result.del_category
            early = "oui" if result.is_anticipated else "non"
            goal = GOAL_ATTAINMENT_LABELS.get(row.goal_attainment)
        yield _identity(row, key, scope.date_to) + (
            SEX_LABELS.get(row.sex),
            EDUCATION_LABELS.get(row.education_level),
            row.session_label,
            row.entry_date,
            row.planned_end_date,
            STATUS_LABELS.get(row.status),
            row.target_job,
            row.action_plan_on,
            row.exit_date if exited else None,
            exit_label,
            category,
            early,
            goal,
            row.satisfaction if exited else None,
            (MASKED if key is not None and row.no_internship_reason else
             row.no_internship_reason) if exited else None,
        )


# --- Ruptures: difficulties and recommendations (001 « Évaluation ») ---------------


def rupture_columns(pseudonymised: bool) -> tuple[Column, ...]:
    """Columns of the list of ruptures."""
    return _identity_columns(pseudonymised)[:2] + (
        Column("Date de sortie", "date", 13),
        Column("Type de sortie", width=28),
        Column("Motif", width=30),
        Column("Difficultés rencontrées", width=50),
        Column("Préconisations", width=50),
    )


def rupture_rows(session, scope: Scope, key: str | None = None) -> Iterator[tuple]:
    """One row per exit of a rupture type in the period (streamed)."""
    stmt = (
        select(
            *IDENTITY_COLUMNS,
            Enrolment.exit_date,
            ExitType.label.label("exit_label"),
            Enrolment.exit_reason,
            Enrolment.abandon_reason,
            Enrolment.difficulties,
            Enrolment.recommendations,
        )
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .join(ExitType, Enrolment.exit_type_id == ExitType.id)
        .where(exited_in_period(scope), ExitType.is_rupture.is_(True))
        .order_by(Enrolment.exit_date, Enrolment.id)
    )
    for row in stream(session, stmt):
        texts = (row.exit_reason, row.difficulties, row.recommendations)
        if key is not None:
            texts = tuple(MASKED if t else None for t in texts)
        if row.abandon_reason is not None:  # a reason from the list, never free text
            texts = (row.abandon_reason.label, *texts[1:])
        yield _identity(row, key, scope.date_to)[:2] + (row.exit_date, row.exit_label) + texts


# --- PLIE participants (004 §5) -------------------------------------------------------


def plie_columns(pseudonymised: bool) -> tuple[Column, ...]:
    """Columns of the PLIE list of participants."""
    return _identity_columns(pseudonymised) + (
        Column("Sexe", width=8),
        Column("EPCI", width=24),
        Column("Commune", width=18),
        Column("Date d'entrée", "date", 13),
        Column("Fin prévue", "date", 13),
        Column("Statut", width=16),
        Column("Date de sortie", "date", 13),
        Column("Motif de sortie", width=34),
    )


def plie_rows(session, scope: Scope, key: str | None = None) -> Iterator[tuple]:
    """One row per followed PLIE path (streamed)."""
    stmt = (
        select(
            *IDENTITY_COLUMNS,
            Beneficiary.sex,
            Beneficiary.epci,
            Beneficiary.commune,
            Enrolment.entry_date,
            Enrolment.planned_end_date,
            Enrolment.status,
            Enrolment.exit_date,
            ExitType.label.label("exit_label"),
            Enrolment.abandon_reason,
        )
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .outerjoin(ExitType, Enrolment.exit_type_id == ExitType.id)
        .where(followed(scope))
        .order_by(Enrolment.entry_date, by_name(), Enrolment.id)
    )
    for row in stream(session, stmt):
        exited = row.exit_date is not None and row.exit_date <= scope.date_to
        reason = reason_label(row.exit_label, row.abandon_reason) if row.exit_label else None
        yield _identity(row, key, scope.date_to) + (
            SEX_LABELS.get(row.sex),
            row.epci,
            None if key else row.commune,
            row.entry_date,
            row.planned_end_date,
            STATUS_LABELS.get(row.status),
            row.exit_date if exited else None,
            reason if exited else None,
        )


# --- ARJLJ employees of an order (002 I) ---------------------------------------------


def arjlj_columns(pseudonymised: bool) -> tuple[Column, ...]:
    """Columns of the list of an order's employees."""
    return _identity_columns(pseudonymised) + (
        Column("Date d'entrée", "date", 13),
        Column("Date de sortie", "date", 13),
        Column("Issue de l'appui", width=34),
    )


def arjlj_rows(session, scope: Scope, key: str | None = None) -> Iterator[tuple]:
    """One row per path of the order (streamed)."""
    stmt = (
        select(
            *IDENTITY_COLUMNS,
            Enrolment.entry_date,
            Enrolment.exit_date,
            ExitType.label.label("exit_label"),
            Enrolment.abandon_reason,
        )
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .outerjoin(ExitType, Enrolment.exit_type_id == ExitType.id)
        .where(followed(scope))
        .order_by(by_name(), Enrolment.id)
    )
    for row in stream(session, stmt):
        reason = reason_label(row.exit_label, row.abandon_reason) if row.exit_label else None
        yield _identity(row, key, scope.date_to) + (row.entry_date, row.exit_date, reason)
