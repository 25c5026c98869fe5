"""Load the reference data of `seeds/*.yaml` into the database (`flask seed reference`).

Each file is a YAML list of rows whose keys are the columns of one table (see the comment
at the top of each file). Loading is an upsert by natural key — `code`, phases by
(programme, code), deadline rules by (programme, code) — so running it twice gives the
same rows and ids, and a value edited in a file updates its row.

Rows that are no longer in the files are kept: other records may point to them, and an
administrator deactivates them in the interface instead. A field left out of a row goes
back to its default (usually empty), so the file stays the single source of truth; an
administrator's change to a seeded field is overwritten by the next load.

Nothing is committed here: the caller commits (or rolls back on error).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Boolean, Integer, String, Text, select
from sqlalchemy import Enum as SAEnum

from ..enums import ExitScheme
from ..models import (
    BarrierType,
    ContactType,
    DeadlineRule,
    ExitType,
    Funder,
    Phase,
    Programme,
    SuspensionReason,
)
from ..rules.deadlines import PHASE_TRIGGERS, TRIGGER_EVENTS

#: Default folder of the seed files: <repository>/seeds
DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

# Flat tables: (file, model). Funders and programmes come first (others point to them).
SIMPLE_TABLES = (
    ("exit_types.yaml", ExitType),
    ("barrier_types.yaml", BarrierType),
    ("contact_types.yaml", ContactType),
    ("suspension_reasons.yaml", SuspensionReason),
)

_LINE = "__line__"


class SeedError(ValueError):
    """A seed file that cannot be loaded; the message (French) names file, row and field."""


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that remembers the line of every mapping (for error messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _where(path: Path, row: dict | None = None) -> str:
    """« programmes.yaml, ligne 12 (code « CSP ») » — where an error is."""
    text = path.name
    if row is not None:
        text += f", ligne {row.get(_LINE, '?')}"
        if isinstance(row.get("code"), str):
            text += f" (code « {row['code']} »)"
    return text


def _read_rows(path: Path) -> list[dict]:
    """Return the rows of a seed file: a YAML list of mappings (or {name: [rows]})."""
    if not path.is_file():
        raise SeedError(f"{path.name} : fichier de référence introuvable ({path}).")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", ligne {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SeedError(f"{path.name}{where} : YAML illisible ({problem}).") from exc
    if isinstance(data, dict):  # accept « table_name: [rows] »
        lists = [v for k, v in data.items() if k != _LINE and isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else data
    if data is None:
        return []
    if not isinstance(data, list):
        raise SeedError(f"{path.name} : une liste d'éléments (« - code: … ») est attendue.")
    for index, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise SeedError(
                f"{path.name} : l'élément n° {index} n'est pas un dictionnaire "
                "(clé: valeur)."
            )
    return data


def _coerce(path: Path, row: dict, model, field: str, value: Any) -> Any:
    """Check and convert one value to the type of `model.field`; raise SeedError if wrong."""
    column = model.__table__.columns[field]
    problem = None
    if value is None:
        if not column.nullable and column.default is None:
            problem = "valeur obligatoire"
    elif isinstance(column.type, SAEnum) and column.type.enum_class is not None:
        enum_class = column.type.enum_class
        try:
            return enum_class(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_class)
            problem = f"« {value} » n'est pas une valeur permise ({allowed})"
    elif isinstance(column.type, Boolean):
        if not isinstance(value, bool):
            problem = f"« {value} » n'est pas un booléen (true ou false)"
    elif isinstance(column.type, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            problem = f"« {value} » n'est pas un nombre entier"
    elif isinstance(column.type, String | Text):
        if not isinstance(value, str):
            problem = f"« {value} » n'est pas un texte (mettez la valeur entre guillemets)"
        elif getattr(column.type, "length", None) and len(value) > column.type.length:
            problem = f"texte trop long ({len(value)} caractères, {column.type.length} au plus)"
    if problem:
        raise SeedError(f"{_where(path, row)} : champ « {field} » : {problem}.")
    return value


def _column_default(column) -> Any:
    """The value a column gets when a row leaves it out (its scalar default, else None)."""
    default = column.default
    if default is not None and default.is_scalar:
        return default.arg
    return None


def _values(path: Path, row: dict, model, extra_keys: tuple[str, ...] = (),
            fixed: dict | None = None) -> dict:
    """Every column value of `model` for `row` (absent keys → default), type-checked.

    `extra_keys` are keys the caller handles itself (e.g. `funder`, `phases`); `fixed`
    are values the caller sets (foreign keys, positions).
    """
    fixed = fixed or {}
    columns = {c.name: c for c in model.__table__.columns if c.name != "id"}
    settable = set(columns) - set(fixed)
    unknown = sorted(k for k in row if k not in settable and k not in extra_keys and k != _LINE)
    if unknown:
        raise SeedError(
            f"{_where(path, row)} : champ « {unknown[0]} » inconnu "
            f"(champs possibles : {', '.join(sorted(settable | set(extra_keys)))})."
        )
    values = dict(fixed)
    for name in sorted(settable):
        column = columns[name]
        if name not in row and not column.nullable and column.default is None:
            raise SeedError(f"{_where(path, row)} : champ « {name} » manquant (obligatoire).")
        values[name] = _coerce(path, row, model, name, row.get(name, _column_default(column)))
    return values


def _apply(instance, values: dict) -> None:
    """Set on `instance` only the values that differ (so unchanged rows stay clean)."""
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)


def _check_unique(path: Path, rows: list[dict], key: str = "code") -> None:
    seen: set = set()
    for row in rows:
        value = row.get(key)
        if value is not None and value in seen:
            raise SeedError(f"{_where(path, row)} : {key} « {value} » en double dans le fichier.")
        seen.add(value)


def _upsert_simple(session, path: Path, model) -> int:
    """Upsert every row of `path` into `model` by `code`; return the number of rows."""
    rows = _read_rows(path)
    _check_unique(path, rows)
    existing = {obj.code: obj for obj in session.scalars(select(model))}
    for row in rows:
        values = _values(path, row, model)
        instance = existing.get(values["code"])
        if instance is None:
            session.add(model(**values))
        else:
            _apply(instance, values)
    session.flush()
    return len(rows)


def _load_funders(session, path: Path) -> tuple[int, dict[str, Funder]]:
    count = _upsert_simple(session, path, Funder)
    return count, {f.code: f for f in session.scalars(select(Funder))}


def _load_programmes(session, path: Path, funders: dict[str, Funder]) -> tuple[int, int]:
    """Upsert programmes and their nested phases; return (programmes, phases) counts."""
    rows = _read_rows(path)
    _check_unique(path, rows)
    existing = {p.code: p for p in session.scalars(select(Programme))}
    schemes = {s.value for s in ExitScheme}
    phase_count = 0
    for row in rows:
        funder_code = row.get("funder")
        if funder_code not in funders:
            raise SeedError(
                f"{_where(path, row)} : champ « funder » : financeur « {funder_code} » "
                f"inconnu (financeurs : {', '.join(sorted(funders))})."
            )
        values = _values(path, row, Programme, extra_keys=("funder", "phases"),
                         fixed={"funder_id": funders[funder_code].id})
        if values["exit_scheme"] not in schemes:
            raise SeedError(
                f"{_where(path, row)} : champ « exit_scheme » : « {values['exit_scheme']} » "
                f"inconnu (valeurs permises : {', '.join(sorted(schemes))})."
            )
        programme = existing.get(values["code"])
        if programme is None:
            programme = Programme(**values)
            session.add(programme)
        else:
            _apply(programme, values)
        session.flush()
        phase_count += _load_phases(session, path, row, programme)
    return len(rows), phase_count


def _load_phases(session, path: Path, programme_row: dict, programme: Programme) -> int:
    """Upsert the `phases:` of one programme by (programme, code); position = list order."""
    phases = programme_row.get("phases") or []
    if not isinstance(phases, list):
        raise SeedError(f"{_where(path, programme_row)} : champ « phases » : liste attendue.")
    for index, phase_row in enumerate(phases, start=1):
        if not isinstance(phase_row, dict):
            raise SeedError(
                f"{_where(path, programme_row)} : phase n° {index} : dictionnaire attendu."
            )
    _check_unique(path, phases)
    existing = {
        p.code: p for p in session.scalars(select(Phase).where(Phase.programme_id == programme.id))
    }
    wanted = [
        _values(path, phase_row, Phase, fixed={"programme_id": programme.id, "position": index})
        for index, phase_row in enumerate(phases, start=1)
    ]
    # Positions are unique per programme: park moved phases out of the way first.
    moved = [existing[v["code"]] for v in wanted
             if v["code"] in existing and existing[v["code"]].position != v["position"]]
    for phase in moved:
        phase.position = -phase.id
    if moved:
        session.flush()
    for values in wanted:
        phase = existing.get(values["code"])
        if phase is None:
            session.add(Phase(**values))
        else:
            _apply(phase, values)
    session.flush()
    return len(wanted)


def _load_deadline_rules(session, path: Path, programmes: dict[str, Programme]) -> int:
    """Upsert deadline rules by (programme, code); a row may list several programmes."""
    rows = _read_rows(path)
    existing = {(r.programme_id, r.code): r for r in session.scalars(select(DeadlineRule))}
    seen: set = set()
    count = 0
    for row in rows:
        codes = row.get("programmes", row.get("programme"))
        if isinstance(codes, str):
            codes = [codes]
        if not codes or not isinstance(codes, list):
            raise SeedError(
                f"{_where(path, row)} : champ « programmes » manquant "
                "(liste des codes de dispositif, par exemple [\"CSP\"])."
            )
        trigger = row.get("trigger_event")
        if trigger not in TRIGGER_EVENTS:
            raise SeedError(
                f"{_where(path, row)} : champ « trigger_event » : « {trigger} » inconnu "
                f"(événements possibles : {', '.join(TRIGGER_EVENTS)})."
            )
        for code in codes:
            if code not in programmes:
                raise SeedError(
                    f"{_where(path, row)} : champ « programmes » : dispositif « {code} » "
                    f"inconnu (dispositifs : {', '.join(sorted(programmes))})."
                )
            programme_id = programmes[code].id
            values = _values(path, row, DeadlineRule, extra_keys=("programmes", "programme"),
                             fixed={"programme_id": programme_id})
            if values["offset_value"] < 0:
                raise SeedError(
                    f"{_where(path, row)} : champ « offset_value » : le délai ne peut pas "
                    "être négatif."
                )
            if trigger in PHASE_TRIGGERS:
                phases = {phase.code for phase in programmes[code].phases}
                if values.get("phase_code") not in phases:
                    raise SeedError(
                        f"{_where(path, row)} : champ « phase_code » : une règle déclenchée "
                        f"par une phase doit nommer une phase de {code} "
                        f"({', '.join(sorted(phases)) or 'aucune phase'})."
                    )
            key = (programme_id, values["code"])
            if key in seen:
                raise SeedError(
                    f"{_where(path, row)} : règle « {values['code']} » en double pour {code}."
                )
            seen.add(key)
            rule = existing.get(key)
            if rule is None:
                session.add(DeadlineRule(**values))
            else:
                _apply(rule, values)
            count += 1
    session.flush()
    return count


def load_reference(session, seeds_dir: str | Path | None = None) -> dict[str, int]:
    """Upsert every reference table from the YAML files of `seeds_dir` (default seeds/).

    Returns the number of rows read per table, e.g. {"programmes": 8, …}. Raises
    SeedError (a ValueError) with a French message naming the file, the line and the
    field when a file is malformed. Does not commit.
    """
    folder = Path(seeds_dir) if seeds_dir else DEFAULT_SEEDS_DIR
    counts: dict[str, int] = {}
    counts["funders"], funders = _load_funders(session, folder / "funders.yaml")
    counts["programmes"], counts["phases"] = _load_programmes(
        session, folder / "programmes.yaml", funders
    )
    programmes = {p.code: p for p in session.scalars(select(Programme))}
    counts["deadline_rules"] = _load_deadline_rules(
        session, folder / "deadline_rules.yaml", programmes
    )
    for filename, model in SIMPLE_TABLES:
        counts[model.__tablename__] = _upsert_simple(session, folder / filename, model)
    counts["import_presets"] = _load_import_presets(session, folder / "import_presets",
                                                    programmes)
    return counts


def _load_import_presets(session, folder: Path, programmes: dict) -> int:
    """The column mappings of the funders' lists (issue 23 §2). Inserted when missing,
    never overwritten: an administrator edits them in the interface and a mapping saved
    from the import screen is theirs (unlike the other tables, the files are a start)."""
    from ..imports.mapping import MappingProblem, load_preset_files
    from ..models import ImportPreset

    if not folder.is_dir():
        return 0
    try:
        presets = load_preset_files(folder)
    except MappingProblem as problem:
        raise SeedError(f"import_presets/{problem}") from None
    for preset in presets:
        programme = programmes.get(preset.programme_code)
        if programme is None:
            raise SeedError(f"import_presets/{preset.programme_code}.yaml : dispositif "
                            f"« {preset.programme_code} » inconnu (programmes.yaml).")
        exists = session.scalar(select(ImportPreset.id).where(
            ImportPreset.programme_id == programme.id, ImportPreset.name == preset.name))
        if exists is None:
            session.add(ImportPreset(programme=programme, name=preset.name,
                                     columns=preset.columns))
    session.flush()
    return len(presets)
