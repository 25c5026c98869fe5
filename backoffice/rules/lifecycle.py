"""Life cycle of referrals and enrolments: the transition tables and their preconditions.

The tables below are the whole state machine: to allow or forbid a move, add or remove a
row and update the expected table in ``tests/unit/test_lifecycle.py``. The ``check_*``
functions take plain values and raise :class:`TransitionRefused` with a French message
naming the field and the rule; the admin view shows that message as it is.
"""

from __future__ import annotations

from datetime import date

from backoffice.enums import EnrolmentAction, EnrolmentStatus, ReferralAction, ReferralStatus
from backoffice.rules.calendar import add_months


class TransitionRefused(Exception):
    """A move or an input the rules refuse; ``message`` is French and shown to the user."""

    def __init__(self, message: str):
        """Keep the French message on the exception."""
        super().__init__(message)
        self.message = message


def _fmt(day: date) -> str:
    """French date format used in messages: 12/03/2026."""
    return day.strftime("%d/%m/%Y")


# --- Referrals (prescriptions) -------------------------------------------------------

R, RA = ReferralStatus, ReferralAction

#: (current status, action) → new status. Anything not listed is refused.
REFERRAL_TRANSITIONS: dict[tuple[ReferralStatus, ReferralAction], ReferralStatus] = {
    # 001 "Organisation": the commission validates (or not) each entry
    (R.PENDING, RA.VALIDATE): R.VALIDATED,
    (R.PENDING, RA.REJECT): R.REJECTED,
    (R.PENDING, RA.DEFER): R.DEFERRED,
    (R.PENDING, RA.WITHDRAW): R.WITHDRAWN,
    (R.PENDING, RA.NOT_ENTERED): R.NOT_ENTERED,
    # a deferred referral is examined again at a later commission
    (R.DEFERRED, RA.VALIDATE): R.VALIDATED,
    (R.DEFERRED, RA.REJECT): R.REJECTED,
    (R.DEFERRED, RA.WITHDRAW): R.WITHDRAWN,
    # 001 "Organisation": "en cas de désistement d'un demandeur d'emploi prescrit et validé"
    (R.VALIDATED, RA.WITHDRAW): R.WITHDRAWN,
    # 001 indicator table: "nombre et typologie des non entrées dans une session"
    (R.VALIDATED, RA.NOT_ENTERED): R.NOT_ENTERED,
}


def _refused(
    kind: str, current_label: str, action_label: str, allowed: list[str]
) -> TransitionRefused:
    """Build the refusal for an action not allowed from the current status."""
    possible = ", ".join(f"« {a} »" for a in allowed) or "aucune, le dossier est clos"
    return TransitionRefused(
        f"Statut {kind} : l'action « {action_label} » n'est pas possible au statut "
        f"« {current_label} » (actions possibles : {possible})"
    )


def _as_member(enum_cls, value, field: str):
    """Convert a stored string to its enum member, refusing unknown values in French."""
    try:
        return enum_cls(value)
    except ValueError:
        raise TransitionRefused(f"{field} : « {value} » est inconnu") from None


def referral_actions_allowed(current: str) -> list[ReferralAction]:
    """Actions possible on a referral in status ``current`` (for menus and buttons)."""
    current = _as_member(ReferralStatus, current, "Statut de l'orientation")
    return [action for (status, action) in REFERRAL_TRANSITIONS if status is current]


def next_referral_status(current: str, action: str) -> ReferralStatus:
    """Return the status a referral in ``current`` takes after ``action``, or refuse."""
    current = _as_member(ReferralStatus, current, "Statut de l'orientation")
    action = _as_member(ReferralAction, action, "Action")
    target = REFERRAL_TRANSITIONS.get((current, action))
    if target is None:
        allowed = [a.label for a in referral_actions_allowed(current)]
        raise _refused("de l'orientation", current.label, action.label, allowed)
    return target


# --- Enrolments (parcours) -----------------------------------------------------------

E, EA = EnrolmentStatus, EnrolmentAction

#: (current status, action) → new status. Anything not listed is refused.
#: ``close_with_exit`` goes to ``follow_up`` instead of ``closed`` when the exit opens a
#: follow-up (see :func:`next_enrolment_status`).
ENROLMENT_TRANSITIONS: dict[tuple[EnrolmentStatus, EnrolmentAction], EnrolmentStatus] = {
    # 002 §4: phases follow each other; the path stays active
    (E.ACTIVE, EA.NEXT_PHASE): E.ACTIVE,
    # 002 §3: "des périodes de suspension sont possibles"
    (E.ACTIVE, EA.SUSPEND): E.SUSPENDED,
    (E.SUSPENDED, EA.RESUME): E.ACTIVE,
    # 001 "Évaluation": rupture; 002 §4: abandon declared within 48 h
    (E.ACTIVE, EA.DECLARE_ABANDON): E.CLOSED,
    (E.SUSPENDED, EA.DECLARE_ABANDON): E.CLOSED,
    (E.ACTIVE, EA.CLOSE_WITH_EXIT): E.CLOSED,
    # 002 §3: a suspension for a short job can end in a durable job without resuming first
    (E.SUSPENDED, EA.CLOSE_WITH_EXIT): E.CLOSED,
    # 001 étape 3 (3 months), 002 §6 (6 months): end of the follow-up after the exit
    (E.FOLLOW_UP, EA.END_FOLLOW_UP): E.CLOSED,
}


def enrolment_actions_allowed(current: str) -> list[EnrolmentAction]:
    """Actions possible on an enrolment in status ``current`` (for menus and buttons)."""
    current = _as_member(EnrolmentStatus, current, "Statut du parcours")
    return [action for (status, action) in ENROLMENT_TRANSITIONS if status is current]


def next_enrolment_status(
    current: str, action: str, *, opens_follow_up: bool = False
) -> EnrolmentStatus:
    """Return the status an enrolment in ``current`` takes after ``action``, or refuse.

    ``opens_follow_up`` matters for ``close_with_exit`` only: pass
    ``classification.opens_follow_up and programme.follow_up_months > 0`` and the path
    enters its follow-up instead of closing (001 étape 3, 002 §6).
    """
    current = _as_member(EnrolmentStatus, current, "Statut du parcours")
    action = _as_member(EnrolmentAction, action, "Action")
    target = ENROLMENT_TRANSITIONS.get((current, action))
    if target is None:
        allowed = [a.label for a in enrolment_actions_allowed(current)]
        raise _refused("du parcours", current.label, action.label, allowed)
    if action is EA.CLOSE_WITH_EXIT and opens_follow_up:
        return E.FOLLOW_UP
    return target


def is_open(status: str) -> bool:
    """True while the path is followed (active, suspended or in follow-up)."""
    return EnrolmentStatus(status) is not E.CLOSED


def can_be_suspended(status: str) -> bool:
    """True when a suspension can start now (only an active path, 002 §3)."""
    return (EnrolmentStatus(status), EA.SUSPEND) in ENROLMENT_TRANSITIONS


def counts_in_active_portfolio(status: str) -> bool:
    """True when the path counts in the referent's active portfolio.

    002 §7.4: the active portfolio excludes beneficiaries in suspension (illness, leave,
    job, training) and, by definition, those in follow-up or closed.
    """
    return EnrolmentStatus(status) is E.ACTIVE


# --- Preconditions -------------------------------------------------------------------

#: 001 "Organisation": the commission validates "pour le lot 1, la durée de chaque
#: parcours, en nombre de mois"; "les parcours auront une durée moyenne de 7 mois".
PROGRAMMES_WITH_VALIDATED_MONTHS = ("DEL-L1",)
DEFAULT_VALIDATED_MONTHS = 7
MIN_VALIDATED_MONTHS = 1
MAX_VALIDATED_MONTHS = 12


def check_validation(
    programme_code: str,
    validated_months: int | None,
    *,
    programmes_with_months: tuple[str, ...] = PROGRAMMES_WITH_VALIDATED_MONTHS,
    default_months: int = DEFAULT_VALIDATED_MONTHS,
    min_months: int = MIN_VALIDATED_MONTHS,
    max_months: int = MAX_VALIDATED_MONTHS,
) -> int | None:
    """Check the duration the commission validates and return the one to store.

    For DEL-L1 the duration is required in months between 1 and 12; when it is left
    empty (bulk validation) the average of 7 months is used. Other programmes take no
    validated duration (None is returned); giving one is refused rather than ignored.
    """
    if programme_code not in programmes_with_months:
        if validated_months is not None:
            raise TransitionRefused(
                f"Durée validée (mois) : seule la commission des dispositifs "
                f"{', '.join(programmes_with_months)} fixe une durée de parcours "
                f"(001 « Organisation ») ; laisser vide pour {programme_code}"
            )
        return None
    if validated_months is None:
        return default_months
    if not min_months <= validated_months <= max_months:
        raise TransitionRefused(
            f"Durée validée (mois) : {validated_months} mois n'est pas possible, attendu de "
            f"{min_months} à {max_months} mois (001 « Organisation » : durée fixée par la "
            f"commission, {default_months} mois en moyenne)"
        )
    return validated_months


def check_commission_decision(programme_code: str, requires_commission: bool,
                              commission_given: bool) -> None:
    """Refuse to validate an entry of a programme whose entries a commission validates
    without naming that commission (001 « Organisation » : « La validation des entrées en
    parcours se fera en commission interne » ; 004 Lot 2 : « après la validation en
    commission PLIE »)."""
    if requires_commission and not commission_given:
        raise TransitionRefused(
            f"Commission : obligatoire pour valider une entrée en {programme_code} ; les "
            "entrées de ce dispositif sont validées en commission (001 « Organisation »)"
        )


def check_path_referral(programme_code: str, requires_commission: bool, *,
                        has_referral: bool, validated_by_commission: bool) -> None:
    """A programme whose entries a commission validates opens a path only from a referral
    validated by a commission, whatever the route (action, form, command, import):
    001 « Organisation » : « La validation des entrées en parcours se fera en commission
    interne » ; 004 Lot 2 : « après la validation en commission PLIE »."""
    if not requires_commission:
        return
    if not has_referral:
        raise TransitionRefused(
            f"Prescription : obligatoire pour ouvrir un parcours {programme_code} ; seule une "
            "prescription validée en commission ouvre un parcours de ce dispositif "
            "(001 « Organisation »)"
        )
    if not validated_by_commission:
        raise TransitionRefused(
            f"Prescription : elle n'a pas été validée par une commission ; un parcours "
            f"{programme_code} s'ouvre seulement sur une entrée validée en commission "
            "(001 « Organisation »)"
        )


def check_disability_recognition(programme_code: str, required: bool, recognised: bool,
                                 person: str) -> None:
    """DEL Lot 2 admits only a person recognised disabled by the CRHD (001 Lot 2, « Public
    cible » : « Demandeur d'emploi reconnu par la CRHD comme étant en situation de
    handicap »)."""
    if required and not recognised:
        raise TransitionRefused(
            f"Reconnaissance du handicap (RQTH / CRHD) : {person} n'en a pas ; le dispositif "
            f"{programme_code} n'admet que des personnes reconnues par la CRHD (001 Lot 2)"
        )


def check_reject(reason: str | None) -> str:
    """Require a reason to reject a referral; return it without surrounding spaces."""
    reason = (reason or "").strip()
    if not reason:
        raise TransitionRefused("Motif du refus : obligatoire pour refuser une orientation")
    return reason


def check_defer(reason: str | None, decided_on: date, deferred_to_on: date | None) -> str:
    """« Ajourner » (issue 20 §7; 001 « Organisation »: the entries are validated in
    commission): the reason and a later commission that examines the referral again are
    required; return the reason without surrounding spaces."""
    reason = (reason or "").strip()
    if not reason:
        raise TransitionRefused(
            "Motif de l'ajournement : obligatoire pour ajourner une orientation")
    if deferred_to_on is None:
        raise TransitionRefused(
            "Commission de report : obligatoire pour ajourner une orientation (choisissez "
            "une commission prévue ou la date d'une nouvelle)")
    if deferred_to_on <= decided_on:
        raise TransitionRefused(
            f"Commission de report : elle doit se tenir après la décision "
            f"({decided_on:%d/%m/%Y}), pas le {deferred_to_on:%d/%m/%Y}")
    return reason


def check_exit(entry_date: date, exit_date: date | None, today: date) -> None:
    """Refuse an exit date that is missing, before the entry or in the future."""
    if exit_date is None:
        raise TransitionRefused("Date de sortie : obligatoire pour clôturer le parcours")
    if exit_date < entry_date:
        raise TransitionRefused(
            f"Date de sortie : elle ne peut pas être antérieure à la date d'entrée "
            f"({_fmt(entry_date)})"
        )
    if exit_date > today:
        raise TransitionRefused(
            f"Date de sortie : elle ne peut pas être dans le futur (aujourd'hui : {_fmt(today)})"
        )


def check_internship_at_exit(programme_code: str, requires_internship: bool, *,
                             anticipated: bool, internships: int, reason: str | None
                             ) -> str | None:
    """A path of a programme with a mandatory company internship, closed at its normal end
    (not an anticipated exit) without any internship, needs the reason recorded; return
    the reason to store (None when none is given).

    001 « Description » : « Ils devront obligatoirement intégrer une période de stage en
    entreprise »."""
    reason = (reason or "").strip() or None
    if requires_internship and not anticipated and internships == 0 and reason is None:
        raise TransitionRefused(
            f"Motif de l'absence de stage en entreprise : obligatoire, aucun stage n'est "
            f"enregistré sur ce parcours {programme_code} (001 : les parcours « devront "
            "obligatoirement intégrer une période de stage en entreprise »)"
        )
    return reason


def check_exit_after_periods(exit_date: date, starts: list[tuple[date, str]]) -> None:
    """Refuse an exit dated before a period the path already holds (a phase, a suspension,
    an internship: each is a period of the path, so it starts on or before the exit).
    `starts` pairs each start with its French description (« la phase « X » commence »)."""
    latest = max(starts, key=lambda item: item[0], default=None)
    if latest is not None and latest[0] > exit_date:
        raise TransitionRefused(
            f"Date de sortie : {latest[1]} le {_fmt(latest[0])}, après la date de sortie "
            f"({_fmt(exit_date)}) ; corrigez d'abord cette date ou choisissez une sortie "
            "plus tardive"
        )


def check_suspension(
    start: date,
    end: date | None,
    existing: list[tuple[date, date | None]],
) -> None:
    """Refuse a suspension that ends before it starts or overlaps another one.

    ``end`` may be None (suspension still running). ``existing`` holds the other
    suspensions of the same path as (start, end) pairs — leave out the one being edited.
    Periods are inclusive: one ending on the 10th and another starting on the 10th overlap.
    """
    if end is not None and end < start:
        raise TransitionRefused(
            f"Fin de la suspension : elle ne peut pas être antérieure à son début ({_fmt(start)})"
        )
    overlap = _first_overlap(start, end, [(None, s, e) for s, e in existing],
                             shared_day_allowed=False)
    if overlap is not None:
        _name, other_start, other_end = overlap
        raise TransitionRefused(
            f"Période de suspension : elle chevauche la suspension "
            f"{_period(other_start, other_end)} (002 §3 : une seule suspension à la fois pour "
            f"un même parcours)"
        )


def _first_overlap(start: date, end: date | None, periods: list[tuple], *,
                   shared_day_allowed: bool) -> tuple | None:
    """The first of ``periods`` (name, start, end or None while running) that overlaps
    ``start``–``end`` (None: running), both days included; with ``shared_day_allowed``,
    one may start on the day the other ends."""
    for period in periods:
        _name, other_start, other_end = period
        if shared_day_allowed:
            starts_before_it_ends = other_end is None or start < other_end
            ends_after_it_starts = end is None or end > other_start
        else:
            starts_before_it_ends = other_end is None or start <= other_end
            ends_after_it_starts = end is None or end >= other_start
        if starts_before_it_ends and ends_after_it_starts:
            return period
    return None


def _period(start: date, end: date | None) -> str:
    """« du 01/03/2026 au 20/03/2026 », or « du 01/03/2026 (en cours) »."""
    return f"du {_fmt(start)} " + (f"au {_fmt(end)}" if end else "(en cours)")


#: 002 §3: work suspensions of experimental publics push the end "dans une limite
#: maximale de 6 mois" (12 months of support over 18 months at most).
MAX_EXTENSION_MONTHS = 6


def suspension_extension_days(
    suspensions: list[tuple[date, date | None, bool]],
    planned_end: date,
    *,
    experimental_public: bool,
    cap_months: int = MAX_EXTENSION_MONTHS,
) -> int:
    """Number of days by which suspensions push the planned end date of a path.

    ``suspensions`` are (start, end, pushes_end_date) triples; ``pushes_end_date`` comes
    from the suspension reason (only "reprise d'emploi de courte durée"). Suspensions
    never move the end (002 §3: "sans pour autant reporter la date de fin"), except those
    work periods for experimental CSP publics, counted inclusively, capped at
    ``cap_months`` months after ``planned_end``. A suspension still running (end None)
    counts once it ends.
    """
    # 002 §3: "à l'exception des suspensions pour période de travail pour les publics expérimentaux"
    if not experimental_public:
        return 0
    total = sum(
        (end - start).days + 1 for start, end, pushes in suspensions if pushes and end is not None
    )
    cap = (add_months(planned_end, cap_months) - planned_end).days
    return min(total, cap)


def check_phase_record(
    start: date,
    end: date | None,
    entry_date: date,
    others: list[tuple[str, date, date | None]],
) -> None:
    """A phase record typed or corrected by hand (002 §4: one phase at a time).

    Refused when it starts before the path's entry or overlaps another record of the same
    path, given in ``others`` as (phase name, start, end or None while open). A phase may
    start on the day the previous one ends, as « Phase suivante » records it.
    """
    if start < entry_date:
        raise TransitionRefused(
            f"Début de la phase : il ne peut pas précéder l'entrée ({_fmt(entry_date)})"
        )
    overlap = _first_overlap(start, end, others, shared_day_allowed=True)
    if overlap is not None:
        name, other_start, other_end = overlap
        raise TransitionRefused(
            f"Période de la phase : elle chevauche « {name} » {_period(other_start, other_end)} "
            f"(002 §4 : une phase à la fois ; pour passer à la suivante, l'action « Phase "
            f"suivante »)"
        )


def check_next_phase(
    current_phase_end: date | None,
    current_phase_start: date,
    max_days: int | None,
    derogation_max_days: int | None,
    derogation: bool,
    on_date: date,
) -> date:
    """Check the move to the next phase on ``on_date`` and return the current phase's end.

    The current phase ends on its recorded end, or on ``on_date`` when none is recorded;
    the next phase starts on ``on_date``. Refused when the next phase would start before
    the current one is over (002 §4), or when the current phase lasted more than
    ``max_days`` days without derogation, or more than ``derogation_max_days`` with it
    (002 §4: CSP phase 1 "jusqu'à 4 semaines (ou 8 semaines par dérogation)").
    """
    end = current_phase_end if current_phase_end is not None else on_date
    if end < current_phase_start:
        raise TransitionRefused(
            f"Date de passage à la phase suivante : elle ne peut pas être antérieure au début "
            f"de la phase en cours ({_fmt(current_phase_start)})"
        )
    if on_date < end:
        raise TransitionRefused(
            f"Date de passage à la phase suivante : la phase en cours se termine le {_fmt(end)} "
            f"(002 §4 : impossible de débuter une phase tant que la précédente n'a pas été "
            f"réalisée en totalité)"
        )
    lasted = (end - current_phase_start).days
    if max_days is not None and lasted > max_days and not derogation:
        raise TransitionRefused(
            f"Durée de la phase : {lasted} jours, au-delà des {max_days} jours prévus ; cocher la "
            f"dérogation si la situation l'exige (002 §4)"
        )
    if derogation and derogation_max_days is not None and lasted > derogation_max_days:
        raise TransitionRefused(
            f"Durée de la phase : {lasted} jours, au-delà des {derogation_max_days} jours permis "
            f"par dérogation (002 §4)"
        )
    return end


# --- End of a support (002 I §3, 002 II §3, 004 §4) ------------------------------------

def support_end(planned_end: date, entry: date, *caps: date | None) -> date:
    """The planned end of a path: ``planned_end`` (already moved to a working day, 002 II
    §3), but never after a cap — the end of the CSP adhesion (002 II §3: « prend fin au
    plus tard à la date de fin d'adhésion »), the contract rupture of an ARJLJ company's
    last employee (002 I §3: « prend fin le jour de la rupture du contrat de travail du
    dernier salarié accompagné »). A cap is a last day: it does not move. Never before
    the entry (a path lasts at least its first day)."""
    end = min([planned_end, *(c for c in caps if c is not None)])
    return max(end, entry)


def check_csp_adhesion(
    adhesion_on: date | None, entry_date: date, today: date, *, is_csp: bool,
    experimental_public: bool,
) -> None:
    """The date of adhesion to the CSP of a path (002 II §2–3): a CSP's, not after the
    entry nor in the future; none for another programme or an experimental public."""
    if adhesion_on is None:
        return
    if not is_csp:
        raise TransitionRefused(
            "Date d'adhésion au CSP : elle ne concerne que les parcours CSP (002 II §2)")
    if experimental_public:
        raise TransitionRefused(
            "Date d'adhésion au CSP : un public « expérimental » n'adhère pas au CSP "
            "(002 II §2) ; laisser vide")
    if adhesion_on > entry_date:
        raise TransitionRefused(
            f"Date d'adhésion au CSP : le {_fmt(adhesion_on)} suit l'entrée en parcours "
            f"({_fmt(entry_date)}) ; l'adhésion précède l'orientation (002 II §3)")
    if adhesion_on > today:
        raise TransitionRefused(
            f"Date d'adhésion au CSP : elle ne peut pas être dans le futur "
            f"(aujourd'hui : {_fmt(today)})")


def check_single_csp(
    adhesion_on: date | None, entry_date: date,
    others: list[tuple[int, date, date | None, date | None]],
) -> None:
    """A CSP « ne peut être ni renouvelée ni prolongée » (002 II §3): no second path for
    the same adhesion, and never two at once. ``others``: (path id, entry, exit,
    adhesion) of the person's other CSP paths."""
    for path_id, other_entry, other_exit, other_adhesion in others:
        if adhesion_on is not None and other_adhesion == adhesion_on:
            raise TransitionRefused(
                f"Date d'adhésion au CSP : le parcours n° {path_id} accompagne déjà "
                f"l'adhésion du {_fmt(adhesion_on)} ; la prestation n'est ni renouvelable "
                "ni prolongeable (002 II §3)")
        if other_entry <= entry_date and (other_exit is None or other_exit >= entry_date):
            raise TransitionRefused(
                f"Parcours CSP : le parcours n° {path_id} (entré le {_fmt(other_entry)}) "
                "est encore en cours ; un CSP ne se suit pas deux fois à la fois (002 II §3)")
        if other_entry > entry_date:
            raise TransitionRefused(
                f"Parcours CSP : le parcours n° {path_id} commence le {_fmt(other_entry)}, "
                "après cette entrée ; un CSP ne se suit pas deux fois à la fois (002 II §3)")
