"""Document kinds of the tests, the browser journeys and the bench (issue 21): small
kinds of their own, so that the engine is tested whatever the catalogue holds. Their
templates are tests/document_templates/<code>.md."""
from datetime import date, datetime
from pathlib import Path

from backoffice.documents import builder
from backoffice.documents.catalogue import KINDS, DocumentKind, register
from backoffice.models import Commission, Enrolment, Workshop

TEMPLATES = Path(__file__).parent / "document_templates"


def _path_fields(session, path_id: int) -> dict:
    path = session.get(Enrolment, path_id)
    person = path.beneficiary
    return {"person": {"last_name": person.last_name, "first_name": person.first_name},
            "programme": {"code": path.programme.code},
            "path": {"entry_date": path.entry_date}, "today": date(2026, 12, 6)}


def _path_sample() -> dict:
    return {"person": {"last_name": "Wamytan", "first_name": "Léa"},
            "programme": {"code": "PLIE"}, "path": {"entry_date": date(2026, 1, 5)},
            "today": date(2026, 12, 6)}


def _workshop_fields(session, workshop_id: int) -> dict:
    workshop = session.get(Workshop, workshop_id)
    return {"workshop": {"title": workshop.title, "held_at": workshop.held_at},
            "attendees": [line.enrolment.beneficiary.last_name
                          for line in workshop.attendances]}


def _commission_fields(session, commission_id: int) -> dict:
    commission = session.get(Commission, commission_id)
    return {"commission": {"held_on": commission.held_on,
                           "members": commission.members_present or ""}}


PATH_KIND = DocumentKind(
    code="essai_parcours", title="Fiche d'essai", subject="enrolment",
    source="Essai — fiche d'un parcours", build=_path_fields, sample=_path_sample,
    fulfils=("bilan",),
    fields=("person.last_name, person.first_name", "programme.code", "path.entry_date",
            "today"))
WORKSHOP_KIND = DocumentKind(
    code="essai_atelier", title="Convocation d'essai", subject="workshop",
    source="Essai — convocation à un atelier", build=_workshop_fields,
    sample=lambda: {"workshop": {"title": "CV", "held_at": datetime(2026, 3, 2, 9)},
                    "attendees": ["Wamytan"]})
COMMISSION_KIND = DocumentKind(
    code="essai_commission", title="Procès-verbal d'essai", subject="commission",
    source="Essai — procès-verbal", build=_commission_fields,
    sample=lambda: {"commission": {"held_on": date(2026, 3, 2), "members": "M. A"}})
TEST_KINDS = (PATH_KIND, WORKSHOP_KIND, COMMISSION_KIND)


def register_test_kinds() -> None:
    """Add the test kinds and their templates' folder (once)."""
    for kind in TEST_KINDS:
        if kind.code not in KINDS:
            register(kind)
    if TEMPLATES not in builder.EXTRA_DIRS:
        builder.EXTRA_DIRS.append(TEMPLATES)


def unregister_test_kinds() -> None:
    """Take them away again (the catalogue is the application's once the test is over)."""
    for kind in TEST_KINDS:
        KINDS.pop(kind.code, None)
    if TEMPLATES in builder.EXTRA_DIRS:
        builder.EXTRA_DIRS.remove(TEMPLATES)
