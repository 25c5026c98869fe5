"""Protection of every response and session (issue 6 §3–4):

- **headers**: a Content-Security-Policy with a per-request nonce (Flask-Admin puts it on
  its own inline scripts), `X-Content-Type-Options`, `X-Frame-Options` + `frame-ancestors`,
  `Referrer-Policy`, `Cache-Control: no-store` on every page behind the login (they all
  show personal data) and on the login page;
- **sessions**: refused after 30 minutes without a request or 12 hours after the login,
  and when the account's `session_version` moved on (logout, deactivation, new password):
  the session is checked on the server at every request, not only by the cookie's age;
- **throttling** of failed logins per account and per address, counted in the database so
  every gunicorn worker sees the same counts, each try recorded before its password is
  checked so that simultaneous tries cannot pass the limit together (`begin_login_attempt`);
- **proxy**: behind `PROXY_FIX_HOPS` reverse proxies, the client's address is the one
  they forward (Werkzeug's ProxyFix), so the per-address limit is per real client and not
  per proxy (20 failures from anyone would otherwise lock everyone out);
- **HSTS** (`Strict-Transport-Security`) when the session cookie is HTTPS-only.

What the CSP still allows, and why (Flask-Admin 2.2.1, Bootstrap 4 theme):
- `style-src 'unsafe-inline'`: Flask-Admin's templates and its select2/datepicker widgets
  write `style="…"` attributes; styles cannot run code.
- `script-src 'unsafe-hashes'` with the hashes of `INLINE_HANDLERS` only: the delete button
  of the list rows (`onclick="return faHelpers.safeConfirm(…)"`), the filter menu's
  `onclick="return false;"` and the bulk-action menu entries
  (`onclick="return modelActions.execute('<action>');"`, one per action the views declare,
  added by `allow_bulk_actions` when the admin starts). Any other inline handler or
  `<script>` without the nonce is blocked (tests/integration/test_security.py renders the
  pages and checks it).
- `href="javascript:void(0)"` links of Flask-Admin's menus are blocked by the CSP; they
  did nothing anyway (Bootstrap's scripts handle the clicks).
"""
import base64
import hashlib
import secrets
import time
from datetime import timedelta

from flask import current_app, g, request, session
from sqlalchemy import delete, func, select, update

from .extensions import db
from .models import LoginAttempt
from .models._types import utcnow

# Inline event handlers Flask-Admin renders (French text of its translation catalogue).
INLINE_HANDLERS = {
    "return faHelpers.safeConfirm('Êtes-vous bien sûr de vouloir  supprimer cet objet?');",
    "return false;",
}


def allow_bulk_actions(action_names) -> None:
    """Let the bulk-action menu entries of these actions run (Flask-Admin's actions.html)."""
    for name in action_names:
        INLINE_HANDLERS.add(f"return modelActions.execute('{name}');")

SESSION_KEYS = ("auth_at", "seen_at", "session_version")
HSTS_SECONDS = 365 * 24 * 3600


# --- headers -------------------------------------------------------------------------
def csp_nonce() -> str:
    """The nonce of this request's inline scripts (one per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _hash_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_POLICY: tuple[frozenset, str, str] | None = None
_NONCE_SLOT = "\0nonce\0"


def content_security_policy(nonce: str) -> str:
    """The policy sent with every HTML page: built once (again only when
    `allow_bulk_actions` added a handler), then only the request's nonce goes in
    (issue 25 §3: it hashed and sorted every handler on every response before)."""
    global _POLICY
    handlers = frozenset(INLINE_HANDLERS)
    if _POLICY is None or _POLICY[0] != handlers:
        hashes = " ".join(_hash_source(text) for text in sorted(handlers))
        policy = "; ".join((
            "default-src 'self'",
            f"script-src 'self' 'nonce-{_NONCE_SLOT}' 'unsafe-hashes' {hashes}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ))
        before, _slot, after = policy.partition(_NONCE_SLOT)
        _POLICY = (handlers, before, after)
    return _POLICY[1] + nonce + _POLICY[2]


def _set_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # The site is served over HTTPS only: browsers refuse plain HTTP for a year.
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    # Static files (CSS, JS, fonts) may be cached; everything else may hold personal data.
    if request.endpoint is None or not request.endpoint.endswith("static"):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


# --- sessions ------------------------------------------------------------------------
def start_session(user) -> None:
    """Stamp a fresh login: when it started, last seen, and the account's session version."""
    now = int(time.time())
    session["auth_at"] = now
    session["seen_at"] = now
    session["session_version"] = user.session_version
    session.permanent = True


def session_refusal(user, config) -> str | None:
    """Why the current session may no longer act for `user` (a French message), or None."""
    now = int(time.time())
    auth_at, seen_at = session.get("auth_at"), session.get("seen_at")
    if auth_at is None or seen_at is None or session.get("session_version") != user.session_version:
        return "Votre session a été fermée. Reconnectez-vous."
    if now - auth_at > config["SESSION_ABSOLUTE_LIFETIME"].total_seconds():
        return "Votre session a dépassé sa durée maximale. Reconnectez-vous."
    if now - seen_at > config["SESSION_IDLE_TIMEOUT"].total_seconds():
        return "Votre session a expiré après une période d'inactivité. Reconnectez-vous."
    return None


def touch_session() -> None:
    """Record activity (at most once a minute, to avoid rewriting the cookie every request)."""
    now = int(time.time())
    if now - session.get("seen_at", 0) >= 60:
        session["seen_at"] = now


def end_session() -> None:
    for key in SESSION_KEYS:
        session.pop(key, None)


# --- throttling ----------------------------------------------------------------------
def client_address() -> str:
    """The caller's address (behind a proxy, set PROXY_FIX_HOPS so it is the real one)."""
    return (request.remote_addr or "inconnue")[:64]


def _failures_since(column, value, since) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
        )
    ) or 0


def begin_login_attempt(email: str, address: str, config) -> LoginAttempt | None:
    """Count a try *before* its password is checked: record it as a failure and commit
    (the session: call it before any change of the request), then count the failures of
    the window, this one included. Over the limit per account or per address, the try is
    withdrawn (the caller commits) and None says « refuse it ».

    Recording first makes the count atomic on every engine: of N simultaneous tries, the
    k-th one committed sees at least k failures, so no more than the limit ever reach the
    password check (counting first and recording after let 16 to 19 of 40 simultaneous
    tries through a limit of 5, bench/login.py). A try that succeeds is turned into a
    success by `end_login_attempt`; one that fails stays counted."""
    attempt = LoginAttempt(email=email[:254], address=address, succeeded=False)
    db.session.add(attempt)
    db.session.commit()
    since = utcnow() - config["LOGIN_THROTTLE_WINDOW"]
    if (_failures_since(LoginAttempt.email, attempt.email, since)
            > config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or _failures_since(LoginAttempt.address, address, since)
            > config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        db.session.delete(attempt)  # refused unchecked: not a failure of its own
        return None
    return attempt


def end_login_attempt(attempt: LoginAttempt) -> None:
    """The password was right: the try is a success and clears the account's failures
    (the user proved who they are). The caller commits."""
    db.session.execute(delete(LoginAttempt).where(
        LoginAttempt.email == attempt.email, LoginAttempt.succeeded.is_(False),
        LoginAttempt.id != attempt.id))
    # A statement, not a change of the loaded row: a simultaneous login of the same account
    # may have cleared this try already (its own line above); the ORM's UPDATE then found
    # no row and the login failed with a 500 (bench/load.py, accounts shared by users).
    db.session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt.id)
                       .values(succeeded=True).execution_options(synchronize_session=False))


def init_app(app) -> None:
    """Session lifetime settings, the headers on every response, the proxy fix if asked."""
    app.config.setdefault("SESSION_IDLE_TIMEOUT", timedelta(minutes=30))
    app.config.setdefault("SESSION_ABSOLUTE_LIFETIME", timedelta(hours=12))
    app.config.setdefault("LOGIN_THROTTLE_WINDOW", timedelta(minutes=15))
    app.config.setdefault("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    app.config.setdefault("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    # The cookie itself dies with the absolute lifetime; the server checks the rest.
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_ABSOLUTE_LIFETIME"]
    app.after_request(_set_headers)
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
