"""Documents made from the record (issue 21): produce one, many in one ZIP, convert to
PDF, keep each with its record, tie it to the deadline it fulfils; and the templates
administrators upload, checked before they are accepted.

Plain functions on a session (no Flask): load → rule → write; the caller commits once
(one transaction per user action). The catalogue of kinds is documents/catalogue.py;
filling a template is documents/render.py.

Rights (auth/permissions.py): producing or downloading a document needs the
« documents » right and the right to read the record it is made from
(`may_produce`); a counsellor reaches only the records of their own paths; a funder's
representative never gets a document that names a person.
"""
import re
import shutil
import subprocess
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, undefer

from ..auth.permissions import SUBJECT_AREAS, can, is_restricted_to_own_paths, may_produce
from ..documents.builder import shipped_template
from ..documents.catalogue import DocumentKind, load_all
from ..documents.render import TemplateProblem, render
from ..models import (
    Commission,
    Contact,
    DeadlineRule,
    DocumentTemplate,
    Enrolment,
    Internship,
    Obligation,
    ProducedDocument,
    ProgrammeSession,
    PurchaseOrder,
    Referral,
    Workshop,
)
from ..models._types import utcnow
from .alerts import visible_obligation
from .obligations import mark_done

#: The table of each record a document can be made from (catalogue.SUBJECTS).
SUBJECT_MODELS = {
    "enrolment": Enrolment, "referral": Referral, "workshop": Workshop,
    "commission": Commission, "purchase_order": PurchaseOrder,
    "programme_session": ProgrammeSession, "internship": Internship, "contact": Contact,
}
#: The largest template accepted (a .docx with a logo is a few hundred kilobytes).
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: How long LibreOffice may take to convert one document.
PDF_TIMEOUT_SECONDS = 120


class DocumentRefused(PermissionError):
    """The user may not do this; the message is French and shown as it is."""


class DocumentNotFound(LookupError):
    """No such kind, record or document, or one the user may not reach (never said apart:
    a refusal names no one)."""


class DocumentNotApplicable(ValueError):
    """The document does not belong to the record chosen (another programme), or nothing
    was chosen; French message, nothing made."""


class PdfUnavailable(RuntimeError):
    """The machine cannot convert to PDF (LibreOffice absent or failing); French message."""


class TemplateRefused(ValueError):
    """An uploaded template not accepted; the French message names what is wrong."""


# --- the catalogue ------------------------------------------------------------------------

def kind_of(code: str | None) -> DocumentKind:
    """The kind of `code` (DocumentNotFound when the catalogue has none)."""
    kind = load_all().get(code or "")
    if kind is None:
        raise DocumentNotFound(f"Document inconnu : « {code} ».")
    return kind


def kinds_for_rule(rule_code: str | None, subject: str | None = None) -> list[DocumentKind]:
    """The documents that fulfil the deadline rule `rule_code` (issue 21 §3: one click from
    the obligation in the alerts), of `subject` when given."""
    if not rule_code:
        return []
    return [kind for kind in load_all().values()
            if rule_code in kind.fulfils and subject in (None, kind.subject)]


# --- who may reach which record ------------------------------------------------------------

def _scope(user, subject: str) -> list:
    """The row filter of `user` on the records of `subject`: a counsellor's own paths."""
    model = SUBJECT_MODELS[subject]
    if not is_restricted_to_own_paths(user.role, SUBJECT_AREAS[subject][0]):
        return []
    if model is Enrolment:
        return [Enrolment.referent_id == user.id]
    if hasattr(model, "enrolment_id"):
        own = select(Enrolment.id).where(Enrolment.referent_id == user.id)
        return [model.enrolment_id.in_(own)]
    return []


def programme_code_of(record) -> str | None:
    programme = getattr(record, "programme", None)
    if programme is None and getattr(record, "enrolment", None) is not None:
        programme = record.enrolment.programme
    return programme.code if programme is not None else None


def _enrolment_id(subject: str, record) -> int | None:
    """The path a document made from `record` belongs to (listed on its page)."""
    if subject == "enrolment":
        return record.id
    return getattr(record, "enrolment_id", None)


def reachable_records(session: Session, user, kind: DocumentKind, ids: Iterable[int]) -> list:
    """The records of `ids` a document of `kind` is made from, in id order, after the
    checks: the role may produce it (DocumentRefused), every record exists and is the
    user's to reach (DocumentNotFound) and belongs to a programme of the kind
    (DocumentNotApplicable). All or none."""
    if not may_produce(user.role, kind.subject, kind.nominative):
        raise DocumentRefused(f"« {kind.title} » : votre rôle ne permet pas de produire "
                              "ce document.")
    wanted = sorted(set(ids))
    if not wanted:
        raise DocumentNotApplicable("Aucune fiche sélectionnée.")
    model = SUBJECT_MODELS[kind.subject]
    records = list(session.scalars(select(model).where(model.id.in_(wanted),
                                                       *_scope(user, kind.subject))
                                   .order_by(model.id)))
    if len(records) != len(wanted):
        raise DocumentNotFound("Fiche introuvable ou hors de vos droits.")
    for record in records:
        code = programme_code_of(record)
        if not kind.applies_to(code):
            raise DocumentNotApplicable(f"« {kind.title} » ne concerne pas le dispositif "
                                        f"{code} (fiche n° {record.id}).")
    return records


# --- templates ----------------------------------------------------------------------------

def active_template(session: Session, code: str) -> tuple[bytes, int]:
    """The template a document of `code` is filled from and its version: the latest
    upload (1, 2…), or the shipped one (0) when none was uploaded or it was restored."""
    row = session.scalars(select(DocumentTemplate).where(DocumentTemplate.code == code)
                          .options(undefer(DocumentTemplate.content))
                          .order_by(DocumentTemplate.number.desc()).limit(1)).first()
    if row is None or row.content is None:
        return shipped_template(code), 0
    return row.content, row.number


@dataclass(frozen=True)
class TemplateState:
    """What the templates screen shows of one kind."""

    kind: DocumentKind
    version: int
    file_name: str | None = None
    uploaded_at: datetime | None = None
    uploaded_by: str | None = None

    @property
    def shipped(self) -> bool:
        return self.version == 0


def template_states(session: Session) -> list[TemplateState]:
    """Every kind of the catalogue with its active template, by title (one query)."""
    latest: dict[str, DocumentTemplate] = {}
    for row in session.scalars(select(DocumentTemplate)
                               .options(joinedload(DocumentTemplate.uploaded_by))
                               .order_by(DocumentTemplate.code, DocumentTemplate.number)):
        latest[row.code] = row
    states = []
    for kind in sorted(load_all().values(), key=lambda k: k.title):
        row = latest.get(kind.code)
        if row is None or row.file_name is None:
            states.append(TemplateState(kind, 0))
        else:
            states.append(TemplateState(kind, row.number, row.file_name, row.uploaded_at,
                                        row.uploaded_by.name if row.uploaded_by else None))
    return states


def check_template(kind: DocumentKind, content: bytes, file_name: str) -> None:
    """Refuse (TemplateRefused, in French) a file that is not a .docx, is too big, or
    cannot be filled with the kind's sample record (the faulty placeholder named)."""
    if not content:
        raise TemplateRefused("Modèle : aucun fichier envoyé.")
    if len(content) > MAX_TEMPLATE_BYTES:
        raise TemplateRefused(f"Modèle : « {file_name} » dépasse "
                              f"{MAX_TEMPLATE_BYTES // (1024 * 1024)} Mo.")
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            is_docx = "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        is_docx = False
    if not is_docx:
        raise TemplateRefused(f"Modèle : « {file_name} » n'est pas un document Word (.docx). "
                              "Enregistrez-le au format .docx dans Word ou LibreOffice.")
    try:
        render(content, kind.sample())
    except TemplateProblem as problem:
        raise TemplateRefused(f"Modèle refusé : {problem}") from None
    except Exception:  # a damaged file docx cannot read: said in French, never a 500
        raise TemplateRefused(f"Modèle : « {file_name} » n'a pas pu être lu comme un "
                              "document Word (.docx).") from None


def _next_number(session: Session, code: str) -> int:
    last = session.scalar(select(func.max(DocumentTemplate.number))
                          .where(DocumentTemplate.code == code))
    return (last or 0) + 1


def upload_template(session: Session, kind_code: str, content: bytes, file_name: str, user,
                    now: datetime | None = None) -> DocumentTemplate:
    """Make an uploaded file the active template of a kind, once it is checked (the audit
    trail records the new row: who, when, which file)."""
    kind = kind_of(kind_code)
    name = (file_name or "modele.docx").strip()[:200]
    check_template(kind, content, name)
    row = DocumentTemplate(code=kind.code, number=_next_number(session, kind.code),
                           content=content, file_name=name, uploaded_by_id=user.id,
                           uploaded_at=now or utcnow())
    session.add(row)
    return row


def restore_template(session: Session, kind_code: str, user,
                     now: datetime | None = None) -> DocumentTemplate:
    """« Rétablir le modèle d'origine »: the shipped template is active again (a row
    without content; the uploads stay in the history)."""
    kind = kind_of(kind_code)
    if active_template_version(session, kind.code) == 0:
        raise TemplateRefused(f"« {kind.title} » utilise déjà le modèle d'origine.")
    row = DocumentTemplate(code=kind.code, number=_next_number(session, kind.code),
                           content=None, file_name=None, uploaded_by_id=user.id,
                           uploaded_at=now or utcnow())
    session.add(row)
    return row


def active_template_version(session: Session, code: str) -> int:
    """The version `active_template` would use, without reading the file."""
    row = session.execute(select(DocumentTemplate.number, DocumentTemplate.file_name)
                          .where(DocumentTemplate.code == code)
                          .order_by(DocumentTemplate.number.desc()).limit(1)).first()
    return 0 if row is None or row.file_name is None else row.number


# --- PDF ----------------------------------------------------------------------------------

def soffice() -> str | None:
    """The LibreOffice program converting to PDF, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: bytes) -> bytes:
    """The PDF of a .docx, by `soffice --headless --convert-to pdf` (README « PDF »)."""
    program = soffice()
    if program is None:
        raise PdfUnavailable("PDF indisponible : LibreOffice n'est pas installé sur ce "
                             "serveur (voir le README) ; le document existe en .docx.")
    with tempfile.TemporaryDirectory(prefix="parcours-pdf-") as folder:
        source = Path(folder) / "document.docx"
        source.write_bytes(docx)
        # A profile of its own: two conversions at once would fight over the user's one.
        profile = (Path(folder) / "profile").as_uri()
        try:
            subprocess.run([program, f"-env:UserInstallation={profile}", "--headless",
                            "--convert-to", "pdf", "--outdir", folder, str(source)],
                           capture_output=True, timeout=PDF_TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
        target = Path(folder) / "document.pdf"
        if not target.exists():
            raise PdfUnavailable("PDF indisponible : LibreOffice n'a pas pu convertir le "
                                 "document ; il existe en .docx.")
        return target.read_bytes()


# --- producing ------------------------------------------------------------------------------

def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()[:60] or "document"


def file_name(kind: DocumentKind, record, on: date) -> str:
    """« fiche-de-liaison-wamytan-lea-2026-12-06.docx »: what, whom, when."""
    person = getattr(record, "beneficiary", None)
    if person is None and getattr(record, "enrolment", None) is not None:
        person = record.enrolment.beneficiary
    who = f"{person.last_name} {person.first_name}" if person is not None \
        else f"{kind.subject} {record.id}"
    return f"{_slug(kind.title)}-{_slug(who)}-{on:%Y-%m-%d}.docx"


def zip_name(kind: DocumentKind, count: int, on: date) -> str:
    """« convocation-200-documents-2026-12-06.zip »."""
    return f"{_slug(kind.title)}-{count}-documents-{on:%Y-%m-%d}.zip"


def _make(session: Session, kind: DocumentKind, record, template: bytes, version: int,
          user, now: datetime, pdf: bool) -> ProducedDocument:
    content = render(template, kind.build(session, record.id))
    document = ProducedDocument(
        kind_code=kind.code, subject=kind.subject, subject_id=record.id,
        enrolment_id=_enrolment_id(kind.subject, record), title=kind.title[:200],
        file_name=file_name(kind, record, now.date()), docx=content,
        pdf=to_pdf(content) if pdf else None, template_version=version,
        made_by_id=user.id, made_at=now)
    session.add(document)
    return document


def produce(session: Session, kind_code: str, record_id: int, user, *, pdf: bool = False,
            now: datetime | None = None) -> ProducedDocument:
    """Fill the active template of a kind from one record and keep the document (who,
    when, which template version). The caller commits."""
    kind = kind_of(kind_code)
    record, = reachable_records(session, user, kind, [record_id])
    template, version = active_template(session, kind.code)
    return _make(session, kind, record, template, version, user, now or utcnow(), pdf)


def produce_many(session: Session, kind_code: str, record_ids: Iterable[int], user,
                 out: BinaryIO, now: datetime | None = None) -> int:
    """One document per record in one ZIP written to `out` (a temporary file), each kept
    like a single one. All or none: a refused record refuses the whole selection before
    anything is made. Returns the number of documents. The caller commits.

    Memory stays flat in the number of documents: each is written to the ZIP and to the
    database, then what was loaded for it leaves the session."""
    kind = kind_of(kind_code)
    held = set(session.identity_map.keys())
    ids = [record.id for record in reachable_records(session, user, kind, record_ids)]
    _release(session, held)
    template, version = active_template(session, kind.code)
    moment = now or utcnow()
    model = SUBJECT_MODELS[kind.subject]
    names: set[str] = set()
    # the documents are zipped already: stored as they are, not compressed twice
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for record_id in ids:
            record = session.get(model, record_id)
            document = _make(session, kind, record, template, version, user, moment, False)
            session.flush()
            name = document.file_name
            if name in names:  # two people of the same name: the record's number tells
                name = name.replace(".docx", f"-{record_id}.docx")
            names.add(name)
            archive.writestr(name, document.docx)
            session.expunge(document)
            _release(session, held)
    return len(ids)


def _release(session: Session, held: set) -> None:
    """Let go of the rows loaded since `held` was taken (flushed, nothing pending)."""
    for key in list(session.identity_map.keys()):
        if key not in held:
            row = session.identity_map.get(key)
            if row is not None:
                session.expunge(row)


# --- reading what was produced ------------------------------------------------------------

def documents_of_paths(session: Session, path_ids: list[int]) -> dict[int, list]:
    """{path id: [its documents, the latest first]} in one statement (files not read)."""
    grouped: dict[int, list] = {path_id: [] for path_id in path_ids}
    if path_ids:
        for document in session.scalars(
                select(ProducedDocument).where(ProducedDocument.enrolment_id.in_(path_ids))
                .options(joinedload(ProducedDocument.made_by))
                .order_by(ProducedDocument.made_at.desc(), ProducedDocument.id.desc())):
            grouped[document.enrolment_id].append(document)
    return grouped


def documents_of(session: Session, subject: str, record_id: int) -> list[ProducedDocument]:
    """The documents made from one record (a workshop, a commission…), the latest first."""
    return list(session.scalars(
        select(ProducedDocument)
        .where(ProducedDocument.subject == subject, ProducedDocument.subject_id == record_id)
        .options(joinedload(ProducedDocument.made_by))
        .order_by(ProducedDocument.made_at.desc(), ProducedDocument.id.desc())))


def visible_document(session: Session, user, document_id: int, *, pdf: bool = False
                     ) -> ProducedDocument | None:
    """A produced document with its file, if `user` may download it: the same rights as
    to produce it, on the record it was made from (None otherwise, or when unknown)."""
    document = session.get(ProducedDocument, document_id,
                           options=[undefer(ProducedDocument.pdf if pdf
                                            else ProducedDocument.docx)])
    if document is None:
        return None
    kind = load_all().get(document.kind_code)
    nominative = kind.nominative if kind is not None else True
    if not may_produce(user.role, document.subject, nominative):
        return None
    model = SUBJECT_MODELS[document.subject]
    found = session.scalar(select(model.id).where(model.id == document.subject_id,
                                                  *_scope(user, document.subject)))
    return document if found is not None else None


# --- the deadline it fulfils ----------------------------------------------------------------

def open_obligations_fulfilled(session: Session, document: ProducedDocument
                               ) -> list[Obligation]:
    """The open obligations of the document's record this kind of document fulfils
    (`DocumentKind.fulfils` lists deadline rule codes)."""
    kind = load_all().get(document.kind_code)
    if kind is None or not kind.fulfils:
        return []
    if document.subject == "referral":
        about = Obligation.referral_id == document.subject_id
    elif document.enrolment_id is not None:
        about = Obligation.enrolment_id == document.enrolment_id
    else:
        return []
    return list(session.scalars(
        select(Obligation).join(DeadlineRule, Obligation.rule_id == DeadlineRule.id)
        .where(about, DeadlineRule.code.in_(kind.fulfils), Obligation.done_at.is_(None),
               Obligation.cancelled_at.is_(None))
        .order_by(Obligation.due_at, Obligation.id)))


def fulfilled_by_documents(session: Session, documents: list[ProducedDocument]
                           ) -> dict[int, list[Obligation]]:
    """{document id: open obligations it fulfils} for a page's documents (those that
    fulfil none are left out)."""
    found = {}
    for document in documents:
        kind = load_all().get(document.kind_code)
        if kind is not None and kind.fulfils:
            open_ones = open_obligations_fulfilled(session, document)
            if open_ones:
                found[document.id] = open_ones
    return found


def document_reference(document: ProducedDocument) -> str:
    """What the obligation keeps of the document that fulfilled it."""
    return f"{document.title} n° {document.id} du {document.made_at:%d/%m/%Y}"[:200]


def mark_done_with(session: Session, user, document_id: int, obligation_id: int,
                   done_on: date, today: date) -> Obligation:
    """« Transmis le … »: mark the obligation done on `done_on` with the document that
    fulfils it (the alerts' `mark_done`, its refusals in French). The caller commits."""
    if not can(user.role, "alerts", "edit"):
        raise DocumentRefused("Votre rôle ne permet pas de marquer une échéance comme faite.")
    document = visible_document(session, user, document_id)
    obligation = visible_obligation(session, user, obligation_id)
    if document is None or obligation is None:
        raise DocumentNotFound("Fiche introuvable ou hors de vos droits.")
    if obligation not in open_obligations_fulfilled(session, document):
        raise DocumentRefused(f"« {document.title} » ne remplit pas l'échéance "
                              f"« {obligation.name} ».")
    return mark_done(obligation, done_on, today, document_reference(document))
