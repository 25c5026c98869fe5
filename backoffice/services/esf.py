"""ESF+ participant data: load the facts of `rules/esf.py` from the database, and the
entry data a path's fiche de liaison shows (issue 24). Plain queries, no Flask.

Three statements whatever the number of people: the paths (with their person and
programme), their entry records, their exit records.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..enums import Answer, LabourMarketStatus
from ..models import Beneficiary, Enrolment, EsfEntry, EsfExit, Programme
from ..rules import esf as rules


def operations(session: Session) -> list[str]:
    """The ESF+ operations of the seeded programmes (« PLIE »…), sorted."""
    return sorted(set(session.scalars(
        select(Programme.esf_operation).where(Programme.esf_operation.is_not(None)))))


def _entry_facts(row: EsfEntry) -> rules.EntryFacts:
    return rules.EntryFacts(**{f.name: getattr(row, f.name) for f in fields(rules.EntryFacts)})


def _exit_facts(row: EsfExit) -> rules.ExitFacts:
    return rules.ExitFacts(**{f.name: getattr(row, f.name) for f in fields(rules.ExitFacts)})


def load_people(session: Session, operation: str, *, date_from: date | None = None,
                date_to: date | None = None, paths_where=None,
                person_ids: list[int] | None = None) -> list[rules.PersonFacts]:
    """The people with a path of ``operation`` open during the period (every day when no
    bounds), each with all their paths in the operation that the reader may see
    (``paths_where``: a counsellor's own paths)."""
    in_operation = Programme.esf_operation == operation
    people = select(Enrolment.beneficiary_id).join(Programme).where(in_operation)
    if date_to is not None:
        people = people.where(Enrolment.entry_date <= date_to)
    if date_from is not None:
        people = people.where(or_(Enrolment.exit_date.is_(None),
                                  Enrolment.exit_date >= date_from))
    if paths_where is not None:
        people = people.where(paths_where)
    query = (select(Enrolment, Programme, Beneficiary)
             .join(Programme, Enrolment.programme_id == Programme.id)
             .join(Beneficiary, Enrolment.beneficiary_id == Beneficiary.id)
             .where(in_operation, Enrolment.beneficiary_id.in_(people))
             .order_by(Beneficiary.name_key, Beneficiary.id, Enrolment.entry_date,
                       Enrolment.id))
    if paths_where is not None:
        query = query.where(paths_where)
    if person_ids is not None:
        query = query.where(Enrolment.beneficiary_id.in_(person_ids))
    rows = session.execute(query).all()
    ids = [path.id for path, _programme, _person in rows]
    entries, exits = records_of(session, ids)
    grouped: dict[int, list] = defaultdict(list)
    persons: dict[int, Beneficiary] = {}
    for path, programme, person in rows:
        persons[person.id] = person
        grouped[person.id].append(rules.PathFacts(
            path.id, programme.code, path.entry_date, path.exit_date,
            _entry_facts(entries[path.id]) if path.id in entries else None,
            _exit_facts(exits[path.id]) if path.id in exits else None,
            programme.esf_six_month_result))
    return [rules.PersonFacts(pid, persons[pid].full_name, persons[pid].sex,
                              persons[pid].birth_date, operation, tuple(paths),
                              persons[pid].last_name, persons[pid].first_name,
                              persons[pid].postcode, persons[pid].commune)
            for pid, paths in grouped.items()]


def records_of(session: Session, path_ids: list[int]
               ) -> tuple[dict[int, EsfEntry], dict[int, EsfExit]]:
    """path id → its entry record, path id → its exit record (two statements)."""
    if not path_ids:
        return {}, {}
    entries = {row.enrolment_id: row for row in session.scalars(
        select(EsfEntry).where(EsfEntry.enrolment_id.in_(path_ids)))}
    exits = {row.enrolment_id: row for row in session.scalars(
        select(EsfExit).where(EsfExit.enrolment_id.in_(path_ids)))}
    return entries, exits


def first_participation_of(session: Session, path: Enrolment) -> Enrolment | None:
    """The path whose entry data are the participant's for ``path``'s person in its
    operation (itself, or an earlier one for a re-entry); None outside ESF+."""
    operation = path.programme.esf_operation
    if operation is None:
        return None
    people = load_people(session, operation, person_ids=[path.beneficiary_id])
    if not people:
        return None
    first = rules.first_participation(people[0].paths)
    return session.get(Enrolment, first.enrolment_id) if first else None


class EntryRefused(ValueError):
    """A refused entry record; the message is French and names the rule."""


def check_new_entry(session: Session, record: EsfEntry) -> None:
    """One participant per operation (issue 24 §3): a re-entry keeps the first
    participation's entry data, so a path after it gets no entry record of its own."""
    path = record.enrolment
    if path is None:
        raise EntryRefused("Parcours : obligatoire (le parcours dont ce sont les données).")
    if path.programme.esf_operation is None:
        raise EntryRefused(f"Parcours : le dispositif {path.programme.code} n'est pas financé "
                           f"par le FSE+ (aucune opération FSE+ indiquée).")
    others = session.scalars(
        select(EsfEntry).join(Enrolment, EsfEntry.enrolment_id == Enrolment.id)
        .join(Programme, Enrolment.programme_id == Programme.id)
        .where(Enrolment.beneficiary_id == path.beneficiary_id,
               Programme.esf_operation == path.programme.esf_operation,
               EsfEntry.enrolment_id != path.id,
               and_(Enrolment.entry_date <= path.entry_date))).all()
    if others:
        first = min(others, key=lambda row: (row.entered_on, row.enrolment_id))
        raise EntryRefused(
            f"Réentrée : cette personne est déjà entrée dans l'opération "
            f"{path.programme.esf_operation} le {first.entered_on:%d/%m/%Y} (parcours "
            f"n° {first.enrolment_id}) ; ses données d'entrée FSE+ restent celles de sa "
            f"première participation.")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Answer | LabourMarketStatus):
        return value.label
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


#: Keys of `esf_entry_fields` → French label, in the order a fiche shows them.
ENTRY_FIELD_LABELS: dict[str, str] = {
    "entered_on": "Date d'entrée dans l'opération FSE+",
    "recorded_on": "Date de recueil des données d'entrée",
    "age_at_entry": "Âge à l'entrée",
    "age_band": "Tranche d'âge à l'entrée",
    **rules.ENTRY_ITEMS,
    "isced_group": "Groupe CITE",
    "first_participation": "Première participation",
}


def esf_entry_fields(session: Session, enrolment_id: int) -> dict:
    """The ESF+ entry data of a path as its fiche de liaison prints them: a dict of
    French texts keyed by ``ENTRY_FIELD_LABELS`` (empty texts when not recorded), plus
    ``questions`` (the same as a list of {"question", "answer"}, in the fiche's order, for
    a table), ``recorded`` (bool), ``reentry`` (bool: the data are those of an earlier
    path, the person's first participation in the operation) and ``labels``. A path
    outside ESF+ gives an empty dict."""
    path = session.get(Enrolment, enrolment_id)
    if path is None or path.programme.esf_operation is None:
        return {}
    first = first_participation_of(session, path) or path
    entry = session.scalar(select(EsfEntry).where(EsfEntry.enrolment_id == first.id))
    values = {key: "" for key in ENTRY_FIELD_LABELS}
    values["first_participation"] = (f"parcours n° {first.id} ({first.programme.code}, entrée "
                                     f"le {first.entry_date:%d/%m/%Y})")
    if entry is not None:
        for key in ("entered_on", "recorded_on", *rules.ENTRY_ITEMS):
            values[key] = _text(getattr(entry, key))
        age = rules.age_on(path.beneficiary.birth_date, entry.entered_on)
        values["age_at_entry"] = f"{age} ans"
        values["age_band"] = rules.age_band(age)
        values["isced_group"] = _text(rules.isced_group(entry.isced_level))
    questions = [{"question": label, "answer": values[key]}
                 for key, label in ENTRY_FIELD_LABELS.items()]
    return {**values, "questions": questions, "recorded": entry is not None,
            "reentry": first.id != path.id, "labels": ENTRY_FIELD_LABELS}


__all__ = ["ENTRY_FIELD_LABELS", "EntryRefused", "check_new_entry", "esf_entry_fields",
           "first_participation_of", "load_people", "operations", "records_of"]
