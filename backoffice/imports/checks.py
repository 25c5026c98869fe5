"""One row of a funder's list: its cells read as the forms read them, and every problem
as a French sentence naming the line, the column and the rule.

The rules are the forms': a birth date is a date and gives a plausible age
(rules/people.py), names and the referral date are required, a referral is not dated in
the future nor before the birth, lengths fit the columns; the programme's own rules (DEL
Lot 2 admits only people recognised by the CRHD, 001 Lot 2) are checked once the person
is known (services/imports.py), since a known person may already carry the recognition.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..enums import Sex
from ..rules.people import birth_date_problem
from .mapping import FIELD_BY_KEY
from .reader import parse_date

#: Column sizes of the tables written (models/people.py, models/paths.py).
MAX_LENGTHS = {
    "external_id": 40, "last_name": 100, "first_name": 100, "prescriber_name": 200,
    "prescription_place": 200, "reason": 300, "order_number": 40, "email": 254,
    "phone": 30, "address": 300, "postcode": 10, "commune": 100,
}
SEX_WORDS = {
    "f": Sex.FEMALE, "femme": Sex.FEMALE, "feminin": Sex.FEMALE, "mme": Sex.FEMALE,
    "madame": Sex.FEMALE, "mlle": Sex.FEMALE, "mademoiselle": Sex.FEMALE, "2": Sex.FEMALE,
    "m": Sex.MALE, "h": Sex.MALE, "homme": Sex.MALE, "masculin": Sex.MALE,
    "monsieur": Sex.MALE, "mr": Sex.MALE, "1": Sex.MALE,
}
YES = {"oui", "o", "x", "1", "vrai", "yes", "y"}
NO = {"non", "n", "0", "faux", "no", ""}


def _fold(text: str) -> str:
    from .mapping import fold_header

    return fold_header(text)


@dataclass
class Problem:
    """What is wrong with one cell: the field (None: the whole row) and the message."""

    field: str | None
    message: str


@dataclass
class CheckedRow:
    """A row's values typed (dates as dates, the sex as `Sex`), and its problems."""

    line: int
    values: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, key: str | None, rule: str, columns: dict[str, str]) -> None:
        """A problem « Ligne 12, colonne « Né(e) le » (Date de naissance) : rule »."""
        where = f"Ligne {self.line}"
        if key is not None:
            label = FIELD_BY_KEY[key].label
            header = columns.get(key)
            where += (f", colonne « {header} » ({label})" if header and header != label
                      else f", colonne « {label} »")
        self.problems.append(Problem(key, f"{where} : {rule}"))


def check_row(line: int, cells: dict[str, str], columns: dict[str, str],
              today: date) -> CheckedRow:
    """Read `cells` ({field: text as in the file}); `columns` gives each field's header
    in the file (for the messages). Nothing is refused silently: each problem is said."""
    row = CheckedRow(line)
    text = {key: " ".join(str(value or "").split()) for key, value in cells.items()}
    for key in ("last_name", "first_name", "birth_date", "referred_on"):
        if not text.get(key):
            row.add(key, "champ obligatoire, la cellule est vide.", columns)
    for key, size in MAX_LENGTHS.items():
        value = text.get(key, "")
        if len(value) > size:
            row.add(key, f"{len(value)} caractères ; {size} au plus.", columns)
        elif value:
            row.values[key] = value
    for key in ("birth_date", "referred_on"):
        if text.get(key):
            day = parse_date(text[key])
            if day is None:
                row.add(key, f"« {text[key]} » n'est pas une date (JJ/MM/AAAA attendu).",
                        columns)
            row.values[key] = day
    born, referred = row.values.get("birth_date"), row.values.get("referred_on")
    if born is not None:
        problem = birth_date_problem(born, today)
        if problem:
            row.add("birth_date", problem.split(" : ", 1)[1], columns)
    if referred is not None:
        if referred > today:
            row.add("referred_on", f"le {referred:%d/%m/%Y} est dans le futur ; une "
                                   "prescription reçue est datée d'aujourd'hui au plus tard.",
                    columns)
        elif born is not None and referred < born:
            row.add("referred_on", f"le {referred:%d/%m/%Y} précède la date de naissance.",
                    columns)
    if text.get("sex"):
        sex = SEX_WORDS.get(_fold(text["sex"]).replace(" ", ""))
        if sex is None:
            row.add("sex", f"« {text['sex']} » n'est pas un sexe reconnu (F, Femme, Mme ; "
                           "M, H, Homme, M.).", columns)
        row.values["sex"] = sex
    if "disability_recognition" in cells:
        word = _fold(text.get("disability_recognition", ""))
        if word in YES:
            row.values["disability_recognition"] = True
        elif word in NO:
            row.values["disability_recognition"] = False
        else:
            row.add("disability_recognition",
                    f"« {text['disability_recognition']} » : oui ou non attendu.", columns)
    if row.values.get("email") and "@" not in row.values["email"]:
        row.add("email", f"« {row.values['email']} » n'est pas une adresse e-mail.", columns)
    return row


def new_person_problems(row: CheckedRow, columns: dict[str, str]) -> None:
    """A person not yet known is created: the form requires the sex."""
    if row.values.get("sex") is None and not any(p.field == "sex" for p in row.problems):
        row.add("sex", "champ obligatoire pour une nouvelle personne (F ou M).", columns)
