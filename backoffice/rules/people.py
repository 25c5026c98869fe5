"""Rules on a person's identity shared by the beneficiary form and the import of the
funders' lists (backoffice/imports/): the same checks, the same French messages."""
import unicodedata
from datetime import date

# A plausible age for someone on an insertion path (a typing error otherwise:
# 2025 for 1995, a child's record). Outside these bounds the birth date is refused.
MIN_AGE, MAX_AGE = 14, 100


def birth_date_problem(born: date | None, today: date) -> str | None:
    """Why a birth date cannot be right (French, naming the field), or None."""
    if born is None:
        return None
    if born > today:
        return f"Date de naissance : le {born:%d/%m/%Y} est dans le futur."
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if not MIN_AGE <= age <= MAX_AGE:
        return (f"Date de naissance : un âge de {age} ans n'est pas plausible "
                f"(entre {MIN_AGE} et {MAX_AGE} ans attendus).")
    return None


#: Between the folded last name and first name in :func:`name_key`: a space, below every
#: letter and digit, so that in the key's order « Dupont » comes before « Dupontel ».
NAME_KEY_SEPARATOR = " "


def fold(text: str | None) -> str:
    """A word as names are compared: letters and digits only, without accents or case
    (« Lefèvre-Dupont » → « lefevredupont », « D'Angelo » → « dangelo »)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if c.isalnum()).casefold()


def name_key(last_name: str, first_name: str) -> str:
    """Comparable form of a person's names: no accents, case, spaces or hyphens.

    « Lefèvre-Dupont, Anne Marie » and « LEFEVRE DUPONT, anne-marie » are the same person
    when their birth dates match; the unique key refuses the second record.
    """
    return f"{fold(last_name)}{NAME_KEY_SEPARATOR}{fold(first_name)}"


def search_key(last_name: str, first_name: str, external_id: str | None) -> str:
    """What the search box reads of a person (issue 25 §2): the folded last name, first
    name and external id, one word each (« lefevredupont annemarie 1234567a »). A searched
    word, folded the same way, is found inside one of them (backoffice/people_search.py);
    the space between them keeps a word from spanning two."""
    return f"{name_key(last_name, first_name)}{NAME_KEY_SEPARATOR}{fold(external_id)}"
