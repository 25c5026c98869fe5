"""Where the application may send a user back to (issue 18 §6: open redirect).

Every `url` or `next` parameter goes through `safe_target`: only a path of this site is
followed. Browsers drop tabs and line breaks from an address and read a backslash as a
slash, so `/%09/evil.example` or `/\\evil.example` would lead to another site: any
control character, space or backslash refuses the target. As a backstop, `init_app`
checks the `Location` of every redirect the application answers (Flask-Admin's own forms
read `url` with their own helper) and sends an unsafe one to the home page instead.
"""
from urllib.parse import urlsplit

from flask import request, url_for


def safe_target(target: str | None) -> str | None:
    """`target` when it is a path of this site (« /admin/… »), else None."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(c <= " " or c == "\x7f" or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def back_to(target: str | None, fallback: str | None = None) -> str:
    """`target` if safe, else `fallback`, else the admin home."""
    return safe_target(target) or fallback or url_for("admin.index")


def _only_local_redirects(response):
    """after_request: a redirect to another site becomes a redirect to the home page."""
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        host = request.host_url.rstrip("/")
        local = location[len(host):] if location.startswith(host + "/") else location
        if safe_target(local) is None:
            response.headers["Location"] = url_for("admin.index")
    return response


def init_app(app) -> None:
    app.after_request(_only_local_redirects)
