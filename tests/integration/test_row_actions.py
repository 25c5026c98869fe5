"""The icons at the start of each list row (backoffice/admin/row_actions.py): each opens,
edits or deletes its own row and comes back to the same list, for the roles that may."""
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from backoffice import create_app
from backoffice.auth.permissions import can
from backoffice.enums import Role
from backoffice.extensions import db
from backoffice.models import Beneficiary
from tests.conftest import PASSWORD, make_user
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


@pytest.fixture
def csrf_app(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'rows.sqlite3'}"})
    with app.app_context():
        db.create_all()
        make_user(Role.COORDINATOR)
        make_beneficiary(external_id="DE-1")
        make_beneficiary(last_name="Autre", first_name="Paul", external_id="DE-2")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_bin_posts_its_own_row_with_the_csrf_token_and_comes_back(csrf_app):
    client = csrf_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    client.post("/login", data={"email": "coordinator@exemple.fr", "password": PASSWORD,
                                "csrf_token": token})
    with csrf_app.app_context():
        first, second = db.session.scalars(select_ids()).all()
    page = client.get("/admin/beneficiaries/?sort=1").get_data(as_text=True)
    forms = delete_forms(page)
    assert set(forms) == {str(first), str(second)}
    action, fields = forms[str(second)]
    assert action == "/admin/beneficiaries/delete/"
    assert set(fields) == {"id", "url", "csrf_token"}
    response = client.post(action, data=fields)
    assert response.status_code == 302
    assert response.headers["Location"] == fields["url"]
    with csrf_app.app_context():
        assert db.session.scalars(select_ids()).all() == [first]


def select_ids():
    return select(Beneficiary.id).order_by(Beneficiary.id)
