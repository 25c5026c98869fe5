"""Obligations owed to funders (échéances) and the audit trail."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import Versioned, utcnow

#: The predicate of the partial index of open obligations (ix_obligations_open_due).
OPEN_OBLIGATION = text("done_at IS NULL AND cancelled_at IS NULL")
#: The predicate of the partial index of obligations done late (ix_obligations_late).
LATE_OBLIGATION = text("done_at > due_at")


class Obligation(Versioned, db.Model):
    """A deliverable owed by a due date, created by the deadline engine."""

    __tablename__ = "obligations"
    __table_args__ = (
        CheckConstraint(
            "enrolment_id IS NOT NULL OR purchase_order_id IS NOT NULL "
            "OR session_id IS NOT NULL OR programme_id IS NOT NULL",
            name="has_subject",
        ),
        # The open obligations in the alerts list's order (due_at, id): a partial index, so
        # that PostgreSQL walks it in order (an index on (done_at, cancelled_at, due_at)
        # gives no order after « IS NULL » columns: it sorted every open row) and the badge
        # counts the overdue ones by a range of it. Both engines use it when a query says
        # « done_at IS NULL AND cancelled_at IS NULL » in those words.
        Index("ix_obligations_open_due", "due_at", "id",
              postgresql_where=OPEN_OBLIGATION, sqlite_where=OPEN_OBLIGATION),
        # A path's open obligations by due date: the coordinator's navbar badge goes
        # through the open paths and reads only their open obligations here (the plain
        # index on enrolment_id made it read the done ones too; issue 25 §3,
        # services/alerts.py: _capped_overdue_count).
        Index("ix_obligations_open_path", "enrolment_id", "due_at",
              postgresql_where=OPEN_OBLIGATION, sqlite_where=OPEN_OBLIGATION),
        # The compliance ledger (issue 22 §4, indicators/compliance.py): a rule's
        # obligations due in a period, read from the index alone (counts and delays: no
        # visit of the table's rows, 132 000 CSP obligations at 100 000 people)…
        Index("ix_obligations_rule_due", "rule_id", "due_at", "done_at", "cancelled_at",
              "event_at"),
        # … and its drill-down to the late ones, a few percent of them (« done_at >
        # due_at » in those words in the queries that should use it).
        Index("ix_obligations_late", "rule_id", "due_at",
              postgresql_where=LATE_OBLIGATION, sqlite_where=LATE_OBLIGATION),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("deadline_rules.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_sessions.id", ondelete="CASCADE"), index=True
    )
    # The orientation an obligation counts from (CSP pré-bilan, PLIE fiche de liaison
    # « entrée / non entrée »): set before any path exists, and kept when one starts.
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    event_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Why a coordinator closed it by hand (a closed path's leftover, issue 20 §4): set, the
    # deadline engine never reopens it; empty, a cancel by the engine (no longer owed).
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    # Why it was done after its due date, when the user said so on « Marquer comme fait »
    # (« Motif du retard », issue 22 §4): shown by the compliance ledger's late ones.
    late_reason: Mapped[str | None] = mapped_column(String(200))
    document_ref: Mapped[str | None] = mapped_column(String(200))

    rule: Mapped["DeadlineRule | None"] = relationship()  # noqa: F821
    enrolment: Mapped["Enrolment | None"] = relationship()  # noqa: F821
    purchase_order: Mapped["PurchaseOrder | None"] = relationship()  # noqa: F821
    session: Mapped["ProgrammeSession | None"] = relationship()  # noqa: F821
    referral: Mapped["Referral | None"] = relationship()  # noqa: F821
    programme: Mapped["Programme | None"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.name} — {self.due_at:%d/%m/%Y}"


class AuditEntry(db.Model):
    """Who did what, when (kept when the user account is deleted)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_table_row", "table_name", "row_id"),
                      Index("ix_audit_entries_address_at", "address", "at"),
                      Index("ix_audit_entries_entry_key", "entry_key", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    table_name: Mapped[str | None] = mapped_column(String(60))
    row_id: Mapped[int | None]
    changes: Mapped[dict | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)
    # The caller's address (requests only): anonymous entries are limited per address.
    address: Mapped[str | None] = mapped_column(String(64))
    # The key an entry got in the audit spool (audit/spool.py): written once however many
    # times the spool is drained. Empty for the entries written directly.
    entry_key: Mapped[str | None] = mapped_column(String(36))

    user: Mapped["User | None"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.action} {self.table_name or ''}"


class LoginAttempt(db.Model):
    """One login try, kept a short while to throttle guessing per account and per address
    across every server process (security.py); purged with the audit log (privacy.py)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)
