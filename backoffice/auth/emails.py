"""The e-mail address of a staff account (its login): one check, used by the users admin
form and by `flask users create` (issue 18 §4: « pas-un-mail » was saved as a login)."""
from email_validator import EmailNotValidError, validate_email

EXAMPLE = "prenom.nom@exemple.fr"


def normalised_email(email: str | None) -> str:
    """The address as it is stored and typed at login: no spaces around, lower case."""
    return (email or "").strip().lower()


def email_problem(email: str | None) -> str | None:
    """Why `email` cannot be an account's address (a French sentence), or None.

    The form is checked (one @, a domain with a dot, no spaces or markup), not whether
    the domain receives mail: the server may have no Internet access.
    """
    email = normalised_email(email)
    if not email:
        return "Adresse e-mail : champ obligatoire."
    try:
        valid = validate_email(email, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError:
        valid = None
    if valid is None or "." not in valid.domain:  # « a@b »: a domain needs a dot
        return (f"Adresse e-mail : « {email} » n'est pas une adresse valide "
                f"(forme attendue : {EXAMPLE}).")
    return None
