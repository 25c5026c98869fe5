"""DEL province Sud indicators (001 « Évaluation » and the indicator table at its end).

Populations (see scope.py): *referred* = referrals dated within the period; *followed* =
paths entered on or before the period's end and not exited before its start (the
« effectif initial » of the ED / SD / SP rates); *exited* = followed paths whose exit date
falls within the period. For an end-of-path report the paths are those of the session.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, case, distinct, func, or_, select

from ..enums import DelCategory, ReferralStatus
from ..models import (
    Barrier,
    BarrierType,
    Enrolment,
    ExitType,
    Internship,
    ProgrammeSession,
    Referral,
    referral_non_entry_barriers,
)
from ..rules.exits import DEL_CATEGORY_ORDER
from .base import Kind, Result, average, count, indicator, rate, shared
from .exit_groups import exits_by_reason, exits_in_period
from .scope import Scope, days_between, exited_in_period, followed, referred_in_period

#: Goal attainment scale of the exit form (Enrolment.goal_attainment, 001 « Évaluation »).
GOAL_ATTAINMENT_LABELS = {
    0: "Non atteint",
    1: "Peu atteint",
    2: "Partiellement atteint",
    3: "Atteint",
}
#: Engagement and soft-skills scale (Enrolment.engagement_level, soft_skills_level).
LEVEL_LABELS = {
    1: "1 — insuffisant",
    2: "2 — à renforcer",
    3: "3 — satisfaisant",
    4: "4 — très satisfaisant",
}
#: Satisfaction answers counted as satisfied (on a 1–5 scale).
SATISFIED_FROM = 4


# --- The shared readings: several indicators come from each ---------------------------


@shared
def _referrals(session, scope: Scope) -> tuple[int, int, int]:
    """Referrals of the period: (how many, entered by the period's end, not entered)."""
    entered_by_end = case((Enrolment.entry_date <= scope.date_to, Enrolment.id))
    not_entered = case((Referral.status == ReferralStatus.NOT_ENTERED, 1), else_=0)
    total, entered, refused = session.execute(
        select(func.count(Referral.id), func.count(entered_by_end), func.sum(not_entered))
        .select_from(Referral)
        .outerjoin(Enrolment, Enrolment.referral_id == Referral.id)  # at most one per referral
        .where(referred_in_period(scope))
    ).one()
    return total, entered, int(refused or 0)


@shared
def _followed_paths(session, scope: Scope) -> tuple[int, int, int]:
    """Paths followed in the period: (how many, distinct persons, with a project and plan)."""
    with_project = case(
        (
            and_(
                Enrolment.target_job.is_not(None),
                Enrolment.target_job != "",
                Enrolment.action_plan_on <= scope.date_to,
            ),
            1,
        ),
        else_=0,
    )
    paths, people, projects = session.execute(
        select(
            func.count(Enrolment.id),
            func.count(distinct(Enrolment.beneficiary_id)),
            func.sum(with_project),
        ).where(followed(scope))
    ).one()
    return paths, people, int(projects or 0)


def _headcount_n(session, scope: Scope) -> int:
    """The initial headcount of the exit rates: paths followed in the period."""
    return _followed_paths(session, scope)[0]


def exits_by_category(session, scope: Scope) -> Counter:
    """Exits of the period by their own DEL category (« ED », « SD », « SP »; « other »)."""
    found: Counter = Counter()
    for g in exits_in_period(session, scope):
        found[g.classification.del_category or "other"] += g.count
    return found


# --- Modalités d'entrée -------------------------------------------------------------


@indicator(
    "del.referred",
    "Demandeurs d'emploi prescrits",
    "Nombre de prescriptions vers le dispositif datées de la période.",
    "001, tableau des indicateurs",
)
def referred(session, scope: Scope) -> Result:
    """COUNT of referrals dated within the period."""
    return count(referred.indicator, _referrals(session, scope)[0])


# 001, tableau des indicateurs: each « Rapport entre A et B » is read literally, A / B
# (docs/specification-readings.md, « Indicateurs et sorties »): the numerator is the first
# figure the text names, the denominator the second.


@indicator(
    "del.entry_rate",
    "Taux d'entrée",
    """Rapport entre le nombre de demandeurs d'emploi prescrits sur la période et le
    nombre de bénéficiaires réels (ceux de ces prescriptions suivies d'une entrée en
    parcours au plus tard le dernier jour de la période), dans cet ordre comme le définit
    le cahier des charges : 125 % = 5 prescrits pour 4 entrés ; 100 % = chaque prescrit est
    entré.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def entry_rate(session, scope: Scope) -> Result:
    """Referred / entered, over the referrals of the period.

    001: « Rapport entre le nombre de demandeurs d'emploi prescrits et le nombre de
    bénéficiaires réels ».
    """
    total, entered, _not_entered = _referrals(session, scope)
    return rate(entry_rate.indicator, total, entered)


def _at_session_end():
    """SQL: 1 when a path integrated to a session is still there at its end — not exited,
    exited on or after the session's last day, or exited having completed the path (at or
    after its planned end, with an exit that is not anticipated by its type); else 0.

    A path that ends normally before its session does (entries « au fil de l'eau », 001
    « Organisation ») counts: only the anticipated exits of 001 (« sortis avant la fin du
    parcours ») leave the session before its end.
    """
    completed = and_(
        ExitType.is_anticipated.is_(False),
        or_(
            Enrolment.planned_end_date.is_(None),
            Enrolment.exit_date >= Enrolment.planned_end_date,
        ),
    )
    return case(
        (
            or_(
                Enrolment.exit_date.is_(None),
                Enrolment.exit_date >= ProgrammeSession.ends_on,
                completed,
            ),
            1,
        ),
        else_=0,
    )


@indicator(
    "del.integration_rate",
    "Taux d'intégration par session",
    """Pour chaque session terminée sur la période : rapport entre le nombre de
           demandeurs d'emploi intégrés à la session et le nombre de demandeurs d'emploi à
           la fin de la session, dans cet ordre comme le définit le cahier des charges. Est
           à la fin de la session celui qui n'en est pas sorti avant : encore en parcours le
           dernier jour, ou parcours achevé (sortie à la fin prévue ou après, sans abandon
           ni autre sortie anticipée). 100 % = personne n'est parti avant la fin ; 125 % =
           5 intégrés pour 4 présents à la fin. Le taux global additionne les sessions.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def integration_rate(session, scope: Scope) -> Result:
    """Per session: integrated / at the session's end (GROUP BY session).

    001: « Rapport entre le nombre de demandeurs d'emploi intégrés à une session et le
    nombre de demandeurs d'emploi à la fin de la session ».
    """
    conditions = [
        ProgrammeSession.programme_id == scope.programme_id,
        ProgrammeSession.ends_on.is_not(None),
    ]
    if scope.session_id is not None:
        conditions.append(ProgrammeSession.id == scope.session_id)
    else:
        conditions.append(ProgrammeSession.ends_on.between(scope.date_from, scope.date_to))
    stmt = (
        select(
            ProgrammeSession.label,
            ProgrammeSession.ends_on,
            func.count(Enrolment.id),
            func.coalesce(func.sum(_at_session_end()), 0),
        )
        .select_from(ProgrammeSession)
        .join(Enrolment, Enrolment.session_id == ProgrammeSession.id)
        .outerjoin(ExitType, Enrolment.exit_type_id == ExitType.id)
        .where(*conditions)
        .group_by(ProgrammeSession.id, ProgrammeSession.label, ProgrammeSession.ends_on)
        .order_by(ProgrammeSession.ends_on, ProgrammeSession.label)
    )
    rows = []
    for label, ends_on, integrated, at_end in session.execute(stmt):
        at_end = int(at_end)
        rows.append((label, ends_on, integrated, at_end, integrated / at_end if at_end else None))
    return rate(integration_rate.indicator, sum(r[2] for r in rows), sum(r[3] for r in rows), rows)


@indicator(
    "del.duration_rate",
    "Taux de la durée du parcours",
    """Rapport entre la durée initiale préconisée (de l'entrée à la fin prévue, en jours)
           et la durée effective (de l'entrée à la sortie) des parcours sortis sur la
           période, dans cet ordre comme le définit le cahier des charges : somme des durées
           préconisées / somme des durées effectives ; 100 % = parcours menés à leur terme,
           au-dessus = parcours plus courts que prévu. Les parcours sans fin prévue ne sont
           pas comptés.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def duration_rate(session, scope: Scope) -> Result:
    """Σ recommended days / Σ effective days over paths exited in the period.

    001: « Rapport entre la durée initiale préconisée et la durée effective du parcours
    réalisé ».
    """
    stmt = select(
        func.coalesce(func.sum(days_between(Enrolment.entry_date, Enrolment.exit_date)), 0),
        func.coalesce(func.sum(days_between(Enrolment.entry_date, Enrolment.planned_end_date)), 0),
    ).where(exited_in_period(scope), Enrolment.planned_end_date.is_not(None))
    effective, recommended = session.execute(stmt).one()
    return rate(duration_rate.indicator, int(recommended), int(effective))


@indicator(
    "del.headcount",
    "Nombre de bénéficiaires (parcours suivis)",
    """Parcours suivis sur la période : entrés au plus tard le dernier jour et non sortis
           avant le premier jour (un parcours à cheval sur deux périodes ou suspendu compte).
           C'est l'effectif initial des taux de sortie. Une personne entrée deux fois compte
           deux parcours ; le détail donne le nombre de personnes distinctes.""",
    "001 « Évaluation »",
)
def headcount(session, scope: Scope) -> Result:
    """COUNT of followed enrolments; rows: distinct persons."""
    paths, people, _projects = _followed_paths(session, scope)
    return count(headcount.indicator, paths, rows=[("Personnes distinctes", people)])


@indicator(
    "del.non_entries",
    "Non-entrées par frein",
    """Prescriptions de la période enregistrées en non-entrée, et nombre de fois où
           chaque type de frein a empêché l'entrée (une non-entrée peut citer plusieurs
           freins).""",
    "001, tableau des indicateurs",
    Kind.DISTRIBUTION,
)
def non_entries(session, scope: Scope) -> Result:
    """COUNT of not-entered referrals; rows: GROUP BY barrier type."""
    where = and_(referred_in_period(scope), Referral.status == ReferralStatus.NOT_ENTERED)
    stmt = (
        select(BarrierType.label, func.count())
        .select_from(referral_non_entry_barriers)
        .join(Referral, Referral.id == referral_non_entry_barriers.c.referral_id)
        .join(BarrierType, BarrierType.id == referral_non_entry_barriers.c.barrier_type_id)
        .where(where)
        .group_by(BarrierType.id, BarrierType.label, BarrierType.sort_order)
        .order_by(BarrierType.sort_order, BarrierType.label)
    )
    total = _referrals(session, scope)[2]
    return count(non_entries.indicator, total, rows=session.execute(stmt).all())


# --- Modalités de suivi ------------------------------------------------------------


@indicator(
    "del.project_rate",
    "Taux de progression — projet défini et plan d'action",
    """Parcours suivis ayant un projet professionnel défini (métier visé) et un plan
           d'action daté au plus tard le dernier jour, rapportés aux parcours suivis.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def project_rate(session, scope: Scope) -> Result:
    """SUM(CASE project and plan) / COUNT over followed paths."""
    paths, _people, projects = _followed_paths(session, scope)
    return rate(project_rate.indicator, projects, paths)


@shared
def _barriers(session, scope: Scope) -> list[tuple[str, int, int]]:
    """Barriers of followed paths identified on or before the period's last day, by type:
    (type, identified, lifted on or before that day)."""
    lifted = case((Barrier.lifted_on <= scope.date_to, 1), else_=0)
    stmt = (
        select(BarrierType.label, func.count(Barrier.id), func.coalesce(func.sum(lifted), 0))
        .select_from(Barrier)
        .join(Enrolment, Barrier.enrolment_id == Enrolment.id)
        .join(BarrierType, Barrier.barrier_type_id == BarrierType.id)
        .where(followed(scope), Barrier.identified_on <= scope.date_to)
        .group_by(BarrierType.id, BarrierType.label, BarrierType.sort_order)
        .order_by(BarrierType.sort_order, BarrierType.label)
    )
    return [(label, n, int(up)) for label, n, up in session.execute(stmt)]


@indicator(
    "del.barriers_lifted_rate",
    "Taux de progression — freins levés",
    """Freins socio-professionnels levés au plus tard le dernier jour de la période,
           rapportés aux freins identifiés sur les parcours suivis.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def barriers_lifted_rate(session, scope: Scope) -> Result:
    """SUM(CASE lifted) / COUNT over barriers of followed paths."""
    rows = _barriers(session, scope)
    return rate(barriers_lifted_rate.indicator, sum(r[2] for r in rows), sum(r[1] for r in rows))


@shared
def _levels(session, scope: Scope) -> dict[tuple, int]:
    """Followed paths by (engagement level, soft-skills level): at most 25 groups."""
    stmt = (
        select(Enrolment.engagement_level, Enrolment.soft_skills_level, func.count())
        .where(followed(scope))
        .group_by(Enrolment.engagement_level, Enrolment.soft_skills_level)
    )
    return {(engaged, skills): n for engaged, skills, n in session.execute(stmt)}


def _level(session, scope: Scope, which: int, card) -> Result:
    """Average of a 1–4 level (``which``: 0 engagement, 1 soft skills) over followed paths
    where it is filled, with its distribution."""
    paths: Counter = Counter()
    for levels, n in _levels(session, scope).items():
        if levels[which] is not None:
            paths[levels[which]] += n
    rows = [(LEVEL_LABELS.get(level, str(level)), n, level) for level, n in sorted(paths.items())]
    answered = sum(r[1] for r in rows)
    return average(card, sum(r[1] * r[2] for r in rows), answered, [(r[0], r[1]) for r in rows])


@indicator(
    "del.engagement",
    "Taux de progression — engagement du demandeur",
    """Niveau moyen d'engagement (échelle de 1 à 4) des parcours suivis où il est
           évalué, avec la répartition par niveau.""",
    "001, tableau des indicateurs",
    Kind.AVERAGE,
)
def engagement(session, scope: Scope) -> Result:
    """AVG engagement level (GROUP BY level)."""
    return _level(session, scope, 0, engagement.indicator)


@indicator(
    "del.soft_skills",
    "Taux de progression — savoir-être (soft skills)",
    """Niveau moyen de savoir-être et de comportement (échelle de 1 à 4) des parcours
           suivis où il est évalué, avec la répartition par niveau.""",
    "001, tableau des indicateurs",
    Kind.AVERAGE,
)
def soft_skills(session, scope: Scope) -> Result:
    """AVG soft-skills level (GROUP BY level)."""
    return _level(session, scope, 1, soft_skills.indicator)


@indicator(
    "del.barrier_typology",
    "Typologie des freins rencontrés",
    """Nombre de freins identifiés sur les parcours suivis, par type de frein, et
           combien ont été levés au plus tard le dernier jour de la période.""",
    "001, tableau des indicateurs",
    Kind.DISTRIBUTION,
)
def barrier_typology(session, scope: Scope) -> Result:
    """COUNT barriers GROUP BY type; rows: (type, identified, lifted)."""
    rows = _barriers(session, scope)
    return count(barrier_typology.indicator, sum(r[1] for r in rows), rows)


@indicator(
    "del.internships",
    "Stages suivis",
    """Stages en entreprise des parcours suivis dont les dates croisent la période
           (001 étapes 1 et 2) ; le détail donne le nombre de parcours ayant au moins un
           stage.""",
    "001 « Évaluation »",
)
def internships(session, scope: Scope) -> Result:
    """COUNT internships overlapping the period; rows: paths with at least one."""
    stmt = (
        select(func.count(Internship.id), func.count(distinct(Internship.enrolment_id)))
        .select_from(Internship)
        .join(Enrolment, Internship.enrolment_id == Enrolment.id)
        .where(
            followed(scope),
            Internship.starts_on <= scope.date_to,
            Internship.ends_on >= scope.date_from,
        )
    )
    n, paths = session.execute(stmt).one()
    return count(internships.indicator, n, rows=[("Parcours avec au moins un stage", paths)])


# --- Modalités de sortie -----------------------------------------------------------


@indicator(
    "del.exits",
    "Sorties de la période par type",
    "Parcours sortis sur la période (date de sortie comprise), par type de sortie.",
    "001 « Évaluation »",
    Kind.DISTRIBUTION,
)
def exits(session, scope: Scope) -> Result:
    """COUNT exits GROUP BY type and facts; rows: (type, DEL category, count)."""
    by_type: Counter = Counter()
    category: dict[str, str] = {}
    order: dict[str, int] = {}
    for g in exits_in_period(session, scope):
        by_type[g.exit_type.label] += g.count
        order[g.exit_type.label] = g.exit_type.sort_order
        category.setdefault(g.exit_type.label, set()).add(g.classification.del_category or "—")
    rows = [
        (label, " / ".join(sorted(category[label])), n)
        for label, n in sorted(by_type.items(), key=lambda kv: order[kv[0]])
    ]
    return count(exits.indicator, sum(by_type.values()), rows)


def _inclusive_rate(session, scope: Scope, card, category: str) -> Result:
    """Exits of ``category`` or a better one (001: SD ⊃ ED, SP ⊃ SD) / initial headcount."""
    own = exits_by_category(session, scope)
    better_or_same = DEL_CATEGORY_ORDER[: DEL_CATEGORY_ORDER.index(category) + 1]
    return rate(card, sum(own[c] for c in better_or_same), _headcount_n(session, scope))


@indicator(
    "del.ed_rate",
    "Taux d'insertion dans l'emploi durable (ED)",
    """Parcours sortis sur la période avec une sortie « Emploi durable » rapportés à
           l'effectif initial (parcours suivis). ED : création d'entreprise, engagement dans
           l'armée, CDD de 6 mois ou plus, CDI, patenté, PPIC.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def ed_rate(session, scope: Scope) -> Result:
    """ED exits / initial headcount."""
    return _inclusive_rate(session, scope, ed_rate.indicator, DelCategory.ED)


@indicator(
    "del.sd_rate",
    "Taux de sortie dynamique (SD)",
    """Parcours sortis sur la période avec une « sortie dynamique » rapportés à
           l'effectif initial. SD : ED + CDD de moins de 6 mois, intérim, mi-temps, temps
           partiel, saisonnier, non déclaré, contrats aidés, apprentissage, formation
           qualifiante.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def sd_rate(session, scope: Scope) -> Result:
    """SD (including ED) exits / initial headcount."""
    return _inclusive_rate(session, scope, sd_rate.indicator, DelCategory.SD)


@indicator(
    "del.sp_rate",
    "Taux de sortie positive (SP)",
    """Parcours sortis sur la période avec une « sortie positive » rapportés à
           l'effectif initial. SP : SD + formation pré-qualifiante, retour en vie tribale,
           rescolarisation.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def sp_rate(session, scope: Scope) -> Result:
    """SP (including SD) exits / initial headcount."""
    return _inclusive_rate(session, scope, sp_rate.indicator, DelCategory.SP)


@indicator(
    "del.anticipated_rate",
    "Taux de sortie anticipée",
    """Parcours sortis sur la période avant la fin du parcours (sortie avant la date de
           fin prévue, ou sortie de type abandon, rupture, déménagement, santé…) rapportés
           à l'effectif initial ; le détail donne les raisons (type de sortie et, pour un
           abandon, motif déclaré).""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def anticipated_rate(session, scope: Scope) -> Result:
    """Anticipated exits / initial headcount; rows: by exit type."""
    rows = exits_by_reason(session, scope, lambda g: g.is_anticipated)
    return rate(
        anticipated_rate.indicator, sum(n for _, n in rows), _headcount_n(session, scope), rows
    )


@indicator(
    "del.placements",
    "Taux de placement",
    """Demandeurs d'emploi placés : parcours sortis sur la période vers un emploi
           (sortie ED ou SD qui n'est pas une formation), rapportés à l'effectif initial.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def placements(session, scope: Scope) -> Result:
    """Job exits (ED or SD, not a training) / initial headcount."""
    n = sum(
        g.count
        for g in exits_in_period(session, scope)
        if g.classification.del_category in (DelCategory.ED, DelCategory.SD)
        and not g.exit_type.needs_training_title
    )
    return rate(placements.indicator, n, _headcount_n(session, scope))


@shared
def _satisfaction_answers(session, scope: Scope) -> dict[int, int]:
    """Exits of the period by satisfaction answer (1 to 5; unanswered left out)."""
    stmt = (
        select(Enrolment.satisfaction, func.count())
        .where(exited_in_period(scope), Enrolment.satisfaction.is_not(None))
        .group_by(Enrolment.satisfaction)
    )
    return dict(session.execute(stmt).all())


@indicator(
    "del.satisfaction",
    "Taux de satisfaction du demandeur d'emploi",
    """Parcours sortis sur la période dont la satisfaction est de 4 ou 5 sur 5,
           rapportés aux parcours sortis ayant répondu ; le détail donne la répartition des
           réponses et la moyenne.""",
    "001, tableau des indicateurs",
    Kind.RATE,
)
def satisfaction(session, scope: Scope) -> Result:
    """Satisfied / answered; rows: GROUP BY answer."""
    answers = _satisfaction_answers(session, scope)
    rows = [(f"{score} / 5", answers.get(score, 0)) for score in range(1, 6)]
    satisfied = sum(n for score, n in answers.items() if score >= SATISFIED_FROM)
    return rate(satisfaction.indicator, satisfied, sum(answers.values()), rows)


@indicator(
    "del.satisfaction_average",
    "Satisfaction moyenne",
    "Moyenne des notes de satisfaction (1 à 5) des parcours sortis sur la période.",
    "001, tableau des indicateurs",
    Kind.AVERAGE,
)
def satisfaction_average(session, scope: Scope) -> Result:
    """AVG satisfaction over answered exits of the period."""
    answers = _satisfaction_answers(session, scope)
    total = sum(score * n for score, n in answers.items())
    return average(satisfaction_average.indicator, total, sum(answers.values()))


@indicator(
    "del.goal_attainment",
    "Niveau d'atteinte des objectifs",
    """Parcours sortis sur la période, par niveau d'atteinte des objectifs (0 non
           atteint à 3 atteint) ; le niveau de chaque bénéficiaire est dans la liste
           nominative.""",
    "001 « Évaluation »",
    Kind.DISTRIBUTION,
)
def goal_attainment(session, scope: Scope) -> Result:
    """COUNT exits GROUP BY goal attainment."""
    stmt = (
        select(Enrolment.goal_attainment, func.count())
        .where(exited_in_period(scope))
        .group_by(Enrolment.goal_attainment)
    )
    found = dict(session.execute(stmt).all())
    rows = [(label, found.get(level, 0)) for level, label in GOAL_ATTAINMENT_LABELS.items()]
    rows.append(("Non évalué", found.get(None, 0)))
    return count(goal_attainment.indicator, sum(found.values()), rows)


@indicator(
    "del.ruptures",
    "Ruptures de parcours",
    """Parcours sortis sur la période par abandon ou rupture ; la liste détaille pour
           chacun les difficultés rencontrées et les préconisations.""",
    "001 « Évaluation »",
)
def ruptures(session, scope: Scope) -> Result:
    """COUNT exits of the period whose type is a rupture."""
    n = sum(g.count for g in exits_in_period(session, scope) if g.classification.is_rupture)
    return count(ruptures.indicator, n)


#: The key figures of the DEL workbook, in the order of 001's indicator table.
KEY_FIGURES = (
    referred,
    entry_rate,
    integration_rate,
    duration_rate,
    headcount,
    non_entries,
    project_rate,
    barriers_lifted_rate,
    engagement,
    soft_skills,
    internships,
    anticipated_rate,
    ed_rate,
    sd_rate,
    sp_rate,
    placements,
    satisfaction,
    satisfaction_average,
    ruptures,
)
