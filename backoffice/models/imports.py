"""Imports of the funders' referral lists (issue 23): the mapping presets, each import
(who, when, which file, what it did) and its rows, kept server-side between the upload,
the preview, the corrections and the confirmation, then as the record that lets the
import be undone."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import ImportRowStatus, ImportState
from ..extensions import db
from ._types import Versioned, enum_type, utcnow


class ImportPreset(Versioned, db.Model):
    """Which header holds which field in a programme's list (seeds/import_presets/)."""

    __tablename__ = "import_presets"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # {field: [headers]} (imports/mapping.py FIELDS)
    columns: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    programme: Mapped["Programme"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return self.name


class ReferralImport(Versioned, db.Model):
    """One import of a list: pending until confirmed, then done (or undone)."""

    __tablename__ = "referral_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    user_label: Mapped[str] = mapped_column(String(254))  # kept if the account goes
    file_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[ImportState] = mapped_column(enum_type(ImportState),
                                               default=ImportState.PENDING)
    headers: Mapped[list] = mapped_column(JSON)
    header_line: Mapped[int] = mapped_column(default=1)
    mapping: Mapped[dict | None] = mapped_column(JSON)  # {field: column index}
    preset_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_presets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_at: Mapped[datetime | None]
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # In the same step (issue 23 §6)
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="SET NULL"))
    commission_id: Mapped[int | None] = mapped_column(
        ForeignKey("commissions.id", ondelete="SET NULL"))
    # Counts, written at the confirmation (issue 23 §7)
    row_count: Mapped[int] = mapped_column(default=0)
    people_created: Mapped[int] = mapped_column(default=0)
    referrals_created: Mapped[int] = mapped_column(default=0)
    referrals_updated: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_skipped: Mapped[int] = mapped_column(default=0)
    rows_in_error: Mapped[int] = mapped_column(default=0)  # errors and duplicates in the file

    programme: Mapped["Programme"] = relationship()  # noqa: F821
    user: Mapped["User | None"] = relationship(foreign_keys=[user_id])  # noqa: F821
    purchase_order: Mapped["PurchaseOrder | None"] = relationship()  # noqa: F821
    commission: Mapped["Commission | None"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"Import n° {self.id} — {self.file_name}"


class ReferralImportRow(db.Model):
    """A row of an imported list: its cells, the preview's verdict, what was written."""

    __tablename__ = "referral_import_rows"
    __table_args__ = (
        Index("ix_referral_import_rows_import_line", "import_id", "line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("referral_imports.id", ondelete="CASCADE"))
    line: Mapped[int]  # as the file numbers it
    cells: Mapped[list] = mapped_column(JSON)  # the file's cells, as text, never changed
    corrections: Mapped[dict | None] = mapped_column(JSON)  # {field: text} typed in the preview
    status: Mapped[ImportRowStatus | None] = mapped_column(enum_type(ImportRowStatus))
    problems: Mapped[list | None] = mapped_column(JSON)  # [[field, message]]
    notes: Mapped[list | None] = mapped_column(JSON)  # flags: open referral, path…
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="SET NULL"), index=True)
    confirmed: Mapped[bool] = mapped_column(default=False)
    skipped: Mapped[bool] = mapped_column(default=False)
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the confirmation wrote (for the undo)
    beneficiary_id: Mapped[int | None] = mapped_column(  # indexed: deleting a person
        ForeignKey("beneficiaries.id", ondelete="SET NULL"), index=True)  # looks it up
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="SET NULL"), index=True)
    created_person: Mapped[bool] = mapped_column(default=False)
    created_referral: Mapped[bool] = mapped_column(default=False)
    previous: Mapped[dict | None] = mapped_column(JSON)  # values an update replaced
