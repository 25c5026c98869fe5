"""CSP monthly activity and result table (002 II §9), by monthly cohort and cumulated.

A *cohort* is the month of referral (orientation). Every figure of a cohort is observed
on the cut-off day, the last day of the period (the « chosen month »): a person referred
in January who joined in February counts as « adhérent » of the January cohort in the
table of February. The « Cumul » line adds the cohorts of the period.

Rates of the result indicators are over the cohort's adherents (« bénéficiaires ayant
adhéré »): a cohort nobody joined yet shows « — ».
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, distinct, exists, func, or_, select

from ..models import Enrolment, ExitType, Referral, Suspension, SuspensionReason
from .base import Indicator, Kind, declare
from .exit_groups import exit_groups
from .scope import Scope, referred_in_period, year_month

SOURCE = "002 II §9"
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

#: How a CSP-positive job exit is reported « par type de contrat » (002 §9), by exit type
#: code (seeds/exit_types.yaml). A positive job exit whose code is not listed here goes
#: to OTHER_CONTRACTS.
CONTRACT_GROUPS = {
    "cdi": "CDI",
    "cdd": "CDD ou intérim de 6 mois et plus",
    "interim": "CDD ou intérim de 6 mois et plus",
    "poe": "Formation préalable à l'embauche (POE, AFPR)",
    "afpr": "Formation préalable à l'embauche (POE, AFPR)",
}
OTHER_CONTRACTS = "Autre emploi (alternance, contrat aidé, temps partiel ≥ 110 h)"
CONTRACT_GROUP_ORDER = (
    "CDI",
    "CDD ou intérim de 6 mois et plus",
    "Formation préalable à l'embauche (POE, AFPR)",
    OTHER_CONTRACTS,
)
#: Exit type codes that are a business creation or takeover (002 §6).
CREATION_CODES = frozenset({"creation"})


def _card(code: str, name: str, definition: str, kind: Kind = Kind.COUNT) -> Indicator:
    return declare(f"csp.{code}", name, definition, SOURCE, kind)


# Columns of the table, in the order of 002 §9. Activity first, then results.
REFERRED = _card(
    "referred",
    "Bénéficiaires orientés",
    "Prescriptions CSP dont la date d'orientation tombe dans le mois de la cohorte.",
)
PRESENT = _card(
    "present",
    "Bénéficiaires présents",
    "Orientés de la cohorte venus au pré-bilan au plus tard le jour d'arrêté (002 §4).",
)
ADHERED = _card(
    "adhered",
    "Bénéficiaires ayant adhéré",
    "Orientés de la cohorte ayant signé le contrat d'accompagnement au plus tard le jour d'arrêté.",
)
ABANDONED = _card(
    "abandoned",
    "Abandons en cours de prestation",
    """Parcours de la cohorte clos par un abandon (sortie de type abandon ou rupture) au
    plus tard le jour d'arrêté.""",
)
REFERENTS = _card(
    "active_referents",
    "Référents avec un portefeuille actif",
    """Référents distincts ayant au moins un adhérent actif le jour d'arrêté : entré,
                  adhérent, non sorti et non suspendu (sauf motif de suspension compté actif)
                  — 002 glossaire et §7.4. La ligne « Cumul » compte tous les parcours CSP
                  actifs ce jour-là, quelle que soit leur cohorte.""",
)
WITHOUT_SOLUTION = _card(
    "without_solution",
    "Sans solution d'emploi à l'issue",
    """Adhérents de la cohorte sortis au plus tard le jour d'arrêté sans issue
                         positive au sens de 002 §6 ; taux sur les adhérents.""",
)
EMPLOYED_6M = _card(
    "employed_6_months",
    "En emploi 6 mois après la reprise",
    """Adhérents dont le suivi dans l'emploi de 6 mois (après une reprise d'emploi
                    durable ou une création / reprise d'entreprise, 002 §6) s'est terminé au plus
                    tard le jour d'arrêté, la personne étant alors toujours en emploi (réponse
                    « Oui » à « Terminer le suivi dans l'emploi ») ; taux sur les adhérents.""",
)
CREATIONS = _card(
    "business_creations",
    "Création ou reprise d'entreprise",
    """Adhérents sortis par une création ou reprise d'entreprise (hors auto-entrepreneur) ;
    taux sur les adhérents.""",
)
TRAININGS = _card(
    "qualifying_trainings",
    "Formation qualifiante de 6 mois et plus",
    """Adhérents entrés en formation qualifiante ou diplômante d'au moins 6 mois ; taux sur
    les adhérents.""",
)
CONTRACTS = _card(
    "jobs_by_contract",
    "Retour à l'emploi par type de contrat",
    """Adhérents sortis avec une issue positive d'emploi (002 §6), par type de contrat :
                  CDI ; CDD ou intérim de 6 mois et plus ; formation préalable à l'embauche (POE
                  suivie d'un contrat d'au moins 12 mois, AFPR suivie d'un CDD) ; autre emploi
                  positif. Taux sur les adhérents.""",
    Kind.DISTRIBUTION,
)

ACTIVITY = (REFERRED, PRESENT, ADHERED, ABANDONED, REFERENTS)
#: Result columns shown as « nombre » and « taux » (over ADHERED).
RESULTS = (WITHOUT_SOLUTION, EMPLOYED_6M, CREATIONS, TRAININGS)


@dataclass
class CohortRow:
    """One line of the table: a cohort (or the « Cumul »), its counts by indicator code."""

    label: str
    counts: Counter = field(default_factory=Counter)
    contracts: Counter = field(default_factory=Counter)

    def rate(self, card: Indicator) -> float | None:
        """A result count over the cohort's adherents, None when nobody adhered."""
        adhered = self.counts[ADHERED.code]
        return self.counts[card.code] / adhered if adhered else None

    def contract_rate(self, group: str) -> float | None:
        """Jobs of one contract group over the cohort's adherents."""
        adhered = self.counts[ADHERED.code]
        return self.contracts[group] / adhered if adhered else None


@dataclass
class CspTable:
    """The monthly table: cut-off day, one row per cohort, and the cumulated row."""

    cut_off: date
    rows: list[CohortRow]
    total: CohortRow


def month_label(key: str) -> str:
    """'2025-03' → « mars 2025 »."""
    year, month = key.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year}"


def months_between(start: date, end: date) -> list[str]:
    """The 'YYYY-MM' keys from the month of ``start`` to the month of ``end``."""
    keys, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + (month == 12), month % 12 + 1)
    return keys


def active_on(day: date):
    """SQL: the CSP path is in its referent's active portfolio on ``day`` (002 §7.4)."""
    suspended = exists().where(
        Suspension.enrolment_id == Enrolment.id,
        Suspension.starts_on <= day,
        or_(Suspension.ends_on.is_(None), Suspension.ends_on >= day),
        Suspension.reason_id == SuspensionReason.id,
        SuspensionReason.counts_as_active.is_(False),
    )
    return and_(
        Enrolment.entry_date <= day,
        Enrolment.csp_contract_signed_on <= day,
        or_(Enrolment.exit_date.is_(None), Enrolment.exit_date > day),
        ~suspended,
    )


def monthly_table(session, scope: Scope) -> CspTable:
    """Compute the whole table with two GROUP BY cohort queries and one per-group exit query."""
    cut_off = scope.date_to
    cohort = year_month(Referral.referred_on).label("cohort")
    next_day = datetime.combine(cut_off + timedelta(days=1), time())
    stmt = (
        select(
            cohort,
            func.count(Referral.id),
            func.coalesce(func.sum(case((Enrolment.prebilan_at < next_day, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((Enrolment.csp_contract_signed_on <= cut_off, 1), else_=0)), 0
            ),
            func.coalesce(
                func.sum(
                    case(
                        (and_(ExitType.is_rupture.is_(True), Enrolment.exit_date <= cut_off), 1),
                        else_=0,
                    )
                ),
                0,
            ),
            func.count(distinct(case((active_on(cut_off), Enrolment.referent_id)))),
        )
        .select_from(Referral)
        .outerjoin(Enrolment, Enrolment.referral_id == Referral.id)
        .outerjoin(ExitType, Enrolment.exit_type_id == ExitType.id)
        .where(referred_in_period(scope))
        .group_by(cohort)
    )
    rows = {key: CohortRow(month_label(key)) for key in months_between(scope.date_from, cut_off)}
    for key, *values in session.execute(stmt):
        for card, value in zip(ACTIVITY, values, strict=True):
            rows[key].counts[card.code] = int(value)
    _add_results(session, scope, rows)
    total = CohortRow("Cumul")
    for row in rows.values():
        total.counts.update(row.counts)
        total.contracts.update(row.contracts)
    total.counts[REFERENTS.code] = session.scalar(
        select(func.count(distinct(Enrolment.referent_id))).where(
            Enrolment.programme_id == scope.programme_id, active_on(cut_off)
        )
    )
    return CspTable(cut_off, list(rows.values()), total)


def _add_results(session, scope: Scope, rows: dict[str, CohortRow]) -> None:
    """Result counts per cohort from the classified exits (002 §6), observed at cut-off."""
    cut_off = scope.date_to
    cohort = year_month(Referral.referred_on)
    # 002 §9 « en situation d'emploi dans un délai de 6 mois après la reprise d'emploi »:
    # what the counsellor recorded when the follow-up in employment ended.
    still_employed = case((and_(Enrolment.employed_at_follow_up_end.is_(True),
                                Enrolment.closed_on <= cut_off), 1), else_=0)
    where = and_(
        referred_in_period(scope),
        Enrolment.csp_contract_signed_on <= cut_off,
        Enrolment.exit_date <= cut_off,
    )
    groups = exit_groups(
        session,
        where,
        scope.exit_scheme,
        extra_keys=(cohort, still_employed),
        joins=[(Referral, Enrolment.referral_id == Referral.id)],
    )
    for g in groups:
        key, employed_after_follow_up = g.keys
        row, rule, positive = rows[key], g.exit_type, g.classification.csp_positive
        if employed_after_follow_up:
            row.counts[EMPLOYED_6M.code] += g.count
        if not positive:
            row.counts[WITHOUT_SOLUTION.code] += g.count
            continue
        is_training = rule.needs_training_title and rule.csp_rule == "min_months"
        if is_training:
            row.counts[TRAININGS.code] += g.count
        elif rule.code in CREATION_CODES:
            row.counts[CREATIONS.code] += g.count
        else:
            row.contracts[CONTRACT_GROUPS.get(rule.code, OTHER_CONTRACTS)] += g.count


__all__ = ["CspTable", "CohortRow", "monthly_table"]
