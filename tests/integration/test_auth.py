"""Login and logout pages, redirects, and the users command."""
import pytest
from sqlalchemy import select

from backoffice.enums import Role
from backoffice.extensions import db
from backoffice.models import User
from tests.conftest import PASSWORD


def test_login_page_is_french(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="fr"' in page
    assert "Adresse e-mail" in page and "Mot de passe" in page and "Se connecter" in page
    assert 'name="email"' in page and 'name="password"' in page


def test_anonymous_is_redirected_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_then_admin_then_logout(client, auth):
    response = auth.login("coordinator")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_wrong_password_shows_french_error(client, auth):
    response = auth.login("admin", password="mauvais-mot-de-passe")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in page
    assert client.get("/admin/").status_code == 302


def test_missing_fields_named_in_french(client, users):
    page = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert "Adresse e-mail : champ obligatoire." in page
    assert "Mot de passe : champ obligatoire." in page


def test_email_is_case_insensitive(client, users):
    response = client.post("/login", data={"email": "ADMIN@Exemple.FR", "password": PASSWORD})
    assert response.status_code == 302


def test_inactive_account_cannot_log_in(app, client, users):
    with app.app_context():
        user = db.session.get(User, users["viewer"])
        user.active = False
        db.session.commit()
    response = client.post("/login", data={"email": "viewer@exemple.fr", "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_password_is_hashed_with_scrypt():
    user = User(email="s@exemple.fr", name="S", role=Role.ADMIN)
    user.set_password(PASSWORD)
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


@pytest.mark.parametrize(
    ("next_url", "expected_end"),
    [
        ("/admin/beneficiaries/", "/admin/beneficiaries/"),
        ("https://evil.example/", "/admin/"),
        ("//evil.example/", "/admin/"),
        ("/\\evil.example", "/admin/"),
    ],
)
def test_next_parameter_stays_on_site(client, users, next_url, expected_end):
    response = client.post(f"/login?next={next_url}",
                           data={"email": "admin@exemple.fr", "password": PASSWORD})
    location = response.headers["Location"]
    assert location.endswith(expected_end)
    assert "evil" not in location


def test_logout_requires_post(client, auth):
    auth.login("admin")
    assert client.get("/logout").status_code == 405
    assert client.get("/admin/").status_code == 200


def test_cli_creates_user_with_role(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "Marie@Exemple.fr", "--name",
                                 "Marie Martin", "--role", "counsellor",
                                 "--password", "un-mot-de-passe-long"])
    assert result.exit_code == 0, result.output
    assert "Compte créé" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "marie@exemple.fr"))
        assert user.role == Role.COUNSELLOR
        assert user.check_password("un-mot-de-passe-long")


def test_cli_refuses_duplicate_and_unknown_role(app, runner, users):
    duplicate = runner.invoke(args=["users", "create", "--email", "admin@exemple.fr",
                                    "--name", "X", "--role", "admin", "--password", "x" * 12])
    assert duplicate.exit_code != 0 and "existe déjà" in duplicate.output
    unknown = runner.invoke(args=["users", "create", "--email", "n@exemple.fr", "--name", "X",
                                  "--role", "superuser", "--password", "x" * 12])
    assert unknown.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "n@exemple.fr")) is None


def test_cli_prompts_for_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "p@exemple.fr", "--name", "P", "--role", "coordinator"],
        input="mot-de-passe-saisi\nmot-de-passe-saisi\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "p@exemple.fr"))
        assert user.check_password("mot-de-passe-saisi")
