"""Form fields, filters and display helpers shared by the admin views (French everywhere)."""
from copy import copy
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import flash, request
from flask_admin.babel import Translations
from flask_admin.contrib.sqla.filters import EnumEqualFilter, EnumFilterNotEqual
from flask_admin.form import Select2Field
from flask_admin.form.widgets import Select2Widget as StockSelect2Widget
from flask_admin.helpers import is_field_error, is_required_form_field
from flask_admin.model import typefmt
from markupsafe import Markup, escape
from wtforms import DateField, PasswordField
from wtforms.fields.choices import Choice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import Input, Select, html_params
from wtforms.widgets.core import clean_key

from ..enums import LabelledEnum

BLANK = "__None"  # what Flask-Admin's select widgets post for « no value »


#: Messages of Flask-Admin's fields that WTForms' French catalogue lacks.
FIELD_MESSAGES = {
    "Not a valid choice": "Choix impossible : cette valeur ne figure pas dans la liste ; "
                          "choisissez dans la liste.",
    "Invalid Choice: could not coerce": "Choix impossible : cette valeur ne figure pas dans "
                                        "la liste ; choisissez dans la liste.",
    "Invalid JSON": "Texte JSON invalide.",
}


class FrenchTranslations(Translations):
    """WTForms' French catalogue, completed by `FIELD_MESSAGES`."""

    def gettext(self, string: str) -> str:
        return FIELD_MESSAGES.get(string) or super().gettext(string)


def html_attributes(**params) -> str:
    """WTForms' ``html_params`` with plain strings (the same text): sorted names, ``True``
    as a bare flag, ``False`` left out, values escaped (a ``"`` as ``&quot;``)."""
    parts = []
    for key, value in sorted(params.items()):
        if value is True:
            parts.append(clean_key(key))
        elif value is not False:
            parts.append(f'{escape(clean_key(key))}="{_attribute_value(value)}"')
    return " ".join(parts)


def _attribute_value(value) -> str:
    return str(escape(value)).replace('"', "&quot;")


class PlainSelect(Select):
    """WTForms' ``Select`` written with plain strings: the same HTML (options in order,
    ``selected``, each option's own attributes such as ``disabled``, every value and label
    escaped), each value and label escaped once. WTForms builds each option through
    ``html_params`` and ``Markup.format``: the 144 options of a path's form were 7 ms of
    its 16 (issue 25 §3). Grouped choices (``optgroup``) go through WTForms' own code."""

    def __call__(self, field, **kwargs):
        if field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for key in dir(flags):
            if key in self.validation_attrs and key not in kwargs:
                kwargs[key] = getattr(flags, key)
        html = [f"<select {html_attributes(name=field.name, **kwargs)}>"]
        for choice in field._iter_choices_normalized():
            value = choice.value
            label = escape(choice.label or value)
            if isinstance(value, bool):
                value = str(value)
            if choice.render_kw:
                options = {"value": value, **choice.render_kw}
                if choice.selected:
                    options["selected"] = True
                html.append(f"<option {html_attributes(**options)}>{label}</option>")
            elif choice.selected:  # « selected » sorts before « value »
                html.append(f'<option selected value="{_attribute_value(value)}">{label}</option>')
            else:
                html.append(f'<option value="{_attribute_value(value)}">{label}</option>')
        html.append("</select>")
        return Markup("".join(html))


class Select2Widget(StockSelect2Widget, PlainSelect):
    """Flask-Admin's ``Select2Widget`` (``data-role``, ``data-allow-blank``) over
    :class:`PlainSelect`."""


def plain_widget(widget):
    """The twin of a stock widget written with plain strings, or None: a
    :class:`Select2Widget` for Flask-Admin's, a :class:`PlainSelect` for WTForms' select,
    and WTForms' inputs (text, date, number, checkbox, hidden) with their attributes
    written by :func:`html_attributes`. The admin forms use them (`ModelView.scaffold_form`
    in base.py): the same HTML, a fraction of the time."""
    if type(widget) is StockSelect2Widget:
        return Select2Widget(multiple=widget.multiple)
    if type(widget) is Select:
        return PlainSelect(multiple=widget.multiple)
    if isinstance(widget, Input) and type(widget).html_params is html_params:
        plain = copy(widget)
        plain.html_params = html_attributes
        return plain
    return None


def render_field(form, field, kwargs=None) -> Markup:
    """One field of a form with its label, mark « obligatoire », errors and help: the HTML
    of Flask-Admin's ``lib.render_field`` macro (Bootstrap 4) in plain strings, for the
    fields of the form rules (`ProtectedModelView._refresh_form_rules_cache`): a Jinja
    macro call and its lookups per field were a fifth of a path's form (issue 25 §3)."""
    kwargs = dict(kwargs or {})
    direct_error = is_field_error(field.errors)
    prepend, append = kwargs.pop("prepend", None), kwargs.pop("append", None)
    input_type = getattr(field.widget, "input_type", None)
    checkbox = input_type == "checkbox"
    required = ('\n<strong class="text-danger">&#42;</strong>' if is_required_form_field(field)
                else "&nbsp;")
    html = [f'<div class="form-group {escape(kwargs.get("column_class", ""))}">\n'
            f'<label for="{escape(field.id)}" class="col-form-label '
            f'{"d-block mb-0" if checkbox else ""}">{escape(field.label.text)}\n'
            f"{required}\n</label>\n"]
    if prepend or append:
        html.append('<div class="input-group">')
        if prepend:
            html.append(f'<div class="input-group-prepend">\n{escape(prepend)}\n</div>')
    kwargs.setdefault("class", "" if checkbox else
                      "form-control-file" if input_type == "file" else "form-control")
    if direct_error:
        kwargs["class"] = f"{kwargs['class']} is-invalid"
    html.append(f"\n{field(**kwargs)}")
    if append:
        html.append(f'<div class="input-group-append">\n{escape(append)}\n</div>')
    below = "mt-0" if checkbox else ""
    if direct_error:
        errors = "".join(f"\n<li>{escape(error)}</li>" for error in field.errors
                         if isinstance(error, str))
        html.append(f'\n<div class="invalid-feedback">\n'
                    f'<ul class="form-text text-danger {below}">{errors}\n</ul>\n</div>')
    elif field.description:
        html.append(f'\n<small class="form-text text-muted {below}">\n'
                    f"{field.description}\n</small>")
    if prepend or append:
        html.append("\n</div>")
    html.append("\n</div>\n")
    return Markup("".join(html))


class EnumSelectField(Select2Field):
    """A select of an enum's French labels; the stored value stays the English one.

    An unknown value posted by hand gives a French form error instead of a 500.
    """

    widget = Select2Widget()

    def __init__(self, label=None, validators=None, enum: type[LabelledEnum] | None = None,
                 allow_blank: bool | None = None, **kwargs):
        if enum is None:
            raise TypeError("EnumSelectField needs enum=")
        self.enum = enum
        kwargs.pop("coerce", None)
        kwargs.pop("choices", None)
        if allow_blank is None:  # the model converter marks nullable columns with Optional()
            allow_blank = any(isinstance(v, Optional) for v in validators or ())
        super().__init__(label, validators, coerce=self._coerce, choices=enum.choices(),
                         allow_blank=allow_blank, blank_text="—", **kwargs)

    def _coerce(self, value):
        if value is None or isinstance(value, self.enum):
            return value
        return self.enum(value)

    def iter_choices(self):
        if self.allow_blank:
            yield Choice(BLANK, self.blank_text, self.data is None, {})
        for value, label in self.choices:
            yield Choice(value, label, self.data is not None and self.data == value, {})

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0]
        if raw in (BLANK, "") and self.allow_blank:
            self.data = None
            return
        try:
            self.data = self.enum(raw)
        except ValueError as err:
            self.data = None
            raise ValueError(
                f"« {raw} » n'est pas une valeur possible ; choisissez dans la liste."
            ) from err

    def pre_validate(self, form):
        if self.process_errors:
            return
        if self.data is None:
            if self.allow_blank:
                return
            raise ValidationError("Champ obligatoire : choisissez une valeur dans la liste.")
        if self.data not in list(self.enum):
            raise ValidationError("Valeur impossible ; choisissez dans la liste.")


class FrenchDateField(DateField):
    """The one date input of every form (issue 20 §5): the browser's own date picker
    (`<input type="date">`, in the user's language, weeks from Monday in French), and on
    the server JJ/MM/AAAA as well as the picker's AAAA-MM-JJ. A typed date is read as it
    is or refused — never rewritten into another date (31/02 is not 3 March)."""

    formats = ("%Y-%m-%d", "%d/%m/%Y")
    example = "JJ/MM/AAAA, par exemple 21/07/1994"
    widget = plain_widget(DateField.widget)  # a widget given to the field is ignored

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.pop("format", None)
        kwargs.pop("widget", None)
        render_kw = {"type": "date", "min": "1900-01-01", "max": "2999-12-31",
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, format=list(self.formats), render_kw=render_kw,
                         **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(self.formats[0]) if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = " ".join(valuelist).strip()
        if not raw:
            self.data = None
            return
        for fmt in self.formats:
            try:
                self.data = datetime.strptime(raw, fmt)
            except ValueError:
                continue
            self.data = self._convert(self.data)
            return
        self.data = None
        raise ValueError(f"« {raw} » n'est pas une date valide ; tapez-la sous la forme "
                         f"{self.example}.")

    @staticmethod
    def _convert(moment: datetime):
        return moment.date()


class FrenchDateTimeField(FrenchDateField):
    """Date and time: the browser's `datetime-local` input; JJ/MM/AAAA HH:MM accepted."""

    formats = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
               "%d/%m/%Y %H:%M", "%d/%m/%Y")
    example = "JJ/MM/AAAA HH:MM, par exemple 21/07/2026 14:30"

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "datetime-local", "min": "1900-01-01T00:00",
                     "max": "2999-12-31T23:59", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    @staticmethod
    def _convert(moment: datetime):
        return moment


class NewPasswordField(PasswordField):
    """A password typed in the user form: hashed through `User.set_password`, never stored."""

    def populate_obj(self, obj, name):
        if self.data:
            obj.set_password(self.data)


class _KnownMembersOnly:
    """An enum filter ignores a value that names no member (a hand-made URL), instead of
    failing with a server error."""

    def validate(self, value) -> bool:
        return value in self.enum_class.__members__ if self.enum_class else super().validate(value)


class EnumIsFilter(_KnownMembersOnly, EnumEqualFilter):
    pass


class EnumIsNotFilter(_KnownMembersOnly, EnumFilterNotEqual):
    pass


def enum_filters(column, label: str, enum: type[LabelledEnum]) -> list:
    """« égal à » / « différent de » filters on an enum column, options in French.

    Flask-Admin's enum filters take the member *name* in the URL (`ReferralStatus["PENDING"]`).
    """
    options = [(member.name, member.label) for member in enum]
    return [EnumIsFilter(column, label, options=options),
            EnumIsNotFilter(column, label, options=options)]


def _format_enum(_view, value, _name):
    return value.label if isinstance(value, LabelledEnum) else value.name


def _format_date(_view, value, _name):
    return value.strftime("%d/%m/%Y")


def _format_datetime(_view, value, _name):
    return value.strftime("%d/%m/%Y %H:%M")


def _format_bool_text(_view, value, _name):
    return "Oui" if value else "Non"


def _type_formatters(base: dict, booleans_as_text: bool = False) -> dict:
    """Flask-Admin's formatters with French dates and enum labels (order matters:
    `isinstance` is tried in turn, datetime before date, our enums before `Enum`)."""
    formatters = {LabelledEnum: _format_enum, Enum: _format_enum,
                  datetime: _format_datetime, date: _format_date}
    if booleans_as_text:
        formatters[bool] = _format_bool_text
    formatters.update({k: v for k, v in base.items() if k not in formatters})
    return formatters


# A cell starting with one of these is run as a formula by spreadsheet software
# (« =HYPERLINK(…) », « +cmd|… »): CSV injection (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def text_for_export(value) -> str:
    """A cell the spreadsheet keeps as text: a leading apostrophe before a formula start."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _format_export_text(_view, value, _name):
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    return text_for_export(value)


def _format_number(_view, value, _name):
    return value


LIST_FORMATTERS = _type_formatters(typefmt.BASE_FORMATTERS)
DETAIL_FORMATTERS = _type_formatters(typefmt.DETAIL_FORMATTERS, booleans_as_text=True)
# Flask-Admin's CSV export: every remaining value (text, a related record's name, a number)
# goes through `text_for_export` last, so a name like « =1+1 » stays text (issue 6 §6).
EXPORT_FORMATTERS = {
    **_type_formatters(typefmt.EXPORT_FORMATTERS, booleans_as_text=True),
    list: _format_export_text,
    int: _format_number, float: _format_number, Decimal: _format_number,
    object: _format_export_text,
}


def label_of(enum: type[LabelledEnum]):
    """Column formatter for a plain string column holding an enum value (e.g. exit_scheme)."""
    def formatter(_view, _context, model, name):
        value = getattr(model, name)
        try:
            return enum(value).label if value else ""
        except ValueError:
            return value
    return formatter


def posted_done_on(today: date, label: str = "Date de réalisation") -> date | None:
    """The « fait le » date posted as `done_on` (JJ/MM/AAAA or the date input's
    AAAA-MM-JJ; today when empty), or None after a French message naming the field
    (`label`) when it is not a date."""
    raw = (request.form.get("done_on") or "").strip()
    if not raw:
        return today
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    flash(f"{label} : « {raw} » n'est pas une date (JJ/MM/AAAA).", "error")
    return None
