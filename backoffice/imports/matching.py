"""Match a row of a list to a person already known, and to the rows above it.

By the external id (n° France Travail, n° DEL) first: it names one person. Else by the
names and the birth date, compared as `name_key` compares them (accents, case, spaces
and hyphens ignored: « Lefèvre-Dupont » = « LEFEVRE DUPONT »), also with first and last
names swapped (a list that writes « Prénom Nom » in the « Nom » column).

- same external id, or same names and birth date: the person (« personne connue »);
- first and last names swapped, or the same names and birth date under another external
  id: a candidate the user confirms (« à confirmer »), never merged without them.

Plain functions over dictionaries the service fills (one query per batch of rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..rules.people import name_key

#: How a row found its person.
BY_EXTERNAL_ID = "external_id"
BY_IDENTITY = "identity"
BY_SWAPPED_NAMES = "swapped_names"
BY_IDENTITY_OTHER_ID = "identity_other_id"
TO_CONFIRM = frozenset({BY_SWAPPED_NAMES, BY_IDENTITY_OTHER_ID})


@dataclass(frozen=True)
class KnownPerson:
    id: int
    last_name: str
    first_name: str
    birth_date: date
    external_id: str | None
    disability_recognition: bool = False


@dataclass(frozen=True)
class Match:
    person: KnownPerson
    how: str

    @property
    def needs_confirmation(self) -> bool:
        return self.how in TO_CONFIRM

    def note(self) -> str:
        """Why the row is this person (French, shown in the preview)."""
        person = self.person
        if self.how == BY_EXTERNAL_ID:
            return f"même identifiant ({person.external_id})"
        if self.how == BY_IDENTITY:
            return "mêmes nom, prénom et date de naissance"
        if self.how == BY_SWAPPED_NAMES:
            return "nom et prénom inversés, même date de naissance"
        return (f"mêmes nom, prénom et date de naissance, mais identifiant "
                f"{person.external_id} sur la fiche")


def identity_keys(last_name: str, first_name: str) -> tuple[str, str]:
    """(the names' key, the key with first and last names swapped)."""
    return name_key(last_name, first_name), name_key(first_name, last_name)


def match_person(values: dict, by_external_id: dict[str, KnownPerson],
                 by_identity: dict[tuple[str, date], KnownPerson]) -> Match | None:
    """The known person a row's `values` designate, or None (a new person)."""
    external_id = values.get("external_id")
    if external_id and external_id in by_external_id:
        return Match(by_external_id[external_id], BY_EXTERNAL_ID)
    born = values.get("birth_date")
    if not (values.get("last_name") and values.get("first_name") and born):
        return None
    straight, swapped = identity_keys(values["last_name"], values["first_name"])
    person = by_identity.get((straight, born))
    if person is not None:
        if external_id and person.external_id and person.external_id != external_id:
            return Match(person, BY_IDENTITY_OTHER_ID)
        return Match(person, BY_IDENTITY)
    person = by_identity.get((swapped, born))
    if person is not None:
        return Match(person, BY_SWAPPED_NAMES)
    return None


class FileDuplicates:
    """The rows already read: a later row naming the same person is a duplicate in the
    file (same external id, or same names — in either order — and birth date)."""

    def __init__(self):
        self._seen: dict[tuple, int] = {}

    def first_line_of(self, line: int, values: dict) -> int | None:
        """The line that already named this person, or None (and remember this one)."""
        keys = []
        if values.get("external_id"):
            keys.append(("id", values["external_id"]))
        if values.get("last_name") and values.get("first_name") and values.get("birth_date"):
            straight, swapped = identity_keys(values["last_name"], values["first_name"])
            keys.append(("who", min(straight, swapped), max(straight, swapped),
                         values["birth_date"]))
        for key in keys:
            if key in self._seen:
                return self._seen[key]
        for key in keys:
            self._seen[key] = line
        return None
