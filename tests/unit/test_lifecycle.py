"""Referral and enrolment life cycle: every status × every action, and the preconditions."""

from datetime import date

import pytest

from backoffice.enums import EnrolmentAction, EnrolmentStatus, ReferralAction, ReferralStatus
from backoffice.rules.lifecycle import (
    TransitionRefused,
    can_be_suspended,
    check_defer,
    check_exit,
    check_exit_after_periods,
    check_next_phase,
    check_phase_record,
    check_reject,
    check_suspension,
    check_validation,
    counts_in_active_portfolio,
    enrolment_actions_allowed,
    is_open,
    next_enrolment_status,
    next_referral_status,
    referral_actions_allowed,
    suspension_extension_days,
)

D = date

# --- Referrals: the full table, written out (None = refused) ------------------------------

REFERRAL_EXPECTED = {
    "pending": {
        "validate": "validated",
        "reject": "rejected",
        "defer": "deferred",
        "withdraw": "withdrawn",
        "not_entered": "not_entered",
    },
    "deferred": {
        "validate": "validated",
        "reject": "rejected",
        "defer": None,
        "withdraw": "withdrawn",
        "not_entered": None,
    },
    "validated": {
        "validate": None,
        "reject": None,
        "defer": None,
        "withdraw": "withdrawn",
        "not_entered": "not_entered",
    },
    "rejected": {
        "validate": None,
        "reject": None,
        "defer": None,
        "withdraw": None,
        "not_entered": None,
    },
    "withdrawn": {
        "validate": None,
        "reject": None,
        "defer": None,
        "withdraw": None,
        "not_entered": None,
    },
    "not_entered": {
        "validate": None,
        "reject": None,
        "defer": None,
        "withdraw": None,
        "not_entered": None,
    },
}


def test_referral_table_covers_every_status_and_action():
    assert set(REFERRAL_EXPECTED) == {s.value for s in ReferralStatus}
    for actions in REFERRAL_EXPECTED.values():
        assert set(actions) == {a.value for a in ReferralAction}


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [(s, a, target) for s, row in REFERRAL_EXPECTED.items() for a, target in row.items()],
)
def test_referral_transition(status, action, expected):
    if expected is None:
        with pytest.raises(TransitionRefused, match="Statut de l'orientation : l'action"):
            next_referral_status(status, action)
    else:
        assert next_referral_status(status, action) == expected


def test_referral_refusal_message_is_french_and_lists_the_possible_actions():
    with pytest.raises(TransitionRefused) as refused:
        next_referral_status("validated", "reject")
    assert refused.value.message == (
        "Statut de l'orientation : l'action « Refuser » n'est pas possible au statut "
        "« Validée » (actions possibles : « Enregistrer un désistement », "
        "« Enregistrer une non-entrée »)"
    )


def test_unknown_action_is_refused():
    with pytest.raises(TransitionRefused, match="Action : « approve » est inconnu"):
        next_referral_status("pending", "approve")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(s, [a for a, target in row.items() if target]) for s, row in REFERRAL_EXPECTED.items()],
)
def test_referral_actions_allowed(status, expected):
    assert [a.value for a in referral_actions_allowed(status)] == expected


# --- Enrolments -------------------------------------------------------------------------

#: (target without durable job, target with durable job); None = refused.
ENROLMENT_EXPECTED = {
    "active": {
        "next_phase": ("active", "active"),
        "suspend": ("suspended", "suspended"),
        "resume": None,
        "declare_abandon": ("closed", "closed"),
        "close_with_exit": ("closed", "follow_up"),
        "end_follow_up": None,
    },
    "suspended": {
        "next_phase": None,
        "suspend": None,
        "resume": ("active", "active"),
        "declare_abandon": ("closed", "closed"),
        "close_with_exit": ("closed", "follow_up"),
        "end_follow_up": None,
    },
    "follow_up": {
        "next_phase": None,
        "suspend": None,
        "resume": None,
        "declare_abandon": None,
        "close_with_exit": None,
        "end_follow_up": ("closed", "closed"),
    },
    "closed": {
        "next_phase": None,
        "suspend": None,
        "resume": None,
        "declare_abandon": None,
        "close_with_exit": None,
        "end_follow_up": None,
    },
}


def test_enrolment_table_covers_every_status_and_action():
    assert set(ENROLMENT_EXPECTED) == {s.value for s in EnrolmentStatus}
    for actions in ENROLMENT_EXPECTED.values():
        assert set(actions) == {a.value for a in EnrolmentAction}


@pytest.mark.parametrize(
    ("status", "action", "durable_job", "expected"),
    [
        (s, a, durable, None if targets is None else targets[durable])
        for s, row in ENROLMENT_EXPECTED.items()
        for a, targets in row.items()
        for durable in (False, True)
    ],
)
def test_enrolment_transition(status, action, durable_job, expected):
    if expected is None:
        with pytest.raises(TransitionRefused, match="Statut du parcours : l'action"):
            next_enrolment_status(status, action, opens_follow_up=durable_job)
    else:
        assert next_enrolment_status(status, action, opens_follow_up=durable_job) == expected


def test_closed_enrolment_message_says_nothing_is_possible():
    with pytest.raises(TransitionRefused) as refused:
        next_enrolment_status("closed", "resume")
    assert refused.value.message == (
        "Statut du parcours : l'action « Reprendre » n'est pas possible au statut « Clôturé » "
        "(actions possibles : aucune, le dossier est clos)"
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [(s, [a for a, t in row.items() if t]) for s, row in ENROLMENT_EXPECTED.items()],
)
def test_enrolment_actions_allowed(status, expected):
    assert [a.value for a in enrolment_actions_allowed(status)] == expected


@pytest.mark.parametrize(
    ("status", "open_", "suspendable", "in_portfolio"),
    [
        ("active", True, True, True),
        ("suspended", True, False, False),  # 002 §7.4: suspensions leave the active portfolio
        ("follow_up", True, False, False),
        ("closed", False, False, False),
    ],
)
def test_status_predicates(status, open_, suspendable, in_portfolio):
    assert (is_open(status), can_be_suspended(status), counts_in_active_portfolio(status)) == (
        open_,
        suspendable,
        in_portfolio,
    )


# --- Preconditions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("programme", "months", "expected"),
    [
        ("DEL-L1", 7, 7),
        ("DEL-L1", 1, 1),
        ("DEL-L1", 12, 12),
        ("DEL-L1", None, 7),  # bulk validation: the 7-month average of 001
        ("DEL-L2", None, None),
        ("CSP", None, None),
    ],
)
def test_check_validation_accepts(programme, months, expected):
    assert check_validation(programme, months) == expected


@pytest.mark.parametrize(
    ("programme", "months", "message"),
    [
        ("DEL-L1", 0, "Durée validée (mois) : 0 mois n'est pas possible, attendu de 1 à 12 mois"),
        ("DEL-L1", 13, "Durée validée (mois) : 13 mois n'est pas possible"),
        ("DEL-L2", 8, "Durée validée (mois) : seule la commission des dispositifs DEL-L1"),
    ],
)
def test_check_validation_refuses(programme, months, message):
    with pytest.raises(TransitionRefused) as refused:
        check_validation(programme, months)
    assert refused.value.message.startswith(message)


@pytest.mark.parametrize(("reason", "expected"), [("  Projet non défini ", "Projet non défini")])
def test_check_reject_keeps_the_reason(reason, expected):
    assert check_reject(reason) == expected


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_check_reject_needs_a_reason(reason):
    with pytest.raises(TransitionRefused, match="Motif du refus : obligatoire"):
        check_reject(reason)


@pytest.mark.parametrize(
    ("entry", "exit_", "today", "message"),
    [
        (D(2026, 3, 12), D(2026, 3, 12), D(2026, 4, 1), None),
        (D(2026, 3, 12), D(2026, 4, 1), D(2026, 4, 1), None),
        (
            D(2026, 3, 12),
            D(2026, 3, 11),
            D(2026, 4, 1),
            "Date de sortie : elle ne peut pas être antérieure à la date d'entrée (12/03/2026)",
        ),
        (
            D(2026, 3, 12),
            D(2026, 4, 2),
            D(2026, 4, 1),
            "Date de sortie : elle ne peut pas être dans le futur (aujourd'hui : 01/04/2026)",
        ),
        (
            D(2026, 3, 12),
            None,
            D(2026, 4, 1),
            "Date de sortie : obligatoire pour clôturer le parcours",
        ),
    ],
)
def test_check_exit(entry, exit_, today, message):
    if message is None:
        assert check_exit(entry, exit_, today) is None
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_exit(entry, exit_, today)
        assert refused.value.message == message


PERIODS = [(D(2026, 3, 12), "la phase « Accueil » commence"),
           (D(2026, 5, 4), "le stage chez Boulangerie Kaori commence"),
           (D(2026, 4, 1), "la suspension (Maladie) commence")]


@pytest.mark.parametrize(
    ("exit_", "starts", "message"),
    [
        (D(2026, 5, 4), PERIODS, None),  # a period may start on the exit day
        (D(2026, 6, 1), PERIODS, None),
        (D(2026, 6, 1), [], None),
        (
            D(2026, 5, 3),
            PERIODS,
            "Date de sortie : le stage chez Boulangerie Kaori commence le 04/05/2026, après "
            "la date de sortie (03/05/2026) ; corrigez d'abord cette date ou choisissez une "
            "sortie plus tardive",
        ),
        (
            D(2026, 3, 31),
            PERIODS[::2],
            "Date de sortie : la suspension (Maladie) commence le 01/04/2026, après la date "
            "de sortie (31/03/2026) ; corrigez d'abord cette date ou choisissez une sortie "
            "plus tardive",
        ),
    ],
)
def test_check_exit_after_periods(exit_, starts, message):
    """The latest period is named: each is a period of the path (004, 001 « stage »)."""
    if message is None:
        assert check_exit_after_periods(exit_, starts) is None
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_exit_after_periods(exit_, starts)
        assert refused.value.message == message


EXISTING = [(D(2026, 3, 1), D(2026, 3, 10)), (D(2026, 5, 4), None)]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (D(2026, 3, 11), D(2026, 3, 20), None),  # right after the first one
        (D(2026, 2, 1), D(2026, 2, 28), None),  # right before
        (D(2026, 4, 1), D(2026, 5, 3), None),  # ends the day before the running one
        (
            D(2026, 3, 20),
            D(2026, 3, 19),
            "Fin de la suspension : elle ne peut pas être antérieure à son début (20/03/2026)",
        ),
        (
            D(2026, 3, 10),
            D(2026, 3, 15),
            "Période de suspension : elle chevauche la suspension du 01/03/2026 au 10/03/2026 "
            "(002 §3 : une seule suspension à la fois pour un même parcours)",
        ),
        (
            D(2026, 2, 20),
            D(2026, 3, 1),
            "Période de suspension : elle chevauche la suspension du 01/03/2026",
        ),
        (
            D(2026, 3, 3),
            D(2026, 3, 5),
            "Période de suspension : elle chevauche la suspension du 01/03/2026",
        ),
        (D(2026, 2, 1), None, "Période de suspension : elle chevauche la suspension du 01/03/2026"),
        (
            D(2026, 6, 1),
            D(2026, 6, 5),
            "Période de suspension : elle chevauche la suspension du 04/05/2026 (en cours)",
        ),
    ],
)
def test_check_suspension(start, end, message):
    if message is None:
        assert check_suspension(start, end, EXISTING) is None
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_suspension(start, end, EXISTING)
        assert refused.value.message.startswith(message)


#: The other phase records of a path: phase 1 done, phase 2 open (002 §4).
RECORDS = [("Phase 1", D(2026, 3, 2), D(2026, 3, 27)), ("Phase 2", D(2026, 3, 27), None)]
ENTRY_DAY = D(2026, 3, 2)


@pytest.mark.parametrize(
    ("start", "end", "others", "message"),
    [
        (D(2026, 3, 2), D(2026, 3, 27), [], None),
        (D(2026, 3, 1), None, [], "Début de la phase : il ne peut pas précéder l'entrée "
                                  "(02/03/2026)"),
        # « Phase suivante » starts the next phase on the day the previous one ends
        (D(2026, 3, 27), None, RECORDS[:1], None),
        (D(2026, 3, 2), D(2026, 3, 27), RECORDS[1:], None),
        (D(2026, 3, 20), None, RECORDS[:1],
         "Période de la phase : elle chevauche « Phase 1 » du 02/03/2026 au 27/03/2026"),
        (D(2026, 4, 15), None, RECORDS,
         "Période de la phase : elle chevauche « Phase 2 » du 27/03/2026 (en cours)"),
        (D(2026, 3, 5), D(2026, 3, 10), RECORDS[:1],
         "Période de la phase : elle chevauche « Phase 1 »"),
        (D(2026, 3, 2), D(2026, 4, 2), RECORDS[1:],
         "Période de la phase : elle chevauche « Phase 2 » du 27/03/2026 (en cours)"),
    ],
)
def test_check_phase_record(start, end, others, message):
    if message is None:
        assert check_phase_record(start, end, ENTRY_DAY, others) is None
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_phase_record(start, end, ENTRY_DAY, others)
        assert refused.value.message.startswith(message)


SHORT_JOB = True  # the reason "reprise d'emploi de courte durée" pushes the end date
ILLNESS = False


@pytest.mark.parametrize(
    ("suspensions", "planned_end", "experimental", "expected"),
    [
        ([(D(2026, 4, 1), D(2026, 4, 30), SHORT_JOB)], D(2026, 12, 31), True, 30),
        ([(D(2026, 4, 1), D(2026, 4, 30), SHORT_JOB)], D(2026, 12, 31), False, 0),  # CSP adherent
        ([(D(2026, 4, 1), D(2026, 4, 30), ILLNESS)], D(2026, 12, 31), True, 0),
        (
            [
                (D(2026, 4, 1), D(2026, 4, 30), SHORT_JOB),
                (D(2026, 6, 1), D(2026, 6, 10), SHORT_JOB),
                (D(2026, 7, 1), D(2026, 7, 5), ILLNESS),
            ],
            D(2026, 12, 31),
            True,
            40,
        ),
        ([(D(2026, 4, 1), None, SHORT_JOB)], D(2026, 12, 31), True, 0),  # still running
        # capped at 6 months after the planned end: 31/12/2026 → 30/06/2027 = 181 days
        (
            [
                (D(2026, 1, 5), D(2026, 7, 31), SHORT_JOB),
                (D(2026, 8, 3), D(2026, 9, 30), SHORT_JOB),
            ],
            D(2026, 12, 31),
            True,
            181,
        ),
    ],
)
def test_suspension_extension_days(suspensions, planned_end, experimental, expected):
    result = suspension_extension_days(suspensions, planned_end, experimental_public=experimental)
    assert result == expected


# CSP phase 1: 4 weeks (28 days), 8 weeks (56 days) by derogation (002 §4)
@pytest.mark.parametrize(
    ("end", "start", "derogation", "on_date", "expected", "message"),
    [
        (None, D(2026, 3, 2), False, D(2026, 3, 30), D(2026, 3, 30), None),  # exactly 4 weeks
        (D(2026, 3, 20), D(2026, 3, 2), False, D(2026, 3, 23), D(2026, 3, 20), None),
        (
            None,
            D(2026, 3, 2),
            False,
            D(2026, 3, 31),
            None,
            "Durée de la phase : 29 jours, au-delà des 28 jours prévus ; cocher la dérogation "
            "si la "
            "situation l'exige (002 §4)",
        ),
        (None, D(2026, 3, 2), True, D(2026, 4, 27), D(2026, 4, 27), None),  # exactly 8 weeks
        (
            None,
            D(2026, 3, 2),
            True,
            D(2026, 4, 28),
            None,
            "Durée de la phase : 57 jours, au-delà des 56 jours permis par dérogation (002 §4)",
        ),
        (
            D(2026, 3, 20),
            D(2026, 3, 2),
            False,
            D(2026, 3, 19),
            None,
            "Date de passage à la phase suivante : la phase en cours se termine le 20/03/2026 "
            "(002 §4 : impossible de débuter une phase tant que la précédente n'a pas été réalisée "
            "en totalité)",
        ),
        (
            None,
            D(2026, 3, 2),
            False,
            D(2026, 3, 1),
            None,
            "Date de passage à la phase suivante : elle ne peut pas être antérieure au début de la "
            "phase en cours (02/03/2026)",
        ),
    ],
)
def test_check_next_phase(end, start, derogation, on_date, expected, message):
    if message is None:
        assert check_next_phase(end, start, 28, 56, derogation, on_date) == expected
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_next_phase(end, start, 28, 56, derogation, on_date)
        assert refused.value.message == message


def test_check_next_phase_without_a_maximum():
    assert check_next_phase(None, D(2026, 3, 2), None, None, False, D(2027, 1, 4)) == D(2027, 1, 4)


# --- Issue 19 points 6 and 10: the end of a support and the CSP adhesion ----------------

@pytest.mark.parametrize(("planned", "caps", "expected"), [
    # 002 II §3 « au plus tard à la date de fin d'adhésion »: the earlier wins
    (date(2027, 3, 8), (date(2027, 3, 1),), date(2027, 3, 1)),
    (date(2027, 3, 8), (date(2027, 6, 1),), date(2027, 3, 8)),
    # 002 I §3 « le jour de la rupture du contrat de travail du dernier salarié »
    (date(2026, 12, 14), (None, date(2026, 11, 27)), date(2026, 11, 27)),
    (date(2026, 12, 14), (None,), date(2026, 12, 14)),
    # a cap before the entry (a late entrant): the path still lasts its first day
    (date(2026, 12, 14), (date(2026, 11, 1),), date(2026, 11, 9)),
])
def test_support_end(planned, caps, expected):
    from backoffice.rules.lifecycle import support_end

    assert support_end(planned, date(2026, 11, 9), *caps) == expected


@pytest.mark.parametrize(("adhesion", "is_csp", "experimental", "refused"), [
    (None, True, False, None),
    (date(2026, 3, 2), True, False, None),
    (date(2026, 3, 9), True, False, None),  # the entry day itself
    (date(2026, 3, 10), True, False, r"le 10/03/2026 suit l'entrée en parcours \(09/03/2026\)"),
    (date(2026, 3, 2), False, False, "ne concerne que les parcours CSP"),
    (date(2026, 3, 2), True, True, "un public « expérimental » n'adhère pas au CSP"),
])
def test_check_csp_adhesion(adhesion, is_csp, experimental, refused):
    from backoffice.rules.lifecycle import check_csp_adhesion

    def check():
        check_csp_adhesion(adhesion, date(2026, 3, 9), date(2026, 11, 20), is_csp=is_csp,
                           experimental_public=experimental)
    if refused is None:
        check()
    else:
        with pytest.raises(TransitionRefused, match=refused):
            check()


@pytest.mark.parametrize(("others", "refused"), [
    ([], None),
    # the first CSP ended before this entry, with another adhesion: a new CSP
    ([(1, date(2025, 1, 6), date(2025, 12, 31), date(2025, 1, 2))], None),
    # 002 II §3 « ni renouvelée »: the same adhesion again
    ([(1, date(2026, 1, 5), date(2026, 2, 27), date(2026, 3, 2))], "accompagne déjà l'adhésion"),
    # never two at once: still open, or ending after this entry, or starting after it
    ([(1, date(2026, 1, 5), None, date(2026, 1, 2))], "est encore en cours"),
    ([(1, date(2026, 1, 5), date(2026, 3, 20), date(2026, 1, 2))], "est encore en cours"),
    ([(1, date(2026, 4, 1), None, date(2026, 3, 30))], "commence le 01/04/2026"),
])
def test_check_single_csp(others, refused):
    from backoffice.rules.lifecycle import check_single_csp

    if refused is None:
        check_single_csp(date(2026, 3, 2), date(2026, 3, 9), others)
    else:
        with pytest.raises(TransitionRefused, match=refused):
            check_single_csp(date(2026, 3, 2), date(2026, 3, 9), others)


# --- 001 « Description » : a mandatory company internship (issue 19 A.3) -----------------

@pytest.mark.parametrize(("required", "anticipated", "internships", "reason", "outcome"), [
    # « Ils devront obligatoirement intégrer une période de stage en entreprise »
    (True, False, 0, None, "refused"),
    (True, False, 0, "  ", "refused"),
    (True, False, 0, "Aucune entreprise d'accueil", "Aucune entreprise d'accueil"),
    (True, False, 1, None, None),        # an internship: nothing to say
    (True, True, 0, None, None),         # an anticipated exit: not the normal end
    (False, False, 0, None, None),       # a programme without the obligation
])
def test_closing_at_the_end_without_internship_needs_a_reason(required, anticipated,
                                                              internships, reason, outcome):
    from backoffice.rules.lifecycle import check_internship_at_exit

    def check():
        return check_internship_at_exit("DEL-L1", required, anticipated=anticipated,
                                        internships=internships, reason=reason)
    if outcome == "refused":
        with pytest.raises(TransitionRefused, match="Motif de l'absence de stage en entreprise"):
            check()
    else:
        assert check() == outcome


# issue 20 §7 (001 « Organisation »: the entries are validated in commission): « Ajourner »
# needs a reason and a later commission to examine the referral again.
@pytest.mark.parametrize(("reason", "deferred_to_on", "outcome"), [
    ("Pièces manquantes", date(2026, 3, 15), "Pièces manquantes"),
    ("  Absent  ", date(2026, 3, 2), "Absent"),
    ("", date(2026, 3, 15), "Motif de l'ajournement : obligatoire"),
    ("   ", date(2026, 3, 15), "Motif de l'ajournement : obligatoire"),
    ("Absent", None, "Commission de report : obligatoire"),
    ("Absent", date(2026, 3, 1), "Commission de report : elle doit se tenir après la "
                                 "décision (01/03/2026), pas le 01/03/2026"),
    ("Absent", date(2026, 2, 1), "Commission de report : elle doit se tenir après"),
])
def test_check_defer(reason, deferred_to_on, outcome):
    decided_on = date(2026, 3, 1)
    if ":" not in outcome:
        assert check_defer(reason, decided_on, deferred_to_on) == outcome
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_defer(reason, decided_on, deferred_to_on)
        assert refused.value.message.startswith(outcome)
