"""Pages rendered more cheaply show the same HTML (issue 25 §3): the admin forms' selects
and inputs written with plain strings (admin/fields.py: `PlainSelect`, `plain_widget`)
give the text of WTForms' and Flask-Admin's own widgets, option by option, escaping
included."""
import re
from datetime import date

import pytest
from flask_admin.form.widgets import Select2Widget as StockSelect2Widget
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    Form,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired
from wtforms.widgets import Select

from backoffice import create_app
from backoffice.admin import base as admin_base
from backoffice.admin import fields as admin_fields
from backoffice.enums import CspRule, Role
from backoffice.extensions import db
from backoffice.models import ExitType, ProgrammeSession
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference

#: Labels and values full of what HTML escapes.
TRICKY = 'Suivi <b>« renforcé »</b> & "co" l\'été'


class Sample(Form):
    kind = SelectField("Type", choices=[
        ("a", TRICKY), ('v"<&>', "Valeur piégée"), ("", "Vide"), ("c", ""),
        (Markup('m"1'), Markup("<i>déjà sûr</i>")),
        ("d", "Désactivé", {"disabled": True, "data-x": 'x"y'}),
        ("s", "Choisi", {"data_extra": "<1>"}),
    ], default="s")
    number = SelectField("Nombre", choices=[(1, "Un"), (2, "Deux"), (True, "Vrai")],
                         coerce=int, default=2, validators=[InputRequired()])
    many = SelectMultipleField("Plusieurs", choices=[("a", "A"), ("b", TRICKY), ("c", "C")],
                               default=["a", "b"])
    grouped = SelectField("Groupes", choices={"Groupe <1>": [("g1", "G1"), ("g2", TRICKY)],
                                              "Autre": [("g3", "G3")]}, default="g2")
    text = StringField("Texte", default=TRICKY, validators=[InputRequired()])
    day = DateField("Jour", default=date(2026, 12, 6))
    count = IntegerField("Nombre", default=3)
    flag = BooleanField("Coché", default=True)
    hidden = HiddenField(default='7"<')


@pytest.mark.parametrize("name", ["kind", "number", "many", "grouped"])
@pytest.mark.parametrize("extra", [{}, {"class": "form-control", "data-role": "x",
                                        "disabled": True, "readonly": False,
                                        "title": TRICKY, "data_allow_blank": "1"}])
def test_a_plain_select_writes_the_same_html_as_wtforms(name, extra):
    form = Sample()
    field = form[name]
    multiple = name == "many"
    assert admin_fields.PlainSelect(multiple=multiple)(field, **extra) == \
        Select(multiple=multiple)(field, **extra)
    assert admin_fields.Select2Widget(multiple=multiple)(field, **extra) == \
        StockSelect2Widget(multiple=multiple)(field, **extra)


def test_a_plain_select_keeps_what_is_selected_and_what_is_posted():
    from werkzeug.datastructures import MultiDict

    form = Sample(MultiDict([("kind", 'v"<&>'), ("many", "c"), ("number", "1")]))
    for name in ("kind", "many", "number"):
        multiple = name == "many"
        assert admin_fields.PlainSelect(multiple=multiple)(form[name]) == \
            Select(multiple=multiple)(form[name])
    html = admin_fields.PlainSelect()(form["kind"])
    assert '<option selected value="v&#34;&lt;&amp;&gt;">Valeur piégée</option>' in html
    assert '<option data-x="x&#34;y" disabled value="d">Désactivé</option>' in html


@pytest.mark.parametrize("name", ["text", "day", "count", "flag", "hidden"])
def test_the_plain_inputs_write_the_same_html_as_wtforms(name):
    field = Sample()[name]
    plain = admin_fields.plain_widget(field.widget)
    assert plain is not None and plain is not field.widget
    for extra in ({}, {"class": "form-control", "title": TRICKY, "disabled": True,
                       "placeholder": Markup('a"b'), "data_x": 0}):
        assert plain(field, **extra) == field.widget(field, **extra)
    assert type(field.widget).html_params is not admin_fields.html_attributes  # untouched


# --- the admin's forms, as served, against Flask-Admin's and WTForms' own widgets -------

@pytest.fixture
def stock_app(app, monkeypatch):
    """A second application on the same database whose forms use the stock widgets."""
    monkeypatch.setattr(admin_base, "plain_widget", lambda widget: None)
    monkeypatch.setattr(admin_fields.EnumSelectField, "widget", StockSelect2Widget())
    monkeypatch.setattr(admin_fields.FrenchDateField, "widget", DateField.widget)
    settings = {key: app.config[key] for key in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED",
        "AUDIT_SPOOL_DIR")}
    stock = create_app(settings)
    yield stock
    with stock.app_context():
        db.session.remove()
        db.engine.dispose()


def logged_in(app, email):
    from tests.conftest import PASSWORD

    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code \
        in (302, 303)
    return client


def form_html(page: str) -> str:
    """The page's edit form (nonces and tokens of the response left out)."""
    found = re.search(r'<form[^>]*class="admin-form".*?</form>', page, re.S)
    assert found, page[:500]
    return re.sub(r'nonce="[^"]*"|name="csrf_token"[^>]*>', "", found.group(0))


@pytest.fixture
def path_world(app, users):
    with app.app_context():
        ref = make_reference()
        programme = ref["programme"]
        db.session.add_all([
            ProgrammeSession(programme=programme, label=TRICKY, starts_on=date(2026, 1, 5)),
            ProgrammeSession(programme=programme, label="Session 2", starts_on=date(2026, 3, 2)),
            ExitType(code="x<1>", label=TRICKY, schemes="DEL", csp_rule=CspRule.POSITIVE),
        ])
        person = make_beneficiary(last_name=TRICKY, notes=TRICKY)
        path = make_path(programme, users[Role.COUNSELLOR.value], person)
        path.session = db.session.query(ProgrammeSession).filter_by(label=TRICKY).one()
        path.exit_type = ref["exit_type"]
        db.session.commit()
        return {"path": path.id, "person": person.id}


@pytest.mark.parametrize("page", ["/admin/enrolments/edit/?id={path}",
                                  "/admin/beneficiaries/edit/?id={person}",
                                  "/admin/enrolments/new/", "/admin/beneficiaries/new/"])
def test_the_admin_forms_show_the_same_html_as_with_the_stock_widgets(
        app, stock_app, path_world, page):
    url = page.format(**path_world)
    ours = logged_in(app, "coordinator@exemple.fr").get(url)
    stock = logged_in(stock_app, "coordinator@exemple.fr").get(url)
    assert ours.status_code == stock.status_code == 200
    ours, stock = form_html(ours.get_data(as_text=True)), form_html(stock.get_data(as_text=True))
    assert ours == stock
    assert ours.count("<option") >= 6
    if "edit" in url:
        assert "<option selected" in ours


def test_the_scaffolded_forms_use_the_plain_widgets(app):
    """Every select and input of the path's and the person's forms is written by the plain
    widgets (the AJAX selects keep Flask-Admin's)."""
    views = {view.endpoint: view for view in app.extensions["admin"][0]._views}
    with app.test_request_context():
        for endpoint, selects in (("enrolments", {"programme", "session", "status",
                                                  "current_phase", "exit_type"}),
                                  ("beneficiaries", {"sex", "education_level"})):
            form = views[endpoint].get_edit_form()()
            plain = {field.name for field in form
                     if isinstance(field.widget, admin_fields.PlainSelect)}
            assert selects <= plain
            for field in form:
                if field.type in ("StringField", "FrenchDateField", "IntegerField",
                                  "BooleanField", "HiddenField"):
                    assert field.widget.html_params is admin_fields.html_attributes, field.name
