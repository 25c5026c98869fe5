"""ARJLJ activity and result table for one purchase order (002 I §7, annex 11).

The population is the paths attached to the order; the period defaults to the order's
support window (002 I §3: at most 6 weeks from the start date on the order).

Some activities are recorded as contacts of a given type: the contact type codes that
mean « entretien individuel », « bilan professionnel » and « mise en relation » are listed
below (data: change the list if the contact types of seeds/ use other codes). The
information meetings are the workshops marked « Réunion d'information collective ».
"""

from __future__ import annotations

from sqlalchemy import and_, case, distinct, func, select, union

from ..models import Contact, ContactType, Enrolment, ExitType, Workshop, WorkshopAttendance
from .base import Result, count, indicator, shared
from .scope import Scope, attended_contacts, attended_workshops, followed

SOURCE = "002 I §7"
#: Contact types counted as « entretien individuel » (002 I §5.1, annex 11): a face-to-face
#: individual interview; a phone call, an e-mail, a bilan professionnel or a mise en
#: relation (each counted on its own line) is not one.
INDIVIDUAL_INTERVIEW_CODES = ("individual",)
#: Contact types counted as « entretien de bilan professionnel » (002 I §5.1).
PROFESSIONAL_REVIEW_CODES = ("professional_review", "bilan_professionnel")
#: Contact types counted as « mise en relation » with an employer (002 I §5.1).
JOB_MATCH_CODES = ("job_match", "mise_en_relation")
#: Exit types meaning the employee joined the CSP (002 I §5.2, seeds/exit_types.yaml).
CSP_ADHESION_CODES = ("csp_adhesion",)


@indicator(
    "arjlj.consultants",
    "Nombre de consultants mobilisés",
    """Personnes distinctes du prestataire référentes d'un salarié du bon de commande ou
           ayant conduit un de ses entretiens sur la période.""",
    SOURCE,
)
def consultants(session, scope: Scope) -> Result:
    """COUNT DISTINCT over the UNION of referents and contact staff."""
    referents = select(Enrolment.referent_id.label("user_id")).where(
        followed(scope), Enrolment.referent_id.is_not(None)
    )
    staff = attended_contacts(scope, Contact.staff_id.is_not(None)).add_columns(
        Contact.staff_id.label("user_id")
    )
    people = union(referents, staff).subquery()
    return count(consultants.indicator, session.scalar(select(func.count()).select_from(people)))


@shared
def _information(session, scope: Scope) -> tuple[int, int]:
    """Present attendances of the order's paths at the information meetings held during
    the period (002 I §7: « réunions d'information collective »; another workshop is not
    one): (distinct employees, distinct meetings)."""
    stmt = attended_workshops(scope).where(Workshop.information_meeting.is_(True)).add_columns(
        func.count(distinct(WorkshopAttendance.enrolment_id)), func.count(distinct(Workshop.id))
    )
    return tuple(session.execute(stmt).one())


@indicator(
    "arjlj.information_receipts",
    "Bénéficiaires ayant émargé (information CSP)",
    """Salariés du bon de commande ayant émargé (présents) à au moins une réunion
           d'information, attestant la réception de l'information relative au CSP.""",
    SOURCE,
)
def information_receipts(session, scope: Scope) -> Result:
    """COUNT DISTINCT enrolments with a present attendance."""
    return count(information_receipts.indicator, _information(session, scope)[0])


@indicator(
    "arjlj.information_meetings",
    "Réunions d'information collective réalisées",
    """Réunions d'information collective (ateliers marqués comme telles) tenues sur la
           période où au moins un salarié du bon de commande a émargé.""",
    SOURCE,
)
def information_meetings(session, scope: Scope) -> Result:
    """COUNT DISTINCT workshops attended by the order's employees."""
    return count(information_meetings.indicator, _information(session, scope)[1])


@indicator(
    "arjlj.group_interviews",
    "Entretiens collectifs",
    """Entretiens collectifs (contacts d'un type collectif) tenus sur la période : un
           entretien réunissant plusieurs salariés compte une fois (même date, heure et
           type).""",
    SOURCE,
)
def group_interviews(session, scope: Scope) -> Result:
    """COUNT DISTINCT (date-time, type) of group contacts."""
    keys = (
        attended_contacts(scope, ContactType.is_group.is_(True))
        .add_columns(Contact.occurs_at, Contact.contact_type_id)
        .distinct()
        .subquery()
    )
    return count(group_interviews.indicator, session.scalar(select(func.count()).select_from(keys)))


@shared
def _contact_counts(session, scope: Scope) -> tuple[int, int, int]:
    """Attended contacts of the period: (individual, professional reviews, job matches)."""
    counted = (
        ContactType.code.in_(INDIVIDUAL_INTERVIEW_CODES),
        ContactType.code.in_(PROFESSIONAL_REVIEW_CODES),
        ContactType.code.in_(JOB_MATCH_CODES),
    )
    stmt = attended_contacts(scope).add_columns(
        *(func.count(case((condition, Contact.id))) for condition in counted)
    )
    return tuple(session.execute(stmt).one())


@indicator(
    "arjlj.individual_interviews",
    "Entretiens individuels",
    """Entretiens individuels en face à face honorés sur la période (ni téléphone, ni
           courriel, ni bilan professionnel ni mise en relation, comptés à part).""",
    SOURCE,
)
def individual_interviews(session, scope: Scope) -> Result:
    """COUNT of contacts whose type code is in INDIVIDUAL_INTERVIEW_CODES."""
    return count(individual_interviews.indicator, _contact_counts(session, scope)[0])


@indicator(
    "arjlj.professional_reviews",
    "Entretiens de bilan professionnel réalisés",
    "Contacts honorés de type « bilan professionnel » sur la période.",
    SOURCE,
)
def professional_reviews(session, scope: Scope) -> Result:
    """COUNT of contacts whose type code is in PROFESSIONAL_REVIEW_CODES."""
    return count(professional_reviews.indicator, _contact_counts(session, scope)[1])


@indicator(
    "arjlj.job_matches",
    "Mises en relation effectuées",
    "Contacts de type « mise en relation » avec un employeur sur la période.",
    SOURCE,
)
def job_matches(session, scope: Scope) -> Result:
    """COUNT of contacts whose type code is in JOB_MATCH_CODES."""
    return count(job_matches.indicator, _contact_counts(session, scope)[2])


@indicator(
    "arjlj.csp_adhesions",
    "Adhésions au CSP",
    "Salariés du bon de commande sortis de l'appui sur la période par une adhésion au CSP.",
    "002 I §5.2 et §7",
)
def csp_adhesions(session, scope: Scope) -> Result:
    """COUNT exits of type « adhésion au CSP » in the period; rows: every exit by type."""
    in_period = and_(followed(scope), Enrolment.exit_date.between(scope.date_from, scope.date_to))
    stmt = (
        select(ExitType.code, ExitType.label, func.count())
        .select_from(Enrolment)
        .join(ExitType, Enrolment.exit_type_id == ExitType.id)
        .where(in_period)
        .group_by(ExitType.id, ExitType.code, ExitType.label, ExitType.sort_order)
        .order_by(ExitType.sort_order)
    )
    found = session.execute(stmt).all()
    n = sum(k for code, _label, k in found if code in CSP_ADHESION_CODES)
    return count(csp_adhesions.indicator, n, rows=[(label, k) for _code, label, k in found])


@indicator(
    "arjlj.beneficiaries",
    "Salariés accompagnés",
    "Parcours rattachés au bon de commande suivis sur la période.",
    SOURCE,
)
def beneficiaries(session, scope: Scope) -> Result:
    """COUNT of the order's followed paths."""
    return count(
        beneficiaries.indicator,
        session.scalar(select(func.count(Enrolment.id)).where(followed(scope))),
    )


KEY_FIGURES = (
    beneficiaries,
    consultants,
    information_receipts,
    information_meetings,
    group_interviews,
    individual_interviews,
    professional_reviews,
    job_matches,
    csp_adhesions,
)
