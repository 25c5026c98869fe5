"""The life cycle of a path as actions: commission decisions, purchase orders, start,
phases, suspensions, abandon, exit and follow-up (issue « Path lifecycle »).

Each function checks with `rules.lifecycle` (raising `TransitionRefused` with a French
message), then changes the rows. Audit entries are written by the session hook
(`backoffice/audit/`).
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from ..enums import AbandonReason, ContractKind, EnrolmentStatus, ReferralAction, ReferralStatus
from ..models import (
    BarrierType,
    Beneficiary,
    Enrolment,
    ExitType,
    Internship,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    Suspension,
    SuspensionReason,
    User,
    Workshop,
    WorkshopAttendance,
)
from ..models.paths import Commission
from ..rules import lifecycle
from ..rules.calendar import add_months, last_day_of_months, planned_end_date
from ..rules.exits import (
    ExitFacts,
    ExitTypeRule,
    abandon_exit_code,
    classify_exit,
    validate_exit_facts,
)
from ..rules.lifecycle import TransitionRefused

#: 002 I §3–4: ARJLJ orders name the company in receivership and the support start date.
ORDERS_NAMING_THE_COMPANY = ("ARJLJ",)


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _who(referral: Referral) -> str:
    return f"Prescription n° {referral.id} ({referral.beneficiary.full_name})"


def _check_decision_date(referral: Referral, today: date) -> None:
    """A decision cannot precede the referral it decides on."""
    if today < referral.referred_on:
        raise TransitionRefused(
            f"Date de décision : elle ne peut pas être antérieure à la date de prescription "
            f"({_fmt(referral.referred_on)})"
        )


# --- Commission decisions ------------------------------------------------------------

def decide_referrals(
    session: Session,
    referrals: list[Referral],
    action: str,
    decider: User,
    today: date,
    *,
    commission: Commission | None = None,
    validated_months: int | None = None,
    reason: str | None = None,
    deferred_to: Commission | None = None,
) -> list[Referral]:
    """Validate, reject or defer referrals (001 « Organisation »), all or none.

    A deferral records its reason and the commission the referral is deferred to
    (`deferred_to`, of the referral's programme, after the decision; issue 20 §7).
    A refusal on any referral refuses the whole batch with a message naming it.
    """
    action = ReferralAction(action)
    if action not in (ReferralAction.VALIDATE, ReferralAction.REJECT, ReferralAction.DEFER):
        raise TransitionRefused(f"Action : « {action.label} » n'est pas une décision")
    if not referrals:
        raise TransitionRefused("Sélection : aucune prescription choisie")
    if action is ReferralAction.REJECT:
        reason = lifecycle.check_reject(reason)
    decisions = []  # checked for every referral before any is changed
    for referral in referrals:
        try:
            _check_decision_date(referral, today)
            new_status = lifecycle.next_referral_status(referral.status, action)
            months = None
            if action is ReferralAction.VALIDATE:
                months = _validated_months(referral, validated_months)
            if commission is not None and commission.programme.id != referral.programme_id:
                raise TransitionRefused(
                    f"Commission : elle examine le dispositif {commission.programme.code}, "
                    f"pas {referral.programme.code}"
                )
            if deferred_to is not None and deferred_to.programme.id != referral.programme_id:
                raise TransitionRefused(
                    f"Commission de report : elle examine le dispositif "
                    f"{deferred_to.programme.code}, pas {referral.programme.code}"
                )
        except TransitionRefused as refused:
            raise TransitionRefused(f"{_who(referral)} — {refused.message}") from None
        decisions.append((referral, new_status, months))
    if action is ReferralAction.DEFER:  # issue 20 §7: why, and to which commission
        reason = lifecycle.check_defer(reason, today,
                                       deferred_to.held_on if deferred_to else None)
    if action is ReferralAction.VALIDATE:  # who enters, and who decides it (001)
        for referral in referrals:
            try:
                lifecycle.check_commission_decision(
                    referral.programme.code, referral.programme.requires_commission,
                    commission is not None)
                _check_admission(referral.programme, referral.beneficiary)
            except TransitionRefused as refused:
                raise TransitionRefused(f"{_who(referral)} — {refused.message}") from None
    for referral, new_status, months in decisions:
        referral.status = new_status
        referral.decided_on = today
        referral.decided_by = decider
        referral.commission = commission
        referral.validated_months = months
        referral.decision_reason = reason if action in (ReferralAction.REJECT,
                                                        ReferralAction.DEFER) else None
        referral.deferred_to = deferred_to if action is ReferralAction.DEFER else None
    session.flush()
    return referrals


def commission_on(session: Session, programme: Programme, held_on: date) -> Commission:
    """The programme's commission held on `held_on`, created when there is none (a
    commission decides in session: « today's commission », issue 20 §7). Added to the
    session, saved with the decision it serves (one transaction)."""
    found = session.scalar(select(Commission).where(
        Commission.programme_id == programme.id, Commission.held_on == held_on)
        .order_by(Commission.id).limit(1))
    if found is None:
        found = Commission(programme=programme, held_on=held_on)
        session.add(found)
    return found


def _validated_months(referral: Referral, asked: int | None) -> int | None:
    """The duration the commission validates: asked or the programme's default, for the
    programmes whose commission sets it (DEL-L1, 001 « Organisation »); None otherwise."""
    programme = referral.programme
    if not programme.duration_set_by_commission:
        return lifecycle.check_validation(programme.code, None, programmes_with_months=())
    return lifecycle.check_validation(
        programme.code, asked, programmes_with_months=(programme.code,),
        default_months=programme.default_validated_months or lifecycle.DEFAULT_VALIDATED_MONTHS,
    )


def withdraw_referral(
    session: Session,
    referral: Referral,
    decider: User,
    today: date,
    *,
    reason: str | None = None,
    replacement_beneficiary_id: int | None = None,
) -> Referral | None:
    """Record a withdrawal (désistement) and, if given, the replacement candidate's referral.

    001 « Organisation »: after a withdrawal, another candidate may be proposed for the
    session; the new referral points to the one it replaces and awaits the commission.
    """
    try:
        _check_decision_date(referral, today)
        new_status = lifecycle.next_referral_status(referral.status, ReferralAction.WITHDRAW)
    except TransitionRefused as refused:
        raise TransitionRefused(f"{_who(referral)} — {refused.message}") from None
    _check_not_entered_yet(session, referral, "désistement")
    referral.status = new_status
    referral.decided_on = today
    referral.decided_by = decider
    referral.decision_reason = (reason or "").strip() or None
    replacement = None
    if replacement_beneficiary_id is not None:
        if replacement_beneficiary_id == referral.beneficiary_id:
            raise TransitionRefused(
                "Candidat de remplacement : choisir une autre personne que celle qui se désiste"
            )
        replacement = Referral(
            beneficiary_id=replacement_beneficiary_id, programme_id=referral.programme_id,
            prescriber_name=referral.prescriber_name,
            prescription_place=referral.prescription_place,
            reason=f"Remplacement de la prescription n° {referral.id}",
            referred_on=today, status=ReferralStatus.PENDING, replaces=referral,
        )
        session.add(replacement)
    session.flush()
    return replacement


def correct_referral(session: Session, referral: Referral) -> Referral:
    """A referral corrected in its edit form: once decided, its date stays on or before
    the decision; once its path is open, its person and programme stay those of the path
    and its date on or before the entry."""
    with session.no_autoflush:  # checked before it is written
        if referral.decided_on is not None and referral.referred_on > referral.decided_on:
            raise TransitionRefused(
                f"Date de prescription : elle ne peut pas suivre la décision du "
                f"{_fmt(referral.decided_on)}"
            )
        path = session.scalar(select(Enrolment).where(Enrolment.referral_id == referral.id))
        if path is not None:
            if (referral.beneficiary.id, referral.programme.id) != \
                    (path.beneficiary_id, path.programme_id):
                raise TransitionRefused(
                    f"Personne et dispositif : le parcours n° {path.id} est ouvert sur cette "
                    "prescription ; ils ne changent plus"
                )
            if referral.referred_on > path.entry_date:
                raise TransitionRefused(
                    f"Date de prescription : elle ne peut pas suivre l'entrée en parcours du "
                    f"{_fmt(path.entry_date)} (parcours n° {path.id})"
                )
    session.flush()
    return referral


def _check_not_entered_yet(session: Session, referral: Referral, what: str) -> None:
    """A withdrawal or a non-entry concerns a person who has not entered (001
    « Organisation »: « désistement d'un demandeur d'emploi prescrit et validé pour entrer
    dans un parcours »); once the path is open, leaving it is an abandon or an exit."""
    path_id = session.scalar(select(Enrolment.id).where(Enrolment.referral_id == referral.id))
    if path_id is not None:
        raise TransitionRefused(
            f"{_who(referral)} — le parcours n° {path_id} est ouvert : pas de {what} après "
            "l'entrée ; déclarer un abandon ou clôturer le parcours"
        )


def record_non_entry(
    session: Session,
    referral: Referral,
    decider: User,
    today: date,
    barrier_types: list[BarrierType],
    notes: str | None = None,
) -> Referral:
    """Record that a person did not enter, with the barriers that prevented it (001)."""
    if not barrier_types:
        raise TransitionRefused(
            "Freins à l'entrée : indiquer au moins un frein (001 : typologie des non-entrées)"
        )
    try:
        _check_decision_date(referral, today)
        referral.status = lifecycle.next_referral_status(
            referral.status, ReferralAction.NOT_ENTERED
        )
    except TransitionRefused as refused:
        raise TransitionRefused(f"{_who(referral)} — {refused.message}") from None
    _check_not_entered_yet(session, referral, "non-entrée")
    referral.decided_on = today
    referral.decided_by = decider
    referral.non_entry_barriers = list(barrier_types)
    referral.non_entry_notes = (notes or "").strip() or None
    session.flush()
    return referral


# --- Purchase orders -----------------------------------------------------------------

def create_purchase_order(
    session: Session,
    referrals: list[Referral],
    number: str,
    issued_on: date,
    *,
    company_name: str | None = None,
    support_start_on: date | None = None,
) -> PurchaseOrder:
    """Create a purchase order with one line per validated referral (001 « Organisation »).

    Every referral must be validated, of one programme, and not already on an order.
    ARJLJ orders name the company and the support start date (002 I §3–4).
    """
    number = (number or "").strip()
    if not number:
        raise TransitionRefused("Numéro du bon de commande : obligatoire")
    if not referrals:
        raise TransitionRefused("Sélection : aucune prescription choisie")
    programmes = {r.programme_id for r in referrals}
    if len(programmes) > 1:
        raise TransitionRefused(
            "Sélection : un bon de commande ne porte que sur un dispositif ; "
            "choisir des prescriptions d'un même dispositif"
        )
    programme = referrals[0].programme
    for referral in referrals:
        if referral.status is not ReferralStatus.VALIDATED:
            raise TransitionRefused(
                f"{_who(referral)} — statut « {referral.status.label} » : seules les "
                "prescriptions validées entrent sur un bon de commande"
            )
    on_order = session.scalars(
        select(PurchaseOrderLine.referral_id).where(
            PurchaseOrderLine.referral_id.in_([r.id for r in referrals])
        )
    ).all()
    if on_order:
        raise TransitionRefused(
            f"Prescription n° {on_order[0]} : déjà inscrite sur un bon de commande"
        )
    if session.scalar(select(PurchaseOrder.id).where(
            PurchaseOrder.funder_id == programme.funder_id, PurchaseOrder.number == number)):
        raise TransitionRefused(
            f"Numéro du bon de commande : le n° {number} existe déjà pour ce financeur"
        )
    _check_company(programme, company_name, support_start_on)
    order = PurchaseOrder(
        funder_id=programme.funder_id, programme=programme, number=number, issued_on=issued_on,
        beneficiary_count=len(referrals), company_name=company_name,
        support_start_on=support_start_on,
    )
    for referral in referrals:
        order.lines.append(PurchaseOrderLine(
            beneficiary_id=referral.beneficiary_id, referral=referral,
            duration_months=referral.validated_months,
        ))
    session.add(order)
    session.flush()
    return order


def _check_company(programme: Programme, company_name: str | None,
                   support_start_on: date | None) -> None:
    if programme.code in ORDERS_NAMING_THE_COMPANY and (
            not company_name or support_start_on is None):
        raise TransitionRefused(
            "Entreprise et date de début : obligatoires pour un bon de commande ARJLJ "
            "(002 I §3 : la prestation court à compter de la date de début du bon)"
        )


def check_purchase_order(order: PurchaseOrder) -> None:
    """An order typed or corrected in its form: from the programme's funder; an ARJLJ
    order names the company and the start date (002 I §3–4)."""
    if order.funder.id != order.programme.funder_id:
        raise TransitionRefused(
            f"Financeur : le dispositif {order.programme.code} est financé par "
            f"{order.programme.funder.name}"
        )
    _check_company(order.programme, order.company_name, order.support_start_on)
    rupture = order.last_contract_rupture_on
    if rupture is not None:
        if order.programme.code not in ORDERS_NAMING_THE_COMPANY:
            raise TransitionRefused(
                "Rupture du contrat du dernier salarié : elle ne concerne que les bons de "
                "commande ARJLJ (002 I §3)")
        if order.support_start_on is not None and rupture < order.support_start_on:
            raise TransitionRefused(
                f"Rupture du contrat du dernier salarié : le {_fmt(rupture)} précède le "
                f"début de l'accompagnement ({_fmt(order.support_start_on)})")
    # 002 I §3: the order's start and its last rupture set the end of each of its paths
    for path in order_paths(order):
        recompute_planned_end(path)


def order_paths(order: PurchaseOrder) -> list[Enrolment]:
    """The paths launched by an order (none for an order not yet saved)."""
    if order.id is None:
        return []
    session = inspect(order).session
    with session.no_autoflush:
        return list(session.scalars(select(Enrolment).where(
            Enrolment.purchase_order_id == order.id)))


def check_order_line(session: Session, line: PurchaseOrderLine) -> None:
    """An order line typed or corrected in its form: its referral (if any) of the line's
    person and of the order's programme, and on no other line. Its status is not asked:
    a CSP order comes with France Travail's referrals, before the pré-bilan decides on
    them (002 II §3), and a person may withdraw after being put on an order."""
    referral = line.referral
    if referral is None:
        return
    with session.no_autoflush:  # checked before it is written
        _check_referral_of(referral, line.beneficiary, line.order.programme)
        others = select(PurchaseOrderLine.order_id).where(
            PurchaseOrderLine.referral_id == referral.id)
        if line.id is not None:
            others = others.where(PurchaseOrderLine.id != line.id)
        if session.scalar(others):
            raise TransitionRefused(
                f"Prescription n° {referral.id} : déjà inscrite sur un bon de commande")


def receive_purchase_order(order: PurchaseOrder, received_at: datetime) -> PurchaseOrder:
    """Record when the order reached the provider (starts the ARJLJ 2-working-day clock)."""
    if order.received_at is not None:
        raise TransitionRefused(
            f"Réception : le bon n° {order.number} a déjà été reçu le "
            f"{order.received_at:%d/%m/%Y à %H:%M}"
        )
    if received_at.date() < order.issued_on:
        raise TransitionRefused(
            f"Date de réception : elle ne peut pas précéder l'émission du bon "
            f"({_fmt(order.issued_on)})"
        )
    order.received_at = received_at
    order.received_on = received_at.date()
    return order


# --- Start, planned end, phases ------------------------------------------------------

def path_duration(enrolment: Enrolment) -> tuple[int | None, int | None]:
    """(months, weeks) the path lasts: the commission's validated months, else the
    programme's planned duration (001 « Organisation », 002 I §3 / II §3)."""
    programme = enrolment.programme
    if enrolment.referral is not None and enrolment.referral.validated_months:
        return enrolment.referral.validated_months, None
    months = programme.planned_months or programme.max_months
    weeks = programme.planned_weeks or programme.max_weeks
    return (months, None) if months else (None, weeks)


def _support_start(enrolment: Enrolment) -> date:
    """When the path's duration is counted from: the entry, or for an order that names
    the support's start (ARJLJ) that date — 002 I §3: « 6 semaines à compter de la date
    de début de l'accompagnement mentionnée dans le bon de commande », the same for every
    employee, whenever each enters."""
    order = enrolment.purchase_order
    if order is not None and order.support_start_on is not None \
            and order.programme.code in ORDERS_NAMING_THE_COMPANY:
        return order.support_start_on
    return enrolment.entry_date


def _caps(enrolment: Enrolment) -> list[date | None]:
    """The last days the support may not pass (rules.lifecycle.support_end)."""
    programme, caps = enrolment.programme, []
    if programme.adhesion_months and enrolment.csp_adhesion_on is not None:
        # 002 II §3: « au plus tard à la date de fin d'adhésion du bénéficiaire au CSP »
        caps.append(last_day_of_months(enrolment.csp_adhesion_on, programme.adhesion_months))
    order = enrolment.purchase_order
    if order is not None and order.programme.code in ORDERS_NAMING_THE_COMPANY:
        # 002 I §3: « le jour de la rupture du contrat de travail du dernier salarié »
        caps.append(order.last_contract_rupture_on)
    return caps


def experimental_extension_months(programme: Programme, months: int | None) -> int:
    """How far work suspensions may push the end for an experimental public: the
    programme's longest path for them less the path's length (002 II §3 : « La phase
    d'accompagnement de 12 mois peut donc être effectuée sur une période totale de 18 mois
    maximum » : 18 − 12 = 6 months)."""
    if programme.experimental_max_months is None or months is None:
        return lifecycle.MAX_EXTENSION_MONTHS
    return max(programme.experimental_max_months - months, 0)


def recompute_planned_end(enrolment: Enrolment, without: Suspension | None = None) -> date | None:
    """Set and return the planned end: start + duration, inclusive, next working day,
    pushed by work suspensions of experimental CSP publics (002 §3), never after the end
    of the CSP adhesion or an ARJLJ company's last contract rupture; 31 December of the
    entry year for an action over the calendar year (004 §4); ``without``: a suspension
    being deleted."""
    months, weeks = path_duration(enrolment)
    if months is None and weeks is None:
        if enrolment.programme.ends_with_calendar_year:
            # 004 §4: « L'action se déroule du 1er janvier ... au 31 décembre »
            enrolment.planned_end_date = date(enrolment.entry_date.year, 12, 31)
        else:
            enrolment.planned_end_date = None
        return enrolment.planned_end_date
    territory = enrolment.programme.funder.territory.value
    start = _support_start(enrolment)
    base = planned_end_date(start, months, weeks, territory=territory)
    pushing = [
        (s.starts_on, s.ends_on, s.reason.pushes_end_date) for s in enrolment.suspensions
        if s is not without
    ]
    extra = lifecycle.suspension_extension_days(
        pushing, base, experimental_public=enrolment.beneficiary.experimental_csp_public,
        cap_months=experimental_extension_months(enrolment.programme, months),
    )
    end = (planned_end_date(start, months, weeks, territory=territory, extra_days=extra)
           if extra else base)
    enrolment.planned_end_date = lifecycle.support_end(end, enrolment.entry_date,
                                                       *_caps(enrolment))
    return enrolment.planned_end_date


def start_path(
    session: Session,
    referral: Referral,
    entry_date: date,
    today: date,
    *,
    referent: User | None = None,
    programme_session: ProgrammeSession | None = None,
    order: PurchaseOrder | None = None,
    csp_adhesion_on: date | None = None,
) -> Enrolment:
    """Open the path of a validated referral, in the programme's first phase."""
    adhesion = csp_adhesion_on or default_csp_adhesion(
        referral.programme, referral.beneficiary, referral, entry_date)
    check_new_path(session, referral.beneficiary, referral.programme, referral, entry_date,
                   today, programme_session=programme_session, order=order,
                   csp_adhesion_on=adhesion)
    enrolment = Enrolment(
        beneficiary=referral.beneficiary, programme=referral.programme, referral=referral,
        session=programme_session, purchase_order=order, referent=referent,
        entry_date=entry_date, csp_adhesion_on=adhesion,
    )
    session.add(enrolment)
    return _open(session, enrolment)


def default_csp_adhesion(programme: Programme, beneficiary: Beneficiary,
                         referral: Referral | None, entry_date: date) -> date | None:
    """The adhesion date a CSP path takes when none is typed: France Travail orients the
    person « à l'issue de l'entretien réalisé par Pôle emploi lors de l'entrée dans le
    dispositif » (002 II §3), so the orientation's date (else the entry). None for another
    programme and for an experimental public, who does not adhere (002 II §2)."""
    if programme.adhesion_months is None or beneficiary.experimental_csp_public:
        return None
    return referral.referred_on if referral is not None else entry_date


def open_path(session: Session, enrolment: Enrolment, today: date) -> Enrolment:
    """Check a path typed in the create form (already added to the session) and open it.

    The same checks and opening as « Démarrer le parcours »: a path never starts closed,
    without its first phase, or on another person's referral.
    """
    with session.no_autoflush:  # the new path must not be written before it is checked
        if enrolment.csp_adhesion_on is None:
            enrolment.csp_adhesion_on = default_csp_adhesion(
                enrolment.programme, enrolment.beneficiary, enrolment.referral,
                enrolment.entry_date)
        check_new_path(session, enrolment.beneficiary, enrolment.programme,
                       enrolment.referral, enrolment.entry_date, today,
                       programme_session=enrolment.session, order=enrolment.purchase_order,
                       csp_adhesion_on=enrolment.csp_adhesion_on)
    return _open(session, enrolment)


def check_new_path(
    session: Session,
    beneficiary: Beneficiary,
    programme: Programme,
    referral: Referral | None,
    entry_date: date,
    today: date,
    *,
    programme_session: ProgrammeSession | None = None,
    order: PurchaseOrder | None = None,
    path_id: int | None = None,
    referral_changed: bool = True,
    csp_adhesion_on: date | None = None,
    admission_changed: bool = False,
) -> None:
    """A new path (or, with ``path_id``, a path corrected in its edit form): its referral
    (if any) validated, of this person and programme, without another path; the entry
    neither before the referral nor in the future; its session and order of the same
    programme. A path's own referral, unchanged, is not checked for its status again.
    A programme with a commission opens only from a referral its commission validated;
    DEL-L2 admits only a person recognised by the CRHD (001 « Organisation », Lot 2)."""
    if referral is not None:
        if referral_changed and referral.status is not ReferralStatus.VALIDATED:
            raise TransitionRefused(
                f"{_who(referral)} — statut « {referral.status.label} » : seule une "
                "prescription validée ouvre un parcours"
            )
        _check_referral_of(referral, beneficiary, programme)
        other_paths = select(Enrolment.id).where(Enrolment.referral_id == referral.id)
        if path_id is not None:
            other_paths = other_paths.where(Enrolment.id != path_id)
        if session.scalar(other_paths):
            raise TransitionRefused(f"{_who(referral)} — un parcours est déjà ouvert pour elle")
        if entry_date < referral.referred_on:
            raise TransitionRefused(
                f"Date d'entrée : elle ne peut pas précéder la prescription "
                f"({_fmt(referral.referred_on)})"
            )
    if referral_changed:
        lifecycle.check_path_referral(
            programme.code, programme.requires_commission, has_referral=referral is not None,
            validated_by_commission=referral is not None and referral.commission is not None)
    if path_id is None or admission_changed:
        _check_admission(programme, beneficiary)
    if entry_date > today:
        raise TransitionRefused(
            f"Date d'entrée : elle ne peut pas être dans le futur (aujourd'hui : {_fmt(today)})"
        )
    if programme_session is not None and programme_session.programme_id != programme.id:
        raise TransitionRefused("Session : elle appartient à un autre dispositif")
    if order is not None and order.programme_id != programme.id:
        raise TransitionRefused("Bon de commande : il porte sur un autre dispositif")
    _check_csp(session, beneficiary, programme, entry_date, today, csp_adhesion_on, path_id)


def _check_csp(session: Session, beneficiary: Beneficiary, programme: Programme,
               entry_date: date, today: date, adhesion_on: date | None,
               path_id: int | None) -> None:
    """002 II §2–3: the adhesion date of a CSP path, and a CSP neither renewed nor held
    twice at once (the person's other paths of a programme with an adhesion)."""
    is_csp = programme.adhesion_months is not None
    lifecycle.check_csp_adhesion(adhesion_on, entry_date, today, is_csp=is_csp,
                                 experimental_public=beneficiary.experimental_csp_public)
    if not is_csp or beneficiary.id is None:
        return
    others = select(Enrolment.id, Enrolment.entry_date, Enrolment.exit_date,
                    Enrolment.csp_adhesion_on).join(
        Programme, Enrolment.programme_id == Programme.id).where(
        Enrolment.beneficiary_id == beneficiary.id, Programme.adhesion_months.is_not(None))
    if path_id is not None:
        others = others.where(Enrolment.id != path_id)
    lifecycle.check_single_csp(adhesion_on, entry_date,
                               [tuple(row) for row in session.execute(others)])


def correct_path(session: Session, enrolment: Enrolment, today: date,
                 previous_entry: date) -> Enrolment:
    """A path corrected in its edit form: checked as a new one; a corrected entry date
    moves the first phase's start with it (as it was opened on the entry) but may not
    leave a phase or a suspension before it; the planned end is computed again."""
    with session.no_autoflush:  # checked before it is written
        check_new_path(session, enrolment.beneficiary, enrolment.programme,
                       enrolment.referral, enrolment.entry_date, today,
                       programme_session=enrolment.session, order=enrolment.purchase_order,
                       path_id=enrolment.id,
                       referral_changed=inspect(enrolment).attrs.referral.history.has_changes(),
                       csp_adhesion_on=enrolment.csp_adhesion_on,
                       admission_changed=any(
                           inspect(enrolment).attrs[name].history.has_changes()
                           for name in ("beneficiary", "programme")))
        entry = enrolment.entry_date
        if entry != previous_entry:
            for record in enrolment.phase_records:
                if record.started_on == previous_entry:
                    record.started_on = entry
            # a phase or a suspension ends on or after its start (CHECK dates_order):
            # the earliest start tells whether one lies before the new entry; so does the
            # first workshop the person signed for and the first internship (rules.activity)
            starts = _period_starts(session, enrolment)
            first_workshop = session.execute(
                select(Workshop.held_at, Workshop.title)
                .join(WorkshopAttendance, WorkshopAttendance.workshop_id == Workshop.id)
                .where(WorkshopAttendance.enrolment_id == enrolment.id)
                .order_by(Workshop.held_at).limit(1)).first()
            if first_workshop is not None:
                starts.append((first_workshop.held_at.date(),
                               f"l'atelier « {first_workshop.title} » émargé a lieu"))
            earliest = min(starts, key=lambda item: item[0], default=None)
            if earliest is not None and earliest[0] < entry:
                raise TransitionRefused(
                    f"Date d'entrée : {earliest[1]} le {_fmt(earliest[0])}, avant la "
                    f"nouvelle date d'entrée ({_fmt(entry)})"
                )
        recompute_planned_end(enrolment)
    session.flush()
    return enrolment


def _period_starts(session: Session, enrolment: Enrolment) -> list[tuple[date, str]]:
    """The start of every period the path holds (phases, suspensions, internships), each
    with its French description, for the checks of a corrected entry and of the exit."""
    starts = [(r.started_on, f"la phase « {r.phase.name} » commence")
              for r in enrolment.phase_records]
    starts += [(s.starts_on, f"la suspension ({s.reason.label}) commence")
               for s in enrolment.suspensions]
    starts += [(row.starts_on, f"le stage chez {row.company_name} commence")
               for row in session.execute(
                   select(Internship.starts_on, Internship.company_name)
                   .where(Internship.enrolment_id == enrolment.id))]
    return starts


def _check_admission(programme: Programme, beneficiary: Beneficiary) -> None:
    """Who the programme admits: DEL-L2 a person recognised by the CRHD (001 Lot 2)."""
    lifecycle.check_disability_recognition(
        programme.code, programme.requires_disability_recognition,
        bool(beneficiary.disability_recognition), beneficiary.full_name)


def _check_referral_of(referral: Referral, beneficiary: Beneficiary, programme: Programme) -> None:
    """A referral used by a path or an order line: of its person and its programme."""
    if referral.beneficiary_id != beneficiary.id:
        raise TransitionRefused(
            # the referral's own person is not named (issue 18 §2: no name of another)
            f"Prescription n° {referral.id} — elle concerne une autre personne que "
            f"{beneficiary.full_name}"
        )
    if referral.programme_id != programme.id:
        raise TransitionRefused(
            f"{_who(referral)} — elle oriente vers le dispositif {referral.programme.code}, "
            f"pas vers {programme.code}"
        )


def _open(session: Session, enrolment: Enrolment) -> Enrolment:
    """Active, in the programme's first phase from the entry date, planned end computed."""
    with session.no_autoflush:
        first_phase = session.scalar(
            select(Phase).where(Phase.programme_id == enrolment.programme.id)
            .order_by(Phase.position).limit(1)
        )
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.current_phase = first_phase
    if first_phase is not None:
        enrolment.phase_records.append(
            PhaseRecord(phase=first_phase, started_on=enrolment.entry_date))
    recompute_planned_end(enrolment)
    session.flush()
    return enrolment


def _open_phase_record(enrolment: Enrolment) -> PhaseRecord | None:
    open_records = [r for r in enrolment.phase_records if r.ended_on is None]
    return open_records[-1] if open_records else None


def next_phase(
    session: Session, enrolment: Enrolment, on_date: date, *, derogation: bool = False
) -> PhaseRecord:
    """Close the current phase and open the next one (002 §4)."""
    lifecycle.next_enrolment_status(enrolment.status, "next_phase")
    phases = enrolment.programme.phases
    current = enrolment.current_phase
    if current is None or not phases:
        raise TransitionRefused("Phase : ce dispositif n'a pas de phases définies")
    following = [p for p in phases if p.position > current.position and not p.is_follow_up]
    if not following:
        raise TransitionRefused(
            f"Phase : « {current.name} » est la dernière phase du parcours ; "
            "clôturer le parcours avec une sortie"
        )
    record = _open_phase_record(enrolment)
    started = record.started_on if record else enrolment.entry_date
    end = lifecycle.check_next_phase(
        record.ended_on if record else None, started, current.max_days,
        current.derogation_max_days, derogation or (record.derogation if record else False),
        on_date,
    )
    if record is not None:
        record.ended_on = end
        record.derogation = derogation or record.derogation
    new_record = PhaseRecord(phase=following[0], started_on=on_date)
    enrolment.phase_records.append(new_record)
    enrolment.current_phase = following[0]
    session.flush()
    return new_record


def save_phase_record(session: Session, record: PhaseRecord) -> PhaseRecord:
    """A phase record typed or corrected in its form: a phase of the path's programme,
    not before the entry, overlapping no other record (002 §4); the path's current phase
    then follows its records (the latest started)."""
    with session.no_autoflush:  # checked before it is written
        enrolment = record.enrolment
        if record.phase.programme_id != enrolment.programme_id:
            raise TransitionRefused(
                f"Phase : « {record.phase.name} » n'est pas une phase du dispositif "
                f"{enrolment.programme.code}"
            )
        lifecycle.check_phase_record(
            record.started_on, record.ended_on, enrolment.entry_date,
            [(r.phase.name, r.started_on, r.ended_on)
             for r in enrolment.phase_records if r is not record],
        )
        if record not in enrolment.phase_records:
            enrolment.phase_records.append(record)
        _follow_phase_records(enrolment)
    session.flush()
    return record


def before_phase_record_deleted(record: PhaseRecord) -> None:
    """A phase record about to be deleted: the current phase follows the others."""
    _follow_phase_records(record.enrolment, without=record)


def _follow_phase_records(enrolment: Enrolment, without: PhaseRecord | None = None) -> None:
    records = [r for r in enrolment.phase_records if r is not without]
    if records:
        enrolment.current_phase = max(records, key=lambda r: r.started_on).phase


# --- Suspensions ---------------------------------------------------------------------

def suspend(
    session: Session,
    enrolment: Enrolment,
    reason: SuspensionReason,
    starts_on: date,
    ends_on: date | None = None,
    notes: str | None = None,
) -> Suspension:
    """Suspend a path (002 §3); the planned end moves only for experimental publics' work."""
    suspension = Suspension(reason=reason, starts_on=starts_on, ends_on=ends_on,
                            notes=(notes or "").strip() or None)
    return add_suspension(session, enrolment, suspension)


def add_suspension(session: Session, enrolment: Enrolment, suspension: Suspension) -> Suspension:
    """« Suspendre », or a suspension typed in its create form: the path must be in
    progress; it becomes suspended and its planned end is computed again."""
    lifecycle.next_enrolment_status(enrolment.status, "suspend")
    with session.no_autoflush:  # checked before it is written
        _check_suspension_dates(enrolment, suspension)
        if suspension not in enrolment.suspensions:
            enrolment.suspensions.append(suspension)
        enrolment.status = EnrolmentStatus.SUSPENDED
        recompute_planned_end(enrolment)
    session.flush()
    return suspension


def correct_suspension(session: Session, suspension: Suspension) -> Suspension:
    """A suspension's dates corrected in its edit form: the same checks, and the path's
    planned end computed again (a work suspension of an experimental public moves it)."""
    with session.no_autoflush:  # checked before it is written
        _check_suspension_dates(suspension.enrolment, suspension)
        recompute_planned_end(suspension.enrolment)
    session.flush()
    return suspension


def before_suspension_deleted(suspension: Suspension) -> None:
    """A suspension about to be deleted from its list: the path's planned end without it."""
    recompute_planned_end(suspension.enrolment, without=suspension)


def _check_suspension_dates(enrolment: Enrolment, suspension: Suspension) -> None:
    if suspension.starts_on < enrolment.entry_date:
        raise TransitionRefused(
            f"Début de la suspension : il ne peut pas précéder l'entrée "
            f"({_fmt(enrolment.entry_date)})"
        )
    lifecycle.check_suspension(
        suspension.starts_on, suspension.ends_on,
        [(s.starts_on, s.ends_on) for s in enrolment.suspensions if s is not suspension],
    )


def resume(session: Session, enrolment: Enrolment, on_date: date) -> Enrolment:
    """End the running suspension on the day before `on_date` and reactivate the path."""
    enrolment.status = lifecycle.next_enrolment_status(enrolment.status, "resume")
    running = [s for s in enrolment.suspensions if s.ends_on is None or s.ends_on >= on_date]
    for suspension in running:
        if on_date <= suspension.starts_on:
            raise TransitionRefused(
                f"Date de reprise : elle doit suivre le début de la suspension "
                f"({_fmt(suspension.starts_on)})"
            )
        suspension.ends_on = date.fromordinal(on_date.toordinal() - 1)
    recompute_planned_end(enrolment)
    session.flush()
    return enrolment


# --- Exits ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ExitInput:
    """What the exit form gives (001 « Évaluation », 002 §6, 004)."""

    exit_date: date
    facts: ExitFacts = ExitFacts()
    reason: str | None = None
    goal_attainment: int | None = None
    satisfaction: int | None = None
    difficulties: str | None = None
    recommendations: str | None = None
    no_internship_reason: str | None = None  # 001 « Description »: mandatory internship


def _check_scores(data: ExitInput) -> None:
    if data.satisfaction is not None and not 1 <= data.satisfaction <= 5:
        raise TransitionRefused(f"Satisfaction : {data.satisfaction} n'est pas une note de 1 à 5")
    if data.goal_attainment is not None and not 0 <= data.goal_attainment <= 3:
        raise TransitionRefused(
            f"Atteinte des objectifs : {data.goal_attainment} n'est pas un niveau de 0 à 3"
        )


def close_with_exit(
    session: Session, enrolment: Enrolment, exit_type: ExitType, data: ExitInput, today: date
):
    """Close a path with its exit, or open its follow-up when the exit does (DEL: whoever
    completes the path, 3 months, 001 étape 3; CSP: a durable job, 6 months, 002 §6).
    Returns the classification."""
    lifecycle.check_exit(enrolment.entry_date, data.exit_date, today)
    with session.no_autoflush:
        lifecycle.check_exit_after_periods(data.exit_date, _period_starts(session, enrolment))
    _check_scores(data)
    rule = ExitTypeRule.from_object(exit_type)
    scheme = enrolment.programme.exit_scheme
    errors = validate_exit_facts(rule, data.facts, scheme)
    if errors:
        raise TransitionRefused(" ; ".join(errors))
    if rule.is_rupture and not (data.difficulties or "").strip():
        raise TransitionRefused(
            "Difficultés rencontrées : obligatoires pour une rupture (001 « Évaluation »)"
        )
    classification = classify_exit(rule, data.facts, scheme, exit_date=data.exit_date,
                                   planned_end_date=enrolment.planned_end_date)
    no_internship_reason = lifecycle.check_internship_at_exit(
        enrolment.programme.code, enrolment.programme.requires_internship,
        anticipated=classification.is_anticipated,
        internships=internship_count(session, enrolment), reason=data.no_internship_reason)
    follow_up_months = enrolment.programme.follow_up_months or 0
    follows = classification.opens_follow_up and follow_up_months > 0
    enrolment.status = lifecycle.next_enrolment_status(
        enrolment.status, "close_with_exit", opens_follow_up=follows
    )
    _apply_exit(enrolment, exit_type, data)
    enrolment.no_internship_reason = no_internship_reason
    record = _open_phase_record(enrolment)
    if record is not None:
        record.ended_on = max(data.exit_date, record.started_on)
    for suspension in enrolment.suspensions:
        if suspension.ends_on is None:
            suspension.ends_on = max(data.exit_date, suspension.starts_on)
    if follows:
        # 001 étape 3: « dans la limite d'une période de trois mois »
        enrolment.follow_up_end_date = add_months(data.exit_date, follow_up_months)
        follow_phase = next((p for p in enrolment.programme.phases if p.is_follow_up), None)
        if follow_phase is not None:
            enrolment.current_phase = follow_phase
            enrolment.phase_records.append(
                PhaseRecord(phase=follow_phase, started_on=data.exit_date)
            )
    else:
        enrolment.closed_on = data.exit_date
    session.flush()
    return classification


def internship_count(session: Session, enrolment: Enrolment) -> int:
    """Internships recorded on the path (planned or done)."""
    if enrolment.id is None:
        return 0
    return session.scalar(select(func.count(Internship.id))
                          .where(Internship.enrolment_id == enrolment.id)) or 0


def _apply_exit(enrolment: Enrolment, exit_type: ExitType, data: ExitInput) -> None:
    facts = data.facts
    enrolment.exit_date = data.exit_date
    enrolment.exit_type = exit_type
    enrolment.contract_kind = ContractKind(facts.contract_kind) if facts.contract_kind else None
    enrolment.contract_months = facts.contract_months
    enrolment.hours_per_month = int(facts.hours_per_month) if facts.hours_per_month else None
    enrolment.employer = facts.employer
    enrolment.training_title = facts.training_title
    enrolment.followup_contract_kind = (
        ContractKind(facts.followup_contract_kind) if facts.followup_contract_kind else None
    )
    enrolment.followup_contract_months = facts.followup_contract_months
    enrolment.exit_reason = data.reason
    enrolment.abandon_reason = None
    enrolment.goal_attainment = data.goal_attainment
    enrolment.satisfaction = data.satisfaction
    enrolment.difficulties = (data.difficulties or "").strip() or None
    enrolment.recommendations = (data.recommendations or "").strip() or None


def declare_abandon(
    session: Session,
    enrolment: Enrolment,
    on_date: date,
    reason: str,
    today: date,
    *,
    difficulties: str | None = None,
    recommendations: str | None = None,
) -> Enrolment:
    """Close the path as an anticipated exit (rupture, 001 « Évaluation »; 002 §4: the
    abandon is declared to the funder within 48 h), with its reason; on a PLIE path the
    exit type is the PLIE exit motive of that reason (004 « Sortie de l'action »)."""
    try:
        reason_member = AbandonReason(reason)
    except ValueError:
        raise TransitionRefused(f"Motif de l'abandon : « {reason} » est inconnu") from None
    lifecycle.check_exit(enrolment.entry_date, on_date, today)
    with session.no_autoflush:
        lifecycle.check_exit_after_periods(on_date, _period_starts(session, enrolment))
    code = abandon_exit_code(enrolment.programme.exit_scheme, reason_member)
    exit_type = session.scalar(select(ExitType).where(ExitType.code == code))
    if exit_type is None:
        raise TransitionRefused(f"Type de sortie « {code} » absent du référentiel (seeds)")
    enrolment.status = lifecycle.next_enrolment_status(enrolment.status, "declare_abandon")
    _apply_exit(enrolment, exit_type, ExitInput(
        exit_date=on_date, difficulties=difficulties or reason_member.label,
        recommendations=recommendations,
    ))
    enrolment.abandon_reason = reason_member
    enrolment.closed_on = on_date
    record = _open_phase_record(enrolment)
    if record is not None:
        record.ended_on = max(on_date, record.started_on)
    for suspension in enrolment.suspensions:
        if suspension.ends_on is None:
            suspension.ends_on = max(on_date, suspension.starts_on)
    session.flush()
    return enrolment


def end_follow_up(session: Session, enrolment: Enrolment, on_date: date, *,
                  employed: bool | None = None) -> Enrolment:
    """Close a path at the end of its follow-up in employment, recording whether the
    person is still in employment (002 II §9: « en situation d'emploi dans un délai de
    6 mois après la reprise d'emploi »; None when not said)."""
    enrolment.status = lifecycle.next_enrolment_status(enrolment.status, "end_follow_up")
    if enrolment.exit_date and on_date < enrolment.exit_date:
        raise TransitionRefused(
            f"Fin du suivi : elle ne peut pas précéder la sortie ({_fmt(enrolment.exit_date)})"
        )
    enrolment.employed_at_follow_up_end = employed
    record = _open_phase_record(enrolment)
    if record is not None:
        record.ended_on = max(on_date, record.started_on)
    enrolment.closed_on = on_date
    session.flush()
    return enrolment


def active_portfolio_size(session: Session, referent_id: int) -> int:
    """Active paths of a referent (002 §7.4: neither suspended, in follow-up nor closed)."""
    return session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.referent_id == referent_id, Enrolment.status == EnrolmentStatus.ACTIVE
        )
    )
