"""Fill a `.docx` template with a record's fields (docxtpl: Jinja placeholders).

User text is escaped, never interpreted: a name such as « <b>Dupont</b> & fils » prints
as typed (autoescape). A placeholder the template names but the record does not give is
an error (StrictUndefined), never a blank left silently in a document sent to a funder.
"""
import re
from datetime import date, datetime
from io import BytesIO

import jinja2
from docxtpl import DocxTemplate

from .context import bind_images

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


class TemplateProblem(ValueError):
    """A template that cannot be filled, with a French message naming the placeholder."""


def french_date(value: date | datetime | None) -> str:
    """21/07/1994 (empty when there is no date)."""
    return value.strftime("%d/%m/%Y") if value else ""


def long_date(value: date | datetime | None) -> str:
    """21 juillet 1994 (1er for the first day of a month)."""
    if not value:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    environment.filters["date"] = french_date
    environment.filters["long_date"] = long_date
    return environment


def render(template: bytes, context: dict) -> bytes:
    """The filled document, as `.docx` bytes; `TemplateProblem` when it cannot be filled."""
    document = DocxTemplate(BytesIO(template))
    try:
        document.render(bind_images(context, document), _environment(), autoescape=True)
    except jinja2.UndefinedError as error:
        raise TemplateProblem(_undefined_message(error)) from None
    except jinja2.TemplateSyntaxError as error:
        raise TemplateProblem(
            f"Le modèle contient une balise mal écrite : {error.message}"
        ) from None
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _undefined_message(error: jinja2.UndefinedError) -> str:
    match = re.search(r"'([^']+)'(?: has no attribute '([^']+)')?", str(error))
    if match and match.group(2):
        name = match.group(2)
    elif match:
        name = match.group(1)
    else:
        name = str(error)
    return f"Le champ « {name} » utilisé dans le modèle n'existe pas pour ce document."
