"""Login and logout pages, redirects, the users command, and the password change."""
import html

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


# --- the same work for an unknown account as for a wrong password (issue 18 §7) ---------
@pytest.fixture
def hashes_checked(monkeypatch):
    """The method and cost of every password hash checked (`scrypt:32768:8:1`, …)."""
    from backoffice.models import people

    checked: list[str] = []
    real = people.check_password_hash
    people._no_account_hash.cache_clear()  # made anew here, not under another test's hasher

    def spy(stored_hash, password):
        checked.append(stored_hash.split("$")[0])
        return real(stored_hash, password)

    monkeypatch.setattr(people, "check_password_hash", spy)
    return checked


def test_unknown_account_costs_the_same_hash_as_a_wrong_password(app, client, hashes_checked):
    """No list of accounts by timing: a refusal hashes the typed password once, with the
    accounts' own method and cost, whether the e-mail has an account, is inactive, or not
    (before: no hash at all for an unknown e-mail, 3.5 ms against 101 ms)."""
    with app.app_context():
        for email, active in (("existe@exemple.fr", True), ("inactif@exemple.fr", False)):
            user = User(email=email, name="Compte", role=Role.COUNSELLOR, active=active)
            user.set_password("une phrase de passe correcte")
            db.session.add(user)
        db.session.commit()
        account_method = user.password_hash.split("$")[0]
    for email in ("existe@exemple.fr", "personne@exemple.fr", "inactif@exemple.fr"):
        hashes_checked.clear()
        response = client.post("/login", data={"email": email, "password": "pas le bon"})
        assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)
        assert hashes_checked == [account_method], email
    assert account_method.startswith("scrypt:")


# --- « Changer mon mot de passe » (issue 18 §7) ------------------------------------------
NEW_PASSWORD = "cheval agrafe pile correcte"


def _change(client, current=PASSWORD, new=NEW_PASSWORD, confirmation=None):
    return client.post("/admin/account/", data={
        "current_password": current, "new_password": new,
        "confirmation": new if confirmation is None else confirmation})


def _account(app, users, role="counsellor"):
    with app.app_context():
        user = db.session.get(User, users[role])
        return user.password_hash, user.session_version


def test_password_change_page_is_in_the_menu_of_every_role(client, auth):
    for role in Role:
        auth.login(role.value)
        home = client.get("/admin/").get_data(as_text=True)
        assert 'href="/admin/account/"' in home, role
        page = client.get("/admin/account/").get_data(as_text=True)
        assert "Changer mon mot de passe" in page and 'name="current_password"' in page
        auth.logout()


def test_user_changes_own_password_and_other_sessions_close(app, client, auth, users):
    other_device = app.test_client()
    other_device.post("/login", data={"email": "counsellor@exemple.fr", "password": PASSWORD})
    auth.login("counsellor")
    response = _change(client)
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre mot de passe a été changé" in follow
    with app.app_context():
        user = db.session.get(User, users["counsellor"])
        assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert client.get("/admin/enrolments/").status_code == 200  # this session stays
    closed = other_device.get("/admin/enrolments/")
    assert closed.status_code == 302 and "/login" in closed.headers["Location"]
    auth.logout()
    assert auth.login("counsellor", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("fields", "message"), [
    ({"current": "pas le bon mot de passe"},
     "Mot de passe actuel : incorrect ; le mot de passe n'a pas été changé."),
    ({"new": "court"}, "Nouveau mot de passe : 12 caractères au minimum."),
    ({"new": "Motdepasse2024!"}, "Nouveau mot de passe : trop courant"),
    ({"confirmation": "cheval agrafe pile correctf"}, "les deux saisies"),
    ({"new": PASSWORD}, "identique au mot de passe actuel"),
    ({"current": ""}, "Mot de passe actuel : champ obligatoire."),
])
def test_refused_password_change_changes_nothing(app, client, auth, users, fields, message):
    auth.login("counsellor")
    before = _account(app, users)
    response = _change(client, **fields)
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
    assert _account(app, users) == before
    assert client.get("/admin/enrolments/").status_code == 200


def test_wrong_current_password_counts_as_a_failed_login(app, client, auth, users):
    """A stolen session cannot be used to guess the password: each wrong current password
    is a failure of the account, audited, and the limit applies (HTTP 429)."""
    from backoffice.models import AuditEntry, LoginAttempt

    auth.login("counsellor")
    for _ in range(5):
        assert _change(client, current="pas le bon mot de passe").status_code == 200
    assert _change(client).status_code == 429  # even with the right one now
    with app.app_context():
        attempts = db.session.scalars(select(LoginAttempt.succeeded).where(
            LoginAttempt.email == "counsellor@exemple.fr").order_by(LoginAttempt.id)).all()
        assert attempts == [True] + [False] * 5  # the login, then the five failures
        refused = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "password_change_refused")).all()
        assert len(refused) == 5 and refused[0].user_email == "counsellor@exemple.fr"
    with app.app_context():
        assert db.session.get(User, users["counsellor"]).check_password(PASSWORD)


def test_password_change_needs_the_csrf_token(app, client, auth, users):
    auth.login("counsellor")
    app.config["WTF_CSRF_ENABLED"] = True
    before = _account(app, users)
    response = _change(client)
    assert response.status_code == 400
    assert "Jeton de sécurité (CSRF)" in response.get_data(as_text=True)
    assert _account(app, users) == before
