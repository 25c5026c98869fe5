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
from tests.integration.test_person_page import story  # noqa: F401 (fixture)

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

def second_app(app):
    """A second application on the same database."""
    return create_app({key: app.config[key] for key in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED",
        "AUDIT_SPOOL_DIR")})


def close(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def stock_field_rules(app, monkeypatch) -> None:
    """The form rules' fields written by Flask-Admin's ``lib.render_field`` macro again (the
    rules are the views' class attributes, shared by every application)."""
    from flask_admin.form import rules

    def walk(form_rules):
        for rule in form_rules:
            if getattr(rule, "macro_name", None) == "plain_render_field":
                monkeypatch.setattr(rule, "macro_name", "lib.render_field")
            elif isinstance(rule, rules.NestedRule):
                walk(rule.rules)

    for view in app.extensions["admin"][0]._views:
        for rule_set in (getattr(view, "_form_create_rules", None),
                         getattr(view, "_form_edit_rules", None)):
            if rule_set is not None:
                walk(rule_set.rules)


def logged_in(app, email):
    from tests.conftest import PASSWORD

    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code \
        in (302, 303)
    return client


def form_html(page: str) -> str:
    """The page's edit form, each run of white space as one (the browser shows the same),
    nonces and tokens of the response left out."""
    found = re.search(r'<form[^>]*class="admin-form".*?</form>', page, re.S)
    assert found, page[:500]
    return re.sub(r"\s+", " ", re.sub(r'nonce="[^"]*"|name="csrf_token"[^>]*>', "",
                                      found.group(0)))


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
        app, path_world, monkeypatch, page):
    url = page.format(**path_world)
    ours = logged_in(app, "coordinator@exemple.fr").get(url)
    # then the same page with Flask-Admin's and WTForms' widgets (read when a form is made)
    # and Flask-Admin's macro for each field
    monkeypatch.setattr(admin_base, "plain_widget", lambda widget: None)
    monkeypatch.setattr(admin_fields.EnumSelectField, "widget", StockSelect2Widget())
    monkeypatch.setattr(admin_fields.FrenchDateField, "widget", DateField.widget)
    stock_app = second_app(app)
    stock_field_rules(stock_app, monkeypatch)
    stock = logged_in(stock_app, "coordinator@exemple.fr").get(url)
    close(stock_app)
    assert ours.status_code == stock.status_code == 200
    ours, stock = form_html(ours.get_data(as_text=True)), form_html(stock.get_data(as_text=True))
    assert ours == stock
    assert ours.count("<option") >= 6
    if "edit" in url:
        assert "<option selected" in ours


def test_a_refused_path_form_shows_the_same_errors_as_with_flask_admins_macro(
        app, path_world, monkeypatch):
    """The form shown again after a refusal: each field's errors under it, as
    Flask-Admin's ``lib.render_field`` writes them."""
    from tests.conftest import version_seen

    url = f"/admin/enrolments/edit/?id={path_world['path']}"
    data = {"entry_date": "31/02/2025", "action_plan_on": "<b>x</b>", "engagement_level": "x"}

    def refused(client):
        response = client.post(url, data={**data, "version_seen": version_seen(client, url)})
        assert response.status_code == 200
        return form_html(response.get_data(as_text=True))

    ours = refused(logged_in(app, "coordinator@exemple.fr"))
    stock_app = second_app(app)
    stock_field_rules(stock_app, monkeypatch)
    stock = refused(logged_in(stock_app, "coordinator@exemple.fr"))
    close(stock_app)
    assert ours == stock
    assert ours.count('<div class="invalid-feedback">') >= 2 and "is-invalid" in ours
    assert "&lt;b&gt;x&lt;/b&gt;" in ours


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
    # and each field of the path's form rules is written by `render_field`
    named = [rule.macro_name for field_set in views["enrolments"]._form_edit_rules.rules
             for rule in getattr(field_set, "rules", ()) if hasattr(rule, "field_name")]
    assert len(named) >= 30 and set(named) == {"plain_render_field"}


# --- the lists' rows, against Flask-Admin's own list template ---------------------------

def list_table(page: str) -> str:
    """The list's table, whitespace between and around tags left out (the browser shows the
    same), tokens and nonces of the response left out."""
    found = re.search(r'<table class="table[^"]*model-list.*?</table>', page, re.S)
    assert found, page[:500]
    table = re.sub(r'name="csrf_token" value="[^"]*"|nonce="[^"]*"', "", found.group(0))
    return re.sub(r"\s*(<[^>]*>)\s*", r"\1", re.sub(r"\s+", " ", table))


@pytest.mark.parametrize("role", ["admin", "coordinator", "counsellor"])
def test_every_list_shows_the_same_rows_as_flask_admins_template(app, users, role):
    """Selection box, icons (view, edit, delete, lifecycle actions) and every column's
    value, escaped, links included, for each role's rights."""
    from tests.integration.test_admin_access import make_world, registered_views

    with app.app_context():
        make_world(users[Role.COUNSELLOR.value])
        make_beneficiary(last_name=TRICKY, first_name="<script>", external_id='e"1&')
        db.session.commit()
    stock_app = second_app(app)  # listing through Flask-Admin's own template
    for view in stock_app.extensions["admin"][0]._views:
        if isinstance(view, admin_base.ProtectedModelView):
            view.list_template = "admin/model/list.html"
    ours = logged_in(app, f"{role}@exemple.fr")
    stock = logged_in(stock_app, f"{role}@exemple.fr")
    compared = 0
    for view in registered_views(app).values():
        url = f"/admin/{view.url.strip('/').split('/', 1)[-1]}/"
        mine, theirs = ours.get(url), stock.get(url)
        assert mine.status_code == theirs.status_code, url
        if mine.status_code != 200:
            continue
        page = mine.get_data(as_text=True)
        if 'class="action-checkbox"' not in page and "list-buttons-column" not in page:
            continue  # no row shown to this role
        assert list_table(page) == list_table(theirs.get_data(as_text=True)), url
        compared += 1
    close(stock_app)
    assert compared >= 10


def test_a_lists_rows_are_rendered_in_one_call_each(client, auth, users, monkeypatch):
    """Issue 25 §3: the list's template writes each row with one call (``row_cells``)."""
    from jinja2 import pass_context

    from backoffice.admin.row_actions import row_cells

    with client.application.app_context():
        ids = [make_beneficiary(last_name=name).id for name in ("Un", "Deux", "Trois")]
        db.session.commit()
    per_row = []

    @pass_context
    def counting(context, row):
        per_row.append(row.id)
        return row_cells(context, row)

    monkeypatch.setitem(client.application.jinja_env.globals, "row_cells", counting)
    auth.login("coordinator")
    page = client.get("/admin/beneficiaries/").get_data(as_text=True)
    assert sorted(per_row) == sorted(ids)
    assert all(f'class="action-checkbox" value="{i}"' in page for i in ids)


# --- the record pages' links -----------------------------------------------------------

def page_without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"|nonce="[^"]*"|csrf_token=[^&"]*', "", page)


@pytest.mark.parametrize("role", ["coordinator", "counsellor"])
def test_the_record_pages_link_each_row_as_url_for_does(app, client, auth, story,  # noqa: F811
                                                        monkeypatch, role):
    """The person's and the path's pages build a record's address from its start, once per
    page (links.py: `details_url`): the same addresses as Flask's `url_for`. (Not for the
    audit's readers: each opening adds a line to the history they see.)"""
    from flask import url_for

    from backoffice.admin import record_pages

    auth.login(role)
    client.get("/admin/account/")  # the welcome message shown once
    urls = [f"/admin/beneficiaries/details/?id={story['person']}",
            f"/admin/enrolments/details/?id={story['path']}"]
    ours = [client.get(url) for url in urls]
    monkeypatch.setattr(record_pages, "details_url", lambda endpoint, record_id: url_for(
        f"{endpoint}.details_view", id=record_id))
    theirs = [client.get(url) for url in urls]
    for mine, stock in zip(ours, theirs, strict=True):
        assert mine.status_code == stock.status_code == 200
        page = mine.get_data(as_text=True)
        assert page_without_tokens(page) == page_without_tokens(stock.get_data(as_text=True))
    assert f"/admin/contacts/details/?id={story['contacts']}" in ours[0].get_data(as_text=True)


#: The macros `story_link` and `story_day` replaced (templates/admin/story.html).
STORY_MACROS = """{% macro link(url, text) -%}
  {%- if url %}<a href="{{ url }}">{{ text }}</a>{% else %}{{ text }}{% endif -%}
{%- endmacro %}
{% macro day(value) -%}{{ value.strftime('%d/%m/%Y') if value else '' }}{%- endmacro %}"""


@pytest.mark.parametrize("url", [None, "", "/admin/contacts/details/?id=3&x=<1>"])
@pytest.mark.parametrize("text", [TRICKY, Markup("<i>sûr</i>"), 12, None])
def test_a_storys_link_and_day_are_the_macros_text(app, url, text):
    from backoffice.admin.record_pages import story_day, story_link

    with app.app_context():
        macros = app.jinja_env.from_string(STORY_MACROS).module
        assert story_link(url, text) == macros.link(url, text)
        for value in (None, date(2026, 12, 6)):
            assert story_day(value) == macros.day(value)


def test_the_filter_menu_is_translated_once_per_view(app):
    """The filters of a list as plain text (the list's filter menu): the same as
    Flask-Admin's, translated once, not on every list page."""
    from flask_admin.model import BaseModelView

    views = [view for view in app.extensions["admin"][0]._views
             if isinstance(view, admin_base.ProtectedModelView) and view._filter_groups]
    assert len(views) >= 5
    with app.test_request_context():
        for view in views:
            first = view._get_filter_groups()
            assert first == BaseModelView._get_filter_groups(view)
            assert view._get_filter_groups() is first
            assert any(isinstance(label, str) and label for label in first)
