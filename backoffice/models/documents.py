"""Documents made from the record (issue 21 §4) and the templates administrators upload
(issue 21 §2). Both tables only grow: a produced document is kept as it was given, an
upload or a « Rétablir » adds a row (the latest row of a code is the active template)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..extensions import db
from ._types import utcnow


class ProducedDocument(db.Model):
    """One document produced from a record: its `.docx` (and PDF when converted), the
    template version it was filled from, who made it and when."""

    __tablename__ = "produced_documents"
    __table_args__ = (
        # a path's documents, the latest first (the path's and the person's pages)
        Index("ix_produced_documents_enrolment_made", "enrolment_id", "made_at"),
        Index("ix_produced_documents_subject", "subject", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind_code: Mapped[str] = mapped_column(String(60))
    #: the record it was made from (documents/catalogue.py SUBJECTS) and its id
    subject: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int]
    #: the path it belongs to, when it is about one (listed on the path's page)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    # the files are read only when downloaded (a list of documents never loads them)
    docx: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: whether a PDF is kept, read without reading it
    pdf_available: Mapped[bool] = column_property(pdf.column.is_not(None))
    #: 0: the shipped template; n: the n-th uploaded one (DocumentTemplate.number)
    template_version: Mapped[int] = mapped_column(default=0)
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    made_at: Mapped[datetime] = mapped_column(default=utcnow)

    made_by: Mapped["User | None"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.title} du {self.made_at:%d/%m/%Y}"


class DocumentTemplate(db.Model):
    """A template uploaded by an administrator for a kind of document (`code`), numbered
    1, 2… per code. A row without content puts the shipped template back (« Rétablir le
    modèle d'origine »): the active template of a code is its latest row's."""

    __tablename__ = "document_templates"
    __table_args__ = (UniqueConstraint("code", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    number: Mapped[int]
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    file_name: Mapped[str | None] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped["User | None"] = relationship()  # noqa: F821

    def __str__(self) -> str:
        return f"{self.code} v{self.number}"
