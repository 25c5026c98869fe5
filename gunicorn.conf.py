"""gunicorn's settings, read from the current folder by every `gunicorn` started at the root
of the project (`make serve`, the browser tests).

No `Server` banner: gunicorn writes `Server: gunicorn` in every answer's head and has no
setting to leave it out; it would tell an attacker which server (and which flaws) to try.
The answers' other headers are the application's (backoffice/security.py). The reverse
proxy in front should hide its own too (nginx: `server_tokens off;`).
"""
from gunicorn.http import wsgi


def without_server_banner(default_headers):
    """gunicorn's head of an answer, less its `Server:` line."""

    def headers(response) -> list[str]:
        return [line for line in default_headers(response)
                if not line.lower().startswith("server:")]

    headers.without_server_banner = True
    return headers


if not getattr(wsgi.Response.default_headers, "without_server_banner", False):
    wsgi.Response.default_headers = without_server_banner(wsgi.Response.default_headers)
