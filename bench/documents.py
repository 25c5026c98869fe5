"""Benchmark of the documents (issue 21 « Speed »): one document under 300 ms; 200
convocations in bulk under 30 s with memory flat in the number of documents.

On the demo dataset (`build_demo`, default 300 beneficiaries, in a temporary SQLite file):

- **single**: `POST /admin/documents/produce/` through the test client as the
  coordinator (load the path, fill the template, keep the document, commit, answer the
  .docx), median of 20 after one warm-up; and the service alone (`services.documents.
  produce` + commit);
- **bulk**: `services.documents.produce_many` for 50 and for 200 paths into one ZIP in
  a temporary file, wall and CPU time; then again under `tracemalloc` for the peak of
  Python memory (flat: the peak at 200 is about the peak at 50);
- **PDF**: one conversion by LibreOffice when it is installed (information only).

The document is a convocation of the bench's own (one page: a heading, the person's
name and address, the appointment, a table, the signature), filled like any kind of the
catalogue.

Usage::

    nice .venv/bin/python bench/documents.py [--beneficiaries 300] > /tmp/bench-documents.md
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from backoffice import create_app  # noqa: E402
from backoffice.documents import builder  # noqa: E402
from backoffice.documents.catalogue import KINDS, DocumentKind, register  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import Enrolment, ProducedDocument, User  # noqa: E402
from backoffice.services import documents as service  # noqa: E402

CODE = "bench_convocation"
TEMPLATE = """# Convocation

**{{ organisation }}** — {{ programme.name }}

{{ person.civility }} {{ person.last_name }} {{ person.first_name }}
{{ person.address }}

Nouméa, le {{ today|long_date }}

## Objet : rendez-vous d'accompagnement

{{ person.civility }}, vous êtes convoqué(e) le **{{ appointment.on|long_date }} à
{{ appointment.hour }}** au {{ appointment.place }} avec {{ referent }}, votre référent(e),
dans le cadre de votre parcours {{ programme.code }} commencé le {{ path.entry_date|date }}.

| Pièce à apporter | Pourquoi |
|---|---|
| {%tr for item in documents %} | |
| {{ item.name }} | {{ item.why }} |
| {%tr endfor %} | |

En cas d'empêchement, prévenez-nous au {{ phone }}.

Le référent, {{ referent }}
"""


def _fields(session, path_id: int) -> dict:
    path = session.get(Enrolment, path_id)
    person = path.beneficiary
    return {
        "organisation": "Association d'insertion", "phone": "27 00 00",
        "programme": {"code": path.programme.code, "name": path.programme.name},
        "person": {"civility": "Madame" if person.sex and person.sex.value == "F"
                   else "Monsieur", "last_name": person.last_name,
                   "first_name": person.first_name, "address": person.commune or ""},
        "path": {"entry_date": path.entry_date}, "today": date(2026, 12, 6),
        "appointment": {"on": date(2026, 12, 14), "hour": "9 h 30",
                        "place": "siège de l'association"},
        "referent": path.referent.name if path.referent else "l'équipe",
        "documents": [{"name": "Pièce d'identité", "why": "vérification"},
                      {"name": "CV à jour", "why": "atelier"},
                      {"name": "Attestation France Travail", "why": "dossier"}],
    }


def _sample() -> dict:
    return {"organisation": "A", "phone": "1", "programme": {"code": "P", "name": "N"},
            "person": {"civility": "Madame", "last_name": "L", "first_name": "F",
                       "address": "A"}, "path": {"entry_date": date(2026, 1, 1)},
            "today": date(2026, 1, 1), "appointment": {"on": date(2026, 1, 2), "hour": "9 h",
                                                       "place": "P"},
            "referent": "R", "documents": []}


def _register(folder: Path) -> None:
    (folder / f"{CODE}.md").write_text(TEMPLATE, encoding="utf-8")
    builder.EXTRA_DIRS.append(folder)
    if CODE not in KINDS:
        register(DocumentKind(code=CODE, title="Convocation", subject="enrolment",
                              source="Banc d'essai", build=_fields, sample=_sample))


def _median_ms(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `fn()` (after one warm-up call)."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def _bulk(user, ids: list[int]) -> tuple[float, float, int]:
    """(wall s, CPU s, ZIP bytes) of one ZIP of `ids`, committed."""
    with tempfile.TemporaryFile() as out:
        wall, cpu = time.perf_counter(), time.process_time()
        service.produce_many(db.session, CODE, ids, user, out)
        db.session.commit()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return wall, cpu, out.tell()


def _peak(user, ids: list[int]) -> int:
    """The peak of Python memory (bytes, tracemalloc) while producing the ZIP of `ids`."""
    db.session.expire_all()
    tracemalloc.start()
    try:
        with tempfile.TemporaryFile() as out:
            service.produce_many(db.session, CODE, ids, user, out)
            db.session.commit()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaries", type=int, default=300)
    args = parser.parse_args()
    from backoffice.seeding.demo import build_demo

    folder = Path(tempfile.mkdtemp(prefix="bench-documents-"))
    _register(folder)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}",
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "TESTING": True})
    with app.app_context():
        db.create_all()
        build_demo(db.session, beneficiaries=args.beneficiaries, seed=7,
                   today=date(2026, 12, 6))
        db.session.commit()
        coordinator = db.session.scalar(select(User).where(User.email == "coordination@demo.fr"))
        ids = list(db.session.scalars(select(Enrolment.id).order_by(Enrolment.id)))
        if len(ids) < 200:
            raise SystemExit(f"{len(ids)} parcours seulement : augmentez --beneficiaries.")

        service_ms = _median_ms(lambda: (service.produce(db.session, CODE, ids[0], coordinator),
                                         db.session.commit()), 20)
        client = app.test_client()
        from backoffice.seeding.demo import DEMO_PASSWORD

        client.post("/login", data={"email": "coordination@demo.fr", "password": DEMO_PASSWORD})

        def one():
            response = client.post("/admin/documents/produce/",
                                   data={"kind": CODE, "record_id": ids[1]})
            assert response.status_code == 200, response.status_code

        view_ms = _median_ms(one, 20)
        bulk = {count: _bulk(coordinator, ids[:count]) for count in (50, 200)}
        peaks = {count: _peak(coordinator, ids[:count]) for count in (50, 200)}
        pdf_s = None
        if service.soffice():
            started = time.perf_counter()
            service.to_pdf(service.produce(db.session, CODE, ids[2], coordinator).docx)
            pdf_s = time.perf_counter() - started
            db.session.rollback()
        kept = db.session.scalar(select(db.func.count(ProducedDocument.id)))

    print(f"### Documents — {len(ids)} parcours, SQLite ({datetime.now():%Y-%m-%d})\n")
    print(f"Command: `nice .venv/bin/python bench/documents.py --beneficiaries "
          f"{args.beneficiaries}`; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the end (wall times include waiting for a core).\n")
    print("| Measure | Result | Target |")
    print("|---|---|---|")
    print(f"| One document, POST /admin/documents/produce/ (median of 20) | "
          f"{view_ms[0]:.0f} ms wall, {view_ms[1]:.0f} ms CPU | < 300 ms |")
    print(f"| One document, service + commit (median of 20) | {service_ms[0]:.0f} ms wall, "
          f"{service_ms[1]:.0f} ms CPU | |")
    for count, (wall, cpu, size) in bulk.items():
        target = "< 30 s" if count == 200 else ""
        print(f"| {count} convocations in one ZIP | {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"{size / 1024:.0f} KiB | {target} |")
    for count, peak in peaks.items():
        print(f"| Peak Python memory, {count} documents (tracemalloc) | "
              f"{peak / 1024 / 1024:.1f} MiB | flat |")
    if pdf_s is not None:
        print(f"| One PDF by LibreOffice (cold start, information) | {pdf_s:.1f} s | |")
    print(f"\n{kept} documents kept in produced_documents at the end.")


if __name__ == "__main__":
    main()
