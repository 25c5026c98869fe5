"""Obligations follow the records they come from, whoever changes them.

Whenever a transaction saves a path (or its phases, suspensions, contacts), an
orientation (referral), a purchase order or a session, the deadline engine
(`services/obligations.py`) recomputes their obligations just before the commit: an
admin form, a lifecycle action and a CLI command are covered alike, and a changed event
date moves its due date at once.

Obligations written by the engine itself are derived facts, not user changes: they are
left out of the audit trail (`audit.SYSTEM_WRITES`); a user's « Marquer comme fait » is
audited like any edit.
"""
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .models import (
    Contact,
    Enrolment,
    EsfExit,
    Internship,
    PhaseRecord,
    ProgrammeSession,
    PurchaseOrder,
    Referral,
    Suspension,
)
from .services import obligations as engine

PENDING = "obligations_pending"
SYNCING = "obligations_syncing"
CHILDREN_OF_PATH = (PhaseRecord, Suspension, Contact, Internship,  # 004 Lot 3: the mission
                    EsfExit)  # issue 24: the ESF+ exit data fulfil their deadline

# Which clock the hook reads (tests and the demo may replace it).
clock = datetime.now


@contextmanager
def engine_writes(session: Session):
    """Mark the obligations written inside the block as the engine's (not audited)."""
    session.info["audit_system_tables"] = {"obligations"}
    try:
        yield
    finally:
        session.info.pop("audit_system_tables", None)


def _collect(session: Session, _context) -> None:
    """After each flush, remember which paths, orders and sessions changed."""
    pending = session.info.setdefault(PENDING, {"paths": set(), "orders": set(),
                                                "sessions": set(), "referrals": set()})
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Enrolment):
            pending["paths"].add(obj.id)
        elif isinstance(obj, CHILDREN_OF_PATH):
            pending["paths"].add(obj.enrolment_id)
        elif isinstance(obj, PurchaseOrder):
            pending["orders"].add(obj.id)
        elif isinstance(obj, ProgrammeSession):
            pending["sessions"].add(obj.id)
        elif isinstance(obj, Referral):
            pending["referrals"].add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, CHILDREN_OF_PATH):
            pending["paths"].add(obj.enrolment_id)


def _sync_before_commit(session: Session) -> None:
    """Recompute the obligations of what this transaction changed."""
    if session.info.get(SYNCING):
        return
    session.info[SYNCING] = True
    try:
        session.flush()
        pending = session.info.pop(PENDING, None)
        if not pending or not any(pending.values()):
            return
        now = clock()
        with engine_writes(session):
            # An orientation with a path: its path owns the obligations (and a changed
            # orientation date moves them); without one, the orientation owes them.
            paths = session.scalars(
                select(Enrolment).where(Enrolment.id.in_(pending["paths"])
                                        | Enrolment.referral_id.in_(pending["referrals"]))
            ).all()
            if paths:
                engine._sync_enrolments(session, list(paths), {}, now)
            referrals = session.scalars(
                select(Referral).where(Referral.id.in_(pending["referrals"]))).all()
            if referrals:
                engine.sync_referral_obligations(session, list(referrals), now)
            orders = {p.purchase_order_id for p in paths if p.purchase_order_id}
            for order in session.scalars(select(PurchaseOrder).where(
                    PurchaseOrder.id.in_(pending["orders"] | orders))):
                engine.sync_order_obligations(session, order, now)
            for programme_session in session.scalars(select(ProgrammeSession).where(
                    ProgrammeSession.id.in_(pending["sessions"]))):
                engine.sync_session_obligations(session, programme_session, now)
            session.flush()
        session.info.pop(PENDING, None)
    finally:
        session.info.pop(SYNCING, None)


def sync_referrals_now(session: Session, referrals: list) -> None:
    """Compute these referrals' obligations now instead of at the commit: an import of a
    long list does it batch by batch, so that its memory does not grow with the list
    (services/imports.py); the commit then has nothing left to do for them."""
    session.flush()
    with engine_writes(session):
        engine.sync_referral_obligations(session, list(referrals), clock())
    pending = session.info.get(PENDING)
    if pending:
        pending["referrals"].difference_update(referral.id for referral in referrals)


def _forget(session: Session, *_args) -> None:
    session.info.pop(PENDING, None)


def install() -> None:
    """Listen to every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "before_commit", _sync_before_commit)
        event.listen(Session, "after_rollback", _forget)
