"""Issue 6 §1, §3, §4: headers and CSP, session cookie and lifetime, server-side logout,
login throttling (HTTP 429), password policy, and the audit of logins, refusals, record
views and exports; the audit trail cannot be changed."""
import base64
import hashlib
import html
import re
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, update

from backoffice.audit import AuditTrailIsReadOnly
from backoffice.auth.passwords import password_problem
from backoffice.enums import Role, Sex
from backoffice.extensions import db
from backoffice.models import AuditEntry, Beneficiary, User
from tests.conftest import PASSWORD, make_user


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()


def _person(app, **values) -> int:
    with app.app_context():
        person = Beneficiary(last_name=values.get("last_name", "Wamytan"),
                             first_name=values.get("first_name", "Léa"),
                             birth_date=date(1990, 5, 4), sex=Sex.FEMALE)
        db.session.add(person)
        db.session.commit()
        return person.id


# --- headers ---------------------------------------------------------------------------
def test_every_page_sends_the_protective_headers(client, auth):
    auth.login("admin")
    for url in ("/login", "/admin/", "/admin/beneficiaries/"):
        headers = client.get(url).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "no-store" in headers["Cache-Control"]
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def test_static_files_may_be_cached(client):
    response = client.get("/admin/static/bootstrap/bootstrap4/css/bootstrap.min.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("url", [
    "/admin/beneficiaries/", "/admin/beneficiaries/new/", "/admin/beneficiaries/details/?id={id}",
    "/admin/beneficiaries/edit/?id={id}", "/admin/enrolments/", "/admin/users/new/",
    "/admin/audit/", "/admin/alerts/", "/admin/indicators/", "/admin/",
])
def test_no_inline_script_runs_without_the_nonce_or_a_listed_hash(app, client, auth, url):
    """Every inline <script> carries this response's nonce; every inline event handler
    is one of the hashes the policy lists (security.INLINE_HANDLERS)."""
    person = _person(app)
    auth.login("admin")
    response = client.get(url.format(id=person))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or f'nonce="{nonce}"' in tag, tag
    for handler in re.findall(r'\son[a-z]+="([^"]*)"', page):
        assert _hash(html.unescape(handler)) in csp, handler


# --- session cookie and lifetime -------------------------------------------------------
def test_session_cookie_is_httponly_and_samesite_lax(client, users):
    response = client.post("/login", data={"email": "admin@exemple.fr", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_in_production(monkeypatch):
    from backoffice.config import settings_from_environment

    monkeypatch.setenv("PARCOURS_ENV", "production")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert settings_from_environment("/tmp")["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("key, age, message", [
    ("seen_at", timedelta(minutes=31), "inactivité"),
    ("auth_at", timedelta(hours=12, minutes=1), "durée maximale"),
])
def test_idle_and_too_old_sessions_are_refused(client, auth, key, age, message):
    auth.login("admin")
    assert client.get("/admin/beneficiaries/").status_code == 200
    with client.session_transaction() as session:
        session[key] = int(time.time() - age.total_seconds())
    response = client.get("/admin/beneficiaries/", follow_redirects=True)
    assert "/login" in response.request.path
    assert message in response.get_data(as_text=True)


def test_recent_activity_keeps_the_session(client, auth):
    auth.login("admin")
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time() - 29 * 60)
    assert client.get("/admin/beneficiaries/").status_code == 200


def _session_cookie(client):
    return client.get_cookie("session").value


def test_logout_invalidates_the_session_on_the_server(client, auth):
    auth.login("admin")
    stolen = _session_cookie(client)
    auth.logout()
    client.set_cookie("session", stolen)  # a copy of the cookie taken before the logout
    response = client.get("/admin/beneficiaries/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivating_an_account_ends_its_open_sessions(app, client, auth, users):
    auth.login("counsellor")
    assert client.get("/admin/enrolments/").status_code == 200
    with app.app_context():
        user = db.session.get(User, users["counsellor"])
        user.active = False
        db.session.commit()
        user.active = True  # reactivated: the old session still does not come back
        db.session.commit()
    response = client.get("/admin/enrolments/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_new_password_ends_the_sessions_opened_with_the_old_one(app, client, auth, users):
    auth.login("counsellor")
    with app.app_context():
        db.session.get(User, users["counsellor"]).set_password("une phrase tout à fait neuve")
        db.session.commit()
    assert client.get("/admin/enrolments/").status_code == 302


# --- throttling ------------------------------------------------------------------------
def _try(client, email, password="mauvais-mot-de-passe", address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_throttled_per_account(app, client, users):
    for _ in range(5):
        assert _try(client, "admin@exemple.fr").status_code == 200
    refused = _try(client, "admin@exemple.fr", password=PASSWORD, address="10.0.0.2")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Trop de tentatives de connexion" in page and 'lang="fr"' in page
    # Another account from another address still logs in.
    assert _try(client, "coordinator@exemple.fr", PASSWORD, "10.0.0.3").status_code == 302
    assert _audit(app, "login_throttled")


def test_failed_logins_are_throttled_per_address(app, client, users):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    for index in range(6):
        _try(client, f"inconnu{index}@exemple.fr", address="10.9.9.9")
    assert _try(client, "viewer@exemple.fr", PASSWORD, "10.9.9.9").status_code == 429
    assert _try(client, "viewer@exemple.fr", PASSWORD, "10.9.9.8").status_code == 302


def test_throttling_window_passes(app, client, users):
    for _ in range(5):
        _try(client, "admin@exemple.fr")
    app.config["LOGIN_THROTTLE_WINDOW"] = timedelta(seconds=0)
    assert _try(client, "admin@exemple.fr", PASSWORD).status_code == 302


def test_successful_login_clears_the_account_failures(app, client, users):
    for _ in range(4):
        _try(client, "admin@exemple.fr")
    assert _try(client, "admin@exemple.fr", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        _try(client, "admin@exemple.fr")
    assert _try(client, "admin@exemple.fr", PASSWORD).status_code == 302


# --- password policy -------------------------------------------------------------------
@pytest.mark.parametrize("password, fragment", [
    ("court", "12 caractères"),
    ("azertyuiop12", "trop courant"),
    ("Motdepasse2024!", "trop courant"),
    ("123456789012", "trop courant"),
    ("SoleilSoleilSoleil", "trop courant"),
    ("aaaaaaaaaaaaaaaa", "répétitif"),
    ("marie.martin-2024", "adresse e-mail"),
])
def test_password_policy_refuses(password, fragment):
    problem = password_problem(password, "marie.martin@exemple.fr")
    assert problem is not None and fragment in problem and problem.startswith("Mot de passe")


def test_password_policy_accepts_a_passphrase():
    assert password_problem("cheval agrafe pile correcte", "marie@exemple.fr") is None


def test_cli_refuses_a_common_password(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "x@exemple.fr", "--name", "X",
                                 "--role", "viewer", "--password", "Azerty123456"])
    assert result.exit_code != 0 and "trop courant" in result.output


def test_users_form_refuses_a_common_password(app, client, auth):
    auth.login("admin")
    response = client.post("/admin/users/new/", data={
        "name": "Nouveau", "email": "nouveau@exemple.fr", "role": "viewer", "active": "y",
        "password": "motdepasse123"})
    assert response.status_code == 200
    assert "Mot de passe : trop courant" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "nouveau@exemple.fr")) is None


# --- audit of logins, refusals, views, exports -------------------------------------------
def test_logins_failures_and_logouts_are_audited(app, client, auth):
    auth.login("admin", password="faux-mot-de-passe")
    auth.login("admin")
    auth.logout()
    failed, = _audit(app, "login_failed")
    assert failed.user_id is None and failed.user_email == "admin@exemple.fr"
    login, = _audit(app, "login")
    assert login.user_email == "admin@exemple.fr" and login.user_id is not None
    assert _audit(app, "logout")


def test_refused_actions_are_audited(app, client, auth):
    auth.login("viewer")
    assert client.get("/admin/beneficiaries/").status_code == 403
    refused, = _audit(app, "refused")
    assert refused.user_email == "viewer@exemple.fr"
    assert "/admin/beneficiaries/" in refused.detail


def test_viewing_a_beneficiary_record_is_audited(app, client, auth):
    person = _person(app)
    auth.login("coordinator")
    client.get(f"/admin/beneficiaries/details/?id={person}")
    client.get(f"/admin/beneficiaries/edit/?id={person}")
    views = _audit(app, "view")
    assert [(v.table_name, v.row_id, v.user_email) for v in views] == \
        [("beneficiaries", person, "coordinator@exemple.fr")] * 2


def test_csv_export_is_audited(app, client, auth):
    _person(app)
    auth.login("coordinator")
    response = client.get("/admin/beneficiaries/export/csv/")
    assert response.status_code == 200
    export, = _audit(app, "export")
    assert "beneficiaries/export/csv" in export.detail


# --- the trail cannot be changed -------------------------------------------------------
def test_audit_entries_cannot_be_changed_or_deleted_through_the_orm(app, client, auth):
    auth.login("admin")
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).first()
        entry.detail = "réécrit"
        with pytest.raises(AuditTrailIsReadOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEntry)).first())
        with pytest.raises(AuditTrailIsReadOnly):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditTrailIsReadOnly):
            db.session.execute(delete(AuditEntry))
        with pytest.raises(AuditTrailIsReadOnly):
            db.session.execute(update(AuditEntry).values(detail="x"))


def test_audit_entries_survive_the_deletion_of_their_user(app, client):
    with app.app_context():
        user = make_user(Role.COUNSELLOR, email="parti@exemple.fr")
        db.session.commit()
    client.post("/login", data={"email": "parti@exemple.fr", "password": PASSWORD})
    with app.app_context():
        db.session.delete(db.session.scalar(select(User).where(User.email == "parti@exemple.fr")))
        db.session.commit()
        login = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login")).one()
        assert login.user_id is None and login.user_email == "parti@exemple.fr"
    del user
