"""Which column of a funder's list holds which field.

The fields an import knows are `FIELDS` (English key, French label, required). A preset
says, for one programme, under which header(s) each field comes: France Travail writes
« Identifiant FT », the DEL « N° DEL ». Presets are data: ``seeds/import_presets/*.yaml``
loaded into the table ``import_presets``, which an administrator edits (or completes with
the mapping a user saved on the import screen).

Headers are compared folded (no accents, case, punctuation or extra spaces): « Date de
naissance », « DATE_DE_NAISSANCE » and « date de naissance » are one header.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    required: bool = False  # for every row; `sex` is asked only of a new person


FIELDS: tuple[Field, ...] = (
    Field("external_id", "Identifiant (n° France Travail, n° DEL)"),
    Field("last_name", "Nom", required=True),
    Field("first_name", "Prénom", required=True),
    Field("birth_date", "Date de naissance", required=True),
    Field("sex", "Sexe"),
    Field("referred_on", "Date de prescription", required=True),
    Field("prescriber_name", "Prescripteur"),
    Field("prescription_place", "Lieu de prescription"),
    Field("reason", "Motif de la prescription"),
    Field("order_number", "N° du bon de commande"),
    Field("email", "Adresse e-mail"),
    Field("phone", "Téléphone"),
    Field("address", "Adresse"),
    Field("postcode", "Code postal"),
    Field("commune", "Commune"),
    Field("disability_recognition", "Reconnaissance du handicap (RQTH / CRHD)"),
)
FIELD_BY_KEY = {field.key: field for field in FIELDS}
REQUIRED = tuple(field.key for field in FIELDS if field.required)


class MappingProblem(ValueError):
    """A preset or a mapping that cannot be used (French message)."""


def fold_header(text: str | None) -> str:
    """« Date de naissance » → « date de naissance »; « DATE_NAISS. » → « date naiss »."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


@dataclass
class Preset:
    """A programme's mapping: for each field, the headers it may come under."""

    programme_code: str
    name: str
    columns: dict[str, list[str]]
    id: int | None = None

    def mapping_for(self, headers: list[str]) -> dict[str, int] | None:
        """{field: column index} when every required field finds its header in
        `headers`; None when one is missing (the file is not of this preset)."""
        folded = {}
        for index, header in enumerate(headers):
            folded.setdefault(fold_header(header), index)
        mapping = {}
        for field, aliases in self.columns.items():
            for alias in aliases:
                if fold_header(alias) in folded:
                    mapping[field] = folded[fold_header(alias)]
                    break
        if any(field not in mapping for field in REQUIRED):
            return None
        return mapping


def check_columns(columns: dict) -> dict[str, list[str]]:
    """A preset's columns as {field: [headers]}, refused in French when a field is
    unknown or a required one is missing."""
    if not isinstance(columns, dict):
        raise MappingProblem("Colonnes : une liste « champ : en-têtes » est attendue.")
    clean: dict[str, list[str]] = {}
    for field, aliases in columns.items():
        if field not in FIELD_BY_KEY:
            known = ", ".join(FIELD_BY_KEY)
            raise MappingProblem(f"Colonnes : champ « {field} » inconnu ; champs : {known}.")
        if isinstance(aliases, str):
            aliases = [aliases]
        aliases = [str(a).strip() for a in aliases or [] if str(a).strip()]
        if aliases:
            clean[field] = aliases
    missing = [FIELD_BY_KEY[f].label for f in REQUIRED if f not in clean]
    if missing:
        raise MappingProblem("Colonnes : il manque " + ", ".join(missing) + ".")
    return clean


def mapping_from_choice(headers: list[str], chosen: dict[str, int | None]) -> dict[str, int]:
    """The mapping a user chose on the screen ({field: column index or None}); refused
    in French when a required field has no column or a column serves two fields."""
    mapping = {field: index for field, index in chosen.items()
               if index is not None and field in FIELD_BY_KEY and 0 <= index < len(headers)}
    missing = [FIELD_BY_KEY[f].label for f in REQUIRED if f not in mapping]
    if missing:
        raise MappingProblem("Correspondance des colonnes : choisir la colonne de "
                             + ", ".join(missing) + ".")
    used: dict[int, str] = {}
    for field, index in mapping.items():
        if index in used:
            raise MappingProblem(
                f"Correspondance des colonnes : la colonne « {headers[index]} » est choisie "
                f"pour {FIELD_BY_KEY[used[index]].label} et pour {FIELD_BY_KEY[field].label}.")
        used[index] = field
    return mapping


def preset_from_mapping(programme_code: str, name: str, headers: list[str],
                        mapping: dict[str, int]) -> Preset:
    """A preset recording the headers a user mapped (saved for the next file)."""
    return Preset(programme_code, name,
                  {field: [headers[index]] for field, index in mapping.items()})


def load_preset_files(folder: Path) -> list[Preset]:
    """The presets of ``seeds/import_presets/*.yaml`` (one file per programme)."""
    presets = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            presets.append(Preset(str(data["programme"]), str(data["name"]),
                                  check_columns(data.get("columns"))))
        except (KeyError, TypeError, yaml.YAMLError) as error:
            raise MappingProblem(f"{path.name} : préréglage illisible ({error}).") from None
        except MappingProblem as problem:
            raise MappingProblem(f"{path.name} : {problem}") from None
    return presets
