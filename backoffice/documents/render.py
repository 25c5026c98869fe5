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


class _Environment(jinja2.Environment):
    """Jinja with the French filters, keeping each compiled part of a template: a bulk
    run fills one template many times (200 convocations compile it once, not 200 times)."""

    #: compiled parts kept (a template has a body, headers, footers: a few each)
    KEPT = 64

    def __init__(self):
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=True)
        self.filters["date"] = french_date
        self.filters["long_date"] = long_date
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        compiled = self._compiled.get(source)
        if compiled is None:
            if len(self._compiled) >= self.KEPT:
                self._compiled.clear()
            compiled = self._compiled[source] = super().from_string(source)
        return compiled


_ENVIRONMENT = _Environment()


def _environment() -> jinja2.Environment:
    return _ENVIRONMENT


def render(template: bytes, context: dict) -> bytes:
    """The filled document, as `.docx` bytes; `TemplateProblem` when it cannot be filled."""
    document = DocxTemplate(BytesIO(template))
    try:
        document.render(bind_images(context, document), _environment(), autoescape=True)
    except jinja2.UndefinedError as error:
        raise TemplateProblem(_undefined_message(error)) from None
    except jinja2.TemplateSyntaxError as error:
        raise TemplateProblem(_syntax_message(error)) from None
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


# Jinja's own words (English) → what a coordinator reads; the first that matches wins.
_SYNTAX_REASONS: tuple[tuple[str, str], ...] = (
    (r"No filter named '([^']+)'", "le filtre « {0} » n'existe pas"),
    (r"unknown tag '([^']+)'", "la commande « {0} » n'existe pas"),
    (r"Unexpected end of template|unexpected end of template",
     "une balise ouverte n'est jamais fermée (un « {{% if %}} » sans « {{% endif %}} », "
     "un « {{% for %}} » sans « {{% endfor %}} »…)"),
    (r"unexpected '([}%])'", "une accolade ou un « % » en trop ou mal placé"),
    (r"expected token 'end of print statement', got '([^']+)'",
     "« {0} » est en trop (un espace dans un nom de champ ?)"),
    (r"Expected an expression", "il manque un nom de champ"),
    (r"expected name or number", "il manque un nom après le point"),
)
_TAG = re.compile(r"\{\{.*?(\}\}|$)|\{%.*?(%\}|$)")


def _syntax_message(error: jinja2.TemplateSyntaxError) -> str:
    """A French sentence naming the faulty placeholder as the document shows it, with why
    it is wrong (never Jinja's English)."""
    reason = "elle est mal écrite"
    for pattern, text in _SYNTAX_REASONS:
        match = re.search(pattern, error.message or "")
        if match:
            reason = text.format(*match.groups())
            break
    shown = _faulty_tag(error)
    where = f" « {shown} »" if shown else ""
    return (f"Le modèle contient une balise mal écrite{where} : {reason}. "
            "Corrigez-la dans le document puis envoyez-le de nouveau.")


def _faulty_tag(error: jinja2.TemplateSyntaxError) -> str | None:
    """The placeholder on the line Jinja stopped at (docxtpl keeps the text of the lines
    around it in `docx_context`, the faulty one fourth), or None."""
    lines = list(getattr(error, "docx_context", None) or [])
    if not lines or not error.lineno:
        return None
    line = lines[min(3, error.lineno - 1, len(lines) - 1)]
    tags = [match.group(0) for match in _TAG.finditer(line)]
    if not tags:
        return line.strip()[:80] or None
    return tags[-1].strip()[:80]
