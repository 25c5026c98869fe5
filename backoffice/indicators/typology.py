"""Typology of a population (who the people are), one distribution per dimension.

The dimensions are declared as data in :data:`REFERRAL_DIMENSIONS` (DEL, 001 « Typologie
des demandeurs d'emploi orientés ») and :data:`PLIE_DIMENSIONS` (004 §5 « Typologie du
public PLIE (EPCI, âge, sexe et statut) »). To add a dimension, add a line.

Ages are whole years on the last day of the period (« âge au 31/12 » for a calendar year).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, literal, select

from ..enums import EducationLevel, Sex
from ..models import Beneficiary, Enrolment, Referral
from .base import Kind, Result, indicator
from .scope import Scope, followed, referred_in_period

NOT_GIVEN = "Non renseigné"

#: Age bands (lower bound included, upper bound excluded), usual in French reporting;
#: « moins de 26 ans » is the PLIE youth criterion (004 §2).
AGE_BANDS: tuple[tuple[int | None, int | None, str], ...] = (
    (None, 26, "Moins de 26 ans"),
    (26, 45, "26 à 44 ans"),
    (45, 55, "45 à 54 ans"),
    (55, None, "55 ans et plus"),
)


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_band(on: date):
    """SQL CASE giving the age band of ``Beneficiary.birth_date`` on ``on``.

    Someone is at least N years old on ``on`` when born on or before ``on`` − N years:
    comparing dates keeps the expression the same on SQLite and PostgreSQL.
    """
    whens = []
    for _low, high, label in AGE_BANDS:
        if high is not None:
            whens.append((Beneficiary.birth_date > years_before(on, high), literal(label)))
    last_label = AGE_BANDS[-1][2]
    return case(*whens, else_=literal(last_label))


def _enum_label(enum_cls) -> Callable[[object], str]:
    """Turn a stored enum value into its French label."""

    def label(value) -> str:
        if value is None:
            return NOT_GIVEN
        return enum_cls(value).label

    return label


def _plain(value) -> str:
    """A free-text value as it is, or « Non renseigné »."""
    return NOT_GIVEN if value in (None, "") else str(value)


@dataclass(frozen=True)
class Dimension:
    """One way to break a population down: a name, an SQL expression, how to label values."""

    code: str
    name: str
    expression: Callable[[date], object]  # on (the age reference day) → SQL expression
    label: Callable[[object], str] = _plain
    order: tuple[str, ...] = ()  # preferred order of labels (else by count)


SEX = Dimension(
    "sex", "Sexe", lambda on: Beneficiary.sex, _enum_label(Sex), tuple(s.label for s in Sex)
)
AGE = Dimension("age_band", "Tranche d'âge", age_band, _plain, tuple(b[2] for b in AGE_BANDS))
EDUCATION = Dimension(
    "education_level",
    "Niveau de formation",
    lambda on: Beneficiary.education_level,
    _enum_label(EducationLevel),
    tuple(e.label for e in EducationLevel),
)
COMMUNE = Dimension("commune", "Lieu de résidence (commune)", lambda on: Beneficiary.commune)
EPCI = Dimension("epci", "EPCI de résidence", lambda on: Beneficiary.epci)
PLACE = Dimension(
    "prescription_place", "Lieu de prescription", lambda on: Referral.prescription_place
)
PRESCRIBER = Dimension("prescriber", "Conseiller prescripteur", lambda on: Referral.prescriber_name)
REASON = Dimension("reason", "Motif de prescription", lambda on: Referral.reason)

#: 001, tableau des indicateurs: « Age, genre, sexe, niveau scolaire, lieu de prescription,
#: conseiller prescripteur, motif de prescription »; 001 « Évaluation »: lieu de résidence.
REFERRAL_DIMENSIONS = (SEX, AGE, EDUCATION, COMMUNE, PLACE, PRESCRIBER, REASON)

#: 004 §5: « Typologie du public PLIE (EPCI, âge, sexe et statut) »; statut: see STATUS_FLAGS.
PLIE_DIMENSIONS = (EPCI, AGE, SEX)

#: 004 §2 entry criteria, used as the PLIE « statut » (a person may have several).
STATUS_FLAGS: tuple[tuple[str, str], ...] = (
    ("long_term_job_seeker", "Demandeur d'emploi de longue durée"),
    ("rsa_recipient", "Allocataire du RSA"),
    ("under_26", "Jeune de moins de 26 ans"),
    ("social_minima", "Bénéficiaire de minima sociaux"),
    ("disability_recognition", "Travailleur handicapé reconnu (RQTH)"),
)


def _ordered(
    rows: list[tuple[str, int]], preferred: tuple[str, ...]
) -> tuple[tuple[str, int], ...]:
    """Preferred labels first in their order, the others by decreasing count then name."""
    rank = {label: i for i, label in enumerate(preferred)}
    return tuple(sorted(rows, key=lambda r: (rank.get(r[0], len(rank)), -r[1], r[0])))


def _distribution(
    session, dimension: Dimension, on: date, base, where
) -> tuple[tuple[str, int], ...]:
    """COUNT(*) of ``base`` rows matching ``where``, GROUP BY the dimension's expression."""
    key = dimension.expression(on).label("key")
    stmt = base.add_columns(key, func.count().label("n")).where(where).group_by(key)
    merged: dict[str, int] = {}
    for value, n in session.execute(stmt):
        label = dimension.label(value)
        merged[label] = merged.get(label, 0) + n
    return _ordered(list(merged.items()), dimension.order)


@indicator(
    "del.referred_typology",
    "Typologie des demandeurs d'emploi orientés",
    """Répartition des prescriptions reçues sur la période selon le sexe, la tranche d'âge
    (âge au dernier jour de la période), le niveau de formation, la commune de résidence, le
    lieu de prescription, le conseiller prescripteur et le motif de prescription.""",
    "001, tableau des indicateurs",
    Kind.DISTRIBUTION,
)
def referred_typology(session, scope: Scope) -> dict[str, Result]:
    """One distribution per dimension of :data:`REFERRAL_DIMENSIONS`, over referrals."""
    card = referred_typology.indicator
    base = (
        select().select_from(Referral).join(Beneficiary, Referral.beneficiary_id == Beneficiary.id)
    )
    results = {}
    for dim in REFERRAL_DIMENSIONS:
        rows = _distribution(session, dim, scope.date_to, base, referred_in_period(scope))
        results[dim.name] = Result(card, sum(n for _, n in rows), rows=rows)
    return results


@indicator(
    "plie.typology",
    "Typologie du public",
    """Répartition des participants suivis sur la période selon l'EPCI de résidence, la
    tranche d'âge (âge au dernier jour de la période), le sexe et le statut (critères
    d'entrée : DELD, RSA, moins de 26 ans, minima sociaux, RQTH ; une personne peut en
    cumuler plusieurs). Une personne revenue deux fois compte pour chacun de ses
    parcours.""",
    "004 §5",
    Kind.DISTRIBUTION,
)
def followed_typology(session, scope: Scope, dimensions=PLIE_DIMENSIONS) -> dict[str, Result]:
    """One distribution per dimension, over enrolments followed in the period, plus « Statut »."""
    card = followed_typology.indicator
    base = (
        select()
        .select_from(Enrolment)
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
    )
    results = {}
    for dim in dimensions:
        rows = _distribution(session, dim, scope.date_to, base, followed(scope))
        results[dim.name] = Result(card, sum(n for _, n in rows), rows=rows)
    results["Statut"] = status_counts(session, scope)
    return results


def status_counts(session, scope: Scope) -> Result:
    """SUM(CASE …) per status flag over enrolments followed in the period (004 §2)."""
    card = followed_typology.indicator
    young = Beneficiary.birth_date > years_before(scope.date_to, 26)
    columns = []
    for code, _label in STATUS_FLAGS:
        condition = young if code == "under_26" else getattr(Beneficiary, code).is_(True)
        columns.append(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))
    stmt = (
        select(func.count(), *columns)
        .select_from(Enrolment)
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .where(followed(scope))
    )
    total, *counts = session.execute(stmt).one()
    rows = tuple((label, int(n)) for (_code, label), n in zip(STATUS_FLAGS, counts, strict=True))
    return Result(card, total, rows=rows)
