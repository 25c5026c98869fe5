"""Browser tests: the app under gunicorn on 127.0.0.1, driven by Playwright in Debian's
Chromium (/usr/bin/chromium, headless, no sandbox; no browser is downloaded).

One server per test session, on a fresh SQLite database (or DATABASE_URL when it points
to PostgreSQL) holding the reference data and a small deterministic demo.
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-parcours-2026"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env, *args):
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of a production-like server (gunicorn, 2 workers, SECRET_KEY set)."""
    env = dict(os.environ)
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.sqlite3'}"
    env.update(DATABASE_URL=url, PARCOURS_ENV="production", SECRET_KEY="e2e-secret-key",
               SESSION_COOKIE_SECURE="0")
    _flask(env, "db", "upgrade")
    _flask(env, "seed", "reference")
    _flask(env, "seed", "demo", "--beneficiaries", "120", "--seed", "7")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/login", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    "gunicorn n'a pas démarré : " + process.stderr.read().decode()
                ) from None
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # A French user's browser: date inputs shown and typed as JJ/MM/AAAA (Chromium takes
        # its interface language from LANGUAGE; Debian's chromium-l10n has the French one).
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, "--lang=fr-FR"],
            env={**os.environ, "LANGUAGE": "fr_FR", "LANG": "fr_FR.UTF-8"})
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server, request):
    """A fresh browser context (no cookies) whose last page is saved as a screenshot."""
    context = browser.new_context(base_url=server, locale="fr-FR", accept_downloads=True,
                                  viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    # assertions wait as long as actions: a busy machine hashes a password in seconds
    from playwright.sync_api import expect

    expect.set_options(timeout=15000)
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: response.status >= 400 and errors.append(
        f"{response.status} {response.url}"))
    page.console_errors = errors
    yield page
    if errors:
        print("Erreurs de la console du navigateur :", *errors, sep="\n  ")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def login(page, email: str, password: str = DEMO_PASSWORD):
    """Fill the French login form as a person would."""
    page.goto("/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("load")  # the menus' script is there before a click
