"""The lifecycle actions on real rows: decisions, orders, start, phases, suspensions,
abandon, exits. Figures come from the specifications (001, 002, 004)."""
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from backoffice.enums import (
    ContractKind,
    EnrolmentStatus,
    ReferralStatus,
    Role,
    Sex,
)
from backoffice.extensions import db
from backoffice.models import (
    BarrierType,
    Beneficiary,
    Commission,
    Enrolment,
    ExitType,
    Internship,
    Programme,
    PurchaseOrder,
    Referral,
    SuspensionReason,
)
from backoffice.rules.exits import ExitFacts
from backoffice.rules.lifecycle import TransitionRefused
from backoffice.services import lifecycle as svc
from tests.conftest import make_user

TODAY = date(2026, 11, 20)


@pytest.fixture
def ctx(reference_app):
    with reference_app.app_context():
        yield {"coordinator": make_user(Role.COORDINATOR), "n": [0]}
        db.session.rollback()


def person(ctx, **extra) -> Beneficiary:
    ctx["n"][0] += 1
    row = Beneficiary(last_name=f"Nom{ctx['n'][0]}", first_name="Test",
                      birth_date=date(1990, 1, ctx["n"][0] % 28 + 1), sex=Sex.FEMALE, **extra)
    db.session.add(row)
    return row


def referral(ctx, code: str, status=ReferralStatus.PENDING, referred_on=date(2026, 1, 5),
             **extra) -> Referral:
    """A referral of a new person; DEL-L2's person recognised by the CRHD (001 Lot 2), and
    a referral given as validated validated by its programme's commission when it has one
    (001 « Organisation »)."""
    programme = db.session.scalar(select(Programme).where(Programme.code == code))
    if programme.requires_disability_recognition:
        extra.setdefault("disability_recognition", True)
    row = Referral(beneficiary=person(ctx, **extra), programme=programme, status=status,
                   referred_on=referred_on)
    if status is ReferralStatus.VALIDATED and programme.requires_commission:
        row.commission = board(row)
    db.session.add(row)
    db.session.flush()
    return row


def board(ref: Referral) -> Commission | None:
    """A commission of the referral's programme, or None for a programme without one
    (001 « Organisation » : entries validated in commission; 002: a France Travail order)."""
    if not ref.programme.requires_commission:
        return None
    row = Commission(programme=ref.programme, held_on=ref.referred_on)
    db.session.add(row)
    return row


def exit_type(code: str) -> ExitType:
    return db.session.scalar(select(ExitType).where(ExitType.code == code))


def reason(code: str) -> SuspensionReason:
    return db.session.scalar(select(SuspensionReason).where(SuspensionReason.code == code))


def started(ctx, code: str, entry: date, months: int | None = None, *,
            adhesion: date | None = None, **extra) -> Enrolment:
    ref = referral(ctx, code, referred_on=min(entry, date(2026, 1, 5)), **extra)
    svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], entry,
                         validated_months=months, commission=board(ref))
    return svc.start_path(db.session, ref, entry, TODAY, csp_adhesion_on=adhesion)


# --- Commission decisions -------------------------------------------------------------

def test_validate_del_l1_records_duration_decider_and_date(ctx):
    refs = [referral(ctx, "DEL-L1"), referral(ctx, "DEL-L1")]
    svc.decide_referrals(db.session, refs, "validate", ctx["coordinator"], TODAY,
                         validated_months=9, commission=board(refs[0]))
    assert [(r.status, r.validated_months, r.decided_on) for r in refs] == [
        (ReferralStatus.VALIDATED, 9, TODAY)] * 2
    assert refs[0].decided_by is ctx["coordinator"]


def test_validate_del_l1_defaults_to_seven_months(ctx):
    ref = referral(ctx, "DEL-L1")
    svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], TODAY,
                         commission=board(ref))
    assert ref.validated_months == 7  # 001: « durée moyenne de 7 mois »


def test_validate_other_programme_stores_no_duration(ctx):
    ref = referral(ctx, "PLIE-L2")
    svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], TODAY,
                         validated_months=9, commission=board(ref))
    assert ref.validated_months is None


def test_batch_with_one_refused_changes_none(ctx):
    good = referral(ctx, "DEL-L1")
    closed = referral(ctx, "DEL-L1", status=ReferralStatus.REJECTED)
    with pytest.raises(TransitionRefused, match=f"Prescription n° {closed.id}"):
        svc.decide_referrals(db.session, [good, closed], "validate", ctx["coordinator"], TODAY,
                             commission=board(good))
    assert good.status is ReferralStatus.PENDING


@pytest.mark.parametrize("months", [0, 13])
def test_validated_duration_out_of_range_refused(ctx, months):
    ref = referral(ctx, "DEL-L1")
    with pytest.raises(TransitionRefused, match="Durée validée"):
        svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], TODAY,
                             validated_months=months, commission=board(ref))
    assert ref.status is ReferralStatus.PENDING


@pytest.mark.parametrize("action", ["validate", "reject", "defer"])
def test_decision_before_the_referral_is_refused(ctx, action):
    ref = referral(ctx, "PLIE-L1", referred_on=date(2026, 3, 10))
    with pytest.raises(TransitionRefused, match=r"Date de décision : .* \(10/03/2026\)"):
        svc.decide_referrals(db.session, [ref], action, ctx["coordinator"], date(2026, 3, 9),
                             reason="Motif")
    assert ref.status is ReferralStatus.PENDING


def test_reject_needs_a_reason(ctx):
    ref = referral(ctx, "PLIE-L1")
    with pytest.raises(TransitionRefused, match="Motif du refus"):
        svc.decide_referrals(db.session, [ref], "reject", ctx["coordinator"], TODAY, reason=" ")
    svc.decide_referrals(db.session, [ref], "reject", ctx["coordinator"], TODAY,
                         reason="Hors critères PLIE")
    assert (ref.status, ref.decision_reason) == (ReferralStatus.REJECTED, "Hors critères PLIE")


def test_withdraw_creates_linked_replacement(ctx):
    ref = referral(ctx, "DEL-L1", status=ReferralStatus.VALIDATED)
    other = person(ctx)
    db.session.flush()
    replacement = svc.withdraw_referral(db.session, ref, ctx["coordinator"], TODAY,
                                        reason="Déménagement", replacement_beneficiary_id=other.id)
    assert ref.status is ReferralStatus.WITHDRAWN
    assert replacement.replaces is ref
    assert (replacement.status, replacement.programme) == (ReferralStatus.PENDING, ref.programme)


def test_non_entry_needs_barriers_and_records_them(ctx):
    ref = referral(ctx, "DEL-L1", status=ReferralStatus.VALIDATED)
    with pytest.raises(TransitionRefused, match="Freins"):
        svc.record_non_entry(db.session, ref, ctx["coordinator"], TODAY, [])
    housing = db.session.scalar(select(BarrierType).where(BarrierType.code == "housing"))
    svc.record_non_entry(db.session, ref, ctx["coordinator"], TODAY, [housing], "Sans logement")
    assert ref.status is ReferralStatus.NOT_ENTERED
    assert ref.non_entry_barriers == [housing]


@pytest.mark.parametrize("what", ["désistement", "non-entrée"])
def test_no_withdrawal_or_non_entry_once_the_path_is_open(ctx, what):
    """001 « Organisation »: a withdrawal concerns a person « prescrit et validé pour
    entrer »; after the entry, leaving is an abandon or an exit."""
    ref = referral(ctx, "DEL-L1", status=ReferralStatus.VALIDATED)
    path = svc.start_path(db.session, ref, date(2026, 2, 2), TODAY)
    housing = db.session.scalar(select(BarrierType).where(BarrierType.code == "housing"))
    with pytest.raises(TransitionRefused) as refused:
        if what == "désistement":
            svc.withdraw_referral(db.session, ref, ctx["coordinator"], TODAY)
        else:
            svc.record_non_entry(db.session, ref, ctx["coordinator"], TODAY, [housing])
    assert refused.value.message.endswith(
        f"le parcours n° {path.id} est ouvert : pas de {what} après l'entrée ; déclarer un "
        "abandon ou clôturer le parcours")


# --- Purchase orders ------------------------------------------------------------------

def test_purchase_order_has_one_line_per_referral_with_duration(ctx):
    refs = [referral(ctx, "DEL-L1"), referral(ctx, "DEL-L1")]
    svc.decide_referrals(db.session, refs[:1], "validate", ctx["coordinator"], TODAY,
                         validated_months=6,
                         commission=board(refs[0]))
    svc.decide_referrals(db.session, refs[1:], "validate", ctx["coordinator"], TODAY,
                         validated_months=8,
                         commission=board(refs[1]))
    order = svc.create_purchase_order(db.session, refs, "BC-2026-001", TODAY)
    assert order.beneficiary_count == 2
    assert sorted(line.duration_months for line in order.lines) == [6, 8]
    svc.receive_purchase_order(order, datetime(2026, 11, 23, 9, 30))
    assert order.received_on == date(2026, 11, 23)
    with pytest.raises(TransitionRefused, match="déjà inscrite"):
        svc.create_purchase_order(db.session, refs[:1], "BC-2026-002", TODAY)


def test_purchase_order_refuses_pending_and_arjlj_without_company(ctx):
    pending = referral(ctx, "DEL-L1")
    with pytest.raises(TransitionRefused, match="seules les prescriptions validées"):
        svc.create_purchase_order(db.session, [pending], "BC-1", TODAY)
    arjlj = referral(ctx, "ARJLJ", status=ReferralStatus.VALIDATED)
    with pytest.raises(TransitionRefused, match="ARJLJ"):
        svc.create_purchase_order(db.session, [arjlj], "BC-2", TODAY)
    order = svc.create_purchase_order(db.session, [arjlj], "BC-2", TODAY,
                                      company_name="Menuiserie Dupont (LJ)",
                                      support_start_on=date(2026, 11, 24))
    assert order.company_name == "Menuiserie Dupont (LJ)"


# --- Start and planned end ------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "entry", "months", "expected_end", "why"),
    [
        ("DEL-L1", date(2026, 1, 15), 7, date(2026, 8, 14), "7 mois, fin inclusive"),
        ("DEL-L1", date(2026, 2, 25), 7, date(2026, 9, 25), "24/09 férié en NC → 25/09"),
        ("DEL-L1", date(2026, 3, 8), 6, date(2026, 9, 7), "07/09 lundi"),
        ("DEL-L2", date(2026, 1, 12), None, date(2026, 9, 11), "8 mois (001 lot 2)"),
        # 002 II §3: « au plus tard à la date de fin d'adhésion »: adhesion on the entry
        # day, it ends on 14/07/2027, a holiday — it does not move past it
        ("CSP", date(2026, 7, 15), None, date(2027, 7, 14), "fin d'adhésion le 14/07/2027"),
        ("ARJLJ", date(2026, 11, 2), None, date(2026, 12, 14), "6 semaines → 13/12 dimanche"),
    ],
)
def test_start_path_computes_planned_end(ctx, code, entry, months, expected_end, why):
    enrolment = started(ctx, code, entry, months, adhesion=entry if code == "CSP" else None)
    assert enrolment.planned_end_date == expected_end, why
    assert enrolment.status is EnrolmentStatus.ACTIVE
    assert enrolment.current_phase.position == 1
    assert [r.started_on for r in enrolment.phase_records] == [entry]


def test_start_path_refuses_unvalidated_and_second_start(ctx):
    ref = referral(ctx, "PLIE-L1")
    with pytest.raises(TransitionRefused, match="validée"):
        svc.start_path(db.session, ref, date(2026, 2, 1), TODAY)
    svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], TODAY,
                         commission=board(ref))
    svc.start_path(db.session, ref, date(2026, 2, 1), TODAY)
    with pytest.raises(TransitionRefused, match="déjà ouvert"):
        svc.start_path(db.session, ref, date(2026, 2, 2), TODAY)


def test_a_path_typed_in_the_form_opens_like_a_started_one(ctx):
    """open_path (the create form): active, first phase from the entry, planned end."""
    ref = referral(ctx, "CSP", status=ReferralStatus.VALIDATED)
    typed = Enrolment(beneficiary=ref.beneficiary, programme=ref.programme, referral=ref,
                      entry_date=date(2026, 7, 15), status=EnrolmentStatus.CLOSED,
                      csp_adhesion_on=date(2026, 7, 10))
    db.session.add(typed)
    svc.open_path(db.session, typed, TODAY)
    assert typed.status is EnrolmentStatus.ACTIVE and typed.current_phase.position == 1
    assert [r.started_on for r in typed.phase_records] == [date(2026, 7, 15)]
    # 12 months from the entry, but no later than the end of the adhesion (002 II §3)
    assert typed.planned_end_date == date(2027, 7, 9)


@pytest.mark.parametrize(("case", "refused"), [
    ("other_person", "elle concerne une autre personne que"),
    ("other_programme", "elle oriente vers le dispositif PLIE-L1, pas vers CSP"),
    ("order_of_other_programme", "Bon de commande : il porte sur un autre dispositif"),
    ("future_entry", "Date d'entrée : elle ne peut pas être dans le futur"),
])
def test_a_path_typed_in_the_form_is_refused_like_a_started_one(ctx, case, refused):
    ref = referral(ctx, "PLIE-L1", status=ReferralStatus.VALIDATED)
    csp = db.session.scalar(select(Programme).where(Programme.code == "CSP"))
    order = PurchaseOrder(funder_id=csp.funder_id, programme=csp, number="BC-9",
                          issued_on=date(2026, 1, 5))
    typed = Enrolment(
        beneficiary=person(ctx) if case == "other_person" else ref.beneficiary,
        programme=csp if case == "other_programme" else ref.programme, referral=ref,
        purchase_order=order if case == "order_of_other_programme" else None,
        entry_date=TODAY + timedelta(days=1) if case == "future_entry" else date(2026, 2, 2))
    db.session.add(typed)
    with pytest.raises(TransitionRefused, match=refused):
        svc.open_path(db.session, typed, TODAY)


# --- CSP adhesion (002 II §2-3, §5; issue 19 point 6) ----------------------------------

@pytest.mark.parametrize(("adhesion", "entry", "expected_end", "why"), [
    # « prend fin au plus tard à la date de fin d'adhésion du bénéficiaire au CSP »
    (date(2026, 6, 1), date(2026, 7, 15), date(2027, 5, 31), "adhésion 01/06 → 31/05/2027"),
    (date(2026, 7, 6), date(2026, 7, 15), date(2027, 7, 5), "adhésion 06/07 → 05/07/2027"),
    # the end of the adhesion is a last day: Saturday 13/11/2027 does not move to Monday
    (date(2026, 11, 14), date(2026, 11, 16), date(2027, 11, 13), "samedi 13/11/2027"),
])
def test_a_csp_support_ends_at_the_latest_at_the_end_of_the_adhesion(ctx, adhesion, entry,
                                                                     expected_end, why):
    enrolment = started(ctx, "CSP", entry, adhesion=adhesion)
    assert enrolment.csp_adhesion_on == adhesion
    assert enrolment.planned_end_date == expected_end, why


def test_a_csp_adhesion_defaults_to_the_orientation_and_an_experimental_public_has_none(ctx):
    """002 II §3: the person is oriented « à l'issue de l'entretien réalisé par Pôle emploi
    lors de l'entrée dans le dispositif »; 002 II §2: experimental publics do not adhere."""
    ref = referral(ctx, "CSP", status=ReferralStatus.VALIDATED, referred_on=date(2026, 3, 2))
    adherent = svc.start_path(db.session, ref, date(2026, 3, 9), TODAY)
    assert adherent.csp_adhesion_on == date(2026, 3, 2)
    assert adherent.planned_end_date == date(2027, 3, 1)  # not 08/03/2027 from the entry
    experimental = started(ctx, "CSP", date(2026, 3, 9), experimental_csp_public=True)
    assert experimental.csp_adhesion_on is None
    assert experimental.planned_end_date == date(2027, 3, 8)


@pytest.mark.parametrize(("case", "refused"), [
    ("after_entry", "Date d'adhésion au CSP : le 10/03/2026 suit l'entrée en parcours"),
    ("other_programme", "Date d'adhésion au CSP : elle ne concerne que les parcours CSP"),
    ("experimental", "un public « expérimental » n'adhère pas au CSP"),
])
def test_a_wrong_adhesion_date_is_refused_in_the_action_and_the_form(ctx, case, refused):
    code = "PLIE-L1" if case == "other_programme" else "CSP"
    extra = {"experimental_csp_public": True} if case == "experimental" else {}
    adhesion = date(2026, 3, 10) if case == "after_entry" else date(2026, 3, 2)
    ref = referral(ctx, code, status=ReferralStatus.VALIDATED, referred_on=date(2026, 3, 2),
                   **extra)
    with pytest.raises(TransitionRefused, match=refused):
        svc.start_path(db.session, ref, date(2026, 3, 9), TODAY, csp_adhesion_on=adhesion)
    typed = Enrolment(beneficiary=ref.beneficiary, programme=ref.programme, referral=ref,
                      entry_date=date(2026, 3, 9), csp_adhesion_on=adhesion)
    db.session.add(typed)
    with pytest.raises(TransitionRefused, match=refused):
        svc.open_path(db.session, typed, TODAY)
    db.session.expunge(typed)
    assert db.session.scalar(select(Enrolment.id).where(Enrolment.referral_id == ref.id)) is None


def test_a_csp_is_neither_renewed_nor_held_twice_at_once(ctx):
    """002 II §3: « La prestation ne peut être ni renouvelée ni prolongée »."""
    first = started(ctx, "CSP", date(2026, 3, 9), adhesion=date(2026, 3, 2))
    csp = first.programme
    again = Referral(beneficiary=first.beneficiary, programme=csp, referred_on=date(2026, 4, 1),
                     status=ReferralStatus.VALIDATED)
    db.session.add(again)
    db.session.flush()
    # held twice at once: the first path is still open
    with pytest.raises(TransitionRefused, match="le parcours n° .* est encore en cours"):
        svc.start_path(db.session, again, date(2026, 4, 6), TODAY,
                       csp_adhesion_on=date(2026, 4, 1))
    svc.close_with_exit(db.session, first, exit_type("no_solution"),
                        svc.ExitInput(exit_date=date(2026, 5, 29)), TODAY)
    # renewed: the same adhesion a second time, even after the first path ended
    with pytest.raises(TransitionRefused, match="accompagne déjà l'adhésion du 02/03/2026"):
        svc.start_path(db.session, again, date(2026, 6, 1), TODAY,
                       csp_adhesion_on=date(2026, 3, 2))
    # a new adhesion (a new lay-off) after the first path: a new CSP
    second = svc.start_path(db.session, again, date(2026, 6, 1), TODAY,
                            csp_adhesion_on=date(2026, 5, 30))
    assert second.planned_end_date == date(2027, 5, 29)


def test_a_corrected_adhesion_moves_the_planned_end(ctx):
    enrolment = started(ctx, "CSP", date(2026, 3, 9), adhesion=date(2026, 3, 9))
    assert enrolment.planned_end_date == date(2027, 3, 8)
    enrolment.csp_adhesion_on = date(2026, 2, 16)
    svc.correct_path(db.session, enrolment, TODAY, previous_entry=date(2026, 3, 9))
    assert enrolment.planned_end_date == date(2027, 2, 15)


# --- ARJLJ: from the order's start, until the last rupture (002 I §3; issue 19 point 10) -

def arjlj_path(ctx, start: date, entry: date, order: PurchaseOrder | None = None):
    ref = referral(ctx, "ARJLJ", status=ReferralStatus.VALIDATED, referred_on=start)
    if order is None:
        order = svc.create_purchase_order(
            db.session, [ref], f"BC-A{ctx['n'][0]}", start, company_name="Menuiserie Dupont",
            support_start_on=start)
    return svc.start_path(db.session, ref, entry, TODAY, order=order), order


def test_arjlj_lasts_6_weeks_from_the_start_on_the_order_not_from_each_entry(ctx):
    """002 I §3: « une durée maximum de 6 semaines à compter de la date de début de
    l'accompagnement mentionnée dans le bon de commande »."""
    # start Monday 02/11/2026 → 6 weeks → Sunday 13/12 → Monday 14/12 (the support's end
    # moves to the next working day, 002 II §3)
    first, order = arjlj_path(ctx, date(2026, 11, 2), date(2026, 11, 2))
    late, _ = arjlj_path(ctx, date(2026, 11, 2), date(2026, 11, 16), order)
    assert first.planned_end_date == late.planned_end_date == date(2026, 12, 14)


def test_arjlj_ends_with_the_last_employee_s_contract_rupture(ctx):
    """002 I §3: « La prestation prend fin le jour de la rupture du contrat de travail du
    dernier salarié accompagné »: recorded on the order, it ends every path of it."""
    first, order = arjlj_path(ctx, date(2026, 11, 2), date(2026, 11, 2))
    late, _ = arjlj_path(ctx, date(2026, 11, 2), date(2026, 11, 9), order)
    order.last_contract_rupture_on = date(2026, 11, 27)
    svc.check_purchase_order(order)  # the order's form and any write go through it
    assert first.planned_end_date == late.planned_end_date == date(2026, 11, 27)
    # a rupture after the 6 weeks does not extend them
    order.last_contract_rupture_on = date(2026, 12, 31)
    svc.check_purchase_order(order)
    assert first.planned_end_date == date(2026, 12, 14)


@pytest.mark.parametrize(("code", "rupture", "refused"), [
    ("ARJLJ", date(2026, 10, 30), "Rupture du contrat du dernier salarié : le 30/10/2026 "
                                  "précède le début de l'accompagnement (02/11/2026)"),
    ("DEL-L1", date(2026, 11, 30), "elle ne concerne que les bons de commande ARJLJ"),
])
def test_a_wrong_last_rupture_is_refused(ctx, code, rupture, refused):
    programme = db.session.scalar(select(Programme).where(Programme.code == code))
    order = PurchaseOrder(funder=programme.funder, programme=programme, number="BC-R",
                          issued_on=date(2026, 10, 28), company_name="Menuiserie Dupont",
                          support_start_on=date(2026, 11, 2), last_contract_rupture_on=rupture)
    db.session.add(order)
    with db.session.no_autoflush, pytest.raises(TransitionRefused, match=re.escape(refused)):
        svc.check_purchase_order(order)
    db.session.expunge(order)


# --- PLIE: the action over the calendar year (004 §4; issue 19 point 14) ----------------

@pytest.mark.parametrize("code", ["PLIE-L1", "PLIE-L2", "PLIE-L3"])
def test_a_plie_path_opened_from_any_form_gets_its_planned_end(ctx, code):
    """004 §4: « L'action se déroule du 1er janvier ... au 31 décembre »: the path typed in
    its form, like the one started from its referral, ends on 31 December (it had none)."""
    started_path = started(ctx, code, date(2026, 3, 2))
    ref = referral(ctx, code, status=ReferralStatus.VALIDATED, referred_on=date(2026, 3, 2))
    typed = Enrolment(beneficiary=ref.beneficiary, programme=ref.programme, referral=ref,
                      entry_date=date(2026, 3, 9))
    db.session.add(typed)
    svc.open_path(db.session, typed, TODAY)
    assert started_path.planned_end_date == typed.planned_end_date == date(2026, 12, 31)


# --- Who enters: a commission's validation, a CRHD recognition (issue 19 A.1–2) -------

#: The programmes whose entries a commission validates, as the specifications say
#: (programmes.yaml requires_commission), and one that has none.
COMMISSION_PROGRAMMES = [
    # 001 « Organisation » : « La validation des entrées en parcours se fera en commission
    # interne entre le service de l'emploi et du logement de la DEL et le prestataire »
    ("DEL-L1", True), ("DEL-L2", True),
    # 004 Lot 2 : « Accueil des participants en individuel après la validation en
    # commission PLIE » (every PLIE lot: programmes.yaml)
    ("PLIE-L1", True), ("PLIE-L2", True), ("PLIE-L3", True), ("PLIE-L4", True),
    # 002 II §3 : « La prescription de la prestation relève d'une décision de Pôle emploi »
    ("CSP", False), ("ARJLJ", False),
]


@pytest.mark.parametrize(("code", "needs_commission"), COMMISSION_PROGRAMMES)
def test_validation_without_a_commission_is_refused_where_one_decides(ctx, code,
                                                                      needs_commission):
    ref = referral(ctx, code)
    if needs_commission:
        with pytest.raises(TransitionRefused,
                           match=f"Commission : obligatoire pour valider une entrée en {code}"):
            svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], TODAY)
        assert (ref.status, ref.decided_on) == (ReferralStatus.PENDING, None)
    else:
        svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], TODAY)
        assert ref.status is ReferralStatus.VALIDATED


@pytest.mark.parametrize("route", ["start_path", "open_path", "correct_path"])
@pytest.mark.parametrize(("code", "needs_commission"), COMMISSION_PROGRAMMES)
def test_a_path_opens_only_from_a_referral_validated_in_commission(ctx, code,
                                                                   needs_commission, route):
    """Whatever the route (the action, the create form, the edit form), a programme with a
    commission opens a path only on a referral its commission validated (001
    « Organisation »); a referral validated without one, or no referral, is refused."""
    ref = referral(ctx, code, status=ReferralStatus.VALIDATED)
    ref.commission = None  # validated, but no commission recorded (an old row, an import)
    db.session.flush()
    entry = date(2026, 2, 2)
    if route == "start_path":
        attempt = lambda: svc.start_path(db.session, ref, entry, TODAY)  # noqa: E731
    elif route == "open_path":
        typed = Enrolment(beneficiary=ref.beneficiary, programme=ref.programme, referral=ref,
                          entry_date=entry)
        db.session.add(typed)
        attempt = lambda: svc.open_path(db.session, typed, TODAY)  # noqa: E731
    else:  # a path corrected in its edit form: its referral taken away
        path = started(ctx, code, entry)
        path.referral = None
        attempt = lambda: svc.correct_path(db.session, path, TODAY, entry)  # noqa: E731
    if not needs_commission:
        attempt()
        return
    message = ("elle n'a pas été validée par une commission" if route != "correct_path"
               else f"Prescription : obligatoire pour ouvrir un parcours {code}")
    with pytest.raises(TransitionRefused, match=message):
        attempt()
    db.session.rollback()


def test_a_referral_validated_in_commission_opens_its_path(ctx):
    ref = referral(ctx, "PLIE-L3")
    svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], TODAY,
                         commission=board(ref))
    assert svc.start_path(db.session, ref, date(2026, 2, 2), TODAY).status \
        is EnrolmentStatus.ACTIVE


#: 001 Lot 2, « Public cible » : « Demandeur d'emploi reconnu par la CRHD comme étant en
#: situation de handicap » (programmes.yaml requires_disability_recognition); no other
#: programme asks for it.
CRHD_PROGRAMMES = [("DEL-L2", True), ("DEL-L1", False), ("PLIE-L1", False), ("CSP", False)]


@pytest.mark.parametrize(("code", "needs_crhd"), CRHD_PROGRAMMES)
def test_del_l2_admits_only_a_person_recognised_by_the_crhd(ctx, code, needs_crhd):
    ref = referral(ctx, code, disability_recognition=False)
    decide = lambda: svc.decide_referrals(  # noqa: E731
        db.session, [ref], "validate", ctx["coordinator"], TODAY, commission=board(ref))
    if not needs_crhd:
        decide()
        assert ref.status is ReferralStatus.VALIDATED
        return
    with pytest.raises(TransitionRefused,
                       match=r"Reconnaissance du handicap \(RQTH / CRHD\) : .* \(001 Lot 2\)"):
        decide()
    assert ref.status is ReferralStatus.PENDING
    # validated before the rule (or imported): the path still does not open
    ref.status, ref.commission = ReferralStatus.VALIDATED, board(ref)
    with pytest.raises(TransitionRefused, match="Reconnaissance du handicap"):
        svc.start_path(db.session, ref, date(2026, 2, 2), TODAY)
    ref.beneficiary.disability_recognition = True
    assert svc.start_path(db.session, ref, date(2026, 2, 2), TODAY).programme.code == code


# --- Phases ---------------------------------------------------------------------------

def test_csp_phase_one_over_four_weeks_needs_derogation(ctx):
    enrolment = started(ctx, "CSP", date(2026, 3, 2))
    svc.next_phase(db.session, enrolment, date(2026, 3, 2))  # pré-bilan → phase 1
    phase_one = enrolment.phase_records[-1]
    late = date(2026, 4, 6)  # 35 days > 28
    with pytest.raises(TransitionRefused, match="dérogation"):
        svc.next_phase(db.session, enrolment, late)
    svc.next_phase(db.session, enrolment, late, derogation=True)
    assert (phase_one.ended_on, phase_one.derogation) == (late, True)
    assert enrolment.current_phase.code == "phase_2"


def test_csp_phase_one_beyond_eight_weeks_refused_even_with_derogation(ctx):
    enrolment = started(ctx, "CSP", date(2026, 3, 2))
    svc.next_phase(db.session, enrolment, date(2026, 3, 2))
    with pytest.raises(TransitionRefused, match="56 jours"):
        svc.next_phase(db.session, enrolment, date(2026, 4, 28), derogation=True)


def test_no_next_phase_after_the_last(ctx):
    enrolment = started(ctx, "ARJLJ", date(2026, 11, 2))
    with pytest.raises(TransitionRefused, match="dernière phase"):
        svc.next_phase(db.session, enrolment, date(2026, 11, 10))


# --- Suspensions ----------------------------------------------------------------------

def test_suspensions_do_not_overlap_and_do_not_move_the_end(ctx):
    enrolment = started(ctx, "CSP", date(2026, 1, 5))
    end = enrolment.planned_end_date
    svc.suspend(db.session, enrolment, reason("illness"), date(2026, 3, 1), date(2026, 3, 20))
    assert enrolment.status is EnrolmentStatus.SUSPENDED
    assert enrolment.planned_end_date == end  # 002 §3: no postponement
    svc.resume(db.session, enrolment, date(2026, 3, 21))
    with pytest.raises(TransitionRefused, match="chevauche"):
        svc.suspend(db.session, enrolment, reason("leave"), date(2026, 3, 15), date(2026, 4, 1))


def test_work_suspension_pushes_end_for_experimental_public_only(ctx):
    regular = started(ctx, "CSP", date(2026, 1, 5))
    experimental = started(ctx, "CSP", date(2026, 1, 5), experimental_csp_public=True)
    base = experimental.planned_end_date
    for enrolment in (regular, experimental):
        svc.suspend(db.session, enrolment, reason("short_job"), date(2026, 4, 1),
                    date(2026, 4, 30))
    assert regular.planned_end_date == base
    assert experimental.planned_end_date > base
    assert (experimental.planned_end_date - base).days >= 30  # 30 days of work, rolled


@pytest.mark.parametrize(("experimental_max", "latest_end"), [
    # 002 II §3 : « La phase d'accompagnement de 12 mois peut donc être effectuée sur une
    # période totale de 18 mois maximum » (programmes.yaml experimental_max_months: 18)
    (18, date(2027, 7, 5)),   # end 04/01/2027 + 6 months: Sunday 04/07 → Monday 05/07
    (15, date(2027, 4, 5)),   # a funder's other figure: + 3 months, Sunday 04/04 → 05/04
    (12, date(2027, 1, 4)),   # no extension at all: the 12 months' end
])
def test_work_suspensions_push_the_end_up_to_the_experimental_maximum(ctx, experimental_max,
                                                                      latest_end):
    csp = db.session.scalar(select(Programme).where(Programme.code == "CSP"))
    csp.experimental_max_months = experimental_max
    path = started(ctx, "CSP", date(2026, 1, 5), experimental_csp_public=True)
    # 10 months of short jobs: more than any cap
    svc.suspend(db.session, path, reason("short_job"), date(2026, 2, 2), date(2026, 11, 30))
    assert path.planned_end_date == latest_end


# --- Abandon and exits ----------------------------------------------------------------

# 004 « Sortie de l'action »: « à la demande du participant dès lors qu'il ne souhaite plus
# poursuivre l'action » ; « perte de contact ou relances sans réponse (2 absences
# injustifiées consécutives ou 2 relances ...) ». 001 and 002: « Abandon ou rupture ».
@pytest.mark.parametrize(
    ("programme_code", "reason", "exit_code"),
    [
        ("PLIE-L1", "loss_of_contact", "loss_of_contact"),
        ("PLIE-L1", "unexcused_absences", "loss_of_contact"),
        ("PLIE-L2", "participant_request", "participant_request"),
        ("PLIE-L4", "moved", "participant_request"),
        ("PLIE-L4", "health", "participant_request"),
        ("PLIE-L1", "other", "participant_request"),
        ("DEL-L1", "loss_of_contact", "abandon"),
        ("CSP", "health", "abandon"),
    ],
)
def test_declare_abandon_closes_as_anticipated_rupture(ctx, programme_code, reason, exit_code):
    months = 7 if programme_code == "DEL-L1" else None
    enrolment = started(ctx, programme_code, date(2026, 2, 2), months)
    svc.declare_abandon(db.session, enrolment, date(2026, 5, 4), reason, TODAY)
    assert enrolment.status is EnrolmentStatus.CLOSED
    assert enrolment.exit_type.code == exit_code
    assert enrolment.exit_type.schemes.find(enrolment.programme.exit_scheme) >= 0
    assert enrolment.abandon_reason == reason and enrolment.exit_reason is None
    assert enrolment.exit_type.is_rupture and enrolment.closed_on == date(2026, 5, 4)


def test_abandon_with_unknown_reason_or_future_date_refused(ctx):
    enrolment = started(ctx, "PLIE-L1", date(2026, 2, 2))
    with pytest.raises(TransitionRefused, match="Motif de l'abandon"):
        svc.declare_abandon(db.session, enrolment, date(2026, 5, 4), "bored", TODAY)
    with pytest.raises(TransitionRefused, match="futur"):
        svc.declare_abandon(db.session, enrolment, date(2026, 12, 4), "moved", TODAY)
    assert enrolment.status is EnrolmentStatus.ACTIVE


def test_exit_before_a_period_of_the_path_is_refused_and_changes_nothing(ctx):
    """An exit dated back before an internship, a suspension or a phase already recorded
    is refused, naming it; the path is left as it was."""
    enrolment = started(ctx, "DEL-L1", date(2026, 3, 2), 7)
    db.session.add(Internship(enrolment=enrolment, company_name="Boulangerie Kaori",
                              starts_on=date(2026, 6, 8), ends_on=date(2026, 6, 19)))
    db.session.flush()
    data = svc.ExitInput(exit_date=date(2026, 6, 5), facts=ExitFacts(contract_kind="cdi"))
    with pytest.raises(TransitionRefused) as refused:
        svc.close_with_exit(db.session, enrolment, exit_type("cdi"), data, TODAY)
    assert refused.value.message.startswith(
        "Date de sortie : le stage chez Boulangerie Kaori commence le 08/06/2026, après la "
        "date de sortie (05/06/2026)")
    assert (enrolment.status, enrolment.exit_date) == (EnrolmentStatus.ACTIVE, None)
    assert [r.ended_on for r in enrolment.phase_records] == [None]

    other = started(ctx, "CSP", date(2026, 1, 5))
    svc.suspend(db.session, other, reason("illness"), date(2026, 3, 2), None)
    with pytest.raises(TransitionRefused, match=r"la suspension \(.*\) commence le 02/03/2026"):
        svc.declare_abandon(db.session, other, date(2026, 2, 27), "moved", TODAY)
    assert other.status is EnrolmentStatus.SUSPENDED
    assert [s.ends_on for s in other.suspensions] == [None]

    phased = started(ctx, "CSP", date(2026, 1, 5))
    second = svc.next_phase(db.session, phased, date(2026, 1, 30))
    with pytest.raises(TransitionRefused, match=f"la phase « {second.phase.name} » commence"):
        svc.declare_abandon(db.session, phased, date(2026, 1, 29), "moved", TODAY)
    # On the day the last period starts, the exit is accepted
    svc.declare_abandon(db.session, phased, date(2026, 1, 30), "moved", TODAY)
    assert phased.status is EnrolmentStatus.CLOSED


@pytest.mark.parametrize(("code", "needs_reason"), [
    # 001 « Description » : « Ils devront obligatoirement intégrer une période de stage en
    # entreprise » (programmes.yaml requires_internship: DEL-L1, DEL-L2)
    ("DEL-L1", True), ("DEL-L2", True), ("PLIE-L1", False), ("CSP", False),
])
def test_closing_at_the_end_without_internship_needs_the_reason(ctx, code, needs_reason):
    enrolment = started(ctx, code, date(2026, 1, 5))
    end = enrolment.planned_end_date if code.startswith("DEL") else date(2026, 6, 1)
    data = svc.ExitInput(exit_date=end, facts=ExitFacts())
    if needs_reason:
        with pytest.raises(TransitionRefused,
                           match="Motif de l'absence de stage en entreprise : obligatoire"):
            svc.close_with_exit(db.session, enrolment, exit_type("tribal_life"), data, TODAY)
        assert (enrolment.status, enrolment.exit_date) == (EnrolmentStatus.ACTIVE, None)
        data = svc.ExitInput(exit_date=end, facts=ExitFacts(),
                             no_internship_reason=" Aucune entreprise d'accueil adaptée ")
    kind = {"DEL": "tribal_life", "PLIE": "end_of_action", "CSP": "no_solution"}[
        enrolment.programme.exit_scheme]
    svc.close_with_exit(db.session, enrolment, exit_type(kind), data, TODAY)
    # 001 étape 3: a DEL path completed is followed up to 3 months; the others close
    assert enrolment.status is (EnrolmentStatus.FOLLOW_UP if code.startswith("DEL")
                                else EnrolmentStatus.CLOSED)
    assert enrolment.exit_date == end
    assert enrolment.no_internship_reason == (
        "Aucune entreprise d'accueil adaptée" if needs_reason else None)


def test_an_internship_or_an_early_exit_needs_no_reason(ctx):
    with_internship = started(ctx, "DEL-L1", date(2026, 1, 5), 7)
    db.session.add(Internship(enrolment=with_internship, company_name="Garage Tjibaou",
                              starts_on=date(2026, 5, 4), ends_on=date(2026, 5, 29)))
    db.session.flush()
    svc.close_with_exit(db.session, with_internship, exit_type("tribal_life"),
                        svc.ExitInput(exit_date=with_internship.planned_end_date), TODAY)
    early = started(ctx, "DEL-L1", date(2026, 1, 5), 7)  # anticipated: before the end
    svc.close_with_exit(db.session, early, exit_type("tribal_life"),
                        svc.ExitInput(exit_date=date(2026, 4, 1)), TODAY)
    # both exits accepted; a return to tribal life is an activity (SP): 001 étape 3 follows
    assert (with_internship.status, early.status) == (EnrolmentStatus.FOLLOW_UP,) * 2
    assert with_internship.no_internship_reason is None and early.no_internship_reason is None


def test_exit_before_entry_refused_in_french(ctx):
    enrolment = started(ctx, "DEL-L1", date(2026, 3, 2), 7)
    data = svc.ExitInput(exit_date=date(2026, 3, 1), facts=ExitFacts(contract_kind="cdi"))
    with pytest.raises(TransitionRefused,
                       match="Date de sortie : elle ne peut pas être antérieure à la date "
                             r"d'entrée \(02/03/2026\)"):
        svc.close_with_exit(db.session, enrolment, exit_type("cdi"), data, TODAY)
    assert enrolment.status is EnrolmentStatus.ACTIVE


@pytest.mark.parametrize(
    ("code", "facts", "expected_status", "category"),
    [
        # 001 étape 3, « suivre le stagiaire à l'issue de son parcours », 3 months, whatever
        # the exit of a completed path: CDD ≥ 6 months is ED
        ("cdd", ExitFacts(contract_kind="cdd", contract_months=8, employer="Boulangerie"),
         EnrolmentStatus.FOLLOW_UP, "ED"),
        # 001: CDD < 6 months is SD
        ("cdd", ExitFacts(contract_kind="cdd", contract_months=4, employer="Boulangerie"),
         EnrolmentStatus.FOLLOW_UP, "SD"),
        # 001: return to tribal life is SP
        ("tribal_life", ExitFacts(), EnrolmentStatus.FOLLOW_UP, "SP"),
        # 001 étape 3: « la mise en emploi » — not yet in a job, followed all the same
        ("no_solution", ExitFacts(), EnrolmentStatus.FOLLOW_UP, None),
        # an anticipated exit (001 « sortis avant la fin du parcours ») closes the path
        ("moved", ExitFacts(), EnrolmentStatus.CLOSED, None),
    ],
)
def test_del_exit_classification_and_follow_up(ctx, code, facts, expected_status, category):
    enrolment = started(ctx, "DEL-L1", date(2026, 3, 2), 7)
    assert enrolment.planned_end_date == date(2026, 10, 1)  # the path is completed
    # 001: the mandatory company internship, done (closing at the end without one asks why)
    db.session.add(Internship(enrolment=enrolment, company_name="Boulangerie",
                              starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 26)))
    result = svc.close_with_exit(db.session, enrolment, exit_type(code),
                                 svc.ExitInput(exit_date=date(2026, 10, 1), facts=facts,
                                               satisfaction=4, goal_attainment=3), TODAY)
    assert result.del_category == category
    assert enrolment.status is expected_status
    if expected_status is EnrolmentStatus.FOLLOW_UP:
        assert enrolment.follow_up_end_date == date(2027, 1, 1)
        assert enrolment.current_phase.is_follow_up and enrolment.closed_on is None
        svc.end_follow_up(db.session, enrolment, date(2026, 11, 20))
        assert enrolment.status is EnrolmentStatus.CLOSED
    else:
        assert enrolment.closed_on == date(2026, 10, 1)


def test_del_early_exit_without_a_job_closes_the_path(ctx):
    """001 étape 3 follows a completed path, or one left early for a job: not an early exit
    with no solution."""
    enrolment = started(ctx, "DEL-L1", date(2026, 3, 2), 7)
    svc.close_with_exit(db.session, enrolment, exit_type("no_solution"),
                        svc.ExitInput(exit_date=date(2026, 6, 1)), TODAY)
    assert enrolment.status is EnrolmentStatus.CLOSED
    assert enrolment.follow_up_end_date is None


@pytest.mark.parametrize(
    ("hours", "positive", "status"),
    [(110, True, EnrolmentStatus.FOLLOW_UP), (109, False, EnrolmentStatus.CLOSED)],
)
def test_csp_part_time_counts_from_110_hours(ctx, hours, positive, status):
    enrolment = started(ctx, "CSP", date(2026, 1, 5))
    facts = ExitFacts(contract_kind="cdi", hours_per_month=hours, employer="SARL Sud")
    result = svc.close_with_exit(db.session, enrolment, exit_type("part_time"),
                                 svc.ExitInput(exit_date=date(2026, 9, 1), facts=facts), TODAY)
    assert result.csp_positive is positive  # 002 §6: ≥ 110 h a month
    assert enrolment.status is status
    if positive:
        assert enrolment.follow_up_end_date == date(2027, 3, 1)  # 6 months (002 §6)


def test_rupture_exit_needs_difficulties(ctx):
    enrolment = started(ctx, "DEL-L1", date(2026, 3, 2), 7)
    with pytest.raises(TransitionRefused, match="Difficultés"):
        svc.close_with_exit(db.session, enrolment, exit_type("abandon"),
                            svc.ExitInput(exit_date=date(2026, 5, 1)), TODAY)


def test_missing_exit_facts_are_named(ctx):
    enrolment = started(ctx, "DEL-L1", date(2026, 3, 2), 7)
    with pytest.raises(TransitionRefused, match="Durée du contrat"):
        svc.close_with_exit(db.session, enrolment, exit_type("cdd"),
                            svc.ExitInput(exit_date=date(2026, 5, 1),
                                          facts=ExitFacts(contract_kind=ContractKind.CDD)),
                            TODAY)
