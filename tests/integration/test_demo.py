"""The demo dataset: deterministic, complete (every status and exit), realistic limits,
demo accounts only once seeded, and the `flask seed demo` command."""
import hashlib
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pytest
from sqlalchemy import func, or_, select, text

from backoffice.enums import (
    Attendance,
    CspRule,
    DelCategory,
    EnrolmentStatus,
    ReferralStatus,
    Role,
)
from backoffice.extensions import db
from backoffice.models import (
    Barrier,
    Beneficiary,
    Commission,
    Contact,
    Enrolment,
    ExitType,
    Internship,
    Obligation,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    Suspension,
    User,
    Workshop,
    WorkshopAttendance,
    referral_non_entry_barriers,
)
from backoffice.obligation_sync import engine_writes
from backoffice.rules.calendar import last_day_of_months
from backoffice.seeding import demo
from backoffice.seeding.demo import DEMO_PASSWORD, build_demo, settle_past_obligations
from backoffice.services.obligations import rebuild

TODAY = date(2025, 11, 20)
DEMO_EMAILS = ("admin@demo.fr", "coordination@demo.fr", "commission@demo.fr",
               "referent@demo.fr", "financeur@demo.fr")
DIGEST_TABLES = (Beneficiary, Referral, Commission, PurchaseOrder, PurchaseOrderLine,
                 Enrolment, PhaseRecord, Suspension, Contact, Workshop, WorkshopAttendance,
                 Internship, Barrier)


def _digest() -> str:
    """SHA-256 of every column of the demo tables, rows ordered by id (users: no hash,
    the password salt is random)."""
    sha = hashlib.sha256()
    for model in DIGEST_TABLES:
        for row in db.session.execute(select(model.__table__).order_by(model.id)):
            sha.update(repr(tuple(row)).encode())
    for row in db.session.execute(select(User.id, User.email, User.name, User.role)
                                  .order_by(User.id)):
        sha.update(repr(tuple(row)).encode())
    for row in db.session.execute(select(referral_non_entry_barriers).order_by(
            referral_non_entry_barriers.c.referral_id,
            referral_non_entry_barriers.c.barrier_type_id)):
        sha.update(repr(tuple(row)).encode())
    return sha.hexdigest()


def _build_and_digest(seed: int, people: int = 300) -> str:
    db.session.rollback()  # end the previous digest's read transaction before the DDL
    db.drop_all()
    db.create_all()
    build_demo(db.session, beneficiaries=people, seed=seed, today=TODAY)
    db.session.commit()
    db.session.expunge_all()
    return _digest()


@pytest.fixture
def demo_app(app):
    """The app with the demo (300 people, seed 1, fixed `today`) built and committed."""
    with app.app_context():
        build_demo(db.session, beneficiaries=300, seed=1, today=TODAY)
        db.session.commit()
    return app


def test_same_seed_and_day_give_identical_data(app):
    with app.app_context():
        first = _build_and_digest(seed=1)
        again = _build_and_digest(seed=1)
        other = _build_and_digest(seed=2)
    assert first == again
    assert other != first


def test_even_a_small_demo_has_two_referrals_waiting_for_the_commission(app):
    """The bulk validation of the browser journeys needs two (tests/e2e)."""
    with app.app_context():
        build_demo(db.session, beneficiaries=120, seed=7, today=TODAY)
        pending = db.session.scalar(select(func.count(Referral.id)).where(
            Referral.status == ReferralStatus.PENDING))
    assert pending >= 2


def test_every_referral_status(demo_app):
    with demo_app.app_context():
        statuses = set(db.session.scalars(select(Referral.status).distinct()))
        assert statuses == set(ReferralStatus)
        rejected = db.session.scalars(
            select(Referral).where(Referral.status == ReferralStatus.REJECTED)).all()
        assert all(r.decision_reason and r.decided_on for r in rejected)
        # A withdrawal (désistement) is replaced by a later referral that points to it
        replacements = db.session.scalars(
            select(Referral).where(Referral.replaces_id.is_not(None))).all()
        assert replacements
        for referral in replacements:
            assert referral.replaces.status is ReferralStatus.WITHDRAWN
            assert referral.replaces.programme_id == referral.programme_id
            assert referral.referred_on >= referral.replaces.decided_on
        not_entered = db.session.scalars(
            select(Referral).where(Referral.status == ReferralStatus.NOT_ENTERED)).all()
        assert not_entered and all(r.non_entry_barriers for r in not_entered)
        # Commission programmes: decisions are recorded on the referral
        commission_decided = db.session.scalars(
            select(Referral).where(Referral.commission_id.is_not(None))).all()
        assert commission_decided
        assert all(r.decided_on == r.commission.held_on for r in commission_decided)
        validated_del = [r for r in commission_decided if r.programme.code == "DEL-L1"
                         and r.status is ReferralStatus.VALIDATED]
        assert validated_del and all(1 <= r.validated_months <= 12 for r in validated_del)


def test_every_enrolment_status_and_phase(demo_app):
    with demo_app.app_context():
        statuses = set(db.session.scalars(select(Enrolment.status).distinct()))
        assert statuses == set(EnrolmentStatus)
        for enrolment in db.session.scalars(select(Enrolment)):
            records = enrolment.phase_records
            assert records, f"parcours {enrolment.id} sans étape"
            assert enrolment.current_phase_id == records[-1].phase_id
            positions = [r.phase.position for r in records]
            assert positions == sorted(positions)
            for before, after in zip(records, records[1:], strict=False):
                assert before.ended_on is not None and after.started_on >= before.ended_on
            assert enrolment.planned_end_date >= enrolment.entry_date
            # PLIE actions end on 31 December; a CSP at the latest the last day of its
            # adhesion (002 II §3), which does not move
            adhesion_end = enrolment.csp_adhesion_on and last_day_of_months(
                enrolment.csp_adhesion_on, enrolment.programme.adhesion_months)
            assert enrolment.planned_end_date.weekday() < 5 or enrolment.programme.code \
                in ("PLIE-L1", "PLIE-L2", "PLIE-L3") or enrolment.planned_end_date == adhesion_end
            if enrolment.programme.code == "CSP":
                assert (enrolment.csp_adhesion_on is None) \
                    is enrolment.beneficiary.experimental_csp_public
                assert adhesion_end is None or enrolment.planned_end_date <= adhesion_end
            if enrolment.status is EnrolmentStatus.SUSPENDED:
                assert any(s.ends_on is None for s in enrolment.suspensions)
            if enrolment.status is EnrolmentStatus.CLOSED:
                assert enrolment.exit_date and enrolment.closed_on
            if enrolment.status is EnrolmentStatus.FOLLOW_UP:
                assert enrolment.exit_date and records[-1].phase.is_follow_up
            assert enrolment.exit_date is None or enrolment.exit_date <= TODAY
            assert enrolment.version == 1
        used = set(db.session.scalars(select(PhaseRecord.phase_id).distinct()))
        every = set(db.session.scalars(select(Phase.id)))
        assert used == every, "chaque étape de chaque dispositif est représentée"


def _del_category(enrolment) -> DelCategory | None:
    kind = enrolment.exit_type
    if kind.del_ed_min_months and (enrolment.contract_months or 0) >= kind.del_ed_min_months:
        return DelCategory.ED
    return kind.del_category


def test_exits_of_every_kind(demo_app):
    with demo_app.app_context():
        exits = db.session.scalars(
            select(Enrolment).where(Enrolment.exit_type_id.is_not(None))).all()
        by_programme = {}
        for enrolment in exits:
            by_programme.setdefault(enrolment.programme.code, []).append(enrolment)
        del_categories = {_del_category(e) for code in ("DEL-L1", "DEL-L2")
                          for e in by_programme.get(code, [])}
        assert {DelCategory.ED, DelCategory.SD, DelCategory.SP} <= del_categories
        csp_rules = {e.exit_type.csp_rule for e in by_programme["CSP"]}
        assert CspRule.POSITIVE in csp_rules and CspRule.NOT_POSITIVE in csp_rules
        plie_codes = {e.exit_type.code for code in ("PLIE-L1", "PLIE-L2", "PLIE-L3", "PLIE-L4")
                      for e in by_programme.get(code, [])}
        assert {"end_of_action", "loss_of_contact"} <= plie_codes
        assert by_programme["ARJLJ"]
        ruptures = [e for e in exits if e.exit_type.is_rupture
                    and e.programme.exit_scheme in ("DEL", "CSP")]
        assert ruptures and all(e.difficulties and e.recommendations for e in ruptures)
        for enrolment in exits:
            scheme = enrolment.programme.exit_scheme
            assert scheme in enrolment.exit_type.schemes.split(",")
            if enrolment.exit_type.needs_employer:
                assert enrolment.employer
        rated = [e for e in exits if e.satisfaction is not None]
        assert rated and all(1 <= e.satisfaction <= 5 for e in rated)
        assert all(0 <= e.goal_attainment <= 3 for e in exits if e.goal_attainment is not None)
        all_exit_codes = set(db.session.scalars(select(ExitType.code)))
        assert plie_codes <= all_exit_codes


def test_plie_absences_workshops_and_immersions(demo_app):
    with demo_app.app_context():
        # 004: two consecutive unjustified absences on some PLIE paths
        found = False
        for enrolment in db.session.scalars(select(Enrolment).join(Programme).where(
                Programme.code.like("PLIE-%"))):
            marks = list(db.session.scalars(select(Contact.attendance).where(
                Contact.enrolment_id == enrolment.id).order_by(Contact.occurs_at)))
            if any(a is b is Attendance.UNEXCUSED for a, b in zip(marks, marks[1:],
                                                                   strict=False)):
                found = True
                break
        assert found
        # 004 Lot 1: workshops of 4 to 7 people, 3 hours
        sizes = db.session.execute(
            select(Workshop.id, Workshop.duration_minutes, func.count(WorkshopAttendance.id))
            .join(WorkshopAttendance).join(Programme, Programme.id == Workshop.programme_id)
            .where(Programme.code == "PLIE-L1").group_by(Workshop.id)
        ).all()
        assert sizes and all(4 <= n <= 7 and minutes == 180 for _, minutes, n in sizes)
        # 004 Lot 3: immersions of at most 30 h over at most two weeks, with the diagnostic
        immersions = db.session.scalars(select(Internship).join(Enrolment).join(Programme)
                                        .where(Programme.code == "PLIE-L3")).all()
        assert immersions
        for immersion in immersions:
            assert immersion.hours <= 30
            assert (immersion.ends_on - immersion.starts_on) < timedelta(days=14)
            assert len(immersion.company_number) == 14
        assert any(i.diagnostic_recommendations and i.diagnostic_cosigned_on
                   for i in immersions)
        del_internships = db.session.scalars(select(Internship).join(Enrolment).join(Programme)
                                             .where(Programme.code.like("DEL-%"))).all()
        assert any(i.final_technical and i.final_behavioural for i in del_internships)


def test_orders_people_and_barriers(demo_app):
    with demo_app.app_context():
        for order in db.session.scalars(select(PurchaseOrder)):
            assert order.beneficiary_count == len(order.lines)
        arjlj = db.session.scalars(select(PurchaseOrder).join(Programme)
                                   .where(Programme.code == "ARJLJ")).all()
        assert arjlj and all(o.company_name and o.support_start_on for o in arjlj)
        del_lines = db.session.scalars(select(PurchaseOrderLine).join(PurchaseOrder)
                                       .join(Programme).where(Programme.code == "DEL-L1")).all()
        assert del_lines and all(line.duration_months for line in del_lines)
        # Residence matches the funder's territory
        communes = {}
        for enrolment in db.session.scalars(select(Enrolment)):
            communes.setdefault(enrolment.programme.code, set()).add(
                enrolment.beneficiary.commune)
        assert "Nouméa" in communes["DEL-L1"] and "Lunel" in communes["PLIE-L1"]
        assert not communes["CSP"] & (communes["DEL-L1"] | communes["PLIE-L1"])
        people = db.session.scalars(select(Beneficiary)).all()
        assert len(people) == 300
        assert all(p.name_key for p in people)
        ids = [p.external_id for p in people if p.external_id]
        assert len(ids) == len(set(ids))
        del_ids = [p.external_id for p in people
                   if p.external_id and p.external_id.startswith("DEL")]
        assert del_ids and all(len(i) == 10 for i in del_ids)
        # Barriers on about half of the paths, some of them lifted
        paths = db.session.scalar(select(func.count()).select_from(Enrolment))
        with_barriers = db.session.scalar(select(func.count(Barrier.enrolment_id.distinct())))
        assert 0.35 * paths <= with_barriers <= 0.75 * paths
        assert db.session.scalar(select(func.count()).where(Barrier.lifted_on.is_not(None)))


def test_demo_accounts_only_after_build(app, client):
    with app.app_context():
        assert not db.session.scalars(select(User).where(User.email.like("%@demo.fr"))).all()
        build_demo(db.session, beneficiaries=60, seed=5, today=TODAY)
        db.session.commit()
        users = {u.email: u for u in db.session.scalars(
            select(User).where(User.email.like("%@demo.fr")))}
        assert set(DEMO_EMAILS) <= set(users)
        assert {u.role for u in users.values()} == set(Role)
        assert users["referent@demo.fr"].role is Role.COUNSELLOR
        assert users["financeur@demo.fr"].check_password(DEMO_PASSWORD)
        referents = set(db.session.scalars(select(Enrolment.referent_id).distinct()))
        assert referents <= {u.id for u in users.values() if u.role is Role.COUNSELLOR}
        assert users["referent@demo.fr"].id in referents
        people = db.session.scalar(select(func.count()).select_from(Beneficiary))
        # A second run adds nothing and says so in French
        summary = build_demo(db.session, beneficiaries=60, seed=5, today=TODAY)
        assert "existent déjà" in summary[0]
        assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == people
    response = client.post("/login", data={"email": "referent@demo.fr",
                                           "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_cli_seed_demo(app, runner):
    result = runner.invoke(args=["seed", "demo", "--beneficiaries", "50", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "50 bénéficiaires" in result.output and DEMO_PASSWORD in result.output
    assert "échéances passées faites" in result.output  # issue 20 §8, settled after the rebuild
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 50
        assert db.session.scalar(select(func.count()).select_from(Programme)) == 8
    again = runner.invoke(args=["seed", "demo", "--beneficiaries", "50", "--seed", "3"])
    assert again.exit_code == 0 and "existent déjà" in again.output


def _indexes_and_constraints() -> list:
    """Every index and constraint of the schema as the engine's catalogue defines them
    (SQLite: every object's SQL, its keys being part of its tables)."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(text(
            "SELECT 'index', indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() UNION ALL"
            " SELECT 'constraint', conname, conrelid::regclass::text || ' '"
            " || pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE connamespace = current_schema()::regnamespace UNION ALL"
            " SELECT 'trigger', tgname, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE NOT tgisinternal")).all()
    else:
        rows = db.session.execute(text(  # not the planner's figures (ANALYZE)
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'"
        )).all()
    db.session.rollback()
    return sorted(tuple(row) for row in rows)


def test_cli_seed_demo_leaves_every_index_and_key_as_it_found_them(app, runner):
    """On PostgreSQL the demo's tables, then the deadlines, are filled without their
    secondary indexes and foreign keys, rebuilt at the end (seeding/demo.py,
    `_defer_constraints`): the schema afterwards is the one before, keys validated."""
    with app.app_context():
        before = _indexes_and_constraints()
        assert any("FOREIGN KEY" in str(row) for row in before)
    result = runner.invoke(args=["seed", "demo", "--beneficiaries", "50", "--seed", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _indexes_and_constraints() == before
        assert db.session.scalar(select(func.count()).select_from(Obligation)) > 0
        # the sheet flags, set once after the load (its triggers were left out of it)
        wrong = db.session.scalar(text(
            "SELECT count(*) FROM workshops w WHERE has_attendance_sheet <> EXISTS"
            " (SELECT 1 FROM workshop_attendances a WHERE a.workshop_id = w.id)"))
        assert wrong == 0
        assert db.session.scalar(select(func.count()).select_from(Workshop)
                                 .where(Workshop.has_attendance_sheet)) > 0


def test_a_demo_stopped_after_a_commit_keeps_its_indexes_and_people(app, monkeypatch):
    """`flask seed demo` commits as it goes: a failure after a commit leaves the people
    committed, with the indexes, keys and name search dropped for the load back."""
    monkeypatch.setattr(demo, "CHUNK_SIZE", 40)
    monkeypatch.setattr(demo, "COMMIT_EVERY", 40)

    def power_cut(self):
        raise RuntimeError("coupure")

    monkeypatch.setattr(demo._DemoBuilder, "finish_workshops", power_cut)
    with app.app_context():
        before = _indexes_and_constraints()
        with pytest.raises(RuntimeError):
            build_demo(db.session, beneficiaries=100, seed=3, today=TODAY,
                       commit=db.session.commit)
        assert _indexes_and_constraints() == before
        assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 100


def test_larger_demo_keeps_its_constraints(app, capsys):
    """2 000 people: unique identities and ids, every row valid (timing printed, not asserted)."""
    with app.app_context():
        started = time.perf_counter()
        build_demo(db.session, beneficiaries=2000, seed=7, today=TODAY)
        db.session.commit()
        seconds = time.perf_counter() - started
        assert db.session.scalar(select(func.count()).select_from(Beneficiary)) == 2000
        # The rules of the forms hold for the demo's rows too (services/activity.py)
        assert db.session.scalar(
            select(func.count(Internship.id)).join(Enrolment).where(or_(
                Internship.starts_on < Enrolment.entry_date,
                Internship.starts_on > Enrolment.exit_date))) == 0
        sheet = (select(func.count(WorkshopAttendance.id)).join(Workshop)
                 .join(Enrolment, WorkshopAttendance.enrolment_id == Enrolment.id))
        assert db.session.scalar(sheet.where(
            Enrolment.programme_id != Workshop.programme_id)) == 0
        assert db.session.scalar(sheet.where(
            func.date(Workshop.held_at) < Enrolment.entry_date)) == 0
        # Nobody attends a workshop held after leaving the path
        assert db.session.scalar(sheet.where(
            func.date(Workshop.held_at) > Enrolment.exit_date)) == 0
        assert db.session.scalar(sheet) > 1000
        assert db.session.scalar(
            select(func.count(Workshop.id)).join(ProgrammeSession).where(or_(
                ProgrammeSession.programme_id != Workshop.programme_id,
                func.date(Workshop.held_at) < ProgrammeSession.starts_on,
                func.date(Workshop.held_at) > ProgrammeSession.ends_on))) == 0
        # New rows after the demo get fresh ids (sequences moved past the demo's ids)
        db.session.add(Commission(programme_id=1, held_on=TODAY))
        db.session.commit()
    with capsys.disabled():
        print(f"\n  build_demo(2000) : {seconds:.1f} s")


def test_demo_follows_the_programme_figures(demo_app):
    """Issue 19 A: the demo's rows pass the rules every route now applies."""
    with demo_app.app_context():
        paths = (select(func.count(Enrolment.id))
                 .join(Programme, Enrolment.programme_id == Programme.id))
        # 001 Lot 2 : « Demandeur d'emploi reconnu par la CRHD »
        assert db.session.scalar(
            paths.join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
            .where(Programme.requires_disability_recognition.is_(True),
                   Beneficiary.disability_recognition.is_(False))) == 0
        # 001 « Organisation » : entries validated in commission
        assert db.session.scalar(
            paths.outerjoin(Referral, Enrolment.referral_id == Referral.id)
            .where(Programme.requires_commission.is_(True),
                   Referral.commission_id.is_(None))) == 0
        # 001 « Description » : a company internship, or why not at the normal end
        with_internship = select(Internship.enrolment_id)
        closed_at_end = (paths.join(ExitType, Enrolment.exit_type_id == ExitType.id)
                         .where(Programme.requires_internship.is_(True),
                                ExitType.is_anticipated.is_(False),
                                Enrolment.exit_date >= Enrolment.planned_end_date))
        assert db.session.scalar(closed_at_end.where(
            Enrolment.id.not_in(with_internship),
            Enrolment.no_internship_reason.is_(None))) == 0
        assert db.session.scalar(closed_at_end.where(
            Enrolment.no_internship_reason.is_not(None))) > 0
        del_paths = db.session.scalar(paths.where(Programme.requires_internship.is_(True)))
        assert db.session.scalar(
            select(func.count(func.distinct(Internship.enrolment_id)))
            .join(Enrolment).join(Programme)
            .where(Programme.requires_internship.is_(True))) > del_paths / 2


# --- Issue 20 §8: a demo that looks like a real service ---------------------------------

NOW = datetime.combine(TODAY, dtime(9, 0))


@pytest.fixture
def settled_demo(app):
    """The small demo of the browser journeys (120 people, seed 7) with its obligations
    computed and settled as `flask seed demo` does; yields what was settled."""
    with app.app_context():
        build_demo(db.session, beneficiaries=120, seed=7, today=TODAY)
        db.session.commit()
        with engine_writes(db.session):
            rebuild(db.session, NOW)
            settled = settle_past_obligations(db.session, 7, NOW)
            db.session.commit()
        yield settled


def _open_overdue():
    return (Obligation.done_at.is_(None), Obligation.cancelled_at.is_(None),
            Obligation.due_at < NOW)


def test_a_counsellors_overdue_deliverables_are_a_days_work(settled_demo):
    """Not 175 overdue going back two years: 1 to 10 per counsellor, the oldest within a
    few weeks; the coordinator (every path, order and report) a few dozen at most."""
    counsellors = db.session.scalars(select(User.id).where(
        User.role == Role.COUNSELLOR)).all()
    for counsellor in counsellors:
        overdue = db.session.execute(
            select(func.count(Obligation.id), func.min(Obligation.due_at))
            .join(Enrolment, Obligation.enrolment_id == Enrolment.id)
            .where(Enrolment.referent_id == counsellor, *_open_overdue())).one()
        if overdue[0]:
            assert overdue[0] <= 10
            assert NOW - overdue[1] <= timedelta(days=42)
    referent = db.session.scalar(select(User.id).where(User.email == "referent@demo.fr"))
    mine = db.session.scalar(
        select(func.count(Obligation.id))
        .join(Enrolment, Obligation.enrolment_id == Enrolment.id)
        .where(Enrolment.referent_id == referent, *_open_overdue()))
    assert 1 <= mine <= 10
    everyone = db.session.scalar(select(func.count(Obligation.id)).where(*_open_overdue()))
    assert settled_demo.still_open == everyone
    assert 3 <= everyone <= 10 * (len(counsellors) + 1)


def test_past_deliverables_mostly_done_on_time_a_few_late(settled_demo):
    rows = db.session.execute(select(Obligation.due_at, Obligation.done_at, Obligation.event_at)
                              .where(Obligation.done_at.is_not(None))).all()
    assert rows and all(done <= NOW for _, done, _ in rows)
    assert all(event is None or done >= min(event, due) for due, done, event in rows)
    late = [done - due for due, done, _ in rows if done > due]
    assert 0 < len(late) <= 0.15 * len(rows)
    # Days late, a few weeks at most (the facts the demo records are late by as much)
    assert all(timedelta(0) < delay <= timedelta(days=31) for delay in late)
    assert 0 < settled_demo.late <= len(late)
    assert settled_demo.on_time + settled_demo.late < len(rows)  # the rest: facts recorded


def test_settling_is_deterministic(app):
    def settle() -> list:
        build_demo(db.session, beneficiaries=120, seed=7, today=TODAY)
        db.session.commit()
        with engine_writes(db.session):
            rebuild(db.session, NOW)
            settle_past_obligations(db.session, 7, NOW)
            db.session.commit()
        return sorted(db.session.execute(select(
            Obligation.rule_id, Obligation.enrolment_id, Obligation.purchase_order_id,
            Obligation.session_id, Obligation.referral_id, Obligation.programme_id,
            Obligation.event_at, Obligation.due_at, Obligation.done_at)).all(),
            key=lambda row: tuple((value is None, value) for value in row))

    with app.app_context():
        first = settle()
        db.session.rollback()
        db.drop_all()
        db.create_all()
        assert settle() == first


def test_no_contact_or_workshop_after_now_carries_an_attendance_mark(app):
    """A contact of today or later would be a planned appointment, which a contact cannot
    express: the demo has none, nor any attendance sheet of a workshop not yet held."""
    with app.app_context():
        build_demo(db.session, beneficiaries=120, seed=7, today=TODAY)
        db.session.commit()
        start_of_today = datetime.combine(TODAY, dtime.min)
        assert db.session.scalar(select(func.count(Contact.id)).where(
            Contact.occurs_at >= start_of_today)) == 0
        assert db.session.scalar(select(func.count(WorkshopAttendance.id)).join(Workshop)
                                 .where(Workshop.held_at >= start_of_today)) == 0
        assert db.session.scalar(select(func.count(Contact.id)).where(
            Contact.occurs_at >= start_of_today - timedelta(days=7))) > 0


def test_readme_lists_every_demo_account_with_its_role(demo_app):
    """Issue 20 §8: every account of the default demo (300 people), with its role."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line.split("|")[2].lower()
            for line in readme.splitlines() if line.startswith("| `")}
    with demo_app.app_context():
        accounts = db.session.execute(select(User.email, User.role)).all()
    assert len(accounts) == 9
    for email, role in accounts:
        assert email in rows, email
        assert rows[email].strip().startswith(role.label.split(" (")[0].lower()), email
