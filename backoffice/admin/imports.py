"""« Commission › Importer des prescriptions » (issue 23): upload a funder's list, map its
columns when no preset knows its headers, preview every row with its status, correct
cells or skip rows, then import the valid rows in one transaction — with a référent, a
purchase order (ARJLJ, CSP) or a commission's agenda (DEL, PLIE) — and undo an import
while none of its referrals is decided.

The pending import lives in the database (``referral_imports``, ``referral_import_rows``),
never in the session cookie. Each page loads, calls one service of
``services/imports.py``, commits and says in French what happened. Area
« referral_imports » of the role table: « read » the history, « create » import,
« delete » undo; a counsellor or a funder's account gets a 403 and changes nothing.
"""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from ..enums import ImportRowStatus, ImportState, Role
from ..errors import database_error_message
from ..extensions import db
from ..imports.mapping import FIELD_BY_KEY, FIELDS, MappingProblem, mapping_from_choice
from ..imports.reader import UnreadableFile
from ..models import (
    Commission,
    Programme,
    PurchaseOrder,
    ReferralImport,
    ReferralImportRow,
    User,
)
from ..services import imports as service
from .base import GuardedScreen, parse_id
from .record_pages import local_time

AREA = "referral_imports"
#: Rows shown per page of the preview.
PAGE_SIZE = 100
#: The largest file accepted (a list of 20 000 rows is far below).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: The preview's tabs: (key, label, statuses shown).
TABS = (
    ("all", "Toutes", None),
    ("error", "Erreurs", (ImportRowStatus.ERROR,)),
    ("to_confirm", "À confirmer", (ImportRowStatus.TO_CONFIRM,)),
    ("duplicate", "Doublons", (ImportRowStatus.DUPLICATE,)),
    ("new", "Nouvelles personnes", (ImportRowStatus.NEW,)),
    ("known", "Personnes connues", (ImportRowStatus.KNOWN,)),
    ("update", "Déjà importées", (ImportRowStatus.UPDATE, ImportRowStatus.UNCHANGED)),
)
EDITABLE = (ImportRowStatus.ERROR, ImportRowStatus.DUPLICATE)


def current_day() -> date:
    """Today, as the organisation's clock reads it (tests replace it)."""
    return date.today()


class ImportView(GuardedScreen):
    """The import screen, under the « Commission » menu."""

    permission_area = AREA

    def __init__(self, name: str = "Importer des prescriptions",
                 endpoint: str = "referral_imports", url: str = "referral-imports",
                 category: str | None = "Commission", **kwargs):
        super().__init__(name=name, category=category, endpoint=endpoint, url=url, **kwargs)

    # --- who may ---------------------------------------------------------------------

    def _require(self, verb: str) -> None:
        if not self._may(verb):
            abort(403)

    def _record(self, pending: bool = True) -> ReferralImport:
        """The import named by ?id= (404 when unknown; a pending import is its author's,
        or an administrator's)."""
        record_id = parse_id(request.values.get("id"))
        record = db.session.get(ReferralImport, record_id) if record_id else None
        if record is None:
            abort(404)
        if pending:
            if record.state is not ImportState.PENDING:
                flash(f"Import n° {record.id} : déjà {record.state.label.lower()}.", "warning")
                abort(redirect(url_for(".index_view")))
            if record.user_id != current_user.id and current_user.role is not Role.ADMIN:
                abort(404)
        return record

    def _commit(self) -> bool:
        try:
            db.session.commit()
        except (StaleDataError, IntegrityError) as error:
            db.session.rollback()
            flash("Les données ont changé pendant l'opération (une autre personne a "
                  "enregistré les mêmes personnes ou le même import) ; rien n'a été "
                  f"enregistré, recommencez. ({type(error).__name__})", "error")
            return False
        except SQLAlchemyError as error:
            db.session.rollback()
            flash(database_error_message(error), "error")
            return False
        return True

    # --- 1. the upload and the history ------------------------------------------------
    @expose("/")
    def index_view(self):
        programmes = db.session.scalars(select(Programme).order_by(Programme.code)).all()
        history = service.latest_imports(db.session)
        undoable = {record.id: service.undo_problem(db.session, record) is None
                    for record in history if record.state is ImportState.DONE}
        return self.render("admin/imports/index.html", programmes=programmes,
                           history=history, undoable=undoable,
                           can_import=self._may("create"), can_undo=self._may("delete"),
                           max_mb=MAX_UPLOAD_BYTES // (1024 * 1024), local_time=local_time)

    @expose("/upload/", methods=("POST",))
    def upload_view(self):
        """Read the file into a pending import; to the mapping or straight to the preview."""
        self._require("create")
        programme_id = parse_id(request.form.get("programme"))
        programme = db.session.get(Programme, programme_id) if programme_id else None
        upload = request.files.get("file")
        if programme is None:
            flash("Dispositif : choisir le dispositif de la liste.", "error")
            return redirect(url_for(".index_view"))
        if upload is None or not upload.filename:
            flash("Fichier : choisir la liste à importer (.csv ou .xlsx).", "error")
            return redirect(url_for(".index_view"))
        folder = Path(current_app.instance_path) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=Path(upload.filename).suffix
                                         [:10]) as stored:
            upload.save(stored)
            stored.flush()
            if Path(stored.name).stat().st_size > MAX_UPLOAD_BYTES:
                flash(f"Fichier : plus de {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo ; découpez "
                      "la liste.", "error")
                return redirect(url_for(".index_view"))
            try:
                record = service.start_import(db.session, Path(stored.name), upload.filename,
                                              programme, current_user, current_day())
            except (UnreadableFile, service.ImportRefused) as refused:
                db.session.rollback()
                flash(f"{refused} Rien n'a été enregistré.", "error")
                return redirect(url_for(".index_view"))
        if not self._commit():
            return redirect(url_for(".index_view"))
        if record.mapping is None:
            flash("Les en-têtes de ce fichier ne correspondent à aucune correspondance de "
                  f"{programme.code} : indiquez quelle colonne contient quoi.", "info")
            return redirect(url_for(".mapping_view", id=record.id))
        return redirect(url_for(".preview_view", id=record.id))

    # --- 2. the mapping -----------------------------------------------------------------
    @expose("/mapping/", methods=("GET", "POST"))
    def mapping_view(self):
        self._require("create")
        record = self._record()
        chosen = dict(record.mapping or {})
        if request.method == "POST":
            chosen = {field.key: _column(request.form.get(f"field-{field.key}"),
                                         len(record.headers)) for field in FIELDS}
            try:
                mapping = mapping_from_choice(record.headers, chosen)
                if request.form.get("save"):
                    service.save_preset(db.session, record.programme,
                                        request.form.get("preset_name"), record.headers,
                                        mapping)
                service.set_mapping(db.session, record, mapping, current_day())
            except (MappingProblem, service.ImportRefused) as refused:
                db.session.rollback()
                flash(str(refused), "error")
            else:
                if self._commit():
                    if request.form.get("save"):
                        flash("Correspondance enregistrée : les prochaines listes aux mêmes "
                              "en-têtes seront lues sans question.", "success")
                    return redirect(url_for(".preview_view", id=record.id))
        first_rows = db.session.scalars(select(ReferralImportRow.cells).where(
            ReferralImportRow.import_id == record.id).order_by(ReferralImportRow.line)
            .limit(3)).all()
        return self.render("admin/imports/mapping.html", record=record, fields=FIELDS,
                           chosen=chosen, first_rows=first_rows)

    # --- 3. the preview -----------------------------------------------------------------
    @expose("/preview/")
    def preview_view(self):
        self._require("create")
        record = self._record()
        if record.mapping is None:
            return redirect(url_for(".mapping_view", id=record.id))
        tab = request.args.get("tab") if request.args.get("tab") in dict(
            (k, v) for k, v, _s in TABS) else "all"
        statuses = dict((k, s) for k, _l, s in TABS)[tab]
        page = parse_id(request.args.get("page")) or 1
        query = select(ReferralImportRow).where(ReferralImportRow.import_id == record.id)
        if statuses:
            query = query.where(ReferralImportRow.status.in_(statuses))
        if request.args.get("skipped") == "1":
            query = query.where(ReferralImportRow.skipped)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page = min(page, max(1, -(-total // PAGE_SIZE)))  # « ?page=2^62 » is the last one
        rows = db.session.scalars(query.order_by(ReferralImportRow.line)
                                  .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        counts = service.summary(db.session, record)
        programme = record.programme
        fields = [FIELD_BY_KEY[key] for key in FIELD_BY_KEY if key in record.mapping]
        if "sex" not in record.mapping:
            fields.append(FIELD_BY_KEY["sex"])  # a new person needs it: typed here
        candidates = _candidates(rows)
        referents = db.session.execute(select(User.id, User.name).where(
            User.role == Role.COUNSELLOR, User.active).order_by(User.name)).all()
        orders = commissions = []
        if service.offers_orders(programme):
            orders = db.session.execute(select(PurchaseOrder.id, PurchaseOrder.number,
                                               PurchaseOrder.issued_on).where(
                PurchaseOrder.programme_id == programme.id)
                .order_by(PurchaseOrder.issued_on.desc()).limit(50)).all()
        else:
            commissions = db.session.execute(select(Commission.id, Commission.held_on).where(
                Commission.programme_id == programme.id,
                Commission.held_on >= current_day()).order_by(Commission.held_on)
                .limit(20)).all()
        writable = sum(counts.get(s.value, 0) for s in service.WRITABLE) \
            - counts.get("unchanged", 0) - counts["unconfirmed"]
        return self.render(
            "admin/imports/preview.html", record=record, rows=rows, total=total, page=page,
            pages=max(1, -(-total // PAGE_SIZE)), tab=tab, tabs=TABS, counts=counts,
            fields=fields, candidates=candidates, statuses=ImportRowStatus,
            editable=EDITABLE, referents=referents, orders=orders, commissions=commissions,
            writable=writable, values_of=lambda row: service.row_values(record, row),
            referent_names=dict(referents),
        )

    @expose("/rows/", methods=("POST",))
    def rows_view(self):
        """The preview's form: corrections typed in cells, or an action on ticked rows."""
        self._require("create")
        record = self._record()
        action = request.form.get("action") or "correct"
        back = url_for(".preview_view", id=record.id, tab=request.form.get("tab") or None,
                       page=parse_id(request.form.get("page")))
        ids = [i for i in (parse_id(v) for v in request.form.getlist("row_ids")) if i]
        try:
            if action == "correct":
                changed = self._corrections(record)
                message = (f"{changed} ligne(s) corrigée(s) et vérifiée(s) à nouveau."
                           if changed else "Aucune cellule modifiée.")
            elif action == "confirm_all":
                message = (f"{service.confirm_all_candidates(db.session, record)} "
                           "correspondance(s) confirmée(s).")
            elif not ids:
                flash("Sélection : cocher au moins une ligne.", "warning")
                return redirect(back)
            elif action == "skip":
                message = (f"{service.mark_rows(db.session, record, ids, skipped=True)} "
                           "ligne(s) ignorée(s) : elles ne seront pas importées.")
            elif action == "unskip":
                message = (f"{service.mark_rows(db.session, record, ids, skipped=False)} "
                           "ligne(s) reprise(s).")
            elif action == "confirm":
                message = (f"{service.mark_rows(db.session, record, ids, confirmed=True)} "
                           "correspondance(s) confirmée(s).")
            elif action == "referent":
                referent = parse_id(request.form.get("row_referent"))
                count = service.mark_rows(db.session, record, ids, referent_id=referent)
                message = (f"Référent attribué à {count} ligne(s)." if referent
                           else f"Référent retiré de {count} ligne(s).")
            else:
                abort(400)
        except service.ImportRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(back)
        if self._commit():
            flash(message, "success")
        return redirect(back)

    def _corrections(self, record: ReferralImport) -> int:
        """Cells posted as « cell-<row id>-<field> » that differ from the row's values."""
        posted: dict[int, dict[str, str]] = {}
        for name, value in request.form.items():
            if not name.startswith("cell-"):
                continue
            parts = name.split("-", 2)
            row_id = parse_id(parts[1]) if len(parts) == 3 else None
            if row_id is None or parts[2] not in FIELD_BY_KEY:
                abort(400)
            field = parts[2]
            posted.setdefault(row_id, {})[field] = value
        changed = 0
        for row_id, cells in posted.items():
            row = service.import_row(db.session, record, row_id)
            values = service.row_values(record, row)
            different = {key: value for key, value in cells.items()
                         if " ".join(value.split()) != " ".join((values.get(key) or "")
                                                                 .split())}
            if different:
                row.corrections = {**(row.corrections or {}), **different}
                changed += 1
        if changed:
            db.session.flush()
            service.analyse(db.session, record, current_day())
        return changed

    # --- 4. the confirmation ------------------------------------------------------------
    @expose("/confirm/", methods=("POST",))
    def confirm_view(self):
        self._require("create")
        record = self._record()
        choice = service.SameStep(
            referent_id=parse_id(request.form.get("referent")),
            purchase_order_id=parse_id(request.form.get("purchase_order")),
            commission_id=parse_id(request.form.get("commission")))
        try:
            service.confirm(db.session, record, current_user, current_day(), choice)
        except service.ImportRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(url_for(".preview_view", id=record.id))
        if self._commit():
            flash(f"Import n° {record.id} enregistré : {record.people_created} personne(s) "
                  f"créée(s), {record.referrals_created} prescription(s) créée(s), "
                  f"{record.referrals_updated} mise(s) à jour, {record.rows_unchanged} "
                  f"inchangée(s), {record.rows_skipped} ignorée(s), {record.rows_in_error} "
                  "en erreur ou en double non importée(s).", "success")
            return redirect(url_for(".index_view"))
        return redirect(url_for(".preview_view", id=record.id))

    @expose("/cancel/", methods=("POST",))
    def cancel_view(self):
        """Drop a pending import (nothing had been written but its working rows)."""
        self._require("create")
        record = self._record()
        service.discard(db.session, record)
        if self._commit():
            flash(f"Import de « {record.file_name} » abandonné : rien n'a été enregistré.",
                  "success")
        return redirect(url_for(".index_view"))

    # --- 5. the undo ------------------------------------------------------------------
    @expose("/undo/", methods=("POST",))
    def undo_view(self):
        self._require("delete")
        record = self._record(pending=False)
        try:
            counts = service.undo(db.session, record, current_user)
        except service.ImportRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(url_for(".index_view"))
        if self._commit():
            kept = (f" ; {counts['kept_people']} personne(s) gardée(s) (d'autres dossiers "
                    "les concernent)" if counts["kept_people"] else "")
            flash(f"Import n° {record.id} annulé : {counts['referrals']} prescription(s) et "
                  f"{counts['people']} personne(s) supprimée(s), {counts['restored']} "
                  f"prescription(s) remise(s) comme avant{kept}.", "success")
        return redirect(url_for(".index_view"))


def _column(raw: str | None, width: int) -> int | None:
    """A column index chosen in the mapping form (« » = none)."""
    if raw is None or not raw.strip().isdigit():
        return None
    index = int(raw)
    return index if 0 <= index < width else None


def _candidates(rows) -> dict:
    """{person id: (display, birth date)} of the candidates shown on this page."""
    from ..models import Beneficiary

    ids = {row.candidate_id for row in rows if row.candidate_id}
    if not ids:
        return {}
    return {person.id: person for person in db.session.scalars(
        select(Beneficiary).where(Beneficiary.id.in_(ids)))}
