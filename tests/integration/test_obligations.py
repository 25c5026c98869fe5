"""The deadline engine on real rows: every seeded rule with a worked example from the
specifications (dates across weekends and public holidays), and the materialise /
fulfil / recompute / cancel cycle, and the idempotent rebuild.

2026 public holidays used below — France: Fri 1 May, Fri 8 May, Thu 14 May (Ascension),
Mon 25 May (Whit Monday), Tue 14 July, Wed 11 November, Fri 25 December. New Caledonia
also: Thu 24 September (Fête de la citoyenneté).
"""
from datetime import date, datetime, time, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from backoffice.enums import ReferralStatus, Role, Sex
from backoffice.extensions import db
from backoffice.models import (
    BarrierType,
    Beneficiary,
    Commission,
    Contact,
    ContactType,
    DeadlineRule,
    Enrolment,
    ExitType,
    Obligation,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    Referral,
)
from backoffice.rules.exits import ExitFacts
from backoffice.seeding.reference import DEFAULT_SEEDS_DIR
from backoffice.services import lifecycle as svc
from backoffice.services.obligations import (
    END_OF_DAY,
    MarkDoneRefused,
    mark_done,
    rebuild,
    sync_enrolment_obligations,
    sync_order_obligations,
    sync_programme_obligations,
    sync_referral_obligations,
    sync_session_obligations,
)
from tests.conftest import make_user

#: Seeded rule code → the test(s) below that work an example of it (checked at the end).
WORKED_EXAMPLES: dict[str, str] = {}


def worked(*codes):
    """Register the rules a test works an example of."""
    def mark(test):
        for code in codes:
            WORKED_EXAMPLES[code] = test.__name__
        return test
    return mark


def eod(y, m, d) -> datetime:
    """Due at the end of a day (delays in days, working days, months)."""
    return datetime.combine(date(y, m, d), END_OF_DAY)


@pytest.fixture
def ctx(reference_app):
    with reference_app.app_context():
        yield {"coordinator": make_user(Role.COORDINATOR),
               "counsellor": make_user(Role.COUNSELLOR), "n": [0]}
        db.session.rollback()


def programme(code: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.code == code))


def person(ctx) -> Beneficiary:
    ctx["n"][0] += 1
    row = Beneficiary(last_name=f"Nom{ctx['n'][0]}", first_name="Test",
                      birth_date=date(1985, 1, ctx["n"][0] % 28 + 1), sex=Sex.MALE)
    db.session.add(row)
    return row


def validated_referral(ctx, code: str, referred_on: date) -> Referral:
    ref = Referral(beneficiary=person(ctx), programme=programme(code), referred_on=referred_on,
                   status=ReferralStatus.PENDING)
    db.session.add(ref)
    db.session.flush()
    commission = None
    if ref.programme.requires_commission:  # 001 « Organisation »: entries validated there
        commission = Commission(programme=ref.programme, held_on=referred_on)
    svc.decide_referrals(db.session, [ref], "validate", ctx["coordinator"], referred_on,
                         commission=commission)
    return ref


def path(ctx, code: str, referred_on: date, entry: date | None = None, **extra) -> Enrolment:
    ref = validated_referral(ctx, code, referred_on)
    entry = entry or referred_on
    return svc.start_path(db.session, ref, entry, entry, referent=ctx["counsellor"], **extra)


def obligations(subject, *, code: str | None = None, include_cancelled=False) -> list[Obligation]:
    query = select(Obligation).join(DeadlineRule, Obligation.rule_id == DeadlineRule.id)
    if isinstance(subject, Enrolment):
        query = query.where(Obligation.enrolment_id == subject.id)
    elif isinstance(subject, ProgrammeSession):
        query = query.where(Obligation.session_id == subject.id)
    elif isinstance(subject, Referral):
        query = query.where(Obligation.referral_id == subject.id,
                            Obligation.enrolment_id.is_(None))
    elif isinstance(subject, Programme):
        query = query.where(Obligation.programme_id == subject.id,
                            Obligation.enrolment_id.is_(None),
                            Obligation.purchase_order_id.is_(None),
                            Obligation.session_id.is_(None),
                            Obligation.referral_id.is_(None))
    else:
        query = query.where(Obligation.purchase_order_id == subject.id,
                            Obligation.enrolment_id.is_(None))
    if code:
        query = query.where(DeadlineRule.code == code)
    if not include_cancelled:
        query = query.where(Obligation.cancelled_at.is_(None))
    return list(db.session.scalars(query.order_by(Obligation.event_at)))


def one(subject, code: str, **kw) -> Obligation:
    found = obligations(subject, code=code, **kw)
    assert len(found) == 1, f"{code}: {found}"
    return found[0]


def exit_type(code: str) -> ExitType:
    return db.session.scalar(select(ExitType).where(ExitType.code == code))


def at(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm)


# --- ARJLJ (002 I §4): start of support within 2 working days of the order -----------

def arjlj_order(ctx, received_at: datetime, support_start_on: date):
    ref = validated_referral(ctx, "ARJLJ", received_at.date())
    order = svc.create_purchase_order(db.session, [ref], f"BC-{ctx['n'][0]}", received_at.date(),
                                      company_name="Ateliers Dupont",
                                      support_start_on=support_start_on)
    svc.receive_purchase_order(order, received_at)
    return order, ref


@worked("arjlj_support_start")
@pytest.mark.parametrize(("received_at", "due"), [
    # Friday 13/11/2026 → Monday 16 (1), Tuesday 17 (2)
    (at(2026, 11, 13, 15, 30), eod(2026, 11, 17)),
    # Thursday 30/04/2026 → Friday 1 May is a holiday → Monday 4 (1), Tuesday 5 (2)
    (at(2026, 4, 30, 9), eod(2026, 5, 5)),
    # Thursday 07/05/2026 → Friday 8 May is a holiday → Monday 11 (1), Tuesday 12 (2)
    (at(2026, 5, 7, 9), eod(2026, 5, 12)),
    # Tuesday 10/11/2026 → Wednesday 11 November is a holiday → Thursday 12, Friday 13
    (at(2026, 11, 10, 17), eod(2026, 11, 13)),
])
def test_arjlj_start_is_due_two_working_days_after_reception(ctx, received_at, due):
    order, _ = arjlj_order(ctx, received_at, support_start_on=date(2026, 12, 1))
    sync_order_obligations(db.session, order, received_at)
    row = one(order, "arjlj_support_start")
    assert (row.event_at, row.due_at, row.done_at) == (received_at, due, None)
    assert row.programme_id == programme("ARJLJ").id


def test_arjlj_start_is_fulfilled_by_the_support_start_or_the_first_entry(ctx):
    received = at(2026, 11, 13, 15)
    order, ref = arjlj_order(ctx, received, support_start_on=date(2026, 11, 18))
    # Before the start date, the start is not done.
    sync_order_obligations(db.session, order, at(2026, 11, 16, 9))
    assert one(order, "arjlj_support_start").done_at is None
    # The provider meets the first employee on Monday 16: the path's entry fulfils it.
    enrolment = svc.start_path(db.session, ref, date(2026, 11, 16), date(2026, 11, 16),
                               order=order)
    result = sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 16, 18))
    assert one(order, "arjlj_support_start").done_at == at(2026, 11, 16)
    assert result.fulfilled == 1


# --- CSP (002 II) ---------------------------------------------------------------------

@worked("csp_prebilan")
@pytest.mark.parametrize(("referred_on", "due"), [
    # 002 II §3 « dans un maximum de huit jours calendaires »: a maximum never moves past
    # its day (issue 19 point 7; it used to move to the next working day)
    (date(2026, 11, 2), eod(2026, 11, 10)),  # Monday + 8 calendar days = Tuesday
    (date(2026, 11, 3), eod(2026, 11, 11)),  # → Wednesday 11 November, a holiday: stays
    (date(2026, 11, 6), eod(2026, 11, 14)),  # → Saturday 14: stays
])
def test_csp_prebilan_is_due_8_calendar_days_after_referral(ctx, referred_on, due):
    enrolment = path(ctx, "CSP", referred_on)
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 2))
    row = one(enrolment, "csp_prebilan")
    assert (row.event_at, row.due_at) == (datetime.combine(referred_on, time.min), due)
    # The pré-bilan interview took place: done at its timestamp.
    enrolment.prebilan_at = at(2026, 11, 9, 14)
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 20))
    assert one(enrolment, "csp_prebilan").done_at == at(2026, 11, 9, 14)


@worked("csp_contract_copy")
@pytest.mark.parametrize(("prebilan_at", "due"), [
    # 002 II §4 « dans un délai maximum de 48 heures »: it never moves past its hour
    # Friday 10:00 + 48 h = Sunday 10:00 (it used to move to Monday)
    (at(2026, 11, 13, 10), at(2026, 11, 15, 10)),
    # Monday 10:00 + 48 h = Wednesday 11 November (holiday), 10:00
    (at(2026, 11, 9, 10), at(2026, 11, 11, 10)),
    # Tuesday 16:30 + 48 h = Thursday 16:30
    (at(2026, 11, 17, 16, 30), at(2026, 11, 19, 16, 30)),
])
def test_csp_contract_copy_is_due_48_hours_after_the_prebilan(ctx, prebilan_at, due):
    enrolment = path(ctx, "CSP", date(2026, 11, 2))
    assert obligations(enrolment, code="csp_contract_copy") == []
    enrolment.prebilan_at = prebilan_at
    sync_enrolment_obligations(db.session, enrolment, prebilan_at)
    row = one(enrolment, "csp_contract_copy")
    assert (row.event_at, row.due_at) == (prebilan_at, due)
    # 002 II §4 « Le prestataire transmet à Pôle emploi une copie du Contrat
    # d'accompagnement signé »: signing it is not sending it (issue 19 point 8)
    enrolment.csp_contract_signed_on = prebilan_at.date()
    sync_enrolment_obligations(db.session, enrolment, due)
    assert one(enrolment, "csp_contract_copy").done_at is None
    sent = prebilan_at + timedelta(hours=30)
    enrolment.csp_contract_sent_at = sent
    sync_enrolment_obligations(db.session, enrolment, due)
    assert one(enrolment, "csp_contract_copy").done_at == sent


def test_an_absent_or_a_refusal_at_the_prebilan_owes_the_same_48_hours(ctx):
    """002 II §4: « le prestataire en informe Pôle emploi dans un délai de 48 heures en
    retournant le contrat d'accompagnement avec la mention « Absent » » — and the same for
    « refus d'adhésion »: a CSP non-entry recorded on Friday 13/11/2026 owes the contract
    back by Sunday 15/11 (issue 19 point 8; a non-entry owed nothing of it before)."""
    ref = validated_referral(ctx, "CSP", date(2026, 11, 9))
    svc.record_non_entry(db.session, ref, ctx["coordinator"], date(2026, 11, 13),
                         [db.session.scalar(select(BarrierType).limit(1))])
    sync_referral_obligations(db.session, [ref], at(2026, 11, 13, 18))
    row = one(ref, "csp_contract_copy")
    assert (row.event_at, row.due_at, row.done_at) == (at(2026, 11, 13), eod(2026, 11, 15),
                                                       None)
    # returned with « Absent »: marked done by hand
    mark_done(row, date(2026, 11, 14), date(2026, 11, 14), document_ref="Absent")
    sync_referral_obligations(db.session, [ref], at(2026, 11, 16))
    assert one(ref, "csp_contract_copy").done_at == at(2026, 11, 14)


@worked("csp_phase1_end", "csp_psp_phase1_report")
def test_csp_phase_1_lasts_4_weeks_and_the_psp_is_due_48_hours_after_it(ctx):
    enrolment = path(ctx, "CSP", date(2026, 6, 8))
    enrolment.prebilan_at = at(2026, 6, 12, 10)
    # Phase 1 starts Tuesday 16/06/2026: « jusqu'à 4 semaines », 28 days → Tuesday 14
    # July, a holiday: stays (002 II §4)
    svc.next_phase(db.session, enrolment, date(2026, 6, 16))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 6, 16, 9))
    end = one(enrolment, "csp_phase1_end")
    assert (end.event_at, end.due_at, end.done_at) == (at(2026, 6, 16), eod(2026, 7, 14), None)
    assert obligations(enrolment, code="csp_psp_phase1_report") == []
    # Phase 1 ends Sunday 12/07 (phase 2 starts that day): the end is met, and the PSP is
    # due « au plus tard dans un délai de 48 heures », Tuesday 14 July (holiday): stays.
    svc.next_phase(db.session, enrolment, date(2026, 7, 12))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 7, 12, 18))
    assert one(enrolment, "csp_phase1_end").done_at == at(2026, 7, 12)
    psp = one(enrolment, "csp_psp_phase1_report")
    assert (psp.event_at, psp.due_at, psp.done_at) == (at(2026, 7, 12), eod(2026, 7, 14), None)


def test_csp_phase_1_with_derogation_lasts_8_weeks(ctx):
    enrolment = path(ctx, "CSP", date(2026, 11, 9))
    svc.next_phase(db.session, enrolment, date(2026, 11, 16))
    record = next(r for r in enrolment.phase_records if r.phase.code == "phase_1")
    record.derogation = True
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 16))
    # Monday 16/11/2026 + 56 days = Monday 11/01/2027
    assert one(enrolment, "csp_phase1_end").due_at == eod(2027, 1, 11)


@worked("csp_intermediate_report")
@pytest.mark.parametrize(("adhesion", "entry", "due"), [
    # 002 II §5 « avant la fin du 6ème mois d'adhésion du bénéficiaire au CSP »: counted
    # from the adhesion, not the entry, and never after that day: a day not worked comes
    # to the working day before (issue 19 points 6 and 7; it used to move after it)
    (date(2026, 1, 15), date(2026, 1, 15), eod(2026, 7, 13)),  # Tue 14 July, holiday → Mon 13
    (date(2026, 1, 12), date(2026, 1, 12), eod(2026, 7, 10)),  # Saturday 11/07 → Friday 10
    (date(2025, 8, 31), date(2025, 8, 31), eod(2026, 2, 27)),  # clamped: Sat 28/02 → Fri 27
    # adhesion on Monday 05/01/2026, entry 3 weeks later: the 6th month ends Sunday 05/07
    (date(2026, 1, 6), date(2026, 1, 26), eod(2026, 7, 3)),
])
def test_csp_intermediate_deliverable_is_due_by_the_end_of_the_6th_month(ctx, adhesion, entry,
                                                                        due):
    enrolment = path(ctx, "CSP", adhesion, entry, csp_adhesion_on=adhesion)
    sync_enrolment_obligations(db.session, enrolment, datetime.combine(entry, time(9)))
    assert one(enrolment, "csp_intermediate_report").due_at == due


@worked("csp_final_report_abandon", "csp_abandon_declaration")
def test_csp_abandon_cancels_the_intermediate_deliverable_and_owes_two_reports(ctx):
    enrolment = path(ctx, "CSP", date(2026, 1, 15))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 1, 15, 9))
    intermediate = one(enrolment, "csp_intermediate_report")
    # Abandon on Monday 20/04/2026, before the 6th month: 48 h → Wednesday 22/04.
    svc.declare_abandon(db.session, enrolment, date(2026, 4, 20), "participant_request",
                        date(2026, 4, 20))
    result = sync_enrolment_obligations(db.session, enrolment, at(2026, 4, 20, 17))
    assert intermediate.cancelled_at == at(2026, 4, 20, 17)
    assert result.cancelled >= 1
    for code in ("csp_final_report_abandon", "csp_abandon_declaration"):
        row = one(enrolment, code)
        assert (row.event_at, row.due_at) == (at(2026, 4, 20), eod(2026, 4, 22))
    # The most specific rule wins: no « end of support » report for an abandon.
    assert obligations(enrolment, code="csp_final_report_end") == []


@worked("csp_final_report_job")
def test_csp_durable_job_owes_the_final_report_48_hours_after(ctx):
    enrolment = path(ctx, "CSP", date(2026, 1, 5))
    # Job taken Friday 06/11/2026 → « dans un délai de 48h »: Sunday 08/11, stays
    svc.close_with_exit(db.session, enrolment, exit_type("cdi"), svc.ExitInput(
        exit_date=date(2026, 11, 6), facts=ExitFacts(contract_kind="cdi", employer="SARL Test")),
        date(2026, 11, 6))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 6, 18))
    row = one(enrolment, "csp_final_report_job")
    assert row.due_at == eod(2026, 11, 8)
    assert obligations(enrolment, code="csp_final_report_end") == []


@worked("csp_final_report_end")
def test_csp_end_of_support_owes_the_final_report_48_hours_after_the_last_day(ctx):
    enrolment = path(ctx, "CSP", date(2026, 1, 5))
    # Last day Thursday 31/12/2026 → « 48h maximum »: Saturday 02/01/2027, stays
    svc.close_with_exit(db.session, enrolment, exit_type("no_solution"),
                        svc.ExitInput(exit_date=date(2026, 12, 31)), date(2026, 12, 31))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 12, 31, 18))
    assert one(enrolment, "csp_final_report_end").due_at == eod(2027, 1, 2)


@worked("csp_monthly_table")
@pytest.mark.parametrize(("month", "due"), [
    (11, eod(2026, 12, 7)),  # Mon 30/11 → 1, 2, 3, 4, 7 December
    (5, eod(2026, 6, 5)),  # Sun 31/05 → 1–5 June (Whit Monday was 25 May)
    (4, eod(2026, 5, 11)),  # 30/04 → 1 May holiday: 4, 5, 6, 7, (8 holiday) 11 May
])
def test_csp_monthly_table_is_due_the_5th_working_day_of_the_next_month(ctx, month, due):
    path(ctx, "CSP", date(2026, 1, 5))
    csp = programme("CSP")
    sync_programme_obligations(db.session, csp, 2026, at(2026, 12, 31))
    rows = {o.event_at.month: o for o in obligations(csp, code="csp_monthly_table")}
    assert sorted(rows) == list(range(1, 13))
    assert rows[month].due_at == due


# --- DEL (001 « Évaluation ») ---------------------------------------------------------

@worked("del_end_of_path_report")
@pytest.mark.parametrize(("ends_on", "due"), [
    # 001 « au plus tard 1 mois après la fin de la session »: never after that day
    (date(2026, 8, 24), eod(2026, 9, 24)),  # 24/09, a holiday in New Caledonia: stays
    (date(2026, 1, 31), eod(2026, 2, 28)),  # 28/02 (clamped), a Saturday: stays
])
def test_del_end_of_path_report_is_due_a_month_after_the_session(ctx, ends_on, due):
    session = ProgrammeSession(programme=programme("DEL-L1"), label="Session Nouméa",
                               starts_on=date(2026, 1, 5), ends_on=ends_on)
    db.session.add(session)
    db.session.flush()
    sync_session_obligations(db.session, session, at(2026, 1, 5))
    row = one(session, "del_end_of_path_report")
    assert row.due_at == due
    # The session's end moves: so does the report.
    session.ends_on = date(2026, 10, 30)
    result = sync_session_obligations(db.session, session, at(2026, 1, 5))
    assert (row.due_at, result.updated) == (eod(2026, 11, 30), 1)


@worked("del_annual_report")
def test_del_annual_report_is_due_at_the_end_of_each_year_of_activity(ctx):
    path(ctx, "DEL-L1", date(2026, 3, 2))
    del_l1 = programme("DEL-L1")
    sync_programme_obligations(db.session, del_l1, 2026, at(2026, 12, 15))
    assert one(del_l1, "del_annual_report").due_at == eod(2026, 12, 31)
    # Not yet materialised more than a month ahead.
    db.session.query(Obligation).delete()
    sync_programme_obligations(db.session, del_l1, 2026, at(2026, 11, 15))
    assert obligations(del_l1, code="del_annual_report") == []


# --- PLIE (004) -----------------------------------------------------------------------

@worked("plie_liaison_entry")
@pytest.mark.parametrize(("code", "referred_on", "due"), [
    # 004 « Dans les 15 jours suivant l'orientation »: never after the 15th day
    ("PLIE-L1", date(2026, 4, 29), eod(2026, 5, 14)),  # 14/05 Ascension: stays
    ("PLIE-L3", date(2026, 10, 1), eod(2026, 10, 16)),
    ("PLIE-L2", date(2026, 10, 24), eod(2026, 11, 8)),  # Sunday 08/11: stays
])
def test_plie_entry_liaison_sheet_is_due_15_days_after_orientation(ctx, code, referred_on, due):
    enrolment = path(ctx, code, referred_on)
    sync_enrolment_obligations(db.session, enrolment, datetime.combine(referred_on, time(9)))
    row = one(enrolment, "plie_liaison_entry")
    assert (row.due_at, row.done_at) == (due, None)
    # Its fulfilment is a document: recorded by hand (« Marquer comme fait »).
    mark_done(row, date(2026, 11, 12), date(2026, 11, 12), document_ref="FL-2026-001")
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 20))
    row = one(enrolment, "plie_liaison_entry")
    assert (row.done_at, row.document_ref) == (at(2026, 11, 12), "FL-2026-001")


# --- Orientations without a path (002 II §3, 004 Lots 1-4) -----------------------------

def pending_referral(ctx, code: str, referred_on: date) -> Referral:
    ref = Referral(beneficiary=person(ctx), programme=programme(code), referred_on=referred_on,
                   status=ReferralStatus.PENDING)
    db.session.add(ref)
    db.session.flush()
    return ref


def test_an_orientation_owes_its_liaison_sheet_and_pre_bilan_before_any_path(ctx):
    # 004: fiche de liaison within 15 days of the orientation (Wed 29/04 → Ascension
    # Thursday 14/05, stays); 002 II §3: pré-bilan within 8 days (Mon 02/11 → 10/11)
    plie = pending_referral(ctx, "PLIE-L1", date(2026, 4, 29))
    csp = pending_referral(ctx, "CSP", date(2026, 11, 2))
    sync_referral_obligations(db.session, [plie, csp], at(2026, 4, 29, 9))
    assert one(plie, "plie_liaison_entry").due_at == eod(2026, 5, 14)
    assert one(csp, "csp_prebilan").due_at == eod(2026, 11, 10)
    assert one(csp, "csp_prebilan").enrolment_id is None


def test_a_rebuild_keeps_an_orientation_s_deadlines_open(ctx):
    # The programme's periodic reports are the rows with no path, order, session nor
    # orientation: a rebuild must not take an orientation's rows for stale reports
    # (it cancelled them, and the next rebuild reopened them).
    path(ctx, "PLIE-L1", date(2026, 4, 1))  # the programme's activity span
    plie = pending_referral(ctx, "PLIE-L1", date(2026, 4, 29))
    csp = pending_referral(ctx, "CSP", date(2026, 11, 2))
    path(ctx, "CSP", date(2026, 10, 1))
    now = at(2026, 11, 20)
    rebuild(db.session, now)
    for ref, code in ((plie, "plie_liaison_entry"), (csp, "csp_prebilan")):
        assert one(ref, code).cancelled_at is None
    again = rebuild(db.session, now).total
    assert (again.created, again.updated, again.cancelled) == (0, 0, 0)
    assert one(plie, "plie_liaison_entry").cancelled_at is None


def test_a_non_entry_still_owes_the_liaison_sheet_but_not_the_path_facts(ctx):
    plie = validated_referral(ctx, "PLIE-L4", date(2026, 10, 1))
    sync_referral_obligations(db.session, [plie], at(2026, 10, 1, 9))
    assert {o.rule.code for o in obligations(plie)} == {
        "plie_liaison_entry", "plie_l4_first_interview"}
    svc.record_non_entry(db.session, plie, ctx["coordinator"], date(2026, 10, 5),
                         [db.session.scalar(select(BarrierType).limit(1))])
    sync_referral_obligations(db.session, [plie], at(2026, 10, 5, 9))
    # 004: the fiche says « non entrée »; a first interview can no longer take place.
    assert [o.rule.code for o in obligations(plie)] == ["plie_liaison_entry"]
    assert one(plie, "plie_l4_first_interview", include_cancelled=True).cancelled_at \
        == at(2026, 10, 5, 9)


def test_a_refused_or_withdrawn_orientation_owes_nothing_more(ctx):
    refused = pending_referral(ctx, "PLIE-L2", date(2026, 10, 1))
    withdrawn = validated_referral(ctx, "CSP", date(2026, 10, 1))
    sync_referral_obligations(db.session, [refused, withdrawn], at(2026, 10, 1, 9))
    svc.decide_referrals(db.session, [refused], "reject", ctx["coordinator"], date(2026, 10, 2),
                         reason="Hors critères")
    svc.withdraw_referral(db.session, withdrawn, ctx["coordinator"], date(2026, 10, 2))
    sync_referral_obligations(db.session, [refused, withdrawn], at(2026, 10, 2, 9))
    assert obligations(refused) == [] and obligations(withdrawn) == []


def test_a_path_adopts_what_its_orientation_owed_and_keeps_it_done(ctx, reference_app):
    ref = validated_referral(ctx, "PLIE-L1", date(2026, 10, 1))
    sync_referral_obligations(db.session, [ref], at(2026, 10, 1, 9))
    sheet = one(ref, "plie_liaison_entry")
    mark_done(sheet, date(2026, 10, 6), date(2026, 10, 6), document_ref="FL-7")
    enrolment = svc.start_path(db.session, ref, date(2026, 10, 12), date(2026, 10, 12),
                               referent=ctx["counsellor"])
    sync_enrolment_obligations(db.session, enrolment, at(2026, 10, 12, 9))
    adopted = one(enrolment, "plie_liaison_entry")
    assert (adopted.id, adopted.referral_id, adopted.done_at, adopted.document_ref) == (
        sheet.id, ref.id, at(2026, 10, 6), "FL-7")
    assert obligations(ref) == []  # the orientation no longer owes it on its own
    assert len(obligations(enrolment, code="plie_liaison_entry", include_cancelled=True)) == 1


def test_saving_an_orientation_computes_its_obligations(reference_app, users):
    with reference_app.app_context():
        ref = Referral(beneficiary=Beneficiary(last_name="Orient", first_name="Test",
                                               birth_date=date(1990, 2, 3), sex=Sex.FEMALE),
                       programme=programme("CSP"), referred_on=date(2026, 11, 2),
                       status=ReferralStatus.PENDING)
        db.session.add(ref)
        db.session.commit()
        assert one(ref, "csp_prebilan").due_at == eod(2026, 11, 10)
        ref.referred_on = date(2026, 11, 6)  # corrected: the due date moves (Saturday 14)
        db.session.commit()
        assert one(ref, "csp_prebilan").due_at == eod(2026, 11, 14)
        db.session.delete(ref)
        db.session.commit()


@worked("esf_exit_record")
def test_esf_exit_record_is_due_4_weeks_after_the_exit_and_done_when_recorded(ctx):
    """Issue 24 (docs/esf.md): the ESF+ exit data « dans les quatre semaines » of the
    exit: Friday 10/07 + 28 days = Friday 07/08; recording them marks it done."""
    from backoffice.enums import Answer
    from backoffice.models import EsfExit

    enrolment = path(ctx, "PLIE-L2", date(2026, 3, 2))
    svc.declare_abandon(db.session, enrolment, date(2026, 7, 10), "loss_of_contact",
                        date(2026, 7, 10))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 7, 10, 18))
    row = one(enrolment, "esf_exit_record")
    assert row.due_at == eod(2026, 8, 7) and row.done_at is None
    db.session.add(EsfExit(enrolment=enrolment, left_on=date(2026, 7, 10),
                           recorded_on=date(2026, 7, 20), in_employment=Answer.NO))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 7, 21, 9))
    assert one(enrolment, "esf_exit_record").done_at == at(2026, 7, 20)


@worked("plie_liaison_exit")
def test_plie_exit_liaison_sheet_is_due_15_days_after_any_exit(ctx):
    enrolment = path(ctx, "PLIE-L1", date(2026, 3, 2))
    # An abandon is an exit for the PLIE: Friday 10/07 → « Dans les 15 jours suivant la
    # sortie de l'action »: Saturday 25/07, stays
    svc.declare_abandon(db.session, enrolment, date(2026, 7, 10), "loss_of_contact",
                        date(2026, 7, 10))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 7, 10, 18))
    assert one(enrolment, "plie_liaison_exit").due_at == eod(2026, 7, 25)


@worked("plie_l3_exit_diagnostic")
def test_plie_l3_exit_form_is_due_15_days_after_the_end_of_the_mission(ctx):
    """004 Lot 3: « Dans les 15 jours suivant la fin de la mission, le candidat doit
    transmettre au PLIE la fiche de liaison « entrée / non entrée / diagnostic de
    sortie » » — the mission's end, not the exit (issue 19 point 14)."""
    from backoffice.models import Internship

    enrolment = path(ctx, "PLIE-L3", date(2026, 3, 2))
    db.session.add(Internship(enrolment=enrolment, company_name="Ressourcerie du Lunellois",
                              starts_on=date(2026, 3, 9), ends_on=date(2026, 3, 20), hours=30))
    db.session.flush()
    sync_enrolment_obligations(db.session, enrolment, at(2026, 3, 9, 9))
    # The mission ends Friday 20/03 → 15 days: Saturday 04/04, stays
    row = one(enrolment, "plie_l3_exit_diagnostic")
    assert (row.event_at, row.due_at) == (at(2026, 3, 20), eod(2026, 4, 4))
    # The path leaves on 30/04: the form is still due after the mission, and Lot 3 owes
    # no fiche 15 days after the exit
    svc.close_with_exit(db.session, enrolment, exit_type("end_of_action"),
                        svc.ExitInput(exit_date=date(2026, 4, 30)), date(2026, 4, 30))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 4, 30, 18))
    assert one(enrolment, "plie_l3_exit_diagnostic").due_at == eod(2026, 4, 4)
    assert obligations(enrolment, code="plie_liaison_exit") == []


@worked("plie_l4_first_interview")
def test_plie_l4_first_interview_is_fulfilled_by_a_present_individual_contact(ctx):
    enrolment = path(ctx, "PLIE-L4", date(2026, 10, 1))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 10, 1, 9))
    row = one(enrolment, "plie_l4_first_interview")
    assert (row.due_at, row.done_at) == (eod(2026, 10, 16), None)
    kinds = {t.code: t for t in db.session.scalars(select(ContactType))}
    group = next(t for t in kinds.values() if t.is_group)
    individual = next(t for t in kinds.values() if not t.is_group and not t.is_remote)
    db.session.add_all([
        Contact(enrolment=enrolment, contact_type=group, occurs_at=at(2026, 10, 5, 9)),
        Contact(enrolment=enrolment, contact_type=individual, occurs_at=at(2026, 10, 6, 9),
                attendance="unexcused"),
        Contact(enrolment=enrolment, contact_type=individual, occurs_at=at(2026, 10, 8, 14)),
    ])
    sync_enrolment_obligations(db.session, enrolment, at(2026, 10, 9))
    assert row.done_at == at(2026, 10, 8, 14)


@worked("plie_l4_bilan_done")
@pytest.mark.parametrize(("entry", "due"), [
    # 004 Lot 4 « dans les 2 mois maximum suivant le démarrage »: never after that day
    (date(2026, 8, 31), eod(2026, 10, 31)),  # 31/10, a Saturday: stays
    (date(2026, 12, 30), eod(2027, 2, 28)),  # clamped to 28/02/2027, a Sunday: stays
])
def test_plie_l4_bilan_is_due_2_months_after_the_start(ctx, entry, due):
    enrolment = path(ctx, "PLIE-L4", entry)
    sync_enrolment_obligations(db.session, enrolment, datetime.combine(entry, time(9)))
    row = one(enrolment, "plie_l4_bilan_done")
    assert (row.due_at, row.done_at) == (due, None)
    # The bilan phase (accueil → bilan on entry) ends 20 days later: done on that day.
    svc.next_phase(db.session, enrolment, entry)
    svc.next_phase(db.session, enrolment, entry + timedelta(days=20))
    sync_enrolment_obligations(db.session, enrolment, at(2027, 3, 31))
    assert row.done_at == datetime.combine(entry + timedelta(days=20), time.min)


@worked("plie_interim_report_may", "plie_interim_report_sep", "plie_final_report")
def test_plie_interim_and_final_reports(ctx):
    path(ctx, "PLIE-L2", date(2026, 2, 2))
    path(ctx, "PLIE-L1", date(2026, 2, 2))
    l2, l1 = programme("PLIE-L2"), programme("PLIE-L1")
    for prog in (l1, l2):
        sync_programme_obligations(db.session, prog, 2026, at(2026, 12, 31))
    # Figures at 31 May, sent in the first fortnight of June: Monday 15/06/2026.
    assert one(l2, "plie_interim_report_may").due_at == eod(2026, 6, 15)
    # Figures at 30 September, sent in October: Saturday 31/10 — the window's last day,
    # not moved to November.
    assert one(l2, "plie_interim_report_sep").due_at == eod(2026, 10, 31)
    assert obligations(l1, code="plie_interim_report_sep") == []  # Lot 2 only
    # Final report « dans le mois qui suit la fin de l'action » (calendar year): Sunday
    # 31/01/2027, stays.
    assert one(l1, "plie_final_report").due_at == eod(2027, 1, 31)


def test_every_seeded_rule_has_a_worked_example():
    rows = yaml.safe_load((DEFAULT_SEEDS_DIR / "deadline_rules.yaml").read_text("utf-8"))
    seeded = {row["code"] for row in rows}
    assert seeded - set(WORKED_EXAMPLES) == set()


# --- The cycle ------------------------------------------------------------------------

def test_materialise_fulfil_recompute_cancel(ctx):
    enrolment = path(ctx, "CSP", date(2026, 11, 2))
    first = sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 2, 9))
    # referral → pré-bilan; entry → the intermediate deliverable (6th month)
    assert {o.rule.code for o in obligations(enrolment)} == {
        "csp_prebilan", "csp_intermediate_report"}
    assert first.created == 2
    # Recording the pré-bilan fulfils one obligation and starts another clock.
    enrolment.prebilan_at = at(2026, 11, 6, 10)
    second = sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 6, 11))
    assert (second.created, second.fulfilled) == (1, 1)
    contract = one(enrolment, "csp_contract_copy")
    assert contract.due_at == at(2026, 11, 8, 10)  # Friday 10:00 + 48 h → Sunday 10:00
    # Correcting the pré-bilan's date moves the contract's due date; done_at follows the fact.
    enrolment.prebilan_at = at(2026, 11, 5, 10)
    third = sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 6, 12))
    assert contract.due_at == at(2026, 11, 7, 10)  # Thursday + 48 h = Saturday
    enrolment.prebilan_at = at(2026, 11, 4, 10)
    third = sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 6, 12))
    assert contract.due_at == at(2026, 11, 6, 10)
    assert (third.updated, third.fulfilled) == (1, 1)  # contract moved, pré-bilan's done date
    assert one(enrolment, "csp_prebilan").done_at == at(2026, 11, 4, 10)
    # Erasing the pré-bilan: the contract copy is no longer owed → cancelled.
    enrolment.prebilan_at = None
    fourth = sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 6, 13))
    assert fourth.cancelled == 1
    assert contract.cancelled_at == at(2026, 11, 6, 13)
    # …and reinstated when it comes back.
    enrolment.prebilan_at = at(2026, 11, 4, 10)
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 6, 14))
    assert contract.cancelled_at is None
    # Done rows are never cancelled nor deleted.
    mark_done(contract, date(2026, 11, 6), date(2026, 11, 6), "Contrat signé")
    enrolment.prebilan_at = None
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 7))
    assert (contract.done_at, contract.cancelled_at) == (at(2026, 11, 6), None)


def test_a_deactivated_rule_stops_and_cancels_what_is_open(ctx):
    enrolment = path(ctx, "CSP", date(2026, 11, 2))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 2, 9))
    row = one(enrolment, "csp_prebilan")
    row.rule.active = False
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 3))
    assert row.cancelled_at == at(2026, 11, 3)


def test_mark_done_refusals(ctx):
    enrolment = path(ctx, "CSP", date(2026, 11, 2))
    sync_enrolment_obligations(db.session, enrolment, at(2026, 11, 2, 9))
    row = one(enrolment, "csp_prebilan")
    with pytest.raises(MarkDoneRefused, match="dans le futur"):
        mark_done(row, date(2026, 11, 20), date(2026, 11, 19))
    mark_done(row, date(2026, 11, 19), date(2026, 11, 19))
    with pytest.raises(MarkDoneRefused, match="déjà faite le 19/11/2026"):
        mark_done(row, date(2026, 11, 19), date(2026, 11, 19))


def test_rebuild_is_idempotent_and_reports_differences(ctx):
    csp = path(ctx, "CSP", date(2026, 3, 2))
    csp.prebilan_at = at(2026, 3, 6, 10)
    path(ctx, "PLIE-L1", date(2026, 4, 29))
    order, _ = arjlj_order(ctx, at(2026, 11, 13, 15), date(2026, 11, 16))
    db.session.add(ProgrammeSession(programme=programme("DEL-L1"), label="S1",
                                    starts_on=date(2026, 1, 5), ends_on=date(2026, 8, 24)))
    now = at(2026, 11, 20)
    first = rebuild(db.session, now).total
    assert first.created > 0 and first.updated == 0 and first.cancelled == 0
    assert first.fulfilled == 0  # facts are taken at creation, not counted as a change
    second = rebuild(db.session, now).total
    assert second.counts() == {"created": 0, "updated": 0, "fulfilled": 0, "cancelled": 0,
                               "unchanged": first.created}
    stored = db.session.scalar(select(func.count(Obligation.id)))
    assert stored == first.created
    # A changed fact shows as a difference; a rule's stale obligation is cancelled.
    csp.prebilan_at = at(2026, 3, 5, 10)
    third = rebuild(db.session, now).total
    # the contract copy moved, the pré-bilan's done date followed the fact
    assert (third.created, third.updated, third.fulfilled) == (0, 1, 1)


def test_rebuild_cancels_what_a_deleted_phase_no_longer_owes(ctx):
    enrolment = path(ctx, "CSP", date(2026, 11, 2))
    svc.next_phase(db.session, enrolment, date(2026, 11, 9))
    rebuild(db.session, at(2026, 11, 10))
    row = one(enrolment, "csp_phase1_end")
    record = db.session.scalar(select(PhaseRecord).where(
        PhaseRecord.enrolment_id == enrolment.id, PhaseRecord.ended_on.is_(None)))
    enrolment.phase_records.remove(record)
    report = rebuild(db.session, at(2026, 11, 10))
    assert report.by_subject["parcours"].cancelled == 1
    assert row.cancelled_at == at(2026, 11, 10)


def test_saving_a_path_computes_its_obligations_without_auditing_them(reference_app, users):
    """obligation_sync: a commit that changes a path recomputes what it owes."""
    from backoffice.models import AuditEntry, Enrolment
    from tests.integration.test_alerts_view import quick_path

    with reference_app.app_context():
        before_audit = db.session.scalar(select(func.count(AuditEntry.id)))
        path = quick_path("CSP", None, entry=date(2026, 11, 2))
        db.session.commit()
        owed = db.session.scalars(select(Obligation).where(
            Obligation.enrolment_id == path.id, Obligation.cancelled_at.is_(None))).all()
        assert owed, "the CSP path owes its pré-bilan and intermediate deliverable"
        audited = db.session.scalars(select(AuditEntry.table_name).where(
            AuditEntry.id > (before_audit or 0))).all()
        assert "obligations" not in audited and "enrolments" in audited
        # Moving the event date moves the due date at the next commit.
        due_before = {o.rule_id: o.due_at for o in owed}
        db.session.get(Enrolment, path.id).entry_date = date(2026, 11, 9)
        db.session.commit()
        moved = {o.rule_id: o.due_at for o in db.session.scalars(select(Obligation).where(
            Obligation.enrolment_id == path.id, Obligation.cancelled_at.is_(None)))}
        assert any(moved[rule] != due for rule, due in due_before.items() if rule in moved)
