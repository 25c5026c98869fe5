"""The password policy (issue 6 §3): at least 12 characters, not a common or breached
password, not the account's e-mail. One function, used by the users admin form and by
`flask users create`.

The list is `seeds/common_passwords.txt` (editable, one password a line). A password is
refused when, once folded (case and accents ignored) and stripped of the digits and
symbols people add at either end (« Azerty2024! » → « azerty »), it is on the list or
is a repetition of an entry (« soleilsoleil »).
"""
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 200
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[2] / "seeds" / "common_passwords.txt"
DIGIT_RUNS = "01234567890123456789" + "98765432109876543210"

TOO_COMMON = ("Mot de passe : trop courant (il figure parmi les mots de passe les plus "
              "utilisés ou divulgués) ; choisissez par exemple une phrase de plusieurs mots.")


def _fold(text: str) -> str:
    """Lower case, no accents, no spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace()) \
        .casefold()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The folded entries of the list file (comments and blank lines ignored)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(_fold(line) for line in lines if line.strip() and not line.startswith("#"))


def _cores(folded: str) -> set[str]:
    """The password and its forms without the digits/symbols added at either end."""
    stripped_end = re.sub(r"[\W\d_]+$", "", folded)
    stripped_both = re.sub(r"^[\W\d_]+", "", stripped_end)
    return {folded, stripped_end, stripped_both} - {""}


def _is_repetition_of_listed(word: str, listed: frozenset[str]) -> bool:
    for size in range(1, len(word) // 2 + 1):
        if len(word) % size == 0 and word[:size] * (len(word) // size) == word:
            return word[:size] in listed or size <= 2
    return False


def password_problem(password: str | None, email: str | None = None) -> str | None:
    """Why `password` is refused (a French sentence naming the field), or None if it is fine."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"Mot de passe : {MIN_LENGTH} caractères au minimum."
    if len(password) > MAX_LENGTH:
        return f"Mot de passe : {MAX_LENGTH} caractères au maximum."
    folded = _fold(password)
    if len(set(folded)) < 5:
        return "Mot de passe : trop répétitif ; utilisez des caractères variés."
    listed = common_passwords()
    if folded in DIGIT_RUNS:
        return TOO_COMMON
    for core in _cores(folded):
        if core in listed or _is_repetition_of_listed(core, listed):
            return TOO_COMMON
    local_part = _fold((email or "").split("@")[0])
    if len(local_part) >= 4 and local_part in folded:
        return "Mot de passe : il ne doit pas contenir l'adresse e-mail du compte."
    return None
