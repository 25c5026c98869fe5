"""The domain rules and the report writers stay plain Python (style.md "Our shape").

They must not import Flask, its extensions, SQLAlchemy or the application's database
modules, and the rules must not read the clock: today's date is an argument.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = sorted((ROOT / "backoffice" / "rules").glob("*.py")) + sorted(
    (ROOT / "backoffice" / "reports").glob("*.py")
) + sorted((ROOT / "backoffice" / "imports").glob("*.py"))  # issue 23: reading the lists
FORBIDDEN_PREFIXES = (
    "flask",
    "flask_admin",
    "flask_login",
    "flask_sqlalchemy",
    "flask_babel",
    "flask_wtf",
    "sqlalchemy",
    "backoffice.models",
    "backoffice.extensions",
    "backoffice.admin",
)
CLOCK_CALLS = {"today", "now", "utcnow"}


def forbidden_imports(source: str) -> list[str]:
    """Module names imported by ``source`` that rules and reports must not use."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # relative imports: "from ..models import x" / "from .. import extensions"
            names = [f"backoffice.{node.module or alias.name}" for alias in node.names]
        else:
            continue
        found += [
            n
            for n in names
            if any(
                n == p or n.startswith(p + ".") or (p == "flask" and n.startswith("flask_"))
                for p in FORBIDDEN_PREFIXES
            )
        ]
    return found


def clock_calls(source: str) -> list[str]:
    """Calls such as ``date.today()`` or ``datetime.now()`` found in ``source``."""
    return [
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
    ]


def test_rules_modules_exist():
    assert {p.name for p in SCANNED} >= {"calendar.py", "deadlines.py", "exits.py", "lifecycle.py"}


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_flask_or_database_import(path):
    found = forbidden_imports(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} imports {found}: keep it plain Python"


@pytest.mark.parametrize(
    "path", [p for p in SCANNED if p.parent.name == "rules"], ids=lambda p: f"rules/{p.name}"
)
def test_rules_do_not_read_the_clock(path):
    found = clock_calls(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} calls {found}: take today's date as an argument"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import flask", ["flask"]),
        ("from flask import Flask", ["flask"]),
        ("from flask_admin.actions import action", ["flask_admin.actions"]),
        ("import flask_login", ["flask_login"]),
        ("def f():\n    from sqlalchemy import select", ["sqlalchemy"]),
        ("from backoffice.models import Enrolment", ["backoffice.models"]),
        ("from ..extensions import db", ["backoffice.extensions"]),
        ("import yaml\nfrom datetime import date\nfrom backoffice.enums import Role", []),
        ("from backoffice.rules.calendar import add_months", []),
    ],
)
def test_the_scanner_itself(source, expected):
    assert forbidden_imports(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = date.today()", ["today"]),
        ("x = datetime.now(tz)", ["now"]),
        ("x = add_months(d, 1)", []),
    ],
)
def test_the_clock_scanner_itself(source, expected):
    assert clock_calls(source) == expected
