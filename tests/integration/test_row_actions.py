"""The icons at the start of each list row (backoffice/admin/row_actions.py): each opens,
edits or deletes its own row and comes back to the same list, for the roles that may."""
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from backoffice.auth.permissions import can
from backoffice.enums import Role
from backoffice.extensions import db
from backoffice.models import Beneficiary
from tests.conftest import PASSWORD
from tests.integration.test_admin_access import make_beneficiary, make_path, make_reference

#: An external id full of what a query string is made of, and of the placeholder the
#: row links are built with: the id must land in the id parameter, the search untouched.
TRICKY = "ROWID=1&id=ROWID?x"


def row_links(page: str, endpoint: str) -> dict[str, str]:
    """{row id: href} of the list's icons towards ``endpoint`` (« details », « edit »)."""
    links = {}
    for href in re.findall(rf'<a class="icon" href="([^"]*/{endpoint}/\?[^"]*)"', page):
        href = html.unescape(href)
        links[parse_qs(urlsplit(href).query)["id"][0]] = href
    return links


def delete_forms(page: str) -> dict[str, tuple[str, dict[str, str]]]:
    """{row id: (action, {field: value})} of the list's delete forms."""
    forms = {}
    for action, body in re.findall(r'<form class="icon" method="POST" action="([^"]+)">(.*?)'
                                   r"</form>", page, re.S):
        fields = {name: html.unescape(value) for name, value in
                  re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', body)}
        forms[fields["id"]] = (html.unescape(action), fields)
    return forms


@pytest.fixture
def people(app, users):
    """Two people; the second is on a path of the counsellor (who sees only those)."""
    with app.app_context():
        tricky = make_beneficiary(external_id=TRICKY)
        other = make_beneficiary(last_name="Autre", first_name="Paul", external_id="DE-2")
        make_path(make_reference()["programme"], users[Role.COUNSELLOR.value], other)
        db.session.commit()
        return tricky.id, other.id


def test_the_eye_and_the_pencil_open_their_row_and_come_back_to_the_same_search(
        client, auth, people):
    tricky, _other = people
    auth.login("coordinator")
    listing = client.get("/admin/beneficiaries/", query_string={"search": TRICKY})
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    for endpoint in ("details", "edit"):
        links = row_links(page, endpoint)
        assert list(links) == [str(tricky)]  # the search keeps only that person
        href = links[str(tricky)]
        assert urlsplit(href).path == f"/admin/beneficiaries/{endpoint}/"
        back = parse_qs(urlsplit(href).query)["url"][0]
        assert urlsplit(back).path == "/admin/beneficiaries/"
        assert parse_qs(urlsplit(back).query)["search"] == [TRICKY]
        opened = client.get(href)
        assert opened.status_code == 200
        assert html.escape(TRICKY, quote=False) in opened.get_data(as_text=True)


@pytest.mark.parametrize("role", [role for role in Role if can(role, "beneficiaries")],
                         ids=lambda role: role.value)
def test_each_role_gets_the_icons_of_its_rights(client, auth, people, role):
    """Eye, pencil and bin follow the permission table of beneficiaries (issue 2)."""
    auth.login(role.value)
    page = client.get("/admin/beneficiaries/").get_data(as_text=True)
    assert bool(row_links(page, "details")) is can(role, "beneficiaries", "read")
    assert bool(row_links(page, "edit")) is can(role, "beneficiaries", "edit")
    assert bool(delete_forms(page)) is can(role, "beneficiaries", "delete")


def test_the_bin_posts_its_own_row_with_the_csrf_token_and_comes_back(app, client, people):
    app.config["WTF_CSRF_ENABLED"] = True  # read at each request: on from here
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    client.post("/login", data={"email": "coordinator@exemple.fr", "password": PASSWORD,
                                "csrf_token": token})
    tricky, other = people
    forms = delete_forms(client.get("/admin/beneficiaries/").get_data(as_text=True))
    assert set(forms) == {str(tricky), str(other)}
    action, fields = forms[str(tricky)]  # (the other is on a path: not deletable)
    assert action == "/admin/beneficiaries/delete/"
    assert set(fields) == {"id", "url", "csrf_token"}
    assert client.post(action, data={**fields, "csrf_token": "faux"}).status_code == 400
    with app.app_context():  # refused: nobody deleted
        assert sorted(db.session.scalars(select(Beneficiary.id))) == sorted([tricky, other])
    response = client.post(action, data=fields)
    assert response.status_code == 302
    assert response.headers["Location"] == fields["url"]
    with app.app_context():
        assert db.session.scalars(select(Beneficiary.id)).all() == [other]



def test_a_rows_icons_are_rendered_in_one_call(client, auth, people, monkeypatch):
    """Issue 25 §3: the list's template renders each row's icons with one call
    (``row_icons``), not one ``render_ctx`` from Jinja per icon; the icons are the same."""
    from flask_admin.model.template import BaseListRowAction
    from jinja2 import pass_context

    from backoffice.admin.row_actions import row_icons

    per_icon, per_row = [], []
    monkeypatch.setattr(BaseListRowAction, "render_ctx",
                        lambda self, *args: per_icon.append(self) or "")

    @pass_context
    def counting(context, actions, row_id, row):
        per_row.append(row_id)
        return row_icons(context, actions, row_id, row)

    monkeypatch.setitem(client.application.jinja_env.globals, "row_icons", counting)
    auth.login("coordinator")
    page = client.get("/admin/beneficiaries/").get_data(as_text=True)
    tricky, other = people
    assert per_icon == []
    assert sorted(per_row) == sorted([str(tricky), str(other)])  # one call a row
    assert set(row_links(page, "details")) == {str(tricky), str(other)}
    assert set(row_links(page, "edit")) == {str(tricky), str(other)}
    assert set(delete_forms(page)) == {str(tricky), str(other)}
