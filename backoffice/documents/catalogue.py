"""The catalogue of documents: one `DocumentKind` per document a funder requires.

A module per funder (`plie.py`, `csp.py`, `arjlj.py`, `del_documents.py`, `common.py`)
declares its kinds with `register(...)`; `KINDS` maps each code to its kind, filled by
`load_all()`, which imports the modules named in `MODULES`. The template
of a kind is `seeds/documents/<code>.md` (see builder.py) unless an administrator uploaded
another one.
"""
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

#: The records a document can be made from (the `subject` of a kind).
SUBJECTS = ("enrolment", "referral", "workshop", "commission", "purchase_order",
            "programme_session", "internship", "contact")

Context = dict[str, Any]


@dataclass(frozen=True)
class DocumentKind:
    """A document: its code (also its template's name), its French title, the record it
    is made from, and where the rule comes from."""

    code: str
    title: str
    subject: str
    #: the clause it comes from, e.g. « 004 Lot 1 — fiche de liaison sous 15 jours »
    source: str
    #: reads the fields of one record: build(session, record_id) -> context
    build: Callable[[Session, int], Context]
    #: a context with every field filled, used to check an uploaded template
    sample: Callable[[], Context]
    #: programme codes or code prefixes (« PLIE », « CSP », « DEL », « ARJLJ »); empty: all
    programmes: tuple[str, ...] = ()
    #: codes of the deadline rules (seeds/deadline_rules.yaml) this document fulfils
    fulfils: tuple[str, ...] = ()
    #: names a person: never produced for a role that may not see names (funders)
    nominative: bool = True
    #: one line per field a template may use, shown to the administrator
    fields: tuple[str, ...] = field(default=())

    def applies_to(self, programme_code: str | None) -> bool:
        """Whether this document belongs to a programme (by code or code prefix)."""
        if not self.programmes:
            return True
        return programme_code is not None and any(
            programme_code == code or programme_code.startswith(code + "-")
            for code in self.programmes
        )


KINDS: dict[str, DocumentKind] = {}

#: The modules of backoffice/documents/ that declare kinds (imported by `load_all`).
MODULES: tuple[str, ...] = ("common", "plie", "del_documents", "csp", "arjlj")


def load_all() -> dict[str, DocumentKind]:
    """Import every module of `MODULES` (once: Python keeps them) and return `KINDS`."""
    for name in MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return KINDS


def register(kind: DocumentKind) -> DocumentKind:
    """Add a kind to the catalogue (once per code)."""
    if kind.subject not in SUBJECTS:
        raise ValueError(f"unknown subject {kind.subject!r} for {kind.code}")
    if kind.code in KINDS:
        raise ValueError(f"document {kind.code} registered twice")
    KINDS[kind.code] = kind
    return kind


def kinds_for(subject: str, programme_code: str | None = None) -> list[DocumentKind]:
    """The documents that can be made from a record of this subject and programme."""
    load_all()
    return [kind for kind in KINDS.values()
            if kind.subject == subject and kind.applies_to(programme_code)]

