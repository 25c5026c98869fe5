"""Documents from the record (issue 21 §2–4): producing one where the user is (a path, an
alert, a workshop, a commission), many at once from the paths' list (one ZIP),
downloading what was produced, marking the deadline it fulfils « transmis le … », and the
administrators' « Modèles de documents ». The work is in services/documents.py; the
views load, call it, commit once and answer in French."""
import tempfile
from datetime import date
from io import BytesIO

from flask import Response, abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import to_user_timezone
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..auth.permissions import can, may_produce
from ..documents.catalogue import DocumentKind, kinds_for
from ..documents.render import TemplateProblem
from ..extensions import db
from ..redirects import back_to
from ..services import documents as service
from ..services.obligations import MarkDoneRefused
from .base import GuardedScreen, ids_or_404, note_refusal, parse_id
from .fields import posted_done_on

PDF_TYPE = "application/pdf"
ZIP_TYPE = "application/zip"
#: The largest selection produced at once (a ZIP of convocations for a whole session).
BULK_MAX = 500


class _Guarded(GuardedScreen):
    """The documents' routes: no menu entry of their own (they are reached from records)."""

    permission_area = "documents"

    def is_visible(self) -> bool:
        return False


def _back(fallback: str | None = None) -> str:
    return back_to(request.values.get("next"), fallback)


def _refused(refusal: Exception):
    """A refusal of the service → 403 (kept in the audit trail) or 404."""
    db.session.rollback()
    if isinstance(refusal, service.DocumentNotFound):
        abort(404)
    note_refusal(str(refusal))
    abort(403, description=str(refusal))


def _attachment(content: bytes, name: str, mimetype: str):
    return send_file(BytesIO(content), mimetype=mimetype, as_attachment=True,
                     download_name=name)


def _pdf_name(name: str) -> str:
    return name.removesuffix(".docx") + ".pdf"


class DocumentsView(_Guarded):
    """/admin/documents/: produce, download, bulk, « transmis le »."""

    @expose("/")
    def index_view(self):
        return redirect(url_for("admin.index"))

    @expose("/produce/", methods=("POST",))
    def produce(self):
        """Produce one document from one record, keep it, and hand it over (.docx, or PDF
        when asked and the machine can convert)."""
        record_id = parse_id(request.form.get("record_id"))
        if record_id is None:
            abort(404)
        as_pdf = request.form.get("format") == "pdf"
        try:
            document = service.produce(db.session, request.form.get("kind"), record_id,
                                       current_user, pdf=as_pdf)
            db.session.commit()
        except (service.DocumentRefused, service.DocumentNotFound) as refusal:
            return _refused(refusal)
        except (service.PdfUnavailable, service.DocumentNotApplicable,
                TemplateProblem) as problem:
            db.session.rollback()
            flash(f"{problem} Aucun document n'a été enregistré.", "error")
            return redirect(_back())
        if as_pdf:
            return _attachment(document.pdf, _pdf_name(document.file_name), PDF_TYPE)
        return _attachment(document.docx, document.file_name, service.DOCX_TYPE)

    @expose("/download/<int:document_id>/")
    def download(self, document_id: int):
        """A produced document as it was kept (?format=pdf for its PDF)."""
        as_pdf = request.args.get("format") == "pdf"
        document = service.visible_document(db.session, current_user, document_id, pdf=as_pdf)
        if document is None or (as_pdf and document.pdf is None):
            abort(404)
        if as_pdf:
            return _attachment(document.pdf, _pdf_name(document.file_name), PDF_TYPE)
        return _attachment(document.docx, document.file_name, service.DOCX_TYPE)

    @expose("/bulk/")
    def bulk(self):
        """The selection of a list (?subject=enrolment&ids=1,2): choose the document."""
        return self._bulk()

    @expose("/bulk/zip/", methods=("POST",))
    def bulk_zip(self):
        """One ZIP with one document per selected record (all or none)."""
        return self._bulk()

    def _bulk(self):
        subject = request.values.get("subject") or "enrolment"
        raw_ids = [part for part in (request.values.get("ids") or "").split(",") if part]
        ids = [parse_id(part) for part in raw_ids]
        if not ids or None in ids or subject not in service.SUBJECT_MODELS:
            abort(404)
        if len(set(ids)) > BULK_MAX:
            flash(f"Sélection : {len(set(ids))} fiches, au plus {BULK_MAX} à la fois.",
                  "error")
            return redirect(_back())
        back = _back(url_for("enrolments.index_view"))
        kinds = [kind for kind in kinds_for(subject)
                 if may_produce(current_user.role, kind.subject, kind.nominative)]
        if request.method == "POST":
            return self._bulk_zip(request.form.get("kind"), ids, back)
        return self.render("admin/documents/bulk.html", kinds=kinds, subject=subject,
                           ids=",".join(str(i) for i in sorted(set(ids))),
                           count=len(set(ids)), back=back)

    def _bulk_zip(self, kind_code, ids: list[int], back: str):
        out = tempfile.TemporaryFile()  # closed by send_file once sent
        try:
            count = service.produce_many(db.session, kind_code, ids, current_user, out)
            db.session.commit()
        except (service.DocumentRefused, service.DocumentNotFound) as refusal:
            out.close()
            return _refused(refusal)
        except (service.DocumentNotApplicable, TemplateProblem) as problem:
            out.close()
            db.session.rollback()
            flash(f"{problem} Aucun document n'a été enregistré.", "error")
            return redirect(back)
        out.seek(0)
        name = service.zip_name(service.kind_of(kind_code), count, date.today())
        return send_file(out, mimetype=ZIP_TYPE, as_attachment=True, download_name=name)

    @expose("/transmitted/", methods=("POST",))
    def transmitted(self):
        """« Transmis le … »: the obligation this document fulfils is marked done."""
        document_id = parse_id(request.form.get("document_id"))
        obligation_id = parse_id(request.form.get("obligation_id"))
        if document_id is None or obligation_id is None:
            abort(404)
        back = _back()
        today = date.today()
        done_on = posted_done_on(today, "Date de transmission")
        if done_on is None:
            return redirect(back)
        try:
            obligation = service.mark_done_with(db.session, current_user, document_id,
                                                obligation_id, done_on, today)
            db.session.commit()
        except (service.DocumentRefused, service.DocumentNotFound) as refusal:
            return _refused(refusal)
        except MarkDoneRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(back)
        except StaleDataError:
            db.session.rollback()
            flash("Cette échéance a été modifiée entre-temps ; rechargez la page.", "error")
            return redirect(back)
        flash(f"« {obligation.name} » : transmis le {done_on:%d/%m/%Y} "
              f"({obligation.document_ref}).", "success")
        return redirect(back)


class TemplatesView(_Guarded):
    """« Modèles de documents » (administrators): each kind with its source, its fields
    and its active template; download, upload (checked first), restore."""

    permission_area = "document_templates"

    def is_visible(self) -> bool:
        return self.is_accessible()

    @expose("/")
    def index_view(self):
        return self.render("admin/documents/templates.html",
                           states=service.template_states(db.session),
                           can_edit=self._may("edit"))

    @expose("/download/<code>/")
    def download(self, code: str):
        """The active template of a kind, to change it in Word or LibreOffice."""
        try:
            kind = service.kind_of(code)
        except service.DocumentNotFound:
            abort(404)
        content, version = service.active_template(db.session, kind.code)
        suffix = f"-v{version}" if version else ""
        return _attachment(content, f"modele-{kind.code}{suffix}.docx", service.DOCX_TYPE)

    def _editable_kind(self, code: str) -> DocumentKind:
        if not can(current_user.role, self.permission_area, "edit"):
            abort(403)
        try:
            return service.kind_of(code)
        except service.DocumentNotFound:
            abort(404)

    @expose("/upload/<code>/", methods=("POST",))
    def upload(self, code: str):
        """Accept a changed template once it fills the kind's sample record."""
        kind = self._editable_kind(code)
        sent = request.files.get("template")
        content = sent.read(service.MAX_TEMPLATE_BYTES + 1) if sent else b""
        try:
            row = service.upload_template(db.session, kind.code, content,
                                          sent.filename if sent else "", current_user)
            db.session.commit()
        except service.TemplateRefused as refused:
            db.session.rollback()
            flash(f"« {kind.title} » : {refused}", "error")
            return redirect(url_for(".index_view"))
        flash(f"« {kind.title} » : le modèle « {row.file_name} » est en service "
              f"(version {row.number}).", "success")
        return redirect(url_for(".index_view"))

    @expose("/restore/<code>/", methods=("POST",))
    def restore(self, code: str):
        """« Rétablir le modèle d'origine » in one click."""
        kind = self._editable_kind(code)
        try:
            service.restore_template(db.session, kind.code, current_user)
            db.session.commit()
        except service.TemplateRefused as refused:
            db.session.rollback()
            flash(str(refused), "warning")
            return redirect(url_for(".index_view"))
        flash(f"« {kind.title} » : le modèle d'origine est rétabli.", "success")
        return redirect(url_for(".index_view"))


# --- what the record pages show ------------------------------------------------------------

def local_time(moment) -> str:
    """« 06/12/2026 14:05 » in the organisation's time zone (DISPLAY_TIMEZONE)."""
    return f"{to_user_timezone(moment):%d/%m/%Y %H:%M}"


def document_panel(subject: str, record, programme_code: str | None, produced: list,
                   back: str) -> dict | None:
    """What a record's « Documents » section shows: the kinds the user may produce from
    it, the documents already made and, for each, the open deadlines it fulfils; None
    when the user may produce nothing of this subject and no document is listed."""
    role = current_user.role
    kinds = [kind for kind in kinds_for(subject, programme_code)
             if may_produce(role, kind.subject, kind.nominative)]
    if not kinds and not produced:
        return None
    return {"subject": subject, "record_id": record.id, "kinds": kinds,
            "documents": produced, "back": back, "pdf": service.soffice() is not None,
            "fulfils": service.fulfilled_by_documents(db.session, produced)
            if can(role, "alerts", "edit") else {},
            "today": date.today(), "when": local_time}


def bulk_documents_page(subject: str, ids) -> Response:
    """To the page that asks which document to make for the selected records."""
    ids = ids_or_404(ids)
    return redirect(url_for("documents.bulk", subject=subject,
                            ids=",".join(str(i) for i in ids),
                            next=request.form.get("url") or url_for(".index_view")))


class DocumentsOnDetails:
    """A record view whose page has a « Documents » section (a workshop: its convocations
    and attendance sheet; a commission: its minutes; a referral: its decision letter; an
    order: its final report; a contact: its convocation; an internship: its agreement,
    report or diagnostic)."""

    document_subject: str = None

    @action("produce_documents", "Produire un document (un fichier ZIP)")
    def action_produce_documents(self, ids):
        """One document per selected record in one ZIP (issue 21 §3): the next page asks
        which document (the decision letters of a commission's referrals, the
        convocations of a list of appointments…)."""
        return bulk_documents_page(self.document_subject, ids)

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            model = kwargs["model"]
            code = service.programme_code_of(model)
            produced = service.documents_of(db.session, self.document_subject, model.id)
            if not can(current_user.role, "documents", "read"):
                produced = []
            kwargs["documents"] = document_panel(self.document_subject, model, code,
                                                 produced, request.full_path)
            kwargs["document_base"] = template
            template = "admin/documents/record.html"
        return super().render(template, **kwargs)


def alert_kinds(row) -> list[tuple[DocumentKind, int]]:
    """The documents that fulfil an alert's obligation, with the record each is made
    from, that the user may produce (issue 21 §3)."""
    found = []
    for kind in service.kinds_for_rule(getattr(row, "rule_code", None)):
        record_id = {"enrolment": row.enrolment_id, "referral": row.referral_id,
                     "purchase_order": row.purchase_order_id,
                     "programme_session": row.session_id}.get(kind.subject)
        if record_id is not None and kind.applies_to(row.programme_code) \
                and may_produce(current_user.role, kind.subject, kind.nominative):
            found.append((kind, record_id))
    return found
