"""Import a funder's referral list (issue 23): load → check → write, one transaction.

1. `start_import` reads the file (imports/reader.py) and keeps every row server-side in
   ``referral_import_rows`` (a pending `ReferralImport`); when the headers match a preset
   of the programme (imports/mapping.py) the columns are mapped without a question.
2. `analyse` gives each row its status — error (line, column, rule in French), duplicate
   in the file, new person, known person (matched by external id or identity), known
   person to confirm (swapped names, another external id), already imported (to update
   or unchanged) — and flags a person who already holds an open referral or path of the
   programme. It runs again after each correction (`correct_row`).
3. `confirm` writes every valid row, with the référent, the purchase order or the
   commission chosen, and records the counts; nothing is written before it. The caller
   commits (one transaction for the whole list).
4. `undo` takes the import back while none of the referrals it created is decided.

Re-importing the same list creates nothing twice: a row whose person already holds a
referral of the programme on the same referral date updates it (external id + referral
date, issue 23 §5).

Work goes by batches of `BATCH` rows (one query per batch to match people), so that the
memory used does not grow with the number of rows (bench/imports.py).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import delete, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session, selectinload

from ..enums import EnrolmentStatus, ImportRowStatus, ImportState, ReferralStatus, Role
from ..imports import matching
from ..imports.checks import CheckedRow, check_row, new_person_problems
from ..imports.mapping import FIELD_BY_KEY, Preset
from ..imports.reader import UnreadableFile, cell_text, read_rows
from ..models import (
    Beneficiary,
    Commission,
    Enrolment,
    ImportPreset,
    Obligation,
    Programme,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    ReferralImport,
    ReferralImportRow,
    User,
)
from ..models._types import utcnow
from ..obligation_sync import sync_referrals_now
from ..rules import lifecycle
from ..rules.lifecycle import TransitionRefused

#: Rows read, checked, matched and written together.
BATCH = 500
#: A list longer than this is refused (a whole national file sent by mistake).
MAX_ROWS = 20_000

#: Fields of the referral a re-import updates, and of the person it completes.
REFERRAL_FIELDS = ("prescriber_name", "prescription_place", "reason")
PERSON_FIELDS = ("email", "phone", "address", "postcode", "commune")
#: Statuses whose rows are written at the confirmation.
WRITABLE = frozenset({ImportRowStatus.NEW, ImportRowStatus.KNOWN, ImportRowStatus.TO_CONFIRM,
                      ImportRowStatus.UPDATE, ImportRowStatus.UNCHANGED})
#: A referral still open: the person waits for the commission's decision or their entry.
OPEN_REFERRAL = (ReferralStatus.PENDING, ReferralStatus.DEFERRED)


class ImportRefused(ValueError):
    """An import that cannot go on; the message is French, for the user."""


# --- Presets -------------------------------------------------------------------------

def presets_of(session: Session, programme: Programme) -> list[Preset]:
    """The programme's presets, the oldest (the seeded one) first."""
    return [Preset(programme.code, row.name, row.columns, id=row.id)
            for row in session.scalars(select(ImportPreset).where(
                ImportPreset.programme_id == programme.id).order_by(ImportPreset.id))]


def save_preset(session: Session, programme: Programme, name: str, headers: list[str],
                mapping: dict[str, int]) -> ImportPreset:
    """Keep the mapping a user chose, for the programme's next lists (issue 23 §2)."""
    name = " ".join((name or "").split())
    if not name:
        raise ImportRefused("Nom de la correspondance : obligatoire pour l'enregistrer.")
    if len(name) > 200:
        raise ImportRefused("Nom de la correspondance : 200 caractères au plus.")
    if session.scalar(select(ImportPreset.id).where(ImportPreset.programme_id == programme.id,
                                                    ImportPreset.name == name)):
        raise ImportRefused(f"Nom de la correspondance : « {name} » existe déjà pour "
                            f"{programme.code}.")
    row = ImportPreset(programme=programme, name=name,
                       columns={field: [headers[index]] for field, index in mapping.items()})
    session.add(row)
    session.flush()
    return row


# --- 1. Upload -----------------------------------------------------------------------

def start_import(session: Session, path: Path, filename: str, programme: Programme,
                 user: User | None, today: date) -> ReferralImport:
    """Read `path` into a pending import of `programme` (nothing else is written);
    analysed at once when a preset maps its headers."""
    try:
        headers, header_line, data = read_rows(Path(path), filename)
    except UnicodeDecodeError:
        raise UnreadableFile("Fichier : encodage illisible (UTF-8 ou Windows-1252 "
                             "attendu).") from None
    mapping, preset_id = None, None
    for preset in presets_of(session, programme):
        mapping = preset.mapping_for(headers)
        if mapping is not None:
            preset_id = preset.id
            break
    record = ReferralImport(
        programme=programme, user_id=user.id if user is not None else None,
        user_label=user.email if user is not None else "ligne de commande",
        file_name=Path(filename or "liste").name[:255], headers=headers,
        header_line=header_line, mapping=mapping, preset_id=preset_id,
    )
    session.add(record)
    session.flush()
    width, count, batch = len(headers), 0, []
    for line in data:
        count += 1
        if count > MAX_ROWS:
            raise ImportRefused(f"Fichier : plus de {MAX_ROWS} lignes ; découpez la liste.")
        cells = [cell_text(cell) for cell in line.cells[:width]]
        batch.append({"import_id": record.id, "line": line.number,
                      "cells": cells + [""] * (width - len(cells)),
                      "confirmed": False, "skipped": False, "created_person": False,
                      "created_referral": False})
        if len(batch) >= BATCH:
            session.execute(insert(ReferralImportRow), batch)
            batch = []
    if batch:
        session.execute(insert(ReferralImportRow), batch)
    if count == 0:
        raise ImportRefused(f"Fichier : aucune ligne sous l'en-tête (ligne {header_line}).")
    record.row_count = count
    if mapping is not None:
        analyse(session, record, today)
    session.flush()
    return record


def set_mapping(session: Session, record: ReferralImport, mapping: dict[str, int],
                today: date) -> None:
    """The columns the user chose (imports/mapping.py `mapping_from_choice`)."""
    _check_pending(record)
    record.mapping = mapping
    analyse(session, record, today)


# --- 2. Preview ----------------------------------------------------------------------

def _check_pending(record: ReferralImport) -> None:
    if record.state is not ImportState.PENDING:
        raise ImportRefused(f"Import n° {record.id} : déjà {record.state.label.lower()} ; "
                            "rien n'a été changé.")


def columns_of(record: ReferralImport) -> dict[str, str]:
    """{field: the header it comes under in the file}."""
    return {field: record.headers[index] for field, index in (record.mapping or {}).items()}


def row_values(record: ReferralImport, row) -> dict[str, str]:
    """{field: text}: the file's cells by the mapping, with the user's corrections."""
    values = {field: row.cells[index] if index < len(row.cells) else ""
              for field, index in (record.mapping or {}).items()}
    values.update(row.corrections or {})
    return values


def _rows_in_batches(session: Session, import_id: int, *columns):
    """The import's rows in the file's order, `BATCH` at a time (keyset on the line)."""
    last = (-1, -1)
    while True:
        rows = session.execute(
            select(ReferralImportRow.id, ReferralImportRow.line, *columns)
            .where(ReferralImportRow.import_id == import_id,
                   tuple_(ReferralImportRow.line, ReferralImportRow.id) > last)
            .order_by(ReferralImportRow.line, ReferralImportRow.id).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last = (rows[-1].line, rows[-1].id)


def _known_people(session: Session, checked: list[CheckedRow]
                  ) -> tuple[dict[str, matching.KnownPerson], dict]:
    """The people a batch of rows may name: by external id, and by names (both orders)."""
    external_ids = {row.values["external_id"] for row in checked
                    if row.values.get("external_id")}
    keys = set()
    for row in checked:
        values = row.values
        if values.get("last_name") and values.get("first_name") and values.get("birth_date"):
            keys.update(matching.identity_keys(values["last_name"], values["first_name"]))
    conditions = []
    if external_ids:
        conditions.append(Beneficiary.external_id.in_(external_ids))
    if keys:
        conditions.append(Beneficiary.name_key.in_(keys))
    by_id, by_identity = {}, {}
    if not conditions:
        return by_id, by_identity
    for person in session.execute(select(
            Beneficiary.id, Beneficiary.last_name, Beneficiary.first_name,
            Beneficiary.birth_date, Beneficiary.external_id, Beneficiary.name_key,
            Beneficiary.disability_recognition).where(or_(*conditions))):
        known = matching.KnownPerson(person.id, person.last_name, person.first_name,
                                     person.birth_date, person.external_id,
                                     bool(person.disability_recognition))
        if person.external_id:
            by_id[person.external_id] = known
        by_identity[(person.name_key, person.birth_date)] = known
    return by_id, by_identity


@dataclass
class _Holdings:
    """What the matched people already hold in the programme."""

    referrals: dict  # person id → [(id, referred_on, status, prescriber, place, reason)]
    paths: dict  # person id → [(id, status)]


def _holdings(session: Session, programme_id: int, person_ids: set[int]) -> _Holdings:
    referrals, paths = defaultdict(list), defaultdict(list)
    if person_ids:
        for row in session.execute(select(
                Referral.id, Referral.beneficiary_id, Referral.referred_on, Referral.status,
                Referral.prescriber_name, Referral.prescription_place, Referral.reason)
                .where(Referral.programme_id == programme_id,
                       Referral.beneficiary_id.in_(person_ids))):
            referrals[row.beneficiary_id].append(row)
        for row in session.execute(select(Enrolment.id, Enrolment.beneficiary_id,
                                          Enrolment.status)
                                   .where(Enrolment.programme_id == programme_id,
                                          Enrolment.beneficiary_id.in_(person_ids),
                                          Enrolment.status != EnrolmentStatus.CLOSED)):
            paths[row.beneficiary_id].append(row)
    return _Holdings(referrals, paths)


def _changes(values: dict, existing) -> list[str]:
    """The referral's fields the row would change (French labels)."""
    return [FIELD_BY_KEY[key].label for key in REFERRAL_FIELDS
            if values.get(key) and values[key] != getattr(existing, key)]


def analyse(session: Session, record: ReferralImport, today: date) -> dict[str, int]:
    """Give every row of a pending import its status, problems, notes and candidate;
    return the count of rows per status. Writes only the import's own rows."""
    _check_pending(record)
    programme = record.programme
    columns = columns_of(record)
    duplicates = matching.FileDuplicates()
    counts: dict[str, int] = defaultdict(int)
    for batch in _rows_in_batches(session, record.id, ReferralImportRow.cells,
                                  ReferralImportRow.corrections,
                                  ReferralImportRow.candidate_id,
                                  ReferralImportRow.confirmed, ReferralImportRow.status,
                                  ReferralImportRow.problems, ReferralImportRow.notes):
        checked = [check_row(row.line, row_values(record, row), columns, today)
                   for row in batch]
        by_id, by_identity = _known_people(session, checked)
        matches = [matching.match_person(c.values, by_id, by_identity)
                   if not c.problems else None for c in checked]
        holdings = _holdings(session, programme.id,
                             {m.person.id for m in matches if m is not None})
        updates = []
        for row, check, match in zip(batch, checked, matches, strict=True):
            status, notes, candidate = _verdict(programme, check, match, holdings,
                                                duplicates, columns)
            confirmed = (status is ImportRowStatus.TO_CONFIRM and row.confirmed
                         and row.candidate_id == candidate)
            counts[status.value] += 1
            verdict = {
                "status": status, "notes": notes or None,
                "problems": [[p.field, p.message] for p in check.problems] or None,
                "candidate_id": candidate, "confirmed": confirmed,
            }
            if any(getattr(row, key) != value for key, value in verdict.items()):
                updates.append({"id": row.id, **verdict})  # only what changed is written
        if updates:
            session.execute(update(ReferralImportRow), updates)
    session.flush()
    return dict(counts)


def _verdict(programme: Programme, check: CheckedRow, match, holdings: _Holdings,
             duplicates: matching.FileDuplicates, columns: dict[str, str]):
    """(status, notes, candidate id) of one checked row."""
    values = check.values
    if check.problems:
        duplicates.first_line_of(check.line, values)
        return ImportRowStatus.ERROR, [], None
    first = duplicates.first_line_of(check.line, values)
    if first is not None:
        return ImportRowStatus.DUPLICATE, [f"même personne que la ligne {first}"], \
            (match.person.id if match else None)
    person = match.person if match is not None else None
    recognised = bool(values.get("disability_recognition")) or bool(
        person is not None and person.disability_recognition)
    try:  # 001 Lot 2: DEL-L2 admits only people recognised by the CRHD
        lifecycle.check_disability_recognition(
            programme.code, programme.requires_disability_recognition, recognised,
            f"{values.get('last_name', '').upper()} {values.get('first_name', '')}".strip())
    except TransitionRefused as refused:
        check.add("disability_recognition" if "disability_recognition" in columns else None,
                  refused.message + ".", columns)
        return ImportRowStatus.ERROR, [], person.id if person else None
    if person is None:
        new_person_problems(check, columns)
        if check.problems:
            return ImportRowStatus.ERROR, [], None
        return ImportRowStatus.NEW, [], None
    notes = [f"fiche n° {person.id} : {match.note()}"]
    same_day = None
    for existing in holdings.referrals.get(person.id, []):
        if existing.referred_on == values["referred_on"]:
            same_day = existing
        elif existing.status in OPEN_REFERRAL:
            notes.append(f"déjà orientée : prescription n° {existing.id} du "
                         f"{existing.referred_on:%d/%m/%Y} ({existing.status.label.lower()})")
    for path in holdings.paths.get(person.id, []):
        notes.append(f"parcours n° {path.id} {path.status.label.lower()} dans ce dispositif")
    if same_day is not None:
        changed = _changes(values, same_day)
        if changed:
            notes.append(f"prescription n° {same_day.id} : {', '.join(changed)} à mettre à jour")
            return ImportRowStatus.UPDATE, notes, person.id
        notes.append(f"prescription n° {same_day.id} déjà importée, inchangée")
        return ImportRowStatus.UNCHANGED, notes, person.id
    if match.needs_confirmation:
        return ImportRowStatus.TO_CONFIRM, notes, person.id
    return ImportRowStatus.KNOWN, notes, person.id


def summary(session: Session, record: ReferralImport) -> dict[str, int]:
    """{status value: rows}, plus « skipped » and « unconfirmed »."""
    counts = dict(session.execute(
        select(ReferralImportRow.status, func.count()).where(
            ReferralImportRow.import_id == record.id, ~ReferralImportRow.skipped)
        .group_by(ReferralImportRow.status)).all())
    result = {(status.value if status else "unmapped"): n for status, n in counts.items()}
    result["skipped"] = session.scalar(select(func.count()).where(
        ReferralImportRow.import_id == record.id, ReferralImportRow.skipped)) or 0
    result["unconfirmed"] = session.scalar(select(func.count()).where(
        ReferralImportRow.import_id == record.id, ~ReferralImportRow.skipped,
        ReferralImportRow.status == ImportRowStatus.TO_CONFIRM,
        ~ReferralImportRow.confirmed)) or 0
    return result


def import_row(session: Session, record: ReferralImport, row_id: int) -> ReferralImportRow:
    """One row of this import (404-like refusal for another import's row)."""
    row = session.get(ReferralImportRow, row_id)
    if row is None or row.import_id != record.id:
        raise ImportRefused(f"Ligne : elle n'appartient pas à l'import n° {record.id}.")
    return row


def correct_row(session: Session, record: ReferralImport, row_id: int,
                corrections: dict[str, str], today: date) -> None:
    """Replace cells of one row by what the user typed, then analyse the list again
    (a corrected row may now be a duplicate of another, or match a person)."""
    _check_pending(record)
    row = import_row(session, record, row_id)
    clean = {key: " ".join(str(value or "").split()) for key, value in corrections.items()
             if key in FIELD_BY_KEY}
    row.corrections = {**(row.corrections or {}), **clean}
    session.flush()
    analyse(session, record, today)


def mark_rows(session: Session, record: ReferralImport, row_ids: list[int], *,
              skipped: bool | None = None, confirmed: bool | None = None,
              referent_id: int | None | bool = False) -> int:
    """Skip (or take back), confirm the candidate of, or give a référent to some rows."""
    _check_pending(record)
    values = {}
    if skipped is not None:
        values["skipped"] = skipped
    if confirmed is not None:
        values["confirmed"] = confirmed
    if referent_id is not False:
        if referent_id is not None:
            _referent(session, referent_id)
        values["referent_id"] = referent_id
    if not values or not row_ids:
        return 0
    query = update(ReferralImportRow).where(ReferralImportRow.import_id == record.id,
                                            ReferralImportRow.id.in_(row_ids))
    if confirmed is not None:
        query = query.where(ReferralImportRow.status == ImportRowStatus.TO_CONFIRM)
    result = session.execute(query.values(**values))
    session.flush()
    return result.rowcount


def confirm_all_candidates(session: Session, record: ReferralImport) -> int:
    """« Confirmer toutes les correspondances »: every candidate shown is the person."""
    _check_pending(record)
    result = session.execute(update(ReferralImportRow).where(
        ReferralImportRow.import_id == record.id,
        ReferralImportRow.status == ImportRowStatus.TO_CONFIRM).values(confirmed=True))
    session.flush()
    return result.rowcount


# --- 3. Confirmation -----------------------------------------------------------------

@dataclass
class SameStep:
    """What the confirmation does with every row besides (issue 23 §6)."""

    referent_id: int | None = None
    purchase_order_id: int | None = None
    commission_id: int | None = None


def _referent(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.role is not Role.COUNSELLOR or not user.active:
        raise ImportRefused("Référent : choisir un compte de référent actif.")
    return user


def offers_orders(programme: Programme) -> bool:
    """Rows go on a purchase order where entries need no commission (ARJLJ, CSP; 002 II
    §3: « Pôle emploi établit et communique au prestataire, le bon de commande qui
    déclenche la prestation »); on a commission's agenda where they do (001
    « Organisation »: « Á l'issue des commissions de validation des entrées en parcours,
    la Direction de l'Emploi et du Logement fera parvenir au prestataire un bon de
    commande »; 004 Lot 1: « après la validation en commission PLIE »)."""
    return not programme.requires_commission


def _same_step(session: Session, programme: Programme, choice: SameStep, today: date):
    referent = _referent(session, choice.referent_id) if choice.referent_id else None
    order = commission = None
    if choice.purchase_order_id:
        order = session.get(PurchaseOrder, choice.purchase_order_id)
        if order is None or order.programme_id != programme.id:
            raise ImportRefused(f"Bon de commande : choisir un bon du dispositif "
                                f"{programme.code}.")
        if not offers_orders(programme):
            raise ImportRefused(f"Bon de commande : les entrées du dispositif "
                                f"{programme.code} passent en commission.")
    if choice.commission_id:
        commission = session.get(Commission, choice.commission_id)
        if commission is None or commission.programme_id != programme.id:
            raise ImportRefused(f"Commission : choisir une commission du dispositif "
                                f"{programme.code}.")
        if commission.held_on < today:
            raise ImportRefused(f"Commission : celle du {commission.held_on:%d/%m/%Y} est "
                                "passée ; choisir une commission à venir.")
    return referent, order, commission


def confirm(session: Session, record: ReferralImport, user: User | None, today: date,
            choice: SameStep | None = None) -> ReferralImport:
    """Write every valid row not skipped (candidates only when confirmed), in the
    caller's transaction; refused while rows to confirm are left undecided."""
    _check_pending(record)
    if not record.mapping:
        raise ImportRefused("Correspondance des colonnes : à choisir avant l'import.")
    choice = choice or SameStep()
    programme = record.programme
    referent, order, commission = _same_step(session, programme, choice, today)
    analyse(session, record, today)  # the database may have changed since the preview
    counts = summary(session, record)
    if counts["unconfirmed"]:
        raise ImportRefused(
            f"{counts['unconfirmed']} ligne(s) « {ImportRowStatus.TO_CONFIRM.label} » : "
            "confirmer la personne proposée ou ignorer la ligne ; rien n'a été enregistré.")
    columns = columns_of(record)
    orders_by_number = {}
    if offers_orders(programme) and "order_number" in columns:
        orders_by_number = {o.number: o for o in session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.programme_id == programme.id))}
    totals = defaultdict(int)
    for batch in _rows_in_batches(
            session, record.id, ReferralImportRow.cells, ReferralImportRow.corrections,
            ReferralImportRow.status, ReferralImportRow.candidate_id,
            ReferralImportRow.skipped, ReferralImportRow.referent_id):
        results = []
        candidates = {p.id: p for p in session.scalars(select(Beneficiary).where(
            Beneficiary.id.in_({r.candidate_id for r in batch if r.candidate_id})))}
        pending_lines = []
        for row in batch:
            if row.skipped:
                totals["skipped"] += 1
                continue
            if row.status not in WRITABLE:
                totals["errors"] += 1
                continue
            if row.status is ImportRowStatus.UNCHANGED:
                totals["unchanged"] += 1
                continue
            values = check_row(row.line, row_values(record, row), columns, today).values
            result = {"id": row.id, "created_person": False, "created_referral": False}
            person = candidates.get(row.candidate_id)
            previous: dict = {}
            if person is None:
                person = _new_person(values)
                session.add(person)
                result["created_person"] = True
                totals["people"] += 1
            else:
                previous["person"] = _complete_person(person, values)
            row_referent = row.referent_id or (referent.id if referent else None)
            if row.status is ImportRowStatus.UPDATE:
                referral = session.scalar(select(Referral).where(
                    Referral.beneficiary_id == person.id,
                    Referral.programme_id == programme.id,
                    Referral.referred_on == values["referred_on"]).limit(1))
                previous["referral"] = {key: getattr(referral, key)
                                        for key in (*REFERRAL_FIELDS, "referent_id",
                                                    "commission_id")}
                for key in REFERRAL_FIELDS:
                    if values.get(key):
                        setattr(referral, key, values[key])
                totals["updated"] += 1
            else:
                referral = Referral(
                    beneficiary=person, programme=programme,
                    referred_on=values["referred_on"], status=ReferralStatus.PENDING,
                    **{key: values.get(key) for key in REFERRAL_FIELDS})
                session.add(referral)
                result["created_referral"] = True
                totals["created"] += 1
            if row_referent:
                referral.referent_id = row_referent
            if commission is not None and referral.status in OPEN_REFERRAL:
                referral.commission_id = commission.id  # on the commission's agenda
            target = order or orders_by_number.get(values.get("order_number"))
            if target is not None:
                pending_lines.append((target, person, referral, previous))
            result["previous"] = previous or None
            results.append((result, person, referral))
        session.flush()
        _add_order_lines(session, pending_lines)
        session.execute(update(ReferralImportRow), [
            {**result, "beneficiary_id": person.id, "referral_id": referral.id}
            for result, person, referral in results])
        session.flush()
        # Their obligations (CSP pré-bilan, PLIE fiche de liaison…) now, then let the
        # batch go: written and audited, its objects would make memory grow with the list.
        sync_referrals_now(session, [referral for _result, _person, referral in results])
        for obj in [obj for obj in session.identity_map.values()
                    if isinstance(obj, Beneficiary | Referral | Obligation | PurchaseOrderLine)]:
            session.expunge(obj)
    record.state = ImportState.DONE
    record.imported_at = utcnow()
    record.purchase_order_id = order.id if order else None
    record.commission_id = commission.id if commission else None
    record.people_created = totals["people"]
    record.referrals_created = totals["created"]
    record.referrals_updated = totals["updated"]
    record.rows_unchanged = totals["unchanged"]
    record.rows_skipped = totals["skipped"]
    record.rows_in_error = totals["errors"]
    session.flush()
    return record


def _add_order_lines(session: Session, pending: list) -> None:
    """Put the batch's referrals on their purchase order (002 I §4, II §3), one line per
    person and order (a person already on the order keeps their line)."""
    if not pending:
        return
    taken = set(session.execute(select(PurchaseOrderLine.order_id,
                                       PurchaseOrderLine.beneficiary_id).where(
        PurchaseOrderLine.order_id.in_({target.id for target, *_ in pending}),
        PurchaseOrderLine.beneficiary_id.in_({person.id for _t, person, *_ in pending}))))
    added = []
    for target, person, referral, previous in pending:
        if (target.id, person.id) in taken:
            continue
        taken.add((target.id, person.id))
        line = PurchaseOrderLine(order_id=target.id, beneficiary_id=person.id,
                                 referral_id=referral.id)
        session.add(line)
        added.append((line, previous))
    session.flush()
    for line, previous in added:
        previous["order_line_id"] = line.id


def _new_person(values: dict) -> Beneficiary:
    return Beneficiary(
        last_name=values["last_name"], first_name=values["first_name"],
        birth_date=values["birth_date"], sex=values["sex"],
        external_id=values.get("external_id"),
        disability_recognition=bool(values.get("disability_recognition")),
        **{key: values.get(key) for key in PERSON_FIELDS})


def _complete_person(person: Beneficiary, values: dict) -> dict:
    """Fill what the record lacks (external id, contact details, recognition) from the
    list, never overwrite what was typed; return the values replaced (for the undo)."""
    before = {}
    for key in ("external_id", *PERSON_FIELDS):
        if values.get(key) and not getattr(person, key):
            before[key] = getattr(person, key)
            setattr(person, key, values[key])
    if values.get("disability_recognition") and not person.disability_recognition:
        before["disability_recognition"] = False
        person.disability_recognition = True
    return before


# --- 4. Undo -------------------------------------------------------------------------

def undo_problem(session: Session, record: ReferralImport) -> str | None:
    """Why the import cannot be undone (French), or None."""
    if record.state is not ImportState.DONE:
        return f"Import n° {record.id} : {record.state.label.lower()}, rien à annuler."
    created = select(ReferralImportRow.referral_id).where(
        ReferralImportRow.import_id == record.id, ReferralImportRow.created_referral)
    decided = session.execute(
        select(Referral.id, Referral.status, Referral.decided_on)
        .where(Referral.id.in_(created),
               (Referral.status != ReferralStatus.PENDING) | Referral.decided_on.is_not(None))
        .order_by(Referral.id).limit(1)).first()
    if decided is not None:
        return (f"Import n° {record.id} : la prescription n° {decided.id} est décidée "
                f"(« {decided.status.label} ») ; l'import ne peut plus être annulé.")
    ours = [row.previous["order_line_id"] for row in session.execute(
        select(ReferralImportRow.previous).where(ReferralImportRow.import_id == record.id,
                                                 ReferralImportRow.previous.is_not(None)))
            if row.previous and row.previous.get("order_line_id")]
    other_line = session.execute(select(PurchaseOrderLine.referral_id, PurchaseOrder.number)
                                 .join(PurchaseOrderLine.order)
                                 .where(PurchaseOrderLine.referral_id.in_(created),
                                        PurchaseOrderLine.id.not_in(ours)).limit(1)).first()
    if other_line is not None:
        return (f"Import n° {record.id} : la prescription n° {other_line.referral_id} a été "
                f"inscrite depuis sur le bon de commande n° {other_line.number} ; "
                "l'import ne peut plus être annulé.")
    path = session.scalar(select(Enrolment.referral_id).where(
        Enrolment.referral_id.in_(created)).limit(1))
    if path is not None:
        return (f"Import n° {record.id} : un parcours est ouvert sur la prescription "
                f"n° {path} ; l'import ne peut plus être annulé.")
    return None


def undo(session: Session, record: ReferralImport, user: User | None) -> dict[str, int]:
    """Take the import back: its referrals and the people it created are deleted, the
    values it updated restored (issue 23 §7). Refused once one of its referrals is
    decided. The caller commits."""
    problem = undo_problem(session, record)
    if problem:
        raise ImportRefused(problem)
    counts = {"referrals": 0, "people": 0, "restored": 0, "kept_people": 0}
    rows = session.execute(select(
        ReferralImportRow.referral_id, ReferralImportRow.beneficiary_id,
        ReferralImportRow.created_person, ReferralImportRow.created_referral,
        ReferralImportRow.previous).where(ReferralImportRow.import_id == record.id,
                                          ReferralImportRow.referral_id.is_not(None))).all()
    created_referrals = [r.referral_id for r in rows if r.created_referral]
    line_ids = [r.previous["order_line_id"] for r in rows
                if r.previous and r.previous.get("order_line_id")]
    for line in session.scalars(select(PurchaseOrderLine).where(
            PurchaseOrderLine.id.in_(line_ids))):
        session.delete(line)
    for row in rows:
        previous = row.previous or {}
        if not row.created_referral and previous.get("referral"):
            referral = session.get(Referral, row.referral_id)
            for key, value in previous["referral"].items():
                setattr(referral, key, value)
            counts["restored"] += 1
        if not row.created_person and previous.get("person"):
            person = session.get(Beneficiary, row.beneficiary_id)
            for key, value in previous["person"].items():
                setattr(person, key, value)
    session.flush()
    session.execute(delete(Obligation).where(Obligation.referral_id.in_(created_referrals))
                    .execution_options(synchronize_session=False))
    for start in range(0, len(created_referrals), BATCH):
        for referral in session.scalars(select(Referral).where(
                Referral.id.in_(created_referrals[start:start + BATCH]))
                .options(selectinload(Referral.non_entry_barriers))):
            session.delete(referral)
            counts["referrals"] += 1
        session.flush()
    created_people = [r.beneficiary_id for r in rows if r.created_person]
    for start in range(0, len(created_people), BATCH):
        chunk = created_people[start:start + BATCH]
        kept = set(session.scalars(select(Referral.beneficiary_id).where(
            Referral.beneficiary_id.in_(chunk)))) | set(session.scalars(
                select(Enrolment.beneficiary_id).where(Enrolment.beneficiary_id.in_(chunk))))
        for person in session.scalars(select(Beneficiary).where(Beneficiary.id.in_(chunk))
                                      .options(selectinload(Beneficiary.referrals),
                                               selectinload(Beneficiary.enrolments))):
            if person.id in kept:  # someone gave them another referral since
                counts["kept_people"] += 1
                continue
            session.delete(person)
            counts["people"] += 1
        session.flush()
    record.state = ImportState.UNDONE
    record.undone_at = utcnow()
    record.undone_by_id = user.id if user is not None else None
    session.flush()
    return counts


def discard(session: Session, record: ReferralImport) -> None:
    """Drop a pending import and its working rows (nothing else had been written)."""
    _check_pending(record)
    session.execute(delete(ReferralImportRow).where(ReferralImportRow.import_id == record.id))
    session.delete(record)
    session.flush()


def latest_imports(session: Session, limit: int = 20) -> list[ReferralImport]:
    """The last imports, newest first (the screen's history)."""
    return list(session.scalars(select(ReferralImport).order_by(
        ReferralImport.id.desc()).limit(limit)))

