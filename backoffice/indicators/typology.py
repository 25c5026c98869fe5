"""Typology of a population (who the people are), one distribution per dimension.

The dimensions are declared as data in :data:`REFERRAL_DIMENSIONS` (DEL, 001 « Typologie
des demandeurs d'emploi orientés ») and :data:`PLIE_DIMENSIONS` (004 §5 « Typologie du
public PLIE (EPCI, âge, sexe et statut) »). To add a dimension, add a line.

Ages are whole years on the last day of the period (« âge au 31/12 » for a calendar year).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter

from sqlalchemy import case, func, literal, select, union_all

from ..enums import EducationLevel, Sex
from ..models import Beneficiary, Enrolment, Referral
from .base import Kind, Result, indicator
from .scope import Scope, binary_text, followed, referred_in_period, stream

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


def enum_labels(column, enum_cls):
    """SQL CASE giving the French label of a stored enum value (« Non renseigné » if NULL)."""
    return case({member: member.label for member in enum_cls}, value=column, else_=NOT_GIVEN)


def plain_label(column):
    """SQL: a free-text value as it is, « Non renseigné » when NULL or empty."""
    return func.coalesce(func.nullif(column, ""), NOT_GIVEN)


@dataclass(frozen=True)
class Dimension:
    """One way to break a population down: a name and the SQL label of each person."""

    code: str
    name: str
    label: Callable[[date], object]  # on (the age reference day) → SQL expression of the label
    order: tuple[str, ...] = ()  # preferred order of labels (else by count, then by label)


SEX = Dimension(
    "sex",
    "Sexe",
    lambda on: enum_labels(Beneficiary.sex, Sex),
    tuple(s.label for s in Sex),
)
AGE = Dimension("age_band", "Tranche d'âge", age_band, tuple(b[2] for b in AGE_BANDS))
EDUCATION = Dimension(
    "education_level",
    "Niveau de formation",
    lambda on: enum_labels(Beneficiary.education_level, EducationLevel),
    tuple(e.label for e in EducationLevel),
)
COMMUNE = Dimension(
    "commune", "Lieu de résidence (commune)", lambda on: plain_label(Beneficiary.commune)
)
EPCI = Dimension("epci", "EPCI de résidence", lambda on: plain_label(Beneficiary.epci))
PLACE = Dimension(
    "prescription_place",
    "Lieu de prescription",
    lambda on: plain_label(Referral.prescription_place),
)
PRESCRIBER = Dimension(
    "prescriber", "Conseiller prescripteur", lambda on: plain_label(Referral.prescriber_name)
)
REASON = Dimension("reason", "Motif de prescription", lambda on: plain_label(Referral.reason))

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


#: A distribution streamed to the workbook: (dimension name, people counted, rows in order).
#: Every person has one label per dimension, so ``total`` is also the sum of the rows.
Distribution = tuple[str, int, Iterator[tuple[str, int]]]


def _distributions(session, dimensions, on: date, population) -> Iterator[Distribution]:
    """One distribution per dimension of ``population`` (a SELECT of the people counted),
    from a single statement, streamed in the order they are shown.

    The statement reads the population once (a CTE) and groups it by each dimension's label
    (UNION ALL), after a first row holding the number of people. Rows come sorted: the
    dimension's preferred labels first in their order, then by decreasing count and by label
    (code-point order, as Python sorts; :class:`binary_text` makes PostgreSQL agree).
    Memory does not grow with the number of distinct labels (e.g. prescribers' names).
    """
    people = population.add_columns(
        *(dim.label(on).label(f"label_{i}") for i, dim in enumerate(dimensions))
    ).cte("people")
    parts = [
        select(
            literal(-1).label("dimension"),
            literal("").label("label"),
            literal(0).label("rank"),
            func.count().label("n"),
        ).select_from(people)
    ]
    for i, dim in enumerate(dimensions):
        label = people.c[f"label_{i}"]
        rank = (
            case({name: k for k, name in enumerate(dim.order)}, value=label, else_=len(dim.order))
            if dim.order
            else literal(0)
        )
        parts.append(
            select(literal(i), label, rank, func.count()).select_from(people).group_by(label)
        )
    rows = union_all(*parts).subquery()
    stmt = select(rows.c.dimension, rows.c.label, rows.c.n).order_by(
        rows.c.dimension, rows.c.rank, rows.c.n.desc(), binary_text(rows.c.label)
    )
    result = stream(session, stmt)
    _first, _label, total = next(result)
    groups = groupby(result, key=itemgetter(0))
    group = next(groups, None)
    for i, dim in enumerate(dimensions):
        if group is not None and group[0] == i:
            yield dim.name, total, ((label, n) for _i, label, n in group[1])
            group = next(groups, None)
        else:  # nobody counted: the section is shown empty
            yield dim.name, total, iter(())


@indicator(
    "del.referred_typology",
    "Typologie des demandeurs d'emploi orientés",
    """Répartition des prescriptions reçues sur la période selon le sexe, la tranche d'âge
    (âge au dernier jour de la période), le niveau de formation, la commune de résidence, le
    lieu de prescription, le conseiller prescripteur et le motif de prescription.""",
    "001, tableau des indicateurs",
    Kind.DISTRIBUTION,
)
def referred_typology(session, scope: Scope) -> Iterator[Distribution]:
    """One distribution per dimension of :data:`REFERRAL_DIMENSIONS`, over referrals
    (streamed: read each one's rows before the next)."""
    population = (
        select()
        .select_from(Referral)
        .join(Beneficiary, Referral.beneficiary_id == Beneficiary.id)
        .where(referred_in_period(scope))
    )
    return _distributions(session, REFERRAL_DIMENSIONS, scope.date_to, population)


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
def followed_typology(session, scope: Scope, dimensions=PLIE_DIMENSIONS) -> Iterator[Distribution]:
    """One distribution per dimension, over enrolments followed in the period, then
    « Statut » (streamed: read each one's rows before the next)."""
    population = (
        select()
        .select_from(Enrolment)
        .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
        .where(followed(scope))
    )
    yield from _distributions(session, dimensions, scope.date_to, population)
    status = status_counts(session, scope)
    yield "Statut", sum(n for _label, n in status.rows), iter(status.rows)


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
