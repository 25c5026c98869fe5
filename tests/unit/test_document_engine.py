"""Issue 21, the engine's plain parts: who may produce a document (auth/permissions.py
`may_produce`), the catalogue's `load_all`, and a broken template refused with a French
message naming the faulty placeholder (documents/render.py)."""
import pytest

from backoffice.auth.permissions import may_produce
from backoffice.documents import catalogue
from backoffice.documents.builder import build_docx
from backoffice.documents.render import TemplateProblem, render

# role → subjects of a nominative document it may produce (issue 21 §4: a funder never
# gets one; a counsellor reads paths, not a workshop's attendance lines nor referrals).
MAY_PRODUCE = {
    "admin": {"enrolment", "referral", "workshop", "commission", "purchase_order",
              "programme_session", "internship", "contact"},
    "coordinator": {"enrolment", "referral", "workshop", "commission", "purchase_order",
                    "programme_session", "internship", "contact"},
    "counsellor": {"enrolment", "internship", "contact"},
    "commission": {"commission", "referral"},
    "viewer": set(),
}


@pytest.mark.parametrize("role", MAY_PRODUCE)
@pytest.mark.parametrize("subject", catalogue.SUBJECTS)
def test_who_may_produce_a_nominative_document(role, subject):
    assert may_produce(role, subject) == (subject in MAY_PRODUCE[role])


def test_a_funder_gets_no_document_even_one_naming_nobody():
    assert not may_produce("viewer", "workshop", nominative=False)
    assert not may_produce("viewer", "commission", nominative=False)


def test_unknown_roles_and_subjects_may_nothing():
    assert not may_produce(None, "enrolment")
    assert not may_produce("admin", "inconnu")


def test_load_all_imports_the_modules_named(monkeypatch):
    imported = []
    monkeypatch.setattr(catalogue, "MODULES", ("a", "b"))
    monkeypatch.setattr(catalogue.importlib, "import_module", imported.append)
    assert catalogue.load_all() is catalogue.KINDS
    assert imported == ["backoffice.documents.a", "backoffice.documents.b"]


@pytest.mark.parametrize("line, message", [
    ("Nom : {{ person.last name }}",
     "Le modèle contient une balise mal écrite « {{ person.last name }} » : « name » est en "
     "trop (un espace dans un nom de champ ?)."),
    ("Nom : {{ person.last_name|majuscules }}",
     "Le modèle contient une balise mal écrite « {{ person.last_name|majuscules }} » : le "
     "filtre « majuscules » n'existe pas."),
    ("{%p si person %}", "la commande « si » n'existe pas"),
    ("{%p if person %}", "une balise ouverte n'est jamais fermée"),
    ("Nom : {{ }}", "il manque un nom de champ"),
])
def test_a_broken_placeholder_is_named_in_french(line, message):
    template = build_docx(f"# Fiche\n\nPremière ligne\n\n{line}\n\nDernière ligne\n")
    with pytest.raises(TemplateProblem) as problem:
        render(template, {"person": {"last_name": "Wamytan"}})
    assert message in str(problem.value)
    assert "expected" not in str(problem.value) and "Encountered" not in str(problem.value)
